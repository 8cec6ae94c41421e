// GatherElements: out[i0..ik] = data[i0.., indices[i0..ik] on `axis`, ..ik]; indices has data's rank and the
// output has indices' shape.
#include <cstring>

#include "ops/tensor/tensor_ops.h"
#include "ops/tensor/tensor_util.h"

namespace deepx::tensor_ops {
namespace {

Status InferGatherElements(InferContext& ctx) {
  DX_RETURN_IF_ERROR(CheckKnownDtype(ctx.input_dtype(0), "data"));
  const DataType index_type = ctx.input_dtype(1);
  if (index_type != DataType::kInt64 && index_type != DataType::kInt32) {
    return InvalidArgument(std::string("indices must be int32 or int64, got ") + DataTypeName(index_type));
  }
  const Shape& data = ctx.input_shape(0);
  const Shape& indices = ctx.input_shape(1);
  if (data.empty()) return InvalidArgument("data must have rank >= 1, got a scalar");
  DX_ASSIGN_OR_RETURN(int64_t axis_attr, ctx.attrs().GetInt("axis", 0));
  DX_ASSIGN_OR_RETURN(int64_t axis, NormalizeAxis(axis_attr, ctx.input_rank(0)));
  if (indices.size() != data.size()) {
    return InvalidArgument("indices " + ShapeToString(indices) + " must have the rank of data " +
                           ShapeToString(data));
  }
  // Off the gather axis, the index position addresses data directly, so it must lie inside it.
  for (size_t d = 0; d < data.size(); ++d) {
    if (static_cast<int64_t>(d) != axis && indices[d] > data[d]) {
      return InvalidArgument("indices " + ShapeToString(indices) + " exceed data " + ShapeToString(data) +
                             " on axis " + std::to_string(d));
    }
  }
  ctx.SetOutput(0, ctx.input_dtype(0), indices);
  return Status::Ok();
}

Status GatherElementsKernel(KernelContext& ctx) {
  const Tensor& data = ctx.input(0);
  const Tensor& indices = ctx.input(1);
  int64_t axis = ctx.attrs().Int("axis", 0);
  if (axis < 0) axis += data.rank();
  const int64_t dim = data.dim(axis);
  const std::vector<int64_t> strides = RowMajorStrides(data.shape());
  const size_t es = DataTypeSize(data.dtype());
  const auto* src = static_cast<const uint8_t*>(data.raw_data());
  auto* dst = static_cast<uint8_t*>(ctx.output(0).raw_data());

  std::vector<int64_t> index(indices.shape().size(), 0);
  const int64_t n = indices.num_elements();
  for (int64_t o = 0; o < n; ++o) {
    int64_t k = indices.GetAsInt64(o);
    if (k < -dim || k >= dim) {
      return InvalidArgument("index " + std::to_string(k) + " (at position " + std::to_string(o) +
                             ") is out of range for an axis of size " + std::to_string(dim));
    }
    if (k < 0) k += dim;
    int64_t offset = 0;
    for (size_t d = 0; d < index.size(); ++d) {
      offset += (static_cast<int64_t>(d) == axis ? k : index[d]) * strides[d];
    }
    std::memcpy(dst + o * es, src + offset * es, es);
    NextIndex(index, indices.shape());
  }
  return Status::Ok();
}

}  // namespace

OpSchema GatherElementsSchema() {
  return {.name = "GatherElements", .min_inputs = 2, .max_inputs = 2, .attributes = {"axis"},
          .infer = InferGatherElements, .reference = GatherElementsKernel, .cost = DataMovementCost};
}

}  // namespace deepx::tensor_ops
