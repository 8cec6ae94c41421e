#include "ops/fused_activation.h"

#include <algorithm>
#include <cmath>

namespace deepx {

FusedActivation GetFusedActivation(const Attributes& attrs) {
  FusedActivation act;
  act.kind = attrs.String(kFusedActivationAttr, "");
  act.params = attrs.Floats(kFusedActivationParamsAttr, {});
  return act;
}

void SetFusedActivation(Attributes& attrs, const FusedActivation& act) {
  attrs.set(kFusedActivationAttr, act.kind);
  attrs.set(kFusedActivationParamsAttr, act.params);
}

bool IsFusableActivation(const std::string& kind) {
  return kind == "Relu" || kind == "LeakyRelu" || kind == "Clip" || kind == "Sigmoid" || kind == "HardSigmoid" ||
         kind == "HardSwish" || kind == "Tanh";
}

static float Param(const FusedActivation& act, size_t i, float fallback) {
  return i < act.params.size() ? act.params[i] : fallback;
}

void ApplyFusedActivation(const FusedActivation& act, float* data, int64_t n) {
  if (act.none()) return;
  const std::string& k = act.kind;
  if (k == "Relu") {
    for (int64_t i = 0; i < n; ++i) data[i] = std::max(data[i], 0.0f);
  } else if (k == "LeakyRelu") {
    float alpha = Param(act, 0, 0.01f);
    for (int64_t i = 0; i < n; ++i) data[i] = data[i] >= 0 ? data[i] : alpha * data[i];
  } else if (k == "Clip") {
    float lo = Param(act, 0, -INFINITY), hi = Param(act, 1, INFINITY);
    for (int64_t i = 0; i < n; ++i) data[i] = std::min(std::max(data[i], lo), hi);
  } else if (k == "Sigmoid") {
    for (int64_t i = 0; i < n; ++i) data[i] = 1.0f / (1.0f + std::exp(-data[i]));
  } else if (k == "HardSigmoid") {
    float alpha = Param(act, 0, 0.2f), beta = Param(act, 1, 0.5f);
    for (int64_t i = 0; i < n; ++i) data[i] = std::clamp(alpha * data[i] + beta, 0.0f, 1.0f);
  } else if (k == "HardSwish") {
    for (int64_t i = 0; i < n; ++i) data[i] = data[i] * std::clamp(data[i] / 6.0f + 0.5f, 0.0f, 1.0f);
  } else if (k == "Tanh") {
    for (int64_t i = 0; i < n; ++i) data[i] = std::tanh(data[i]);
  }
}

}  // namespace deepx
