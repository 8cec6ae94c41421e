// GlobalAveragePool and GlobalMaxPool: reduce every spatial dim of [N, C, D1, ...] to 1.
#include <algorithm>
#include <limits>
#include <string>

#include "ops/nn/nn_common.h"

namespace deepx {
namespace {

Status InferGlobalPool(InferContext& ctx) {
  DX_RETURN_IF_ERROR(nn::RequireFloat(ctx, 0, "X"));
  const Shape& x = ctx.input_shape(0);
  if (x.size() < 3) return InvalidArgument("X must have rank >= 3 ([N, C, D1, ...]), got " + ShapeToString(x));
  for (size_t i = 2; i < x.size(); ++i) {
    if (x[i] == 0) return InvalidArgument("cannot pool over an empty spatial dim: X is " + ShapeToString(x));
  }
  Shape y(x.size(), 1);
  y[0] = x[0];
  y[1] = x[1];
  ctx.SetOutput(0, DataType::kFloat32, y);
  return Status::Ok();
}

template <bool kMax>
Status GlobalPoolKernel(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const int64_t planes = x.dim(0) * x.dim(1);
  const int64_t size = nn::Product(x.shape(), 2, x.shape().size());
  const float* xd = x.data<float>();
  float* yd = ctx.output(0).data<float>();
  for (int64_t p = 0; p < planes; ++p) {
    const float* plane = xd + p * size;
    if constexpr (kMax) {
      float best = -std::numeric_limits<float>::infinity();
      for (int64_t i = 0; i < size; ++i) best = std::max(best, plane[i]);
      yd[p] = best;
    } else {
      double sum = 0;
      for (int64_t i = 0; i < size; ++i) sum += plane[i];
      yd[p] = static_cast<float>(sum / static_cast<double>(size));
    }
  }
  return Status::Ok();
}

OpCost GlobalPoolCost(const CostContext& ctx) {
  return nn::CostWithFlops(ctx, static_cast<double>(NumElements(ctx.inputs[0]->shape)));
}

OpSchema GlobalPoolSchema(const char* name, KernelFn kernel) {
  return OpSchema{.name = name,
                  .min_inputs = 1,
                  .max_inputs = 1,
                  .min_outputs = 1,
                  .max_outputs = 1,
                  .attributes = {},
                  .infer = InferGlobalPool,
                  .reference = kernel,
                  .cost = GlobalPoolCost};
}

}  // namespace

OpSchema GlobalAveragePoolSchema() { return GlobalPoolSchema("GlobalAveragePool", GlobalPoolKernel<false>); }
OpSchema GlobalMaxPoolSchema() { return GlobalPoolSchema("GlobalMaxPool", GlobalPoolKernel<true>); }

}  // namespace deepx
