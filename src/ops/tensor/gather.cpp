// Gather: picks slices of `data` along `axis` at int32/int64 `indices` (negative counts from the back). Output
// shape: data[:axis] + indices.shape + data[axis+1:].
#include <cstring>

#include "ops/tensor/tensor_ops.h"
#include "ops/tensor/tensor_util.h"

namespace deepx::tensor_ops {
namespace {

// Checks every index against the axis size (indices may be run-time data, so the kernel calls this too).
Status CheckIndices(const Tensor& indices, int64_t dim) {
  const int64_t n = indices.num_elements();
  for (int64_t i = 0; i < n; ++i) {
    const int64_t v = indices.GetAsInt64(i);
    if (v < -dim || v >= dim) {
      return InvalidArgument("index " + std::to_string(v) + " (at position " + std::to_string(i) +
                             ") is out of range for an axis of size " + std::to_string(dim));
    }
  }
  return Status::Ok();
}

Status InferGather(InferContext& ctx) {
  DX_RETURN_IF_ERROR(CheckKnownDtype(ctx.input_dtype(0), "data"));
  const DataType index_type = ctx.input_dtype(1);
  if (index_type != DataType::kInt64 && index_type != DataType::kInt32) {
    return InvalidArgument(std::string("indices must be int32 or int64, got ") + DataTypeName(index_type));
  }
  const Shape& data = ctx.input_shape(0);
  if (data.empty()) return InvalidArgument("data must have rank >= 1, got a scalar");
  DX_ASSIGN_OR_RETURN(int64_t axis_attr, ctx.attrs().GetInt("axis", 0));
  DX_ASSIGN_OR_RETURN(int64_t axis, NormalizeAxis(axis_attr, ctx.input_rank(0)));
  const size_t a = static_cast<size_t>(axis);
  if (const Tensor* indices = ctx.input_constant(1)) DX_RETURN_IF_ERROR(CheckIndices(*indices, data[a]));

  Shape out(data.begin(), data.begin() + axis);
  const Shape& ishape = ctx.input_shape(1);
  out.insert(out.end(), ishape.begin(), ishape.end());
  out.insert(out.end(), data.begin() + axis + 1, data.end());
  ctx.SetOutput(0, ctx.input_dtype(0), out);
  return Status::Ok();
}

Status GatherKernel(KernelContext& ctx) {
  const Tensor& data = ctx.input(0);
  const Tensor& indices = ctx.input(1);
  int64_t axis = ctx.attrs().Int("axis", 0);
  if (axis < 0) axis += data.rank();
  const size_t a = static_cast<size_t>(axis);
  const int64_t dim = data.dim(axis);
  DX_RETURN_IF_ERROR(CheckIndices(indices, dim));

  const size_t es = DataTypeSize(data.dtype());
  const int64_t outer = DimProduct(data.shape(), 0, a);
  const size_t inner_bytes = static_cast<size_t>(DimProduct(data.shape(), a + 1, data.shape().size())) * es;
  const int64_t count = indices.num_elements();
  const auto* src = static_cast<const uint8_t*>(data.raw_data());
  auto* dst = static_cast<uint8_t*>(ctx.output(0).raw_data());
  if (inner_bytes == 0) return Status::Ok();
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t k = 0; k < count; ++k) {
      int64_t i = indices.GetAsInt64(k);
      if (i < 0) i += dim;
      std::memcpy(dst, src + static_cast<size_t>(o * dim + i) * inner_bytes, inner_bytes);
      dst += inner_bytes;
    }
  }
  return Status::Ok();
}

}  // namespace

OpSchema GatherSchema() {
  return {.name = "Gather", .min_inputs = 2, .max_inputs = 2, .attributes = {"axis"}, .infer = InferGather,
          .reference = GatherKernel, .cost = DataMovementCost};
}

}  // namespace deepx::tensor_ops
