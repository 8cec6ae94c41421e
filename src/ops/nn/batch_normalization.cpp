// BatchNormalization, inference mode: Y = scale * (X - mean) / sqrt(var + epsilon) + B per channel (dim 1).
//
// Older forms: before opset 7 the mode was the `is_test` attribute (default 0, training) and opsets 1..5 also
// carried `consumed_inputs`. Before opset 9, spatial=0 allowed statistics per activation, of shape
// [C, D1, ..., Dn] instead of [C]; in inference the formula is the same, applied elementwise over those dims.
#include <cmath>
#include <string>

#include "ops/legacy.h"
#include "ops/nn/nn_common.h"

namespace deepx {
namespace {

constexpr int kNoIsTestOpset = 7;   // BatchNormalization-7 removed is_test (one output means inference)
constexpr int kNoSpatialOpset = 9;  // BatchNormalization-9 removed spatial

// Whether scale, B, mean and var hold one value per activation ([C, D1, ..., Dn]) rather than per channel ([C]).
// Shared by infer (which validated the shapes) and the kernel.
bool PerActivation(const Shape& param) { return param.size() > 1; }

Status InferBatchNormalization(InferContext& ctx) {
  const Attributes& a = ctx.attrs();
  DX_ASSIGN_OR_RETURN(int64_t training, a.GetInt("training_mode", 0));
  if (training != 0) return Unimplemented("training_mode=1 is not supported (inference only)");
  DX_RETURN_IF_ERROR(CheckConsumedInputs(ctx));
  if (ctx.opset() < kNoIsTestOpset) {
    // is_test=0 means training: Y normalised with the batch's own statistics. The ONNX version converter refuses
    // to carry such a node to opset 7, and so do we rather than compute the inference result instead.
    DX_ASSIGN_OR_RETURN(int64_t is_test, a.GetInt("is_test", 0));
    if (is_test == 0) {
      return Unimplemented(
          "is_test=0 (training mode, the default before opset 7) is not supported; inference "
          "models set is_test=1");
    }
  } else if (a.has("is_test")) {
    return InvalidArgument("attribute 'is_test' exists only before opset 7");
  }
  DX_ASSIGN_OR_RETURN(int64_t spatial, a.GetInt("spatial", 1));
  if (spatial != 0 && spatial != 1) return InvalidArgument("spatial must be 0 or 1, got " + std::to_string(spatial));
  if (spatial == 0 && ctx.opset() >= kNoSpatialOpset) return InvalidArgument("spatial=0 exists only before opset 9");
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
  const Shape per_channel = {x[1]};
  const Shape per_activation(x.begin() + 1, x.end());
  // scale decides which form the node uses; the other statistics must follow it.
  const Shape& expected = spatial == 0 && ctx.input_shape(1) == per_activation ? per_activation : per_channel;
  for (size_t i = 1; i < 5; ++i) {
    if (ctx.input_shape(i) == expected) continue;
    return InvalidArgument(std::string(names[i]) + " must have shape " + ShapeToString(expected) +
                           (spatial == 0 && i == 1 ? " or " + ShapeToString(per_activation) + " (spatial=0)" : "") +
                           ", got " + ShapeToString(ctx.input_shape(i)));
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
  const bool per_activation = PerActivation(ctx.input(1).shape());
  const float* xd = x.data<float>();
  float* yd = ctx.output(0).data<float>();
  for (int64_t c = 0; c < channels; ++c) {
    for (int64_t i = 0; i < inner; ++i) {
      // Index of this activation's statistics: one per channel, or one per (channel, spatial position).
      const int64_t p = per_activation ? c * inner + i : c;
      const double mul = scale[p] / std::sqrt(static_cast<double>(var[p]) + epsilon);
      for (int64_t n = 0; n < batch; ++n) {
        const int64_t at = (n * channels + c) * inner + i;
        yd[at] = static_cast<float>((xd[at] - static_cast<double>(mean[p])) * mul + bias[p]);
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
