// The CUDA backend's node kernels, one builder per op family. All validation and descriptor setup happens here, at
// Prepare; Run only enqueues work on the context's stream.
#include <algorithm>
#include <cmath>
#include <limits>

#include "backends/cuda/cuda_common.h"
#include "backends/cuda/cuda_kernels.h"
#include "ops/fused_activation.h"
#include "ops/nn/nn_common.h"

namespace deepx::cuda {
namespace {

using RunFn = std::function<Status(Context&, const NodeArgs&)>;

class FnKernel final : public NodeKernel {
 public:
  FnKernel(std::string name, RunFn fn, int64_t workspace = 0) : name_(std::move(name)), fn_(std::move(fn)),
                                                                workspace_(workspace) {}
  Status Run(Context& ctx, const NodeArgs& args) override { return fn_(ctx, args); }
  std::string impl_name() const override { return name_; }
  int64_t workspace_bytes() const override { return workspace_; }

 private:
  std::string name_;
  RunFn fn_;
  int64_t workspace_;
};

std::unique_ptr<NodeKernel> Make(std::string name, RunFn fn, int64_t workspace = 0) {
  return std::make_unique<FnKernel>(std::move(name), std::move(fn), workspace);
}

const float* F(const void* p) { return static_cast<const float*>(p); }
float* F(void* p) { return static_cast<float*>(p); }

Act ActFromFused(const FusedActivation& f) {
  Act a;
  auto p = [&](size_t i, float d) { return i < f.params.size() ? f.params[i] : d; };
  const std::string& k = f.kind;
  if (k.empty()) return a;
  if (k == "Relu") a.kind = ActKind::kRelu;
  else if (k == "LeakyRelu") a = {ActKind::kLeakyRelu, p(0, 0.01f), 0};
  else if (k == "Clip") a = {ActKind::kClip, p(0, -INFINITY), p(1, INFINITY)};
  else if (k == "Sigmoid") a.kind = ActKind::kSigmoid;
  else if (k == "HardSigmoid") a = {ActKind::kHardSigmoid, p(0, 0.2f), p(1, 0.5f)};
  else if (k == "HardSwish") a.kind = ActKind::kHardSwish;
  else if (k == "Tanh") a.kind = ActKind::kTanh;
  return a;
}

WindowDesc ToDesc(const nn::Window& w) {
  WindowDesc d;
  d.nd = static_cast<int>(w.rank());
  for (size_t i = 0; i < w.rank(); ++i) {
    d.in[i] = w.in[i];
    d.out[i] = w.out[i];
    d.kernel[i] = w.kernel[i];
    d.strides[i] = w.strides[i];
    d.dilations[i] = w.dilations[i];
    d.pad_begin[i] = w.pad_begin[i];
    d.pad_end[i] = w.pad_end[i];
  }
  return d;
}

// --- Conv: cuDNN for 1-D/2-D with symmetric padding, a direct kernel otherwise ----------------------------------
class CudnnConv final : public NodeKernel {
 public:
  ~CudnnConv() override {
    if (x_) cudnnDestroyTensorDescriptor(x_);
    if (y_) cudnnDestroyTensorDescriptor(y_);
    if (w_) cudnnDestroyFilterDescriptor(w_);
    if (conv_) cudnnDestroyConvolutionDescriptor(conv_);
  }
  Status Init(Context& ctx, const Shape& xs, const Shape& ws, const Shape& ys, const nn::Window& win, int64_t group,
              bool has_bias, Act act) {
    // 1-D convolutions run as 2-D ones of height 1.
    const bool one_d = win.rank() == 1;
    auto dim = [&](const Shape& s, size_t i) { return static_cast<int>(s[i]); };
    const int h_in = one_d ? 1 : dim(xs, 2), w_in = one_d ? dim(xs, 2) : dim(xs, 3);
    const int h_out = one_d ? 1 : dim(ys, 2), w_out = one_d ? dim(ys, 2) : dim(ys, 3);
    const int kh = one_d ? 1 : dim(ws, 2), kw = one_d ? dim(ws, 2) : dim(ws, 3);
    auto at = [&](const std::vector<int64_t>& v, size_t i, int d) { return static_cast<int>(one_d ? (i == 0 ? d : v[0]) : v[i]); };
    DX_CUDNN(cudnnCreateTensorDescriptor(&x_));
    DX_CUDNN(cudnnCreateTensorDescriptor(&y_));
    DX_CUDNN(cudnnCreateFilterDescriptor(&w_));
    DX_CUDNN(cudnnCreateConvolutionDescriptor(&conv_));
    DX_CUDNN(cudnnSetTensor4dDescriptor(x_, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, dim(xs, 0), dim(xs, 1), h_in, w_in));
    DX_CUDNN(cudnnSetTensor4dDescriptor(y_, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, dim(ys, 0), dim(ys, 1), h_out, w_out));
    DX_CUDNN(cudnnSetFilter4dDescriptor(w_, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, dim(ws, 0), dim(ws, 1), kh, kw));
    DX_CUDNN(cudnnSetConvolution2dDescriptor(conv_, at(win.pad_begin, 0, 0), at(win.pad_begin, 1, 0),
                                             at(win.strides, 0, 1), at(win.strides, 1, 1), at(win.dilations, 0, 1),
                                             at(win.dilations, 1, 1), CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
    DX_CUDNN(cudnnSetConvolutionGroupCount(conv_, static_cast<int>(group)));
    // FP32 FMA math only: no TF32 tensor-core rounding (accuracy first; the reference is FP32/FP64).
    DX_CUDNN(cudnnSetConvolutionMathType(conv_, CUDNN_FMA_MATH));
    int n_out = 0, c_out = 0, h = 0, w = 0;
    DX_CUDNN(cudnnGetConvolution2dForwardOutputDim(conv_, x_, w_, &n_out, &c_out, &h, &w));
    if (n_out != dim(ys, 0) || c_out != dim(ys, 1) || h != h_out || w != w_out)
      return Internal("cuDNN computes another output shape");
    DX_RETURN_IF_ERROR(PickAlgorithm(ctx));
    channels_ = ys[1];
    inner_ = 1;
    for (size_t i = 2; i < ys.size(); ++i) inner_ *= ys[i];
    count_ = NumElements(ys);
    has_bias_ = has_bias;
    act_ = act;
    return Status::Ok();
  }
  Status Run(Context& ctx, const NodeArgs& a) override {
    const float one = 1.0f, zero = 0.0f;
    DX_CUDNN(cudnnConvolutionForward(ctx.cudnn, &one, x_, a.in[0], w_, a.in[1], conv_, algo_, a.workspace,
                                     static_cast<size_t>(workspace_), &zero, y_, a.out[0]));
    DX_CUDA(LaunchBiasAct(F(a.out[0]), has_bias_ ? F(a.in[2]) : nullptr, count_, channels_, inner_, act_, ctx.stream));
    return Status::Ok();
  }
  std::string impl_name() const override { return "cudnn:conv:algo" + std::to_string(static_cast<int>(algo_)); }
  int64_t workspace_bytes() const override { return workspace_; }

 private:
  // Times the candidate algorithms on scratch buffers (cuDNN allocates them) and keeps the fastest that needs at
  // most 256 MiB of workspace; falls back to the heuristic's first choice if timing fails.
  Status PickAlgorithm(Context& ctx) {
    constexpr size_t kMaxWorkspace = size_t{256} << 20;
    cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
    int found = 0;
    cudnnStatus_t s = cudnnFindConvolutionForwardAlgorithm(ctx.cudnn, x_, w_, conv_, y_,
                                                           CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &found, perf);
    if (s != CUDNN_STATUS_SUCCESS || found == 0)
      DX_CUDNN(cudnnGetConvolutionForwardAlgorithm_v7(ctx.cudnn, x_, w_, conv_, y_, CUDNN_CONVOLUTION_FWD_ALGO_COUNT,
                                                      &found, perf));
    for (int i = 0; i < found; ++i) {
      if (perf[i].status != CUDNN_STATUS_SUCCESS || perf[i].memory > kMaxWorkspace) continue;
      // FMA math was asked for: skip results that would use tensor cores (TF32).
      if (perf[i].mathType == CUDNN_TENSOR_OP_MATH || perf[i].mathType == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION)
        continue;
      algo_ = perf[i].algo;
      workspace_ = static_cast<int64_t>(perf[i].memory);
      return Status::Ok();
    }
    return Unimplemented("cuDNN offers no FP32 algorithm for this convolution");
  }

  cudnnTensorDescriptor_t x_ = nullptr, y_ = nullptr;
  cudnnFilterDescriptor_t w_ = nullptr;
  cudnnConvolutionDescriptor_t conv_ = nullptr;
  cudnnConvolutionFwdAlgo_t algo_ = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM;
  int64_t workspace_ = 0;
  int64_t channels_ = 1, inner_ = 1, count_ = 0;
  bool has_bias_ = false;
  Act act_;
};

Result<std::unique_ptr<NodeKernel>> BuildConv(const BuildContext& b) {
  const Shape& xs = b.in(0).shape;
  const Shape& ws = b.in(1).shape;
  const Shape& ys = b.out(0).shape;
  std::vector<int64_t> kernel(ws.begin() + 2, ws.end());
  DX_ASSIGN_OR_RETURN(nn::Window win,
                      nn::ResolveWindow(b.node.attrs, std::vector<int64_t>(xs.begin() + 2, xs.end()), kernel, false));
  const int64_t group = b.node.attrs.Int("group", 1);
  const bool has_bias = b.has_in(2);
  const Act act = ActFromFused(GetFusedActivation(b.node.attrs));
  bool symmetric = true;
  for (size_t i = 0; i < win.rank(); ++i) symmetric = symmetric && win.pad_begin[i] == win.pad_end[i];
  std::string why = "direct";
  if (symmetric && win.rank() <= 2) {
    auto conv = std::make_unique<CudnnConv>();
    Status s = conv->Init(b.ctx, xs, ws, ys, win, group, has_bias, act);
    if (s.ok()) return std::unique_ptr<NodeKernel>(std::move(conv));
    why = "direct (cuDNN: " + s.message() + ")";
  } else {
    why = win.rank() > 2 ? "direct (3-D)" : "direct (asymmetric padding)";
  }
  const WindowDesc wd = ToDesc(win);
  const int64_t batch = xs[0], channels = xs[1], maps = ys[1];
  return Make("kernel:conv " + why, [=](Context& ctx, const NodeArgs& a) {
    return FromCuda(LaunchDirectConv(F(a.in[0]), F(a.in[1]), has_bias ? F(a.in[2]) : nullptr, F(a.out[0]), batch,
                                     channels, maps, group, wd, act, ctx.stream),
                    "direct convolution");
  });
}

// --- Gemm / MatMul on cuBLAS (row-major operands as transposed column-major ones) -------------------------------
// Y[m, n] = alpha * op(A) op(B) + beta * Y, all row-major: computed as Y^T = op(B)^T op(A)^T in column-major.
Status Sgemm(Context& ctx, bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
             const float* b, float beta, float* y) {
  DX_CUBLAS(cublasSgemm(ctx.cublas, tb ? CUBLAS_OP_T : CUBLAS_OP_N, ta ? CUBLAS_OP_T : CUBLAS_OP_N,
                        static_cast<int>(n), static_cast<int>(m), static_cast<int>(k), &alpha, b,
                        static_cast<int>(tb ? k : n), a, static_cast<int>(ta ? m : k), &beta, y, static_cast<int>(n)));
  return Status::Ok();
}

Result<std::unique_ptr<NodeKernel>> BuildGemm(const BuildContext& b) {
  const auto& attrs = b.node.attrs;
  const bool ta = attrs.Int("transA", 0) != 0, tb = attrs.Int("transB", 0) != 0;
  const float alpha = attrs.Float("alpha", 1.0f), beta = attrs.Float("beta", 1.0f);
  const Shape& as = b.in(0).shape;
  const int64_t m = ta ? as[1] : as[0], k = ta ? as[0] : as[1];
  const int64_t n = b.out(0).shape[1];
  const bool has_c = b.has_in(2);
  int64_t rs = 0, cs = 0;
  if (has_c) {
    const Shape& c = b.in(2).shape;
    const int64_t rows = c.size() == 2 ? c[0] : 1, cols = c.empty() ? 1 : c.back();
    cs = cols == 1 ? 0 : 1;
    rs = rows == 1 ? 0 : cols;
  }
  const Act act = ActFromFused(GetFusedActivation(attrs));
  return Make("cublas:gemm", [=](Context& ctx, const NodeArgs& a) {
    float* y = F(a.out[0]);
    if (has_c) DX_CUDA(LaunchFillBroadcast2d(F(a.in[2]), y, m, n, rs, cs, beta, ctx.stream));
    DX_RETURN_IF_ERROR(Sgemm(ctx, ta, tb, m, n, k, alpha, F(a.in[0]), F(a.in[1]), has_c ? 1.0f : 0.0f, y));
    DX_CUDA(LaunchBiasAct(y, nullptr, m * n, 1, 1, act, ctx.stream));
    return Status::Ok();
  });
}

Result<std::unique_ptr<NodeKernel>> BuildMatMul(const BuildContext& b) {
  Shape as = b.in(0).shape, bs = b.in(1).shape;
  // 1-D operands: [k] is [1, k] on the left and [k, 1] on the right (the dims are dropped from Y's shape).
  if (as.size() == 1) as.insert(as.begin(), 1);
  if (bs.size() == 1) bs.push_back(1);
  const int64_t m = as[as.size() - 2], k = as.back(), n = bs.back();
  // Broadcast batch dims: per output batch index, the offsets into A and B.
  const size_t batch_rank = std::max(as.size(), bs.size()) - 2;
  Shape ab(batch_rank, 1), bb(batch_rank, 1), ob(batch_rank, 1);
  for (size_t i = 0; i + 2 < as.size(); ++i) ab[batch_rank - (as.size() - 2) + i] = as[i];
  for (size_t i = 0; i + 2 < bs.size(); ++i) bb[batch_rank - (bs.size() - 2) + i] = bs[i];
  int64_t batches = 1;
  for (size_t i = 0; i < batch_rank; ++i) {
    ob[i] = std::max(ab[i], bb[i]);
    batches *= ob[i];
  }
  std::vector<int64_t> a_off, b_off;
  for (int64_t t = 0; t < batches; ++t) {
    int64_t rest = t, ai = 0, bi = 0, a_stride = 1, b_stride = 1;
    for (size_t d = batch_rank; d-- > 0;) {
      const int64_t idx = rest % ob[d];
      rest /= ob[d];
      ai += (ab[d] == 1 ? 0 : idx) * a_stride;
      bi += (bb[d] == 1 ? 0 : idx) * b_stride;
      a_stride *= ab[d];
      b_stride *= bb[d];
    }
    a_off.push_back(ai * m * k);
    b_off.push_back(bi * k * n);
  }
  // Regular strides (the usual case) go to one strided-batched call.
  const int64_t sa = batches > 1 ? a_off[1] : 0, sb = batches > 1 ? b_off[1] : 0;
  bool strided = true;
  for (int64_t t = 0; t < batches; ++t) strided = strided && a_off[t] == t * sa && b_off[t] == t * sb;
  const Act act = ActFromFused(GetFusedActivation(b.node.attrs));
  return Make(strided ? "cublas:matmul" : "cublas:matmul-loop", [=](Context& ctx, const NodeArgs& a) {
    const float* x = F(a.in[0]);
    const float* w = F(a.in[1]);
    float* y = F(a.out[0]);
    const float one = 1.0f, zero = 0.0f;
    if (batches == 1) {
      DX_RETURN_IF_ERROR(Sgemm(ctx, false, false, m, n, k, 1.0f, x, w, 0.0f, y));
    } else if (strided) {
      DX_CUBLAS(cublasSgemmStridedBatched(ctx.cublas, CUBLAS_OP_N, CUBLAS_OP_N, static_cast<int>(n),
                                          static_cast<int>(m), static_cast<int>(k), &one, w, static_cast<int>(n), sb,
                                          x, static_cast<int>(k), sa, &zero, y, static_cast<int>(n), m * n,
                                          static_cast<int>(batches)));
    } else {
      for (int64_t t = 0; t < batches; ++t)
        DX_RETURN_IF_ERROR(Sgemm(ctx, false, false, m, n, k, 1.0f, x + a_off[t], w + b_off[t], 0.0f, y + t * m * n));
    }
    DX_CUDA(LaunchBiasAct(y, nullptr, batches * m * n, 1, 1, act, ctx.stream));
    return Status::Ok();
  });
}

// --- Pools --------------------------------------------------------------------------------------------------------
Result<std::unique_ptr<NodeKernel>> BuildPool(const BuildContext& b) {
  const std::string& op = b.node.op_type;
  const Shape& xs = b.in(0).shape;
  const int64_t planes = xs[0] * xs[1];
  if (op == "GlobalAveragePool" || op == "GlobalMaxPool") {
    const int64_t size = NumElements(xs) / std::max<int64_t>(planes, 1);
    const bool is_max = op == "GlobalMaxPool";
    return Make("kernel:global-pool", [=](Context& ctx, const NodeArgs& a) {
      return FromCuda(LaunchGlobalPool(is_max, F(a.in[0]), F(a.out[0]), planes, size, ctx.stream), "global pool");
    });
  }
  const auto& attrs = b.node.attrs;
  DX_ASSIGN_OR_RETURN(std::vector<int64_t> kernel, attrs.GetInts("kernel_shape"));
  DX_ASSIGN_OR_RETURN(nn::Window win, nn::ResolveWindow(attrs, std::vector<int64_t>(xs.begin() + 2, xs.end()), kernel,
                                                        attrs.Int("ceil_mode", 0) != 0));
  std::vector<int64_t> want(b.out(0).shape.begin() + 2, b.out(0).shape.end());
  if (win.out != want) return Internal("pool geometry disagrees with shape inference");
  const WindowDesc wd = ToDesc(win);
  const bool is_max = op == "MaxPool";
  const bool include_pad = attrs.Int("count_include_pad", 0) == 1;
  return Make("kernel:pool", [=](Context& ctx, const NodeArgs& a) {
    return FromCuda(LaunchPool(is_max, include_pad, F(a.in[0]), F(a.out[0]), planes, wd, ctx.stream), "pool");
  });
}

// --- Normalisation ------------------------------------------------------------------------------------------------
// The folded per-channel scale and shift, uploaded once and freed with the kernel.
class ScaleShiftKernel final : public NodeKernel {
 public:
  ~ScaleShiftKernel() override {
    if (params_) cudaFree(params_);
  }
  Status Init(const BuildContext& b) {
    const Shape& xs = b.in(0).shape;
    channels_ = xs[1];
    inner_ = NumElements(xs) / std::max<int64_t>(xs[0] * xs[1], 1);
    count_ = NumElements(xs);
    const float eps = b.node.attrs.Float("epsilon", 1e-5f);
    const float* scale = b.in(1).constant.data<float>();
    const float* bias = b.in(2).constant.data<float>();
    const float* mean = b.in(3).constant.data<float>();
    const float* var = b.in(4).constant.data<float>();
    std::vector<float> host(static_cast<size_t>(2 * channels_));
    for (int64_t c = 0; c < channels_; ++c) {
      const double mul = scale[c] / std::sqrt(static_cast<double>(var[c]) + eps);
      host[static_cast<size_t>(c)] = static_cast<float>(mul);
      host[static_cast<size_t>(channels_ + c)] = static_cast<float>(bias[c] - mean[c] * mul);
    }
    DX_CUDA(cudaMalloc(&params_, host.size() * sizeof(float)));
    DX_CUDA(cudaMemcpy(params_, host.data(), host.size() * sizeof(float), cudaMemcpyHostToDevice));
    return Status::Ok();
  }
  Status Run(Context& ctx, const NodeArgs& a) override {
    return FromCuda(LaunchScaleShift(F(a.in[0]), F(a.out[0]), params_, params_ + channels_, count_, channels_,
                                     inner_, ctx.stream),
                    "batch normalization");
  }
  std::string impl_name() const override { return "kernel:batchnorm"; }
  int64_t resident_bytes() const override { return 2 * channels_ * static_cast<int64_t>(sizeof(float)); }

 private:
  float* params_ = nullptr;
  int64_t channels_ = 1, inner_ = 1, count_ = 0;
};

Result<std::unique_ptr<NodeKernel>> BuildNorm(const BuildContext& b) {
  const std::string& op = b.node.op_type;
  const Shape& xs = b.in(0).shape;
  if (op == "BatchNormalization") {
    auto k = std::make_unique<ScaleShiftKernel>();
    DX_RETURN_IF_ERROR(k->Init(b));
    return std::unique_ptr<NodeKernel>(std::move(k));
  }
  if (op == "LRN") {
    const auto& attrs = b.node.attrs;
    const int64_t size = attrs.Int("size", 1);
    const float alpha = attrs.Float("alpha", 1e-4f), beta = attrs.Float("beta", 0.75f),
                bias = attrs.Float("bias", 1.0f);
    const int64_t batch = xs[0], channels = xs.size() > 1 ? xs[1] : 1;
    const int64_t inner = NumElements(xs) / std::max<int64_t>(batch * channels, 1);
    return Make("kernel:lrn", [=](Context& ctx, const NodeArgs& a) {
      return FromCuda(LaunchLrn(F(a.in[0]), F(a.out[0]), batch, channels, inner, size, alpha, beta, bias, ctx.stream),
                      "LRN");
    });
  }
  // Softmax / LogSoftmax: before opset 13 the input is coerced to 2-D at `axis`.
  const bool coerce_2d = b.node.opset < 13;
  int64_t axis = b.node.attrs.Int("axis", coerce_2d ? 1 : -1);
  const int64_t rank = static_cast<int64_t>(xs.size());
  DX_ASSIGN_OR_RETURN(axis, nn::NormalizeAxis(axis, rank, "axis"));
  const size_t ax = static_cast<size_t>(axis);
  const int64_t outer = nn::Product(xs, 0, ax);
  const int64_t length = coerce_2d ? nn::Product(xs, ax, xs.size()) : xs[ax];
  const int64_t inner = coerce_2d ? 1 : nn::Product(xs, ax + 1, xs.size());
  const bool log = op == "LogSoftmax";
  return Make("kernel:softmax", [=](Context& ctx, const NodeArgs& a) {
    return FromCuda(LaunchSoftmax(log, F(a.in[0]), F(a.out[0]), outer, length, inner, ctx.stream), "softmax");
  });
}

// --- Elementwise --------------------------------------------------------------------------------------------------
Result<std::unique_ptr<NodeKernel>> BuildBinary(const BuildContext& b) {
  const std::string& op = b.node.op_type;
  const BinaryOp kind = op == "Add" ? BinaryOp::kAdd : op == "Sub" ? BinaryOp::kSub : op == "Mul" ? BinaryOp::kMul
                                                                                                  : BinaryOp::kDiv;
  const Shape& ys = b.out(0).shape;
  BroadcastDesc d;
  d.rank = static_cast<int>(ys.size());
  d.n = NumElements(ys);
  auto strides = [&](const Shape& s, int64_t* out) {
    int64_t stride = 1;
    for (size_t i = ys.size(); i-- > 0;) {
      const size_t back = ys.size() - 1 - i;  // position from the right
      if (back >= s.size()) {
        out[i] = 0;
        continue;
      }
      const int64_t dim = s[s.size() - 1 - back];
      out[i] = dim == 1 ? 0 : stride;
      stride *= dim;
    }
  };
  for (size_t i = 0; i < ys.size(); ++i) d.dims[i] = ys[i];
  strides(b.in(0).shape, d.a_strides);
  strides(b.in(1).shape, d.b_strides);
  if (d.rank == 0) {  // scalars: one element
    d.rank = 1;
    d.dims[0] = 1;
    d.a_strides[0] = d.b_strides[0] = 0;
  }
  return Make("kernel:binary", [=](Context& ctx, const NodeArgs& a) {
    return FromCuda(LaunchBinary(kind, F(a.in[0]), F(a.in[1]), F(a.out[0]), d, ctx.stream), "binary op");
  });
}

Result<std::unique_ptr<NodeKernel>> BuildUnary(const BuildContext& b) {
  const std::string& op = b.node.op_type;
  const auto& attrs = b.node.attrs;
  Act act;
  bool lo_runtime = false, hi_runtime = false;
  if (op == "Relu") act.kind = ActKind::kRelu;
  else if (op == "LeakyRelu") act = {ActKind::kLeakyRelu, attrs.Float("alpha", 0.01f), 0};
  else if (op == "Sigmoid") act.kind = ActKind::kSigmoid;
  else if (op == "Tanh") act.kind = ActKind::kTanh;
  else if (op == "Exp") act.kind = ActKind::kExp;
  else if (op == "Abs") act.kind = ActKind::kAbs;
  else if (op == "Sqrt") act.kind = ActKind::kSqrt;
  else if (op == "Elu") act = {ActKind::kElu, attrs.Float("alpha", 1.0f), 0};
  else if (op == "HardSwish") act.kind = ActKind::kHardSwish;
  else if (op == "HardSigmoid") act = {ActKind::kHardSigmoid, attrs.Float("alpha", 0.2f), attrs.Float("beta", 0.5f)};
  else if (op == "Neg") act.kind = ActKind::kNeg;
  else if (op == "Clip") {
    act = {ActKind::kClip, std::numeric_limits<float>::lowest(), std::numeric_limits<float>::max()};
    if (b.node.opset < 11) {
      act.a = attrs.Float("min", act.a);
      act.b = attrs.Float("max", act.b);
    } else {
      // Constant bounds are read once; run-time ones are read by the kernel from device memory.
      if (b.has_in(1)) {
        if (b.in(1).is_constant()) act.a = b.in(1).constant.data<float>()[0];
        else lo_runtime = true;
      }
      if (b.has_in(2)) {
        if (b.in(2).is_constant()) act.b = b.in(2).constant.data<float>()[0];
        else hi_runtime = true;
      }
    }
  } else {
    return Internal("no unary kernel for " + op);
  }
  const int64_t n = NumElements(b.out(0).shape);
  return Make("kernel:unary", [=](Context& ctx, const NodeArgs& a) {
    return FromCuda(LaunchUnary(F(a.in[0]), F(a.out[0]), n, act, lo_runtime ? F(a.in[1]) : nullptr,
                                hi_runtime ? F(a.in[2]) : nullptr, ctx.stream),
                    "unary op");
  });
}

// --- Data movement ------------------------------------------------------------------------------------------------
Result<std::unique_ptr<NodeKernel>> BuildConcat(const BuildContext& b) {
  const Shape& ys = b.out(0).shape;
  int64_t axis = b.node.attrs.Int("axis", 0);
  DX_ASSIGN_OR_RETURN(axis, nn::NormalizeAxis(axis, static_cast<int64_t>(ys.size()), "axis"));
  const size_t ax = static_cast<size_t>(axis);
  const size_t elem = DataTypeSize(b.out(0).dtype);
  const int64_t outer = nn::Product(ys, 0, ax), inner = nn::Product(ys, ax + 1, ys.size());
  std::vector<int64_t> lens;
  for (size_t i = 0; i < b.node.inputs.size(); ++i) lens.push_back(b.in(i).shape[ax]);
  const size_t row = static_cast<size_t>(ys[ax] * inner) * elem;
  return Make("memcpy2d:concat", [=](Context& ctx, const NodeArgs& a) {
    size_t offset = 0;
    for (size_t i = 0; i < lens.size(); ++i) {
      const size_t width = static_cast<size_t>(lens[i] * inner) * elem;
      if (width > 0 && outer > 0)
        DX_CUDA(cudaMemcpy2DAsync(static_cast<char*>(a.out[0]) + offset, row, a.in[i], width, width,
                                  static_cast<size_t>(outer), cudaMemcpyDeviceToDevice, ctx.stream));
      offset += width;
    }
    return Status::Ok();
  });
}

Result<std::unique_ptr<NodeKernel>> BuildTranspose(const BuildContext& b) {
  const Shape& xs = b.in(0).shape;
  const int64_t rank = static_cast<int64_t>(xs.size());
  std::vector<int64_t> def;
  for (int64_t i = rank - 1; i >= 0; --i) def.push_back(i);
  const std::vector<int64_t> perm = b.node.attrs.Ints("perm", def);
  TransposeDesc d;
  d.rank = static_cast<int>(rank);
  d.n = NumElements(xs);
  std::vector<int64_t> in_strides(static_cast<size_t>(rank), 1);
  for (int64_t i = rank - 2; i >= 0; --i) in_strides[static_cast<size_t>(i)] = in_strides[static_cast<size_t>(i + 1)] * xs[static_cast<size_t>(i + 1)];
  for (int64_t i = 0; i < rank; ++i) {
    d.out_dims[i] = xs[static_cast<size_t>(perm[static_cast<size_t>(i)])];
    d.in_strides[i] = in_strides[static_cast<size_t>(perm[static_cast<size_t>(i)])];
  }
  if (d.rank == 0) {
    d.rank = 1;
    d.out_dims[0] = 1;
    d.in_strides[0] = 0;
  }
  return Make("kernel:transpose", [=](Context& ctx, const NodeArgs& a) {
    return FromCuda(LaunchTranspose(F(a.in[0]), F(a.out[0]), d, ctx.stream), "transpose");
  });
}

}  // namespace

Result<std::unique_ptr<NodeKernel>> BuildNodeKernel(const BuildContext& b) {
  const std::string& op = b.node.op_type;
  if (op == "Conv") return BuildConv(b);
  if (op == "Gemm") return BuildGemm(b);
  if (op == "MatMul") return BuildMatMul(b);
  if (op == "MaxPool" || op == "AveragePool" || op == "GlobalAveragePool" || op == "GlobalMaxPool") return BuildPool(b);
  if (op == "BatchNormalization" || op == "LRN" || op == "Softmax" || op == "LogSoftmax") return BuildNorm(b);
  if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div") return BuildBinary(b);
  if (op == "Concat") return BuildConcat(b);
  if (op == "Transpose") return BuildTranspose(b);
  return BuildUnary(b);
}

}  // namespace deepx::cuda
