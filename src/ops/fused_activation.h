// Activations fused into a producing Conv/ConvTranspose/Gemm/MatMul by the activation-fusion pass.
//
// The pass records the activation as internal attributes on the producer (the loader rejects "deepx.*"
// attributes in model files):
//   deepx.activation         string: "Relu", "LeakyRelu", "Clip", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh"
//   deepx.activation_params  floats: LeakyRelu {alpha}; Clip {min, max}; HardSigmoid {alpha, beta}
// Kernels of fusable ops call ApplyFusedActivation on their output, so an optimised backend can do the same in
// its epilogue.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/attributes.h"

namespace deepx {

inline constexpr const char* kFusedActivationAttr = "deepx.activation";
inline constexpr const char* kFusedActivationParamsAttr = "deepx.activation_params";

struct FusedActivation {
  std::string kind;  // empty: none
  std::vector<float> params;
  bool none() const { return kind.empty(); }
};

FusedActivation GetFusedActivation(const Attributes& attrs);
void SetFusedActivation(Attributes& attrs, const FusedActivation& act);
// Whether `kind` can be fused (the set listed above).
bool IsFusableActivation(const std::string& kind);
// Applies the activation in place to n floats.
void ApplyFusedActivation(const FusedActivation& act, float* data, int64_t n);

}  // namespace deepx
