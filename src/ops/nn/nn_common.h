// Helpers shared by the nn op family: schema factories, sliding-window geometry (Conv, ConvTranspose, pools)
// and small validation utilities.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/attributes.h"
#include "deepx/status.h"
#include "deepx/tensor.h"
#include "ops/op.h"

namespace deepx {

// One factory per op (each in its own file); RegisterNnOps registers them all.
OpSchema ConvSchema();
OpSchema ConvTransposeSchema();
OpSchema GemmSchema();
OpSchema MatMulSchema();
OpSchema MaxPoolSchema();
OpSchema AveragePoolSchema();
OpSchema GlobalAveragePoolSchema();
OpSchema GlobalMaxPoolSchema();
OpSchema BatchNormalizationSchema();
OpSchema LrnSchema();
OpSchema InstanceNormalizationSchema();
OpSchema SoftmaxSchema();
OpSchema LogSoftmaxSchema();

namespace nn {

// Bounds on window attributes: far above any real model, low enough that geometry arithmetic cannot overflow.
inline constexpr int64_t kMaxWindowValue = int64_t{1} << 20;
inline constexpr int64_t kMaxPadValue = int64_t{1} << 30;

enum class AutoPad { kNotSet, kSameUpper, kSameLower, kValid };

Result<AutoPad> ParseAutoPad(const Attributes& attrs);

// Resolved geometry of a window sliding over the spatial dims of an [N, C, D1, ..., Dn] tensor.
struct Window {
  std::vector<int64_t> in;         // input spatial dims
  std::vector<int64_t> kernel;     // kernel extent per dim (before dilation)
  std::vector<int64_t> strides;
  std::vector<int64_t> dilations;
  std::vector<int64_t> pad_begin;
  std::vector<int64_t> pad_end;
  std::vector<int64_t> out;        // output spatial dims
  size_t rank() const { return in.size(); }
};

// Reads strides/dilations/pads/auto_pad and computes output dims for a forward window (Conv, pools).
// `kernel` must already be validated (positive, <= kMaxWindowValue). With `ceil_mode` the last partial window
// counts, as long as it starts inside the input or its leading padding (the PyTorch/ONNX rule).
Result<Window> ResolveWindow(const Attributes& attrs, const std::vector<int64_t>& in_spatial,
                             const std::vector<int64_t>& kernel, bool ceil_mode);

// Reads an optional per-spatial-dim ints attribute: `fill` repeated when absent, else exactly `rank` values,
// each within [min_value, max_value].
Result<std::vector<int64_t>> GetSpatialInts(const Attributes& attrs, const std::string& name, size_t rank,
                                            int64_t fill, int64_t min_value, int64_t max_value);

// Reads and validates the "kernel_shape" attribute (required for pools).
Result<std::vector<int64_t>> GetKernelShape(const Attributes& attrs, size_t rank);

// InvalidArgument unless input i is float32.
Status RequireFloat(const InferContext& ctx, size_t i, const char* what);

// Advances a multi-index over `dims` in row-major order; false once it wraps around to all zeros.
bool NextIndex(std::vector<int64_t>& index, const std::vector<int64_t>& dims);

// Product of dims[begin..end).
int64_t Product(const std::vector<int64_t>& dims, size_t begin, size_t end);

// Normalises an axis in [-rank, rank-1] to [0, rank-1], or InvalidArgument naming `what`.
Result<int64_t> NormalizeAxis(int64_t axis, int64_t rank, const char* what);

// InvalidArgument if the node carries an internal fused activation DeepX does not know.
Status ValidateFusedActivation(const Attributes& attrs);

// Bytes read/written of the node, with the given flop count.
OpCost CostWithFlops(const CostContext& ctx, double flops);

std::string JoinInts(const std::vector<int64_t>& v);

}  // namespace nn
}  // namespace deepx
