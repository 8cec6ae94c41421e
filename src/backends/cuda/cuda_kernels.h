// Own CUDA kernels of the CUDA backend (cuda_kernels.cu), behind plain C++ launchers so the backend's .cpp files
// need no CUDA compiler. Every launcher enqueues on `stream` and returns the launch error (cudaSuccess when
// queued); shapes were validated at Prepare, so kernels run blind. float32 only.
#pragma once

#include <cstdint>

#include <cuda_runtime.h>

namespace deepx::cuda {

// An elementwise function: the unary ops and the activations fused into Conv/Gemm/MatMul.
enum class ActKind : int {
  kNone, kRelu, kLeakyRelu, kClip, kSigmoid, kHardSigmoid, kHardSwish, kTanh, kElu, kAbs, kExp, kSqrt, kNeg,
};
struct Act {
  ActKind kind = ActKind::kNone;
  float a = 0, b = 0;  // LeakyRelu/Elu {alpha}; Clip {min, max}; HardSigmoid {alpha, beta}
};

constexpr int kMaxRank = 6;
constexpr int kMaxSpatial = 3;

// y = act(x) over n elements. For Clip with run-time bounds, `lo`/`hi` (device scalars, may be null) override
// act.a/act.b.
cudaError_t LaunchUnary(const float* x, float* y, int64_t n, Act act, const float* lo, const float* hi,
                        cudaStream_t stream);

// In place: y[i] = act(y[i] + bias[(i / inner) % channels]) (bias may be null: act only).
cudaError_t LaunchBiasAct(float* y, const float* bias, int64_t n, int64_t channels, int64_t inner, Act act,
                          cudaStream_t stream);

// y[i] = x[i] * mul[c] + add[c], c = (i / inner) % channels (inference BatchNormalization).
cudaError_t LaunchScaleShift(const float* x, float* y, const float* mul, const float* add, int64_t n,
                             int64_t channels, int64_t inner, cudaStream_t stream);

enum class BinaryOp : int { kAdd, kSub, kMul, kDiv };
// Numpy-broadcast binary op: out dims `dims` (rank <= kMaxRank), element strides of a and b per out dim (0 where
// that operand broadcasts).
struct BroadcastDesc {
  int rank = 0;
  int64_t dims[kMaxRank] = {};
  int64_t a_strides[kMaxRank] = {};
  int64_t b_strides[kMaxRank] = {};
  int64_t n = 0;
};
cudaError_t LaunchBinary(BinaryOp op, const float* a, const float* b, float* y, const BroadcastDesc& d,
                         cudaStream_t stream);

// Sliding-window geometry of a pool or direct convolution over 1 to 3 spatial dims.
struct WindowDesc {
  int nd = 0;
  int64_t in[kMaxSpatial] = {1, 1, 1}, out[kMaxSpatial] = {1, 1, 1}, kernel[kMaxSpatial] = {1, 1, 1};
  int64_t strides[kMaxSpatial] = {1, 1, 1}, dilations[kMaxSpatial] = {1, 1, 1};
  int64_t pad_begin[kMaxSpatial] = {0, 0, 0}, pad_end[kMaxSpatial] = {0, 0, 0};
};

// MaxPool / AveragePool over `planes` = N*C planes, with the ONNX rules of the reference kernels (average:
// count_include_pad counts positions in the explicit padding, never those past it that ceil_mode adds).
cudaError_t LaunchPool(bool is_max, bool include_pad, const float* x, float* y, int64_t planes, const WindowDesc& w,
                       cudaStream_t stream);

// Global pools: one value per plane of `size` elements.
cudaError_t LaunchGlobalPool(bool is_max, const float* x, float* y, int64_t planes, int64_t size,
                             cudaStream_t stream);

// LRN across channels (dim 1) of [N, C, inner].
cudaError_t LaunchLrn(const float* x, float* y, int64_t batch, int64_t channels, int64_t inner, int64_t size,
                      float alpha, float beta, float bias, cudaStream_t stream);

// Softmax/LogSoftmax along a dim of `length` elements with stride `inner`, for outer*inner rows.
cudaError_t LaunchSoftmax(bool log, const float* x, float* y, int64_t outer, int64_t length, int64_t inner,
                          cudaStream_t stream);

// Direct convolution (the fallback for geometries cuDNN's descriptors cannot express, e.g. asymmetric pads):
// x [N, C, in...], w [M, C/group, kernel...], y [N, M, out...], plus bias and activation.
cudaError_t LaunchDirectConv(const float* x, const float* w, const float* bias, float* y, int64_t batch,
                             int64_t channels, int64_t maps, int64_t group, const WindowDesc& win, Act act,
                             cudaStream_t stream);

// y[i, j] = beta * c[i * row_stride + j * col_stride] for an m x n output (Gemm's C term before the product).
cudaError_t LaunchFillBroadcast2d(const float* c, float* y, int64_t m, int64_t n, int64_t row_stride,
                                  int64_t col_stride, float beta, cudaStream_t stream);

// Transpose of a tensor of rank <= kMaxRank: y's dim i is x's dim perm[i].
struct TransposeDesc {
  int rank = 0;
  int64_t out_dims[kMaxRank] = {};
  int64_t in_strides[kMaxRank] = {};  // x's stride of the dim that becomes out dim i
  int64_t n = 0;
};
cudaError_t LaunchTranspose(const float* x, float* y, const TransposeDesc& d, cudaStream_t stream);

}  // namespace deepx::cuda
