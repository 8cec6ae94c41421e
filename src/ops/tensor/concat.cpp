// Concat: joins inputs of equal rank along `axis`; all other dimensions must agree. `axis` is required from opset
// 4 and defaults to 1 before it.
#include <cstring>
#include <limits>

#include "ops/tensor/tensor_ops.h"
#include "ops/tensor/tensor_util.h"

namespace deepx::tensor_ops {
namespace {

constexpr int kAxisRequiredOpset = 4;

int64_t DefaultAxis(int opset) { return opset < kAxisRequiredOpset ? 1 : 0; }

Status InferConcat(InferContext& ctx) {
  const DataType dtype = ctx.input_dtype(0);
  DX_RETURN_IF_ERROR(CheckKnownDtype(dtype, "input 0"));
  if (!ctx.attrs().has("axis") && ctx.opset() >= kAxisRequiredOpset) {
    return InvalidArgument("attribute 'axis' is required");
  }
  DX_ASSIGN_OR_RETURN(int64_t axis_attr, ctx.attrs().GetInt("axis", DefaultAxis(ctx.opset())));
  const int64_t rank = ctx.input_rank(0);
  if (rank == 0) return InvalidArgument("inputs must have rank >= 1, got a scalar");
  DX_ASSIGN_OR_RETURN(int64_t axis, NormalizeAxis(axis_attr, rank));

  Shape out = ctx.input_shape(0);
  for (size_t i = 1; i < ctx.num_inputs(); ++i) {
    if (!ctx.has_input(i)) return InvalidArgument("input " + std::to_string(i) + " is empty");
    const Shape& s = ctx.input_shape(i);
    if (ctx.input_dtype(i) != dtype) {
      return InvalidArgument("input " + std::to_string(i) + " has type " + DataTypeName(ctx.input_dtype(i)) +
                             ", expected " + DataTypeName(dtype) + " like input 0");
    }
    bool compatible = s.size() == out.size();
    for (size_t d = 0; compatible && d < s.size(); ++d) {
      if (static_cast<int64_t>(d) != axis && s[d] != out[d]) compatible = false;
    }
    if (!compatible) {
      return InvalidArgument("input " + std::to_string(i) + " has shape " + ShapeToString(s) +
                             ", which does not match input 0's " + ShapeToString(ctx.input_shape(0)) +
                             " outside axis " + std::to_string(axis));
    }
    if (s[static_cast<size_t>(axis)] > std::numeric_limits<int64_t>::max() - out[static_cast<size_t>(axis)]) {
      return OutOfRange("concatenated dimension overflows");
    }
    out[static_cast<size_t>(axis)] += s[static_cast<size_t>(axis)];
  }
  ctx.SetOutput(0, dtype, out);
  return Status::Ok();
}

Status ConcatKernel(KernelContext& ctx) {
  Tensor& out = ctx.output(0);
  int64_t axis = ctx.attrs().Int("axis", DefaultAxis(ctx.opset()));
  if (axis < 0) axis += out.rank();
  const size_t a = static_cast<size_t>(axis);
  const size_t es = DataTypeSize(out.dtype());
  const int64_t outer = DimProduct(out.shape(), 0, a);
  auto* dst = static_cast<uint8_t*>(out.raw_data());

  // For each outer index, each input contributes one contiguous run of dim(axis) * inner elements.
  for (int64_t o = 0; o < outer; ++o) {
    for (const Tensor* in : ctx.inputs) {
      const size_t run = static_cast<size_t>(DimProduct(in->shape(), a, in->shape().size())) * es;
      if (run == 0) continue;
      std::memcpy(dst, static_cast<const uint8_t*>(in->raw_data()) + static_cast<size_t>(o) * run, run);
      dst += run;
    }
  }
  return Status::Ok();
}

}  // namespace

OpSchema ConcatSchema() {
  return {.name = "Concat", .min_inputs = 1, .max_inputs = std::numeric_limits<int>::max(), .attributes = {"axis"},
          .infer = InferConcat, .reference = ConcatKernel, .cost = DataMovementCost};
}

}  // namespace deepx::tensor_ops
