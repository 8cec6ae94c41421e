// Size: the input's element count as an int64 scalar; a constant once shapes are concrete.
#include "ops/tensor/tensor_ops.h"
#include "ops/tensor/tensor_util.h"

namespace deepx::tensor_ops {
namespace {

Status InferSize(InferContext& ctx) {
  DX_ASSIGN_OR_RETURN(int64_t n, CheckedNumElements(ctx.input_shape(0)));
  ctx.SetOutputConstant(0, Tensor::FromInt64s({}, {n}));
  return Status::Ok();
}

Status SizeKernel(KernelContext& ctx) {
  ctx.output(0).data<int64_t>()[0] = ctx.input(0).num_elements();
  return Status::Ok();
}

// Only the 8-byte output is written: the input's data is never read.
OpCost SizeCost(const CostContext& ctx) {
  OpCost c;
  c.bytes_written = 8.0;
  return c;
}

}  // namespace

OpSchema SizeSchema() {
  return {.name = "Size", .infer = InferSize, .reference = SizeKernel, .cost = SizeCost};
}

}  // namespace deepx::tensor_ops
