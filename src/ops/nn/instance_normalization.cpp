// InstanceNormalization: per (sample, channel) plane, Y = scale * (X - mean) / sqrt(var + epsilon) + B, with the
// plane's own mean and (population) variance.
#include <cmath>
#include <string>

#include "ops/legacy.h"
#include "ops/nn/nn_common.h"

namespace deepx {
namespace {

Status InferInstanceNormalization(InferContext& ctx) {
  DX_RETURN_IF_ERROR(CheckConsumedInputs(ctx));
  DX_ASSIGN_OR_RETURN(float epsilon, ctx.attrs().GetFloat("epsilon", 1e-5f));
  if (!(epsilon >= 0)) return InvalidArgument("epsilon must be >= 0, got " + std::to_string(epsilon));
  const char* names[] = {"input", "scale", "B"};
  for (size_t i = 0; i < 3; ++i) DX_RETURN_IF_ERROR(nn::RequireFloat(ctx, i, names[i]));
  const Shape& x = ctx.input_shape(0);
  if (x.size() < 3) return InvalidArgument("input must have rank >= 3 ([N, C, D1, ...]), got " + ShapeToString(x));
  for (size_t i = 2; i < x.size(); ++i) {
    if (x[i] == 0) return InvalidArgument("cannot normalise an empty spatial dim: input is " + ShapeToString(x));
  }
  for (size_t i = 1; i < 3; ++i) {
    if (ctx.input_shape(i) != Shape{x[1]}) {
      return InvalidArgument(std::string(names[i]) + " must have shape [" + std::to_string(x[1]) + "], got " +
                             ShapeToString(ctx.input_shape(i)));
    }
  }
  ctx.SetOutput(0, DataType::kFloat32, x);
  return Status::Ok();
}

Status InstanceNormalizationKernel(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const float* scale = ctx.input(1).data<float>();
  const float* bias = ctx.input(2).data<float>();
  const double epsilon = ctx.attrs().Float("epsilon", 1e-5f);
  const int64_t channels = x.dim(1), planes = x.dim(0) * channels;
  const int64_t inner = nn::Product(x.shape(), 2, x.shape().size());
  const float* xd = x.data<float>();
  float* yd = ctx.output(0).data<float>();
  for (int64_t p = 0; p < planes; ++p) {
    const float* in = xd + p * inner;
    double mean = 0;
    for (int64_t i = 0; i < inner; ++i) mean += in[i];
    mean /= static_cast<double>(inner);
    double var = 0;
    for (int64_t i = 0; i < inner; ++i) var += (in[i] - mean) * (in[i] - mean);
    var /= static_cast<double>(inner);
    const int64_t c = p % channels;
    const double mul = scale[c] / std::sqrt(var + epsilon);
    for (int64_t i = 0; i < inner; ++i) yd[p * inner + i] = static_cast<float>((in[i] - mean) * mul + bias[c]);
  }
  return Status::Ok();
}

OpCost InstanceNormalizationCost(const CostContext& ctx) {
  return nn::CostWithFlops(ctx, 5.0 * static_cast<double>(NumElements(ctx.inputs[0]->shape)));
}

}  // namespace

OpSchema InstanceNormalizationSchema() {
  return OpSchema{.name = "InstanceNormalization",
                  .min_inputs = 3,
                  .max_inputs = 3,
                  .min_outputs = 1,
                  .max_outputs = 1,
                  .attributes = {"consumed_inputs", "epsilon"},
                  .infer = InferInstanceNormalization,
                  .reference = InstanceNormalizationKernel,
                  .cost = InstanceNormalizationCost};
}

}  // namespace deepx
