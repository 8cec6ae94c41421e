// Expand: broadcasts the input to a constant `shape` with numpy rules in both directions (a 1 in `shape` keeps
// the input's dimension, so the output may be larger than `shape`).
#include <algorithm>
#include <cstring>

#include "ops/tensor/tensor_ops.h"
#include "ops/tensor/tensor_util.h"

namespace deepx::tensor_ops {
namespace {

Status InferExpand(InferContext& ctx) {
  DX_RETURN_IF_ERROR(CheckKnownDtype(ctx.input_dtype(0), "input"));
  if (ctx.input_dtype(1) != DataType::kInt64) {
    return InvalidArgument(std::string("shape must be int64, got ") + DataTypeName(ctx.input_dtype(1)));
  }
  DX_ASSIGN_OR_RETURN(std::vector<int64_t> shape, ConstantIntInput(ctx, 1, "shape"));
  const Shape& in = ctx.input_shape(0);
  const size_t rank = std::max(in.size(), shape.size());
  Shape out(rank);
  // Align both shapes on their last axis; a missing leading dimension acts as 1.
  for (size_t i = 0; i < rank; ++i) {
    const int64_t a = i < rank - in.size() ? 1 : in[i - (rank - in.size())];
    const int64_t b = i < rank - shape.size() ? 1 : shape[i - (rank - shape.size())];
    if (b < 0) return InvalidArgument("shape " + ShapeToString(shape) + " has a negative dimension");
    if (a != b && a != 1 && b != 1) {
      return InvalidArgument("cannot broadcast input " + ShapeToString(in) + " to shape " + ShapeToString(shape));
    }
    out[i] = a == 1 ? b : a;
  }
  ctx.SetOutput(0, ctx.input_dtype(0), out);
  return Status::Ok();
}

Status ExpandKernel(KernelContext& ctx) {
  const Tensor& in = ctx.input(0);
  Tensor& out = ctx.output(0);
  const size_t lead = out.shape().size() - in.shape().size();
  const std::vector<int64_t> in_strides = RowMajorStrides(in.shape());
  const size_t es = DataTypeSize(in.dtype());
  const auto* src = static_cast<const uint8_t*>(in.raw_data());
  auto* dst = static_cast<uint8_t*>(out.raw_data());

  std::vector<int64_t> index(out.shape().size(), 0);
  const int64_t n = out.num_elements();
  for (int64_t o = 0; o < n; ++o) {
    int64_t offset = 0;
    for (size_t d = 0; d < in.shape().size(); ++d) {
      // A broadcast (size-1) input axis always reads its only element.
      if (in.shape()[d] != 1) offset += index[d + lead] * in_strides[d];
    }
    std::memcpy(dst + o * es, src + offset * es, es);
    NextIndex(index, out.shape());
  }
  return Status::Ok();
}

}  // namespace

OpSchema ExpandSchema() {
  return {.name = "Expand", .min_inputs = 2, .max_inputs = 2, .infer = InferExpand, .reference = ExpandKernel,
          .cost = DataMovementCost};
}

}  // namespace deepx::tensor_ops
