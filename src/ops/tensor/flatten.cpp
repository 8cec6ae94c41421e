// Flatten: reshapes to 2-D [prod(dims[:axis]), prod(dims[axis:])]; axis may be rank (giving [n, 1]).
#include <cstring>

#include "ops/tensor/tensor_ops.h"
#include "ops/tensor/tensor_util.h"

namespace deepx::tensor_ops {
namespace {

Status InferFlatten(InferContext& ctx) {
  DX_RETURN_IF_ERROR(CheckKnownDtype(ctx.input_dtype(0), "input"));
  const Shape& in = ctx.input_shape(0);
  const int64_t rank = ctx.input_rank(0);
  DX_ASSIGN_OR_RETURN(int64_t axis, ctx.attrs().GetInt("axis", 1));
  // Unlike most axes, Flatten's may equal the rank.
  if (axis < -rank || axis > rank) {
    return InvalidArgument("axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank) +
                           " (valid: " + std::to_string(-rank) + ".." + std::to_string(rank) + ")");
  }
  if (axis < 0) axis += rank;
  const size_t a = static_cast<size_t>(axis);
  ctx.SetOutput(0, ctx.input_dtype(0), {DimProduct(in, 0, a), DimProduct(in, a, in.size())});
  return Status::Ok();
}

Status FlattenKernel(KernelContext& ctx) {
  const Tensor& in = ctx.input(0);
  if (in.size_bytes()) std::memcpy(ctx.output(0).raw_data(), in.raw_data(), in.size_bytes());
  return Status::Ok();
}

}  // namespace

OpSchema FlattenSchema() {
  return {.name = "Flatten", .attributes = {"axis"}, .infer = InferFlatten, .reference = FlattenKernel,
          .cost = DataMovementCost};
}

}  // namespace deepx::tensor_ops
