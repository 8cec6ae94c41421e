// Conv, Gemm and MatMul on the OpenCL device.
//
// Conv: per image, im2col into a scratch buffer then one CLBlast GEMM per group (W [M/g, C/g*K] × col [C/g*K, O]);
// 1×1 stride-1 unpadded convs skip im2col (the input already is the column matrix). Thin groups (depthwise and
// groups of ≤ 4 input channels) use a direct kernel instead: a GEMM with a 1..4-deep reduction is all overhead.
// Bias and the fused activation run in one epilogue kernel (bias_act) after the GEMMs.
// Gemm: C (times beta) is pre-broadcast into Y before a GEMM with beta 1, except the FC-layer case (C a constant
// row vector), which becomes the epilogue's bias. MatMul: numpy batching as a loop of GEMMs over offsets, merged
// into one GEMM when B has no batch. A single row (batch-1 FC layers) uses GEMV instead.
#include <algorithm>
#include <cmath>

#include "backends/opencl/opencl_ops.h"
#include "ops/legacy.h"

namespace deepx::opencl {
namespace {

using clblast::Layout;
using clblast::Transpose;

bool IsConstant(const Graph& g, const Node& n, size_t i) {
  return i < n.inputs.size() && n.inputs[i] != kNoValue && g.value(n.inputs[i]).is_constant();
}

// y[0..n) = alpha * x[0..k) · B + beta * y, B row-major [k, n] (b_transposed: [n, k]), x contiguous.
Status MatVec(cl_command_queue& queue, bool b_transposed, size_t k, size_t n, float alpha, cl_mem b, cl_mem x,
              size_t x_offset, float beta, cl_mem y, size_t y_offset, size_t b_offset = 0) {
  if (beta == 0.0f) {
    // CLBlast's GEMV computes beta * y even for beta 0, so stale NaNs in a reused buffer would survive.
    const float zero = 0.0f;
    DX_RETURN_IF_ERROR(ClCheck(clEnqueueFillBuffer(queue, y, &zero, sizeof(zero), y_offset * sizeof(float),
                                                   n * sizeof(float), 0, nullptr, nullptr),
                               "clearing a GEMV output"));
  }
  const clblast::StatusCode s = b_transposed
                                    ? clblast::Gemv<float>(Layout::kRowMajor, Transpose::kNo, n, k, alpha, b, b_offset,
                                                           k, x, x_offset, 1, beta, y, y_offset, 1, &queue, nullptr)
                                    : clblast::Gemv<float>(Layout::kRowMajor, Transpose::kYes, k, n, alpha, b, b_offset,
                                                           n, x, x_offset, 1, beta, y, y_offset, 1, &queue, nullptr);
  return ClBlastCheck(s, "matrix-vector product");
}

// The epilogue (bias per channel + activation) shared by all three ops.
class Epilogue {
 public:
  Status Init(ClDevice& device, ClActivation act, int64_t channels, int64_t inner, int64_t n) {
    act_ = act;
    channels_ = static_cast<int>(channels);
    inner_ = static_cast<int>(inner);
    n_ = static_cast<int>(n);
    DX_ASSIGN_OR_RETURN(kernel_, MakeKernel(device, "bias_act"));
    return Status::Ok();
  }
  bool needed(bool has_bias) const { return has_bias || act_.code != kActNone; }
  Status Enqueue(ClDevice& device, cl_mem y, cl_mem bias) {
    if (!needed(bias != nullptr)) return Status::Ok();
    const int has_bias = bias != nullptr;
    cl_mem b = bias ? bias : y;  // any valid buffer when there is no bias
    DX_RETURN_IF_ERROR(SetArgs(kernel_.get(), y, b, has_bias, channels_, inner_, n_, act_.code, act_.p0, act_.p1));
    return Launch(device, kernel_.get(), n_, "bias_act");
  }

 private:
  ClKernel kernel_;
  ClActivation act_;
  int channels_ = 1, inner_ = 1, n_ = 0;
};

// --- Conv -------------------------------------------------------------------------------------------------------
class ConvOp final : public ClOp {
 public:
  static Result<std::unique_ptr<ClOp>> Make(const ClOpContext& ctx) {
    auto op = std::unique_ptr<ConvOp>(new ConvOp());
    op->device_ = ctx.device;
    const Shape& x = ctx.in(0).shape;
    const Shape& w = ctx.in(1).shape;
    const std::vector<int64_t> kernel(w.begin() + 2, w.end());
    DX_ASSIGN_OR_RETURN(nn::Window win,
                        nn::ResolveWindow(ctx.node.attrs, std::vector<int64_t>(x.begin() + 2, x.end()), kernel, false));
    op->win_ = ToClWindow(win, x[1]);
    op->batch_ = x[0];
    op->group_ = ctx.node.attrs.Int("group", 1);
    op->m_ = w[0];
    op->cg_ = x[1] / op->group_;
    op->has_bias_ = ctx.has_in(2);
    const int64_t k = op->win_.k_size();
    const int64_t out_size = op->win_.out_size();
    const ClActivation act = ToClActivation(GetFusedActivation(ctx.node.attrs));
    op->act_ = act;
    if (op->group_ > 1 && op->cg_ <= 4) {
      op->direct_ = true;
      DX_ASSIGN_OR_RETURN(op->direct_kernel_, MakeKernel(*ctx.device, "conv_direct"));
      return std::unique_ptr<ClOp>(std::move(op));
    }
    bool pointwise = k == 1;
    for (int d = 0; d < 3; ++d)
      pointwise = pointwise && op->win_.s.s[d] == 1 && op->win_.pb.s[d] == 0 && op->win_.pe.s[d] == 0;
    op->im2col_ = !pointwise;
    if (op->im2col_) {
      const int64_t col_elems = x[1] * k * out_size;
      if (col_elems >= std::numeric_limits<int32_t>::max())
        return Unimplemented(ctx.graph.NodeLabel(ctx.node) + ": im2col buffer too large for int indexing");
      DX_ASSIGN_OR_RETURN(cl_mem col, ctx.device->Allocate(static_cast<size_t>(col_elems) * sizeof(float)));
      op->col_ = ClMem(col);
      op->resident_ += col_elems * static_cast<int64_t>(sizeof(float));
      DX_ASSIGN_OR_RETURN(op->im2col_kernel_, MakeKernel(*ctx.device, "im2col"));
    }
    DX_RETURN_IF_ERROR(op->epilogue_.Init(*ctx.device, act, op->m_, out_size, op->batch_ * op->m_ * out_size));
    return std::unique_ptr<ClOp>(std::move(op));
  }

  Status Enqueue(const ClArgs& args) override {
    ClDevice& dev = *device_;
    cl_mem x = args.in[0], w = args.in[1], y = args.out[0];
    cl_mem bias = has_bias_ ? args.in[2] : nullptr;
    const int64_t out_size = win_.out_size(), in_size = win_.in_size(), k = win_.k_size();
    if (direct_) {
      cl_mem b = bias ? bias : w;
      DX_RETURN_IF_ERROR(SetArgs(direct_kernel_.get(), x, w, b, static_cast<int>(has_bias_), y,
                                 static_cast<int>(batch_), static_cast<int>(m_), static_cast<int>(group_), win_.in,
                                 win_.k, win_.s, win_.pb, win_.dl, win_.out, act_.code, act_.p0, act_.p1));
      return Launch(dev, direct_kernel_.get(), batch_ * m_ * out_size, "conv_direct");
    }
    const int64_t c = win_.in.s[0];
    const int64_t mg = m_ / group_, kg = cg_ * k;
    cl_command_queue queue = dev.queue();
    for (int64_t n = 0; n < batch_; ++n) {
      cl_mem cols = x;
      size_t cols_offset = static_cast<size_t>(n * c * in_size);
      if (im2col_) {
        DX_RETURN_IF_ERROR(SetArgs(im2col_kernel_.get(), x, static_cast<int>(n * c * in_size), col_.get(), win_.in,
                                   win_.k, win_.s, win_.pb, win_.dl, win_.out));
        DX_RETURN_IF_ERROR(Launch(dev, im2col_kernel_.get(), c * k * out_size, "im2col"));
        cols = col_.get();
        cols_offset = 0;
      }
      for (int64_t g = 0; g < group_; ++g) {
        DX_RETURN_IF_ERROR(ClBlastCheck(
            clblast::Gemm<float>(Layout::kRowMajor, Transpose::kNo, Transpose::kNo, static_cast<size_t>(mg),
                                 static_cast<size_t>(out_size), static_cast<size_t>(kg), 1.0f, w,
                                 static_cast<size_t>(g * mg * kg), static_cast<size_t>(kg), cols,
                                 cols_offset + static_cast<size_t>(g * kg * out_size), static_cast<size_t>(out_size),
                                 0.0f, y, static_cast<size_t>((n * m_ + g * mg) * out_size),
                                 static_cast<size_t>(out_size), &queue, nullptr),
            "conv GEMM"));
      }
    }
    return epilogue_.Enqueue(dev, y, bias);
  }

  std::string impl_name() const override {
    return direct_ ? "opencl:conv_direct" : im2col_ ? "opencl:im2col+clblast" : "opencl:clblast_1x1";
  }

 private:
  std::shared_ptr<ClDevice> device_;
  ClWindow win_;
  int64_t batch_ = 1, group_ = 1, m_ = 1, cg_ = 1;
  bool has_bias_ = false, direct_ = false, im2col_ = false;
  ClActivation act_;
  ClKernel direct_kernel_, im2col_kernel_;
  ClMem col_;
  Epilogue epilogue_;
};

// --- Gemm -------------------------------------------------------------------------------------------------------
class GemmOp final : public ClOp {
 public:
  static Result<std::unique_ptr<ClOp>> Make(const ClOpContext& ctx) {
    auto op = std::unique_ptr<GemmOp>(new GemmOp());
    op->device_ = ctx.device;
    const Attributes& a = ctx.node.attrs;
    op->ta_ = a.Int("transA", 0) != 0;
    op->tb_ = a.Int("transB", 0) != 0;
    op->alpha_ = a.Float("alpha", 1.0f);
    const float beta = a.Float("beta", 1.0f);
    const Shape& as = ctx.in(0).shape;
    const Shape& bs = ctx.in(1).shape;
    op->m_ = op->ta_ ? as[1] : as[0];
    op->k_ = op->ta_ ? as[0] : as[1];
    op->n_ = op->tb_ ? bs[0] : bs[1];
    const ClActivation act = ToClActivation(GetFusedActivation(a));
    int64_t bias_channels = 1;
    if (ctx.has_in(2) && beta != 0.0f) {
      const Value& c = ctx.in(2);
      Shape cs = c.shape;
      if (ctx.node.opset < 7 && a.Int("broadcast", 0) != 0) {
        DX_ASSIGN_OR_RETURN(cs, LegacyBroadcastShape(a, {op->m_, op->n_}, c.shape));
      }
      while (cs.size() < 2) cs.insert(cs.begin(), 1);
      op->c_shape_ = cs;
      if (c.is_constant() && cs[0] == 1) {
        // FC layer: beta*C is a bias per output column, added in the epilogue.
        std::vector<float> bias = ConstantFloats(c);
        if (cs[1] == 1) bias.assign(static_cast<size_t>(op->n_), bias[0]);
        for (float& v : bias) v *= beta;
        DX_ASSIGN_OR_RETURN(op->bias_, UploadFloats(*ctx.device, bias));
        op->resident_ += static_cast<int64_t>(bias.size() * sizeof(float));
        bias_channels = op->n_;
      } else if (c.is_constant()) {
        // beta*C broadcast to [M, N] once; copied into Y before each GEMM.
        const std::vector<float> cv = ConstantFloats(c);
        std::vector<float> full(static_cast<size_t>(op->m_ * op->n_));
        for (int64_t i = 0; i < op->m_; ++i)
          for (int64_t j = 0; j < op->n_; ++j)
            full[static_cast<size_t>(i * op->n_ + j)] =
                beta * cv[static_cast<size_t>((cs[0] == 1 ? 0 : i) * cs[1] + (cs[1] == 1 ? 0 : j))];
        DX_ASSIGN_OR_RETURN(op->c_full_, UploadFloats(*ctx.device, full));
        op->resident_ += static_cast<int64_t>(full.size() * sizeof(float));
      } else {
        op->c_runtime_ = true;
        op->beta_ = beta;
        DX_ASSIGN_OR_RETURN(op->broadcast_kernel_, MakeKernel(*ctx.device, "binary"));
      }
    }
    DX_RETURN_IF_ERROR(op->epilogue_.Init(*ctx.device, act, bias_channels, 1, op->m_ * op->n_));
    return std::unique_ptr<ClOp>(std::move(op));
  }

  bool reads_device_input(size_t i) const override { return i < 2 || c_runtime_; }

  Status Enqueue(const ClArgs& args) override {
    ClDevice& dev = *device_;
    cl_command_queue queue = dev.queue();
    cl_mem y = args.out[0];
    float beta = 0.0f;
    if (c_full_.get()) {
      DX_RETURN_IF_ERROR(ClCheck(clEnqueueCopyBuffer(queue, c_full_.get(), y, 0, 0,
                                                     static_cast<size_t>(m_ * n_) * sizeof(float), 0, nullptr, nullptr),
                                 "copying Gemm's C"));
      beta = 1.0f;
    } else if (c_runtime_) {
      const Shape out = {m_, n_};
      DX_RETURN_IF_ERROR(SetArgs(broadcast_kernel_.get(), args.in[2], args.in[2], y, static_cast<int>(m_ * n_), 7,
                                 beta_, Dims8(out), BroadcastStrides8(c_shape_), BroadcastStrides8(c_shape_), 0));
      DX_RETURN_IF_ERROR(Launch(dev, broadcast_kernel_.get(), m_ * n_, "broadcast C"));
      beta = 1.0f;
    }
    if (m_ == 1) {
      // One row (a batch-1 FC layer): matrix-vector product, several times faster than a 1-row GEMM.
      DX_RETURN_IF_ERROR(MatVec(queue, tb_, static_cast<size_t>(k_), static_cast<size_t>(n_), alpha_, args.in[1],
                                args.in[0], 0, beta, y, 0));
      return epilogue_.Enqueue(dev, y, bias_.get());
    }
    DX_RETURN_IF_ERROR(ClBlastCheck(
        clblast::Gemm<float>(Layout::kRowMajor, ta_ ? Transpose::kYes : Transpose::kNo,
                             tb_ ? Transpose::kYes : Transpose::kNo, static_cast<size_t>(m_), static_cast<size_t>(n_),
                             static_cast<size_t>(k_), alpha_, args.in[0], 0, static_cast<size_t>(ta_ ? m_ : k_),
                             args.in[1], 0, static_cast<size_t>(tb_ ? k_ : n_), beta, y, 0, static_cast<size_t>(n_),
                             &queue, nullptr),
        "Gemm"));
    return epilogue_.Enqueue(dev, y, bias_.get());
  }

  std::string impl_name() const override { return m_ == 1 ? "opencl:clblast_gemv" : "opencl:clblast_gemm"; }

 private:
  std::shared_ptr<ClDevice> device_;
  bool ta_ = false, tb_ = false, c_runtime_ = false;
  float alpha_ = 1, beta_ = 1;
  int64_t m_ = 0, k_ = 0, n_ = 0;
  Shape c_shape_;
  ClMem bias_, c_full_;
  ClKernel broadcast_kernel_;
  Epilogue epilogue_;
};

// --- MatMul -----------------------------------------------------------------------------------------------------
class MatMulOp final : public ClOp {
 public:
  static Result<std::unique_ptr<ClOp>> Make(const ClOpContext& ctx) {
    auto op = std::unique_ptr<MatMulOp>(new MatMulOp());
    op->device_ = ctx.device;
    Shape as = ctx.in(0).shape, bs = ctx.in(1).shape;
    if (as.size() == 1) as.insert(as.begin(), 1);  // [K] -> [1, K]
    if (bs.size() == 1) bs.push_back(1);           // [K] -> [K, 1]
    op->m_ = as[as.size() - 2];
    op->k_ = as.back();
    op->n_ = bs.back();
    const Shape a_batch(as.begin(), as.end() - 2), b_batch(bs.begin(), bs.end() - 2);
    const size_t rank = std::max(a_batch.size(), b_batch.size());
    Shape out_batch(rank, 1);
    auto aligned = [&](const Shape& s) {
      Shape r(rank - s.size(), 1);
      r.insert(r.end(), s.begin(), s.end());
      return r;
    };
    const Shape ab = aligned(a_batch), bb = aligned(b_batch);
    for (size_t i = 0; i < rank; ++i) out_batch[i] = std::max(ab[i], bb[i]);
    const int64_t batches = NumElements(out_batch);
    if (NumElements(bb) == 1) {
      // B shared by every batch: A's batches are consecutive rows of one [batches*M, K] matrix.
      op->m_ *= NumElements(ab);
      op->a_offsets_ = {0};
      op->b_offsets_ = {0};
      op->y_offsets_ = {0};
    } else {
      std::vector<int64_t> idx(rank, 0);
      for (int64_t bi = 0; bi < batches; ++bi) {
        int64_t ao = 0, bo = 0, as_stride = 1, bs_stride = 1;
        for (size_t d = rank; d-- > 0;) {
          if (ab[d] != 1) ao += idx[d] * as_stride;
          if (bb[d] != 1) bo += idx[d] * bs_stride;
          as_stride *= ab[d];
          bs_stride *= bb[d];
        }
        op->a_offsets_.push_back(static_cast<size_t>(ao * op->m_ * op->k_));
        op->b_offsets_.push_back(static_cast<size_t>(bo * op->k_ * op->n_));
        op->y_offsets_.push_back(static_cast<size_t>(bi * op->m_ * op->n_));
        nn::NextIndex(idx, out_batch);
      }
    }
    const ClActivation act = ToClActivation(GetFusedActivation(ctx.node.attrs));
    DX_RETURN_IF_ERROR(op->epilogue_.Init(*ctx.device, act, 1, 1, NumElements(ctx.out(0).shape)));
    return std::unique_ptr<ClOp>(std::move(op));
  }

  Status Enqueue(const ClArgs& args) override {
    ClDevice& dev = *device_;
    cl_command_queue queue = dev.queue();
    for (size_t i = 0; i < y_offsets_.size(); ++i) {
      if (m_ == 1) {
        DX_RETURN_IF_ERROR(MatVec(queue, false, static_cast<size_t>(k_), static_cast<size_t>(n_), 1.0f, args.in[1],
                                  args.in[0], a_offsets_[i], 0.0f, args.out[0], y_offsets_[i], b_offsets_[i]));
        continue;
      }
      DX_RETURN_IF_ERROR(ClBlastCheck(
          clblast::Gemm<float>(Layout::kRowMajor, Transpose::kNo, Transpose::kNo, static_cast<size_t>(m_),
                               static_cast<size_t>(n_), static_cast<size_t>(k_), 1.0f, args.in[0], a_offsets_[i],
                               static_cast<size_t>(k_), args.in[1], b_offsets_[i], static_cast<size_t>(n_), 0.0f,
                               args.out[0], y_offsets_[i], static_cast<size_t>(n_), &queue, nullptr),
          "MatMul"));
    }
    return epilogue_.Enqueue(dev, args.out[0], nullptr);
  }

  std::string impl_name() const override { return m_ == 1 ? "opencl:clblast_gemv" : "opencl:clblast_matmul"; }

 private:
  std::shared_ptr<ClDevice> device_;
  int64_t m_ = 0, k_ = 0, n_ = 0;
  std::vector<size_t> a_offsets_, b_offsets_, y_offsets_;
  Epilogue epilogue_;
};

}  // namespace

Status CheckGemmFamily(const Graph& g, const Node& n) {
  const std::string& op = n.op_type;
  if (op != "Conv" && op != "Gemm" && op != "MatMul") return NotFound(op);
  for (size_t i = 0; i < n.inputs.size(); ++i) {
    if (n.inputs[i] != kNoValue && g.value(n.inputs[i]).dtype != DataType::kFloat32)
      return Unimplemented(g.NodeLabel(n) + ": input " + std::to_string(i) + " is not float32");
  }
  const FusedActivation act = GetFusedActivation(n.attrs);
  if (!act.none() && !IsFusableActivation(act.kind))
    return Unimplemented(g.NodeLabel(n) + ": fused activation " + act.kind + " has no OpenCL form");
  if (op == "Conv") {
    const Shape& x = g.value(n.inputs[0]).shape;
    if (x.size() < 3 || x.size() > 5)
      return Unimplemented(g.NodeLabel(n) + ": only 1-D to 3-D convolutions run on OpenCL");
    if (!IsConstant(g, n, 1)) return Unimplemented(g.NodeLabel(n) + ": a run-time W is not supported on OpenCL");
    if (n.inputs.size() > 2 && n.inputs[2] != kNoValue && !IsConstant(g, n, 2))
      return Unimplemented(g.NodeLabel(n) + ": a run-time bias is not supported on OpenCL");
  }
  return Status::Ok();
}

Result<std::unique_ptr<ClOp>> MakeGemmFamilyOp(const ClOpContext& ctx) {
  const std::string& op = ctx.node.op_type;
  if (op == "Conv") return ConvOp::Make(ctx);
  if (op == "Gemm") return GemmOp::Make(ctx);
  return MatMulOp::Make(ctx);
}

}  // namespace deepx::opencl
