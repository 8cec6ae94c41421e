// Low-rank transforms on the graph IR: a layer with a constant weight matrix W becomes two layers from its
// truncated SVD W ≈ (U_k Σ_k)(V_kᵀ).
//
//   Gemm / MatMul (constant 2-D weight, run-time A): y = A·op(B)·alpha + beta·C with M = op(B) (K × N) becomes
//     t = A·(alpha U_k Σ_k)          (MatMul, or Gemm with transA when A is transposed; no bias)
//     y = t·V_kᵀ + beta·C            (Gemm keeping C, or MatMul without it; keeps the fused activation)
//   Conv (group 1, constant weight Cout×Cin×h×w), kChannel: M = W as Cout × (Cin·h·w)
//     t = conv(X, V_kᵀ as k×Cin×h×w)  same strides/pads/dilations/auto_pad, no bias
//     y = conv1x1(t, U_k Σ_k as Cout×k×1×1) + bias, fused activation
//   Conv 2-D, kSpatial (Jaderberg et al. 2014, scheme 2): M[(ci,y),(co,x)] = W[co,ci,y,x], (Cin·h) × (Cout·w)
//     t = conv(X, k vertical h×1 filters)    strides/dilations/pads of the height axis, width untouched
//     y = conv(t, Cout horizontal 1×w filters) + bias, strides/dilations/pads of the width axis, activation
//
// In every form the rank-k layer pair computes exactly W_k applied, so the layer's output error is that of W_k;
// params(k) = k·(rows + cols) and FLOPs(k) = k·flops_per_rank.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "compress/svd.h"
#include "core/graph.h"
#include "deepx/status.h"

namespace deepx::compress {

enum class ConvFactorization {
  kChannel,  // rank-k conv (k filters of the full kernel) + 1×1 conv
  kSpatial,  // k vertical h×1 filters + Cout horizontal 1×w filters (2-D convs without SAME auto_pad)
};

struct CompressibleLayer {
  std::string name;     // node name in the model graph
  std::string op_type;  // "Gemm", "MatMul", "Conv"
  ConvFactorization conv_mode = ConvFactorization::kChannel;  // Conv only
  Shape weight_shape;   // the stored weight's shape
  int64_t rows = 0, cols = 0;  // the factored matrix M (see above)
  double dense_flops = 0;      // of the dense layer at the graph's shapes (batch 1 when dynamic)
  double flops_per_rank = 0;   // FLOPs(k) = k · flops_per_rank for the factored pair

  int64_t max_rank() const { return rows < cols ? rows : cols; }
  int64_t dense_params() const { return rows * cols; }
  int64_t params_at(int64_t rank) const { return rank * (rows + cols); }
  // The largest rank whose factored form has fewer weights than the dense layer (0: factoring never pays).
  int64_t break_even_rank() const { return (rows * cols - 1) / (rows + cols); }
};

// Layers of `model_graph` that can be factored: Gemm/MatMul with a constant 2-D float weight and a run-time
// activation input, Conv with group 1 and a constant float weight. `shapes` is the same graph specialised to
// concrete input shapes (for FLOPs); conv layers use `conv_mode` where it applies (kSpatial needs a 2-D conv
// without SAME auto_pad, otherwise kChannel is used).
Result<std::vector<CompressibleLayer>> FindCompressibleLayers(const Graph& model_graph, const Graph& shapes,
                                                              ConvFactorization conv_mode = ConvFactorization::kChannel);

// Why node `name` of `g` cannot be factored ("" when it can): for error messages.
std::string WhyNotCompressible(const Graph& g, const std::string& name);

// The layer's matrix M (rows × cols, row-major) read from the graph's constant weight.
Result<std::vector<float>> LayerMatrix(const Graph& g, const CompressibleLayer& layer);

// Replaces the layer's node by its rank-`rank` factored pair built from `f` (the SVD of LayerMatrix); the new
// nodes are named "<name>.rlc1" and "<name>.rlc2", and the second one writes the original output value.
Status ApplyLowRank(Graph& g, const CompressibleLayer& layer, const SvdFactors& f, int64_t rank);

}  // namespace deepx::compress
