// Own CUDA kernels of the CUDA backend: the elementwise, pooling, normalisation and data-movement ops that cuDNN
// and cuBLAS do not cover in the form ONNX defines them. Written for clarity first: one thread per output element
// (grid-stride loops), one block per row for reductions. They follow the reference kernels' formulas
// (src/ops/...) so the differential suite's bounds hold.
#include "backends/cuda/cuda_kernels.h"

#include <cfloat>

namespace deepx::cuda {
namespace {

constexpr int kThreads = 256;

unsigned Blocks(int64_t n) {
  const int64_t b = (n + kThreads - 1) / kThreads;
  return static_cast<unsigned>(b < 1 ? 1 : (b > 65535 * 8 ? 65535 * 8 : b));
}

__device__ __forceinline__ float ApplyAct(float v, const Act& act, float lo, float hi) {
  switch (act.kind) {
    case ActKind::kNone: return v;
    case ActKind::kRelu: return v > 0.0f ? v : 0.0f;
    case ActKind::kLeakyRelu: return v >= 0.0f ? v : act.a * v;
    case ActKind::kClip: return fminf(fmaxf(v, lo), hi);
    case ActKind::kSigmoid: return 1.0f / (1.0f + expf(-v));
    case ActKind::kHardSigmoid: return fminf(fmaxf(act.a * v + act.b, 0.0f), 1.0f);
    case ActKind::kHardSwish: return v * fminf(fmaxf(v / 6.0f + 0.5f, 0.0f), 1.0f);
    case ActKind::kTanh: return tanhf(v);
    case ActKind::kElu: return v < 0.0f ? act.a * expm1f(v) : v;
    case ActKind::kAbs: return fabsf(v);
    case ActKind::kExp: return expf(v);
    case ActKind::kSqrt: return sqrtf(v);
    case ActKind::kNeg: return -v;
  }
  return v;
}

__global__ void UnaryKernel(const float* x, float* y, int64_t n, Act act, const float* lo_p, const float* hi_p) {
  const float lo = lo_p ? *lo_p : act.a, hi = hi_p ? *hi_p : act.b;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    y[i] = ApplyAct(x[i], act, lo, hi);
}

__global__ void BiasActKernel(float* y, const float* bias, int64_t n, int64_t channels, int64_t inner, Act act) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    float v = y[i];
    if (bias) v += bias[(i / inner) % channels];
    y[i] = ApplyAct(v, act, act.a, act.b);
  }
}

__global__ void ScaleShiftKernel(const float* x, float* y, const float* mul, const float* add, int64_t n,
                                 int64_t channels, int64_t inner) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t c = (i / inner) % channels;
    y[i] = x[i] * mul[c] + add[c];
  }
}

__global__ void BinaryKernel(BinaryOp op, const float* a, const float* b, float* y, BroadcastDesc d) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < d.n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    int64_t rest = i, ai = 0, bi = 0;
    for (int k = d.rank - 1; k >= 0; --k) {
      const int64_t idx = rest % d.dims[k];
      rest /= d.dims[k];
      ai += idx * d.a_strides[k];
      bi += idx * d.b_strides[k];
    }
    const float u = a[ai], v = b[bi];
    float r;
    switch (op) {
      case BinaryOp::kAdd: r = u + v; break;
      case BinaryOp::kSub: r = u - v; break;
      case BinaryOp::kMul: r = u * v; break;
      default: r = u / v; break;
    }
    y[i] = r;
  }
}

__global__ void PoolKernel(bool is_max, bool include_pad, const float* x, float* y, int64_t planes, WindowDesc w) {
  const int64_t out_size = w.out[0] * w.out[1] * w.out[2];
  const int64_t in_size = w.in[0] * w.in[1] * w.in[2];
  const int64_t total = planes * out_size;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t plane = i / out_size;
    int64_t rest = i % out_size;
    int64_t o[kMaxSpatial];
    for (int d = kMaxSpatial - 1; d >= 0; --d) {
      o[d] = rest % w.out[d];
      rest /= w.out[d];
    }
    const float* xp = x + plane * in_size;
    float best = -FLT_MAX;
    bool any = false;
    double sum = 0;
    int64_t count = 0;
    for (int64_t k0 = 0; k0 < w.kernel[0]; ++k0) {
      const int64_t p0 = o[0] * w.strides[0] - w.pad_begin[0] + k0 * w.dilations[0];
      for (int64_t k1 = 0; k1 < w.kernel[1]; ++k1) {
        const int64_t p1 = o[1] * w.strides[1] - w.pad_begin[1] + k1 * w.dilations[1];
        for (int64_t k2 = 0; k2 < w.kernel[2]; ++k2) {
          const int64_t p2 = o[2] * w.strides[2] - w.pad_begin[2] + k2 * w.dilations[2];
          const bool inside = p0 >= 0 && p0 < w.in[0] && p1 >= 0 && p1 < w.in[1] && p2 >= 0 && p2 < w.in[2];
          if (inside) {
            const float v = xp[(p0 * w.in[1] + p1) * w.in[2] + p2];
            if (is_max) {
              best = any ? fmaxf(best, v) : v;
              any = true;
            } else {
              sum += v;
              ++count;
            }
          } else if (!is_max && include_pad) {
            const bool in_padded = p0 >= -w.pad_begin[0] && p0 < w.in[0] + w.pad_end[0] &&
                                   p1 >= -w.pad_begin[1] && p1 < w.in[1] + w.pad_end[1] &&
                                   p2 >= -w.pad_begin[2] && p2 < w.in[2] + w.pad_end[2];
            if (in_padded) ++count;
          }
        }
      }
    }
    y[i] = is_max ? best : (count > 0 ? static_cast<float>(sum / static_cast<double>(count)) : 0.0f);
  }
}

// One block per plane; a shared-memory tree reduction.
__global__ void GlobalPoolKernel(bool is_max, const float* x, float* y, int64_t size) {
  __shared__ float part[kThreads];
  const float* xp = x + blockIdx.x * size;
  float acc = is_max ? -FLT_MAX : 0.0f;
  for (int64_t j = threadIdx.x; j < size; j += blockDim.x) acc = is_max ? fmaxf(acc, xp[j]) : acc + xp[j];
  part[threadIdx.x] = acc;
  __syncthreads();
  for (int s = blockDim.x / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s)
      part[threadIdx.x] = is_max ? fmaxf(part[threadIdx.x], part[threadIdx.x + s]) : part[threadIdx.x] + part[threadIdx.x + s];
    __syncthreads();
  }
  if (threadIdx.x == 0) y[blockIdx.x] = is_max ? part[0] : part[0] / static_cast<float>(size);
}

__global__ void LrnKernel(const float* x, float* y, int64_t batch, int64_t channels, int64_t inner, int64_t size,
                          float alpha, float beta, float bias) {
  const int64_t total = batch * channels * inner;
  const int64_t before = (size - 1) / 2, after = size - 1 - before;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t p = i % inner, c = (i / inner) % channels, n = i / (inner * channels);
    const int64_t lo = c - before < 0 ? 0 : c - before, hi = c + after > channels - 1 ? channels - 1 : c + after;
    float sq = 0;
    for (int64_t j = lo; j <= hi; ++j) {
      const float v = x[(n * channels + j) * inner + p];
      sq += v * v;
    }
    y[i] = x[i] / powf(bias + alpha / static_cast<float>(size) * sq, beta);
  }
}

// One block per row (o, i); elements at base + j * inner.
__global__ void SoftmaxKernel(bool log, const float* x, float* y, int64_t length, int64_t inner) {
  __shared__ float part[kThreads];
  const int64_t row = blockIdx.x;
  const int64_t base = (row / inner) * length * inner + row % inner;
  float m = -FLT_MAX;
  for (int64_t j = threadIdx.x; j < length; j += blockDim.x) m = fmaxf(m, x[base + j * inner]);
  part[threadIdx.x] = m;
  __syncthreads();
  for (int s = blockDim.x / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) part[threadIdx.x] = fmaxf(part[threadIdx.x], part[threadIdx.x + s]);
    __syncthreads();
  }
  m = part[0];
  __syncthreads();
  float sum = 0;
  for (int64_t j = threadIdx.x; j < length; j += blockDim.x) sum += expf(x[base + j * inner] - m);
  part[threadIdx.x] = sum;
  __syncthreads();
  for (int s = blockDim.x / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) part[threadIdx.x] += part[threadIdx.x + s];
    __syncthreads();
  }
  sum = part[0];
  const float log_sum = logf(sum);
  for (int64_t j = threadIdx.x; j < length; j += blockDim.x) {
    const float shifted = x[base + j * inner] - m;
    y[base + j * inner] = log ? shifted - log_sum : expf(shifted) / sum;
  }
}

__global__ void DirectConvKernel(const float* x, const float* w, const float* bias, float* y, int64_t batch,
                                 int64_t channels, int64_t maps, int64_t group, WindowDesc win, Act act) {
  const int64_t out_size = win.out[0] * win.out[1] * win.out[2];
  const int64_t in_size = win.in[0] * win.in[1] * win.in[2];
  const int64_t k_size = win.kernel[0] * win.kernel[1] * win.kernel[2];
  const int64_t cpg = channels / group, mpg = maps / group;
  const int64_t total = batch * maps * out_size;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    int64_t rest = i % out_size;
    const int64_t m = (i / out_size) % maps, n = i / (out_size * maps);
    int64_t o[kMaxSpatial];
    for (int d = kMaxSpatial - 1; d >= 0; --d) {
      o[d] = rest % win.out[d];
      rest /= win.out[d];
    }
    const int64_t g = m / mpg;
    float acc = bias ? bias[m] : 0.0f;
    for (int64_t c = 0; c < cpg; ++c) {
      const float* xp = x + (n * channels + g * cpg + c) * in_size;
      const float* wp = w + (m * cpg + c) * k_size;
      for (int64_t k0 = 0; k0 < win.kernel[0]; ++k0) {
        const int64_t p0 = o[0] * win.strides[0] - win.pad_begin[0] + k0 * win.dilations[0];
        if (p0 < 0 || p0 >= win.in[0]) continue;
        for (int64_t k1 = 0; k1 < win.kernel[1]; ++k1) {
          const int64_t p1 = o[1] * win.strides[1] - win.pad_begin[1] + k1 * win.dilations[1];
          if (p1 < 0 || p1 >= win.in[1]) continue;
          for (int64_t k2 = 0; k2 < win.kernel[2]; ++k2) {
            const int64_t p2 = o[2] * win.strides[2] - win.pad_begin[2] + k2 * win.dilations[2];
            if (p2 < 0 || p2 >= win.in[2]) continue;
            acc += xp[(p0 * win.in[1] + p1) * win.in[2] + p2] * wp[(k0 * win.kernel[1] + k1) * win.kernel[2] + k2];
          }
        }
      }
    }
    y[i] = ApplyAct(acc, act, act.a, act.b);
  }
}

__global__ void FillBroadcast2dKernel(const float* c, float* y, int64_t m, int64_t n, int64_t rs, int64_t cs,
                                      float beta) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < m * n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    y[i] = beta * c[(i / n) * rs + (i % n) * cs];
}

__global__ void TransposeKernel(const float* x, float* y, TransposeDesc d) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < d.n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    int64_t rest = i, xi = 0;
    for (int k = d.rank - 1; k >= 0; --k) {
      xi += (rest % d.out_dims[k]) * d.in_strides[k];
      rest /= d.out_dims[k];
    }
    y[i] = x[xi];
  }
}

}  // namespace

cudaError_t LaunchUnary(const float* x, float* y, int64_t n, Act act, const float* lo, const float* hi,
                        cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  UnaryKernel<<<Blocks(n), kThreads, 0, stream>>>(x, y, n, act, lo, hi);
  return cudaGetLastError();
}

cudaError_t LaunchBiasAct(float* y, const float* bias, int64_t n, int64_t channels, int64_t inner, Act act,
                          cudaStream_t stream) {
  if (n == 0 || (!bias && act.kind == ActKind::kNone)) return cudaSuccess;
  BiasActKernel<<<Blocks(n), kThreads, 0, stream>>>(y, bias, n, channels, inner, act);
  return cudaGetLastError();
}

cudaError_t LaunchScaleShift(const float* x, float* y, const float* mul, const float* add, int64_t n,
                             int64_t channels, int64_t inner, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  ScaleShiftKernel<<<Blocks(n), kThreads, 0, stream>>>(x, y, mul, add, n, channels, inner);
  return cudaGetLastError();
}

cudaError_t LaunchBinary(BinaryOp op, const float* a, const float* b, float* y, const BroadcastDesc& d,
                         cudaStream_t stream) {
  if (d.n == 0) return cudaSuccess;
  BinaryKernel<<<Blocks(d.n), kThreads, 0, stream>>>(op, a, b, y, d);
  return cudaGetLastError();
}

cudaError_t LaunchPool(bool is_max, bool include_pad, const float* x, float* y, int64_t planes, const WindowDesc& w,
                       cudaStream_t stream) {
  const int64_t n = planes * w.out[0] * w.out[1] * w.out[2];
  if (n == 0) return cudaSuccess;
  PoolKernel<<<Blocks(n), kThreads, 0, stream>>>(is_max, include_pad, x, y, planes, w);
  return cudaGetLastError();
}

cudaError_t LaunchGlobalPool(bool is_max, const float* x, float* y, int64_t planes, int64_t size,
                             cudaStream_t stream) {
  if (planes == 0) return cudaSuccess;
  GlobalPoolKernel<<<static_cast<unsigned>(planes), kThreads, 0, stream>>>(is_max, x, y, size);
  return cudaGetLastError();
}

cudaError_t LaunchLrn(const float* x, float* y, int64_t batch, int64_t channels, int64_t inner, int64_t size,
                      float alpha, float beta, float bias, cudaStream_t stream) {
  const int64_t n = batch * channels * inner;
  if (n == 0) return cudaSuccess;
  LrnKernel<<<Blocks(n), kThreads, 0, stream>>>(x, y, batch, channels, inner, size, alpha, beta, bias);
  return cudaGetLastError();
}

cudaError_t LaunchSoftmax(bool log, const float* x, float* y, int64_t outer, int64_t length, int64_t inner,
                          cudaStream_t stream) {
  if (outer * inner == 0) return cudaSuccess;
  SoftmaxKernel<<<static_cast<unsigned>(outer * inner), kThreads, 0, stream>>>(log, x, y, length, inner);
  return cudaGetLastError();
}

cudaError_t LaunchDirectConv(const float* x, const float* w, const float* bias, float* y, int64_t batch,
                             int64_t channels, int64_t maps, int64_t group, const WindowDesc& win, Act act,
                             cudaStream_t stream) {
  const int64_t n = batch * maps * win.out[0] * win.out[1] * win.out[2];
  if (n == 0) return cudaSuccess;
  DirectConvKernel<<<Blocks(n), kThreads, 0, stream>>>(x, w, bias, y, batch, channels, maps, group, win, act);
  return cudaGetLastError();
}

cudaError_t LaunchFillBroadcast2d(const float* c, float* y, int64_t m, int64_t n, int64_t row_stride,
                                  int64_t col_stride, float beta, cudaStream_t stream) {
  if (m * n == 0) return cudaSuccess;
  FillBroadcast2dKernel<<<Blocks(m * n), kThreads, 0, stream>>>(c, y, m, n, row_stride, col_stride, beta);
  return cudaGetLastError();
}

cudaError_t LaunchTranspose(const float* x, float* y, const TransposeDesc& d, cudaStream_t stream) {
  if (d.n == 0) return cudaSuccess;
  TransposeKernel<<<Blocks(d.n), kThreads, 0, stream>>>(x, y, d);
  return cudaGetLastError();
}

}  // namespace deepx::cuda
