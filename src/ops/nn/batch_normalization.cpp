// BatchNormalization, inference mode: Y = scale * (X - mean) / sqrt(var + epsilon) + B per channel (dim 1).
#include <cmath>
#include <string>

#include "ops/nn/nn_common.h"

namespace deepx {
namespace {

Status InferBatchNormalization(InferContext& ctx) {
  const Attributes& a = ctx.attrs();
  DX_ASSIGN_OR_RETURN(int64_t training, a.GetInt("training_mode", 0));
  if (training != 0) return Unimplemented("training_mode=1 is not supported (inference only)");
  // Opset 6 and older models (PyTorch's early exporter) mark inference with is_test=1.
  DX_ASSIGN_OR_RETURN(int64_t is_test, a.GetInt("is_test", 1));
  if (is_test == 0 && ctx.opset() < 7) return Unimplemented("is_test=0 (training) is not supported");
  DX_ASSIGN_OR_RETURN(int64_t spatial, a.GetInt("spatial", 1));
  if (spatial != 1) return Unimplemented("spatial=0 (per-activation statistics) is not supported");
  DX_ASSIGN_OR_RETURN(float epsilon, a.GetFloat("epsilon", 1e-5f));
  if (!(epsilon >= 0)) return InvalidArgument("epsilon must be >= 0, got " + std::to_string(epsilon));
  DX_RETURN_IF_ERROR(a.GetFloat("momentum", 0.9f).status());
  for (size_t i = 1; i < ctx.num_outputs(); ++i) {
    if (ctx.has_output(i)) return Unimplemented("outputs beyond Y (running/saved statistics) are training-only");
  }
  const char* names[] = {"X", "scale", "B", "input_mean", "input_var"};
  for (size_t i = 0; i < 5; ++i) DX_RETURN_IF_ERROR(nn::RequireFloat(ctx, i, names[i]));
  const Shape& x = ctx.input_shape(0);
  if (x.size() < 2) return InvalidArgument("X must have rank >= 2 ([N, C, ...]), got " + ShapeToString(x));
  for (size_t i = 1; i < 5; ++i) {
    if (ctx.input_shape(i) != Shape{x[1]}) {
      return InvalidArgument(std::string(names[i]) + " must have shape [" + std::to_string(x[1]) + "], got " +
                             ShapeToString(ctx.input_shape(i)));
    }
  }
  ctx.SetOutput(0, DataType::kFloat32, x);
  return Status::Ok();
}

Status BatchNormalizationKernel(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const float* scale = ctx.input(1).data<float>();
  const float* bias = ctx.input(2).data<float>();
  const float* mean = ctx.input(3).data<float>();
  const float* var = ctx.input(4).data<float>();
  const double epsilon = ctx.attrs().Float("epsilon", 1e-5f);
  const int64_t batch = x.dim(0), channels = x.dim(1);
  const int64_t inner = nn::Product(x.shape(), 2, x.shape().size());
  const float* xd = x.data<float>();
  float* yd = ctx.output(0).data<float>();
  for (int64_t c = 0; c < channels; ++c) {
    const double mul = scale[c] / std::sqrt(static_cast<double>(var[c]) + epsilon);
    for (int64_t n = 0; n < batch; ++n) {
      const int64_t base = (n * channels + c) * inner;
      for (int64_t i = 0; i < inner; ++i) {
        yd[base + i] = static_cast<float>((xd[base + i] - static_cast<double>(mean[c])) * mul + bias[c]);
      }
    }
  }
  return Status::Ok();
}

OpCost BatchNormalizationCost(const CostContext& ctx) {
  return nn::CostWithFlops(ctx, 2.0 * static_cast<double>(NumElements(ctx.inputs[0]->shape)));
}

}  // namespace

OpSchema BatchNormalizationSchema() {
  return OpSchema{.name = "BatchNormalization",
                  .min_inputs = 5,
                  .max_inputs = 5,
                  .min_outputs = 1,
                  .max_outputs = 5,
                  .attributes = {"consumed_inputs", "epsilon", "is_test", "momentum", "spatial", "training_mode"},
                  .infer = InferBatchNormalization,
                  .reference = BatchNormalizationKernel,
                  .cost = BatchNormalizationCost};
}

}  // namespace deepx
