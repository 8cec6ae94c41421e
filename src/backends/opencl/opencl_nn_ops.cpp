// Pools, BatchNormalization, LRN and Softmax/LogSoftmax on the OpenCL device. BatchNormalization is folded at
// Prepare into one scale and shift per channel (computed in double on the host, as the reference kernel does).
#include <cmath>

#include "backends/opencl/opencl_ops.h"

namespace deepx::opencl {
namespace {

bool IsPool(const std::string& op) { return op == "MaxPool" || op == "AveragePool"; }
bool IsGlobalPool(const std::string& op) { return op == "GlobalAveragePool" || op == "GlobalMaxPool"; }

class PoolOp final : public ClOp {
 public:
  static Result<std::unique_ptr<ClOp>> Make(const ClOpContext& ctx) {
    auto op = std::unique_ptr<PoolOp>(new PoolOp());
    op->device_ = ctx.device;
    const Attributes& a = ctx.node.attrs;
    const Shape& x = ctx.in(0).shape;
    const size_t nd = x.size() - 2;
    DX_ASSIGN_OR_RETURN(std::vector<int64_t> kernel, nn::GetKernelShape(a, nd));
    DX_ASSIGN_OR_RETURN(nn::Window win, nn::ResolveWindow(a, std::vector<int64_t>(x.begin() + 2, x.end()), kernel,
                                                          a.Int("ceil_mode", 0) != 0));
    op->win_ = ToClWindow(win, x[1]);
    op->planes_ = x[0] * x[1];
    op->mode_ = ctx.node.op_type == "MaxPool" ? 0 : a.Int("count_include_pad", 0) != 0 ? 2 : 1;
    DX_ASSIGN_OR_RETURN(op->kernel_, MakeKernel(*ctx.device, "pool"));
    return std::unique_ptr<ClOp>(std::move(op));
  }
  Status Enqueue(const ClArgs& args) override {
    DX_RETURN_IF_ERROR(SetArgs(kernel_.get(), args.in[0], args.out[0], static_cast<int>(planes_), win_.in, win_.k,
                               win_.s, win_.pb, win_.pe, win_.dl, win_.out, mode_));
    return Launch(*device_, kernel_.get(), planes_ * win_.out_size(), "pool");
  }
  std::string impl_name() const override { return "opencl:pool"; }

 private:
  std::shared_ptr<ClDevice> device_;
  ClWindow win_;
  int64_t planes_ = 0;
  int mode_ = 0;
  ClKernel kernel_;
};

class GlobalPoolOp final : public ClOp {
 public:
  static Result<std::unique_ptr<ClOp>> Make(const ClOpContext& ctx) {
    auto op = std::unique_ptr<GlobalPoolOp>(new GlobalPoolOp());
    op->device_ = ctx.device;
    const Shape& x = ctx.in(0).shape;
    op->planes_ = x[0] * x[1];
    op->inner_ = nn::Product(x, 2, x.size());
    op->mode_ = ctx.node.op_type == "GlobalMaxPool" ? 0 : 1;
    DX_ASSIGN_OR_RETURN(op->kernel_, MakeKernel(*ctx.device, "global_pool"));
    return std::unique_ptr<ClOp>(std::move(op));
  }
  Status Enqueue(const ClArgs& args) override {
    DX_RETURN_IF_ERROR(
        SetArgs(kernel_.get(), args.in[0], args.out[0], static_cast<int>(planes_), static_cast<int>(inner_), mode_));
    return Launch(*device_, kernel_.get(), planes_, "global_pool");
  }
  std::string impl_name() const override { return "opencl:global_pool"; }

 private:
  std::shared_ptr<ClDevice> device_;
  int64_t planes_ = 0, inner_ = 0;
  int mode_ = 0;
  ClKernel kernel_;
};

class BatchNormOp final : public ClOp {
 public:
  static Result<std::unique_ptr<ClOp>> Make(const ClOpContext& ctx) {
    auto op = std::unique_ptr<BatchNormOp>(new BatchNormOp());
    op->device_ = ctx.device;
    const Shape& x = ctx.in(0).shape;
    const std::vector<float> scale = ConstantFloats(ctx.in(1)), bias = ConstantFloats(ctx.in(2)),
                             mean = ConstantFloats(ctx.in(3)), var = ConstantFloats(ctx.in(4));
    const double epsilon = ctx.node.attrs.Float("epsilon", 1e-5f);
    std::vector<float> mul(scale.size()), add(scale.size());
    for (size_t i = 0; i < scale.size(); ++i) {
      const double m = scale[i] / std::sqrt(static_cast<double>(var[i]) + epsilon);
      mul[i] = static_cast<float>(m);
      add[i] = static_cast<float>(bias[i] - static_cast<double>(mean[i]) * m);
    }
    // Statistics per channel, or (old opsets) per channel and spatial position: both index x modulo their count.
    op->inner_ = static_cast<int64_t>(scale.size()) == x[1] ? nn::Product(x, 2, x.size()) : 1;
    op->channels_ = static_cast<int64_t>(scale.size());
    op->n_ = NumElements(x);
    DX_ASSIGN_OR_RETURN(op->scale_, UploadFloats(*ctx.device, mul));
    DX_ASSIGN_OR_RETURN(op->shift_, UploadFloats(*ctx.device, add));
    op->resident_ = static_cast<int64_t>(2 * mul.size() * sizeof(float));
    DX_ASSIGN_OR_RETURN(op->kernel_, MakeKernel(*ctx.device, "channel_affine"));
    return std::unique_ptr<ClOp>(std::move(op));
  }
  bool reads_device_input(size_t i) const override { return i == 0; }
  Status Enqueue(const ClArgs& args) override {
    DX_RETURN_IF_ERROR(SetArgs(kernel_.get(), args.in[0], args.out[0], scale_.get(), shift_.get(),
                               static_cast<int>(channels_), static_cast<int>(inner_), static_cast<int>(n_)));
    return Launch(*device_, kernel_.get(), n_, "channel_affine");
  }
  std::string impl_name() const override { return "opencl:batch_norm"; }

 private:
  std::shared_ptr<ClDevice> device_;
  int64_t channels_ = 1, inner_ = 1, n_ = 0;
  ClMem scale_, shift_;
  ClKernel kernel_;
};

class LrnOp final : public ClOp {
 public:
  static Result<std::unique_ptr<ClOp>> Make(const ClOpContext& ctx) {
    auto op = std::unique_ptr<LrnOp>(new LrnOp());
    op->device_ = ctx.device;
    const Shape& x = ctx.in(0).shape;
    const Attributes& a = ctx.node.attrs;
    op->channels_ = x[1];
    op->inner_ = nn::Product(x, 2, x.size());
    op->n_ = NumElements(x);
    op->size_ = a.Int("size", 1);
    op->alpha_ = a.Float("alpha", 1e-4f);
    op->beta_ = a.Float("beta", 0.75f);
    op->bias_ = a.Float("bias", 1.0f);
    DX_ASSIGN_OR_RETURN(op->kernel_, MakeKernel(*ctx.device, "lrn"));
    return std::unique_ptr<ClOp>(std::move(op));
  }
  Status Enqueue(const ClArgs& args) override {
    DX_RETURN_IF_ERROR(SetArgs(kernel_.get(), args.in[0], args.out[0], static_cast<int>(channels_),
                               static_cast<int>(inner_), static_cast<int>(n_), static_cast<int>(size_), alpha_, beta_,
                               bias_));
    return Launch(*device_, kernel_.get(), n_, "lrn");
  }
  std::string impl_name() const override { return "opencl:lrn"; }

 private:
  std::shared_ptr<ClDevice> device_;
  int64_t channels_ = 1, inner_ = 1, n_ = 0, size_ = 1;
  float alpha_ = 0, beta_ = 0, bias_ = 0;
  ClKernel kernel_;
};

class SoftmaxOp final : public ClOp {
 public:
  static Result<std::unique_ptr<ClOp>> Make(const ClOpContext& ctx) {
    auto op = std::unique_ptr<SoftmaxOp>(new SoftmaxOp());
    op->device_ = ctx.device;
    const Shape& x = ctx.in(0).shape;
    const bool coerce_2d = ctx.node.opset < 13;
    DX_ASSIGN_OR_RETURN(int64_t axis, nn::NormalizeAxis(ctx.node.attrs.Int("axis", coerce_2d ? 1 : -1),
                                                        static_cast<int64_t>(x.size()), "axis"));
    const size_t ax = static_cast<size_t>(axis);
    op->outer_ = nn::Product(x, 0, ax);
    op->len_ = coerce_2d ? nn::Product(x, ax, x.size()) : x[ax];
    op->inner_ = coerce_2d ? 1 : nn::Product(x, ax + 1, x.size());
    op->log_ = ctx.node.op_type == "LogSoftmax";
    DX_ASSIGN_OR_RETURN(op->kernel_, MakeKernel(*ctx.device, "softmax"));
    return std::unique_ptr<ClOp>(std::move(op));
  }
  Status Enqueue(const ClArgs& args) override {
    DX_RETURN_IF_ERROR(SetArgs(kernel_.get(), args.in[0], args.out[0], static_cast<int>(outer_), static_cast<int>(len_),
                               static_cast<int>(inner_), static_cast<int>(log_)));
    return Launch(*device_, kernel_.get(), outer_ * inner_, "softmax");
  }
  std::string impl_name() const override { return log_ ? "opencl:log_softmax" : "opencl:softmax"; }

 private:
  std::shared_ptr<ClDevice> device_;
  int64_t outer_ = 1, len_ = 1, inner_ = 1;
  bool log_ = false;
  ClKernel kernel_;
};

}  // namespace

Status CheckNnFamily(const Graph& g, const Node& n) {
  const std::string& op = n.op_type;
  if (!IsPool(op) && !IsGlobalPool(op) && op != "BatchNormalization" && op != "LRN" && op != "Softmax" &&
      op != "LogSoftmax")
    return NotFound(op);
  for (size_t i = 0; i < n.inputs.size(); ++i) {
    if (n.inputs[i] != kNoValue && g.value(n.inputs[i]).dtype != DataType::kFloat32)
      return Unimplemented(g.NodeLabel(n) + ": input " + std::to_string(i) + " is not float32");
  }
  const size_t rank = g.value(n.inputs[0]).shape.size();
  if (IsPool(op)) {
    if (rank < 3 || rank > 5) return Unimplemented(g.NodeLabel(n) + ": only 1-D to 3-D pools run on OpenCL");
    if (op == "MaxPool" && n.outputs.size() > 1 && n.outputs[1] != kNoValue)
      return Unimplemented(g.NodeLabel(n) + ": MaxPool's Indices output is not produced on OpenCL");
  }
  if (op == "BatchNormalization") {
    for (size_t i = 1; i < 5; ++i) {
      if (i >= n.inputs.size() || n.inputs[i] == kNoValue || !g.value(n.inputs[i]).is_constant())
        return Unimplemented(g.NodeLabel(n) + ": run-time BatchNormalization statistics are not supported on OpenCL");
    }
    for (size_t i = 1; i < n.outputs.size(); ++i)
      if (n.outputs[i] != kNoValue) return Unimplemented(g.NodeLabel(n) + ": training outputs");
  }
  return Status::Ok();
}

Result<std::unique_ptr<ClOp>> MakeNnFamilyOp(const ClOpContext& ctx) {
  const std::string& op = ctx.node.op_type;
  if (IsPool(op)) return PoolOp::Make(ctx);
  if (IsGlobalPool(op)) return GlobalPoolOp::Make(ctx);
  if (op == "BatchNormalization") return BatchNormOp::Make(ctx);
  if (op == "LRN") return LrnOp::Make(ctx);
  return SoftmaxOp::Make(ctx);
}

}  // namespace deepx::opencl
