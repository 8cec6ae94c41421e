// Reshape: same elements, new shape from a constant int64 `shape` input. A 0 copies the input's dimension at the
// same position (unless allowzero=1, when it means an empty dimension); one -1 is inferred from the rest. Before
// opset 5 the new shape was the `shape` attribute (with the same 0 / -1 rules) and there was no second input.
#include <cstring>

#include "ops/legacy.h"
#include "ops/tensor/tensor_ops.h"
#include "ops/tensor/tensor_util.h"

namespace deepx::tensor_ops {
namespace {

constexpr int kShapeInputOpset = 5;

Result<std::vector<int64_t>> RequestedShape(const InferContext& ctx) {
  if (ctx.opset() < kShapeInputOpset) {
    DX_RETURN_IF_ERROR(CheckConsumedInputs(ctx, kShapeInputOpset));
    if (ctx.has_input(1)) return InvalidArgument("Reshape before opset 5 takes one input; shape is an attribute");
    if (!ctx.attrs().has("shape")) return InvalidArgument("attribute 'shape' is required before opset 5");
    return ctx.attrs().GetInts("shape");
  }
  if (ctx.attrs().has("shape")) return InvalidArgument("'shape' is an input from opset 5, not an attribute");
  DX_RETURN_IF_ERROR(CheckConsumedInputs(ctx, kShapeInputOpset));
  if (!ctx.has_input(1)) return InvalidArgument("input 'shape' is required from opset 5");
  if (ctx.input_dtype(1) != DataType::kInt64) {
    return InvalidArgument(std::string("shape must be int64, got ") + DataTypeName(ctx.input_dtype(1)));
  }
  return ConstantIntInput(ctx, 1, "shape");
}

Status InferReshape(InferContext& ctx) {
  DX_RETURN_IF_ERROR(CheckKnownDtype(ctx.input_dtype(0), "data"));
  DX_ASSIGN_OR_RETURN(std::vector<int64_t> requested, RequestedShape(ctx));
  DX_ASSIGN_OR_RETURN(int64_t allowzero, ctx.attrs().GetInt("allowzero", 0));
  if (allowzero != 0 && allowzero != 1) {
    return InvalidArgument("allowzero must be 0 or 1, got " + std::to_string(allowzero));
  }
  const Shape& in = ctx.input_shape(0);
  DX_ASSIGN_OR_RETURN(int64_t in_count, CheckedNumElements(in));

  Shape out = requested;
  int64_t infer_at = -1;
  bool has_zero = false;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == -1) {
      if (infer_at >= 0) return InvalidArgument("shape " + ShapeToString(requested) + " has more than one -1");
      infer_at = static_cast<int64_t>(i);
    } else if (out[i] < -1) {
      return InvalidArgument("shape " + ShapeToString(requested) + " has invalid dimension " +
                             std::to_string(out[i]));
    } else if (out[i] == 0) {
      has_zero = true;
      if (allowzero == 0) {
        if (i >= in.size()) {
          return InvalidArgument("shape " + ShapeToString(requested) + " has 0 at position " + std::to_string(i) +
                                 " but the input " + ShapeToString(in) + " has no dimension there to copy");
        }
        out[i] = in[i];
      }
    }
  }
  if (allowzero == 1 && has_zero && infer_at >= 0) {
    return InvalidArgument("shape " + ShapeToString(requested) + " with allowzero=1 cannot contain both 0 and -1");
  }
  if (infer_at >= 0) {
    Shape known = out;
    known[static_cast<size_t>(infer_at)] = 1;
    DX_ASSIGN_OR_RETURN(int64_t known_count, CheckedNumElements(known));
    if (known_count == 0 || in_count % known_count != 0) {
      return InvalidArgument("cannot reshape " + ShapeToString(in) + " to " + ShapeToString(requested) +
                             ": the -1 dimension cannot be inferred");
    }
    out[static_cast<size_t>(infer_at)] = in_count / known_count;
  }
  DX_ASSIGN_OR_RETURN(int64_t out_count, CheckedNumElements(out));
  if (out_count != in_count) {
    return InvalidArgument("cannot reshape " + ShapeToString(in) + " (" + std::to_string(in_count) +
                           " elements) to " + ShapeToString(out) + " (" + std::to_string(out_count) + " elements)");
  }
  ctx.SetOutput(0, ctx.input_dtype(0), out);
  return Status::Ok();
}

Status ReshapeKernel(KernelContext& ctx) {
  const Tensor& in = ctx.input(0);
  if (in.size_bytes()) std::memcpy(ctx.output(0).raw_data(), in.raw_data(), in.size_bytes());
  return Status::Ok();
}

}  // namespace

OpSchema ReshapeSchema() {
  return {.name = "Reshape", .min_inputs = 1, .max_inputs = 2, .attributes = {"allowzero", "consumed_inputs", "shape"},
          .infer = InferReshape, .reference = ReshapeKernel, .cost = DataMovementCost};
}

}  // namespace deepx::tensor_ops
