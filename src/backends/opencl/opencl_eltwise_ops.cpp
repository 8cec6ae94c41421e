// Elementwise ops on the OpenCL device: unary activations and maths (one kernel, an op code), Clip (constant
// bounds folded into the unary kernel, run-time bounds read from device scalars), and binary arithmetic with numpy
// broadcasting over up to 8 dims (opset < 7 `broadcast`/`axis` mapped to numpy form by LegacyBroadcastShape).
#include <limits>
#include <map>

#include "backends/opencl/opencl_ops.h"
#include "ops/legacy.h"

namespace deepx::opencl {
namespace {

struct UnaryEntry {
  int code;
  const char* p0_name;
  float p0_default;
  const char* p1_name;
  float p1_default;
};

const std::map<std::string, UnaryEntry>& UnaryTable() {
  static const std::map<std::string, UnaryEntry> table = {
      {"Relu", {kActRelu, nullptr, 0, nullptr, 0}},
      {"LeakyRelu", {kActLeakyRelu, "alpha", 0.01f, nullptr, 0}},
      {"Sigmoid", {kActSigmoid, nullptr, 0, nullptr, 0}},
      {"HardSigmoid", {kActHardSigmoid, "alpha", 0.2f, "beta", 0.5f}},
      {"HardSwish", {kActHardSwish, nullptr, 0, nullptr, 0}},
      {"Tanh", {kActTanh, nullptr, 0, nullptr, 0}},
      {"Exp", {kActExp, nullptr, 0, nullptr, 0}},
      {"Log", {kActLog, nullptr, 0, nullptr, 0}},
      {"Abs", {kActAbs, nullptr, 0, nullptr, 0}},
      {"Sqrt", {kActSqrt, nullptr, 0, nullptr, 0}},
      {"Neg", {kActNeg, nullptr, 0, nullptr, 0}},
      {"Elu", {kActElu, "alpha", 1.0f, nullptr, 0}},
      {"Selu", {kActSelu, "alpha", 1.67326319217681884765625f, "gamma", 1.05070102214813232421875f}},
      {"Reciprocal", {kActReciprocal, nullptr, 0, nullptr, 0}},
      {"Floor", {kActFloor, nullptr, 0, nullptr, 0}},
      {"Ceil", {kActCeil, nullptr, 0, nullptr, 0}},
      {"Softplus", {kActSoftplus, nullptr, 0, nullptr, 0}},
      {"Softsign", {kActSoftsign, nullptr, 0, nullptr, 0}},
      {"Erf", {kActErf, nullptr, 0, nullptr, 0}},
      {"Sin", {kActSin, nullptr, 0, nullptr, 0}},
      {"Cos", {kActCos, nullptr, 0, nullptr, 0}},
  };
  return table;
}

// Codes of `binary` in opencl_kernels.cl.inc.
const std::map<std::string, int>& BinaryTable() {
  static const std::map<std::string, int> table = {{"Add", 0}, {"Sub", 1}, {"Mul", 2}, {"Div", 3}, {"Pow", 4}};
  return table;
}

class UnaryOp final : public ClOp {
 public:
  static Result<std::unique_ptr<ClOp>> Make(const ClOpContext& ctx, ClActivation act) {
    auto op = std::unique_ptr<UnaryOp>(new UnaryOp());
    op->device_ = ctx.device;
    op->act_ = act;
    op->n_ = NumElements(ctx.out(0).shape);
    DX_ASSIGN_OR_RETURN(op->kernel_, MakeKernel(*ctx.device, "unary"));
    return std::unique_ptr<ClOp>(std::move(op));
  }
  bool reads_device_input(size_t i) const override { return i == 0; }
  Status Enqueue(const ClArgs& args) override {
    DX_RETURN_IF_ERROR(
        SetArgs(kernel_.get(), args.in[0], args.out[0], static_cast<int>(n_), act_.code, act_.p0, act_.p1));
    return Launch(*device_, kernel_.get(), n_, "unary");
  }
  std::string impl_name() const override { return "opencl:unary"; }

 private:
  std::shared_ptr<ClDevice> device_;
  ClActivation act_;
  int64_t n_ = 0;
  ClKernel kernel_;
};

// Clip whose bounds are run-time (device) scalars.
class ClipTensorOp final : public ClOp {
 public:
  static Result<std::unique_ptr<ClOp>> Make(const ClOpContext& ctx) {
    auto op = std::unique_ptr<ClipTensorOp>(new ClipTensorOp());
    op->device_ = ctx.device;
    op->n_ = NumElements(ctx.out(0).shape);
    op->has_lo_ = ctx.has_in(1);
    op->has_hi_ = ctx.has_in(2);
    DX_ASSIGN_OR_RETURN(op->kernel_, MakeKernel(*ctx.device, "clip_tensor"));
    return std::unique_ptr<ClOp>(std::move(op));
  }
  Status Enqueue(const ClArgs& args) override {
    cl_mem lo = has_lo_ ? args.in[1] : args.in[0], hi = has_hi_ ? args.in[2] : args.in[0];
    DX_RETURN_IF_ERROR(SetArgs(kernel_.get(), args.in[0], args.out[0], static_cast<int>(n_), lo, hi,
                               static_cast<int>(has_lo_), static_cast<int>(has_hi_)));
    return Launch(*device_, kernel_.get(), n_, "clip_tensor");
  }
  std::string impl_name() const override { return "opencl:clip_tensor"; }

 private:
  std::shared_ptr<ClDevice> device_;
  int64_t n_ = 0;
  bool has_lo_ = false, has_hi_ = false;
  ClKernel kernel_;
};

class BinaryOp final : public ClOp {
 public:
  static Result<std::unique_ptr<ClOp>> Make(const ClOpContext& ctx) {
    auto op = std::unique_ptr<BinaryOp>(new BinaryOp());
    op->device_ = ctx.device;
    op->code_ = BinaryTable().at(ctx.node.op_type);
    const Shape& out = ctx.out(0).shape;
    Shape b = ctx.in(1).shape;
    if (ctx.node.opset < 7) {
      DX_ASSIGN_OR_RETURN(b, LegacyBroadcastShape(ctx.node.attrs, ctx.in(0).shape, b));
    }
    op->n_ = NumElements(out);
    op->out_ = Dims8(out);
    op->a_strides_ = BroadcastStrides8(ctx.in(0).shape);
    op->b_strides_ = BroadcastStrides8(b);
    op->same_shape_ = ctx.in(0).shape == out && b == out;
    DX_ASSIGN_OR_RETURN(op->kernel_, MakeKernel(*ctx.device, "binary"));
    return std::unique_ptr<ClOp>(std::move(op));
  }
  Status Enqueue(const ClArgs& args) override {
    DX_RETURN_IF_ERROR(SetArgs(kernel_.get(), args.in[0], args.in[1], args.out[0], static_cast<int>(n_), code_, 1.0f,
                               out_, a_strides_, b_strides_, static_cast<int>(same_shape_)));
    return Launch(*device_, kernel_.get(), n_, "binary");
  }
  std::string impl_name() const override { return "opencl:binary"; }

 private:
  std::shared_ptr<ClDevice> device_;
  int code_ = 0;
  int64_t n_ = 0;
  cl_int8 out_, a_strides_, b_strides_;
  bool same_shape_ = false;
  ClKernel kernel_;
};

bool IsConstantInput(const Graph& g, const Node& n, size_t i) {
  return i < n.inputs.size() && n.inputs[i] != kNoValue && g.value(n.inputs[i]).is_constant();
}

}  // namespace

Status CheckEltwiseFamily(const Graph& g, const Node& n) {
  const std::string& op = n.op_type;
  const bool unary = UnaryTable().count(op) != 0, binary = BinaryTable().count(op) != 0;
  if (!unary && !binary && op != "Clip") return NotFound(op);
  for (size_t i = 0; i < n.inputs.size(); ++i) {
    if (n.inputs[i] != kNoValue && g.value(n.inputs[i]).dtype != DataType::kFloat32)
      return Unimplemented(g.NodeLabel(n) + ": input " + std::to_string(i) + " is not float32");
  }
  if (binary) {
    const size_t rank = g.value(n.outputs[0]).shape.size();
    if (rank > 8) return Unimplemented(g.NodeLabel(n) + ": rank above 8");
  }
  return Status::Ok();
}

Result<std::unique_ptr<ClOp>> MakeEltwiseFamilyOp(const ClOpContext& ctx) {
  const Node& n = ctx.node;
  const std::string& op = n.op_type;
  if (BinaryTable().count(op)) return BinaryOp::Make(ctx);
  if (op == "Clip") {
    float lo = std::numeric_limits<float>::lowest(), hi = std::numeric_limits<float>::max();
    if (n.opset < 11) {
      lo = n.attrs.Float("min", lo);
      hi = n.attrs.Float("max", hi);
    } else {
      const bool lo_const = !ctx.has_in(1) || IsConstantInput(ctx.graph, n, 1);
      const bool hi_const = !ctx.has_in(2) || IsConstantInput(ctx.graph, n, 2);
      if (!lo_const || !hi_const) return ClipTensorOp::Make(ctx);
      if (ctx.has_in(1)) lo = ConstantFloats(ctx.in(1))[0];
      if (ctx.has_in(2)) hi = ConstantFloats(ctx.in(2))[0];
    }
    return UnaryOp::Make(ctx, ClActivation{kActClip, lo, hi});
  }
  const UnaryEntry& e = UnaryTable().at(op);
  ClActivation act{e.code, e.p0_name ? n.attrs.Float(e.p0_name, e.p0_default) : 0.0f,
                   e.p1_name ? n.attrs.Float(e.p1_name, e.p1_default) : 0.0f};
  return UnaryOp::Make(ctx, act);
}

}  // namespace deepx::opencl
