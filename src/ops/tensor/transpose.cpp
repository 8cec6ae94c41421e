// Transpose: output dim i is input dim perm[i]; perm defaults to reversing the axes.
#include <cstring>

#include "ops/tensor/tensor_ops.h"
#include "ops/tensor/tensor_util.h"

namespace deepx::tensor_ops {
namespace {

std::vector<int64_t> DefaultPerm(int64_t rank) {
  std::vector<int64_t> perm;
  for (int64_t i = rank - 1; i >= 0; --i) perm.push_back(i);
  return perm;
}

Status InferTranspose(InferContext& ctx) {
  DX_RETURN_IF_ERROR(CheckKnownDtype(ctx.input_dtype(0), "data"));
  const Shape& in = ctx.input_shape(0);
  const int64_t rank = ctx.input_rank(0);
  DX_ASSIGN_OR_RETURN(std::vector<int64_t> perm, ctx.attrs().GetInts("perm", DefaultPerm(rank)));
  if (static_cast<int64_t>(perm.size()) != rank) {
    return InvalidArgument("perm has " + std::to_string(perm.size()) + " entries but the input has rank " +
                           std::to_string(rank));
  }
  std::vector<bool> seen(static_cast<size_t>(rank), false);
  Shape out(static_cast<size_t>(rank));
  for (size_t i = 0; i < perm.size(); ++i) {
    if (perm[i] < 0 || perm[i] >= rank || seen[static_cast<size_t>(perm[i])]) {
      return InvalidArgument("perm " + ShapeToString(perm) + " is not a permutation of 0.." +
                             std::to_string(rank - 1));
    }
    seen[static_cast<size_t>(perm[i])] = true;
    out[i] = in[static_cast<size_t>(perm[i])];
  }
  ctx.SetOutput(0, ctx.input_dtype(0), out);
  return Status::Ok();
}

Status TransposeKernel(KernelContext& ctx) {
  const Tensor& in = ctx.input(0);
  Tensor& out = ctx.output(0);
  const std::vector<int64_t> perm = ctx.attrs().Ints("perm", DefaultPerm(in.rank()));
  const std::vector<int64_t> in_strides = RowMajorStrides(in.shape());
  const size_t es = DataTypeSize(in.dtype());
  const auto* src = static_cast<const uint8_t*>(in.raw_data());
  auto* dst = static_cast<uint8_t*>(out.raw_data());

  // Walk the output in order; output axis i steps through input axis perm[i].
  std::vector<int64_t> index(out.shape().size(), 0);
  const int64_t n = out.num_elements();
  for (int64_t o = 0; o < n; ++o) {
    int64_t offset = 0;
    for (size_t i = 0; i < index.size(); ++i) offset += index[i] * in_strides[static_cast<size_t>(perm[i])];
    std::memcpy(dst + o * es, src + offset * es, es);
    NextIndex(index, out.shape());
  }
  return Status::Ok();
}

}  // namespace

OpSchema TransposeSchema() {
  return {.name = "Transpose", .attributes = {"perm"}, .infer = InferTranspose, .reference = TransposeKernel,
          .cost = DataMovementCost};
}

}  // namespace deepx::tensor_ops
