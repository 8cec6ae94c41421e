// Identity and Dropout (inference only: an identity whose optional mask keeps every element).
//
// Before opset 7 Dropout had `is_test`; is_test=0 (its default) asked for random training-mode dropout. An
// inference runtime has no use for that, and every runtime (and the graph passes here) treats Dropout as a copy,
// so the attribute is validated and otherwise ignored.
#include <cstring>
#include <string>

#include "ops/elementwise/elementwise_util.h"
#include "ops/legacy.h"
#include "ops/op.h"

namespace deepx::elementwise {
namespace {

// Dropout-12 moved 'ratio' from an attribute to input 1 and added the training_mode input 2.
constexpr int kDropoutInputsOpset = 12;
// Dropout-10 made the mask bool; before it the mask had the data's dtype.
constexpr int kDropoutBoolMaskOpset = 10;
// Dropout-7 removed `is_test`.
constexpr int kDropoutNoIsTestOpset = 7;

Status IdentityInfer(InferContext& ctx) {
  ctx.SetOutput(0, ctx.input_dtype(0), ctx.input_shape(0));
  return Status::Ok();
}

Status CopyInput0(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  if (x.size_bytes()) std::memcpy(ctx.output(0).raw_data(), x.raw_data(), x.size_bytes());
  return Status::Ok();
}

Status DropoutInfer(InferContext& ctx) {
  const DataType t = ctx.input_dtype(0);
  DX_RETURN_IF_ERROR(CheckDtype("Dropout", "input '" + ctx.input_name(0) + "'", t, kFloatTypes));
  DX_RETURN_IF_ERROR(CheckConsumedInputs(ctx));
  if (ctx.attrs().has("is_test")) {
    if (ctx.opset() >= kDropoutNoIsTestOpset) return InvalidArgument("attribute 'is_test' exists only before opset 7");
    DX_RETURN_IF_ERROR(ctx.attrs().GetInt("is_test", 0).status());
  }
  if (ctx.opset() < kDropoutInputsOpset) {
    if (ctx.has_input(1) || ctx.has_input(2))
      return InvalidArgument("Dropout before opset 12 takes one input; ratio is an attribute");
    DX_RETURN_IF_ERROR(ctx.attrs().GetFloat("ratio", 0.5f).status());
  } else {
    if (ctx.attrs().has("ratio"))
      return InvalidArgument("Dropout from opset 12 takes ratio as input 1, not as an attribute");
    DX_RETURN_IF_ERROR(ctx.attrs().GetInt("seed", 0).status());
    if (ctx.has_input(1)) {
      if (!InDtypeSet(ctx.input_dtype(1), kFloatTypes))
        return InvalidArgument(std::string("ratio must be a floating-point scalar, got ") +
                               DataTypeName(ctx.input_dtype(1)));
      if (NumElements(ctx.input_shape(1)) != 1)
        return InvalidArgument("ratio must be a scalar, got shape " + ShapeToString(ctx.input_shape(1)));
    }
    if (ctx.has_input(2)) {
      if (ctx.input_dtype(2) != DataType::kBool || NumElements(ctx.input_shape(2)) != 1)
        return InvalidArgument("training_mode must be a bool scalar, got " +
                               std::string(DataTypeName(ctx.input_dtype(2))) + " of shape " +
                               ShapeToString(ctx.input_shape(2)));
      const Tensor* mode = ctx.input_constant(2);
      if (mode && mode->data<uint8_t>()[0] != 0)
        return Unimplemented("Dropout with training_mode=true is not supported (inference only)");
    }
  }
  ctx.SetOutput(0, t, ctx.input_shape(0));
  ctx.SetOutput(1, ctx.opset() >= kDropoutBoolMaskOpset ? DataType::kBool : t, ctx.input_shape(0));
  return Status::Ok();
}

Status DropoutKernel(KernelContext& ctx) {
  // training_mode may be a run-time value; infer could only reject it when it was constant.
  if (ctx.opset() >= kDropoutInputsOpset && ctx.has_input(2) && ctx.input(2).data<uint8_t>()[0] != 0)
    return Unimplemented("Dropout with training_mode=true is not supported (inference only)");
  DX_RETURN_IF_ERROR(CopyInput0(ctx));
  if (ctx.outputs.size() > 1 && ctx.outputs[1] && !ctx.outputs[1]->empty()) {
    Tensor& mask = ctx.output(1);
    const int64_t n = mask.num_elements();
    if (mask.dtype() == DataType::kBool) {
      for (int64_t i = 0; i < n; ++i) mask.data<uint8_t>()[i] = 1;
    } else {
      VisitNumeric(mask.dtype(), [&](auto tag) {
        using T = decltype(tag);
        for (int64_t i = 0; i < n; ++i) mask.data<T>()[i] = T{1};
      });
    }
  }
  return Status::Ok();
}

OpCost CopyCost(const CostContext& ctx) { return ElementwiseCost(ctx, 0.0); }

}  // namespace

void RegisterIdentityOps(OpRegistry& r) {
  r.Register(OpSchema{"Identity", 1, 1, 1, 1, {}, IdentityInfer, CopyInput0, CopyCost});
  r.Register(OpSchema{"Dropout", 1, 3, 1, 2, {"consumed_inputs", "is_test", "ratio", "seed"}, DropoutInfer,
                      DropoutKernel, CopyCost});
}

}  // namespace deepx::elementwise
