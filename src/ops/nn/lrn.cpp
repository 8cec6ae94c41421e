// LRN (local response normalisation across channels), as ONNX defines it:
//   Y[n,c,...] = X[n,c,...] / (bias + alpha / size * sum of X[n,i,...]^2 for i in [c - floor((size-1)/2),
//                c + ceil((size-1)/2)])^beta
#include <algorithm>
#include <cmath>
#include <string>

#include "ops/nn/nn_common.h"

namespace deepx {
namespace {

Status InferLrn(InferContext& ctx) {
  DX_RETURN_IF_ERROR(nn::RequireFloat(ctx, 0, "X"));
  const Attributes& a = ctx.attrs();
  if (!a.has("size")) return InvalidArgument("attribute size is required");
  DX_ASSIGN_OR_RETURN(int64_t size, a.GetInt("size", 1));
  if (size < 1 || size > nn::kMaxWindowValue) return InvalidArgument("size must be >= 1, got " + std::to_string(size));
  DX_RETURN_IF_ERROR(a.GetFloat("alpha", 1e-4f).status());
  DX_RETURN_IF_ERROR(a.GetFloat("beta", 0.75f).status());
  DX_RETURN_IF_ERROR(a.GetFloat("bias", 1.0f).status());
  const Shape& x = ctx.input_shape(0);
  if (x.size() < 3) return InvalidArgument("X must have rank >= 3 ([N, C, D1, ...]), got " + ShapeToString(x));
  ctx.SetOutput(0, DataType::kFloat32, x);
  return Status::Ok();
}

Status LrnKernel(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const int64_t size = ctx.attrs().Int("size", 1);
  const double alpha = ctx.attrs().Float("alpha", 1e-4f);
  const double beta = ctx.attrs().Float("beta", 0.75f);
  const double bias = ctx.attrs().Float("bias", 1.0f);
  const int64_t batch = x.dim(0), channels = x.dim(1);
  const int64_t inner = nn::Product(x.shape(), 2, x.shape().size());
  const int64_t before = (size - 1) / 2, after = size - 1 - before;
  const float* xd = x.data<float>();
  float* yd = ctx.output(0).data<float>();
  for (int64_t n = 0; n < batch; ++n) {
    for (int64_t c = 0; c < channels; ++c) {
      const int64_t lo = std::max<int64_t>(0, c - before), hi = std::min(channels - 1, c + after);
      for (int64_t i = 0; i < inner; ++i) {
        double square_sum = 0;
        for (int64_t j = lo; j <= hi; ++j) {
          const double v = xd[(n * channels + j) * inner + i];
          square_sum += v * v;
        }
        const int64_t at = (n * channels + c) * inner + i;
        yd[at] = static_cast<float>(xd[at] / std::pow(bias + alpha / static_cast<double>(size) * square_sum, beta));
      }
    }
  }
  return Status::Ok();
}

OpCost LrnCost(const CostContext& ctx) {
  const double size = static_cast<double>(ctx.attrs().Int("size", 1));
  return nn::CostWithFlops(ctx, (2.0 * size + 4.0) * static_cast<double>(NumElements(ctx.inputs[0]->shape)));
}

}  // namespace

OpSchema LrnSchema() {
  return OpSchema{.name = "LRN",
                  .min_inputs = 1,
                  .max_inputs = 1,
                  .min_outputs = 1,
                  .max_outputs = 1,
                  .attributes = {"alpha", "beta", "bias", "size"},
                  .infer = InferLrn,
                  .reference = LrnKernel,
                  .cost = LrnCost};
}

}  // namespace deepx
