// Data movement on the OpenCL device: Concat (one block copy per input), Transpose (up to 8 dims), and the views
// Reshape/Flatten/Squeeze/Unsqueeze/Identity, which the executable runs without any work by giving output
// and input the same buffer (a copy only when the output must be a buffer of its own, e.g. a block output).
#include <numeric>

#include "backends/opencl/opencl_ops.h"

namespace deepx::opencl {
namespace {

bool IsView(const std::string& op) {
  return op == "Reshape" || op == "Flatten" || op == "Squeeze" || op == "Unsqueeze" || op == "Identity";
}

class ViewOp final : public ClOp {
 public:
  ViewOp(std::shared_ptr<ClDevice> device, size_t bytes) : device_(std::move(device)), bytes_(bytes) {}
  bool reads_device_input(size_t i) const override { return i == 0; }
  bool is_view() const override { return true; }
  Status Enqueue(const ClArgs& args) override {
    if (args.in[0] == args.out[0] || bytes_ == 0) return Status::Ok();
    return ClCheck(clEnqueueCopyBuffer(device_->queue(), args.in[0], args.out[0], 0, 0, bytes_, 0, nullptr, nullptr),
                   "copying a view");
  }
  std::string impl_name() const override { return "opencl:view"; }

 private:
  std::shared_ptr<ClDevice> device_;
  size_t bytes_;
};

class ConcatOp final : public ClOp {
 public:
  static Result<std::unique_ptr<ClOp>> Make(const ClOpContext& ctx) {
    auto op = std::unique_ptr<ConcatOp>(new ConcatOp());
    op->device_ = ctx.device;
    const Shape& out = ctx.out(0).shape;
    DX_ASSIGN_OR_RETURN(int64_t axis,
                        nn::NormalizeAxis(ctx.node.attrs.Int("axis", 0), static_cast<int64_t>(out.size()), "axis"));
    const int64_t outer = nn::Product(out, 0, static_cast<size_t>(axis));
    const int64_t y_inner = nn::Product(out, static_cast<size_t>(axis), out.size());
    int64_t offset = 0;
    for (size_t i = 0; i < ctx.node.inputs.size(); ++i) {
      const Shape& s = ctx.in(i).shape;
      const int64_t x_inner = nn::Product(s, static_cast<size_t>(axis), s.size());
      op->parts_.push_back({outer, x_inner, y_inner, offset});
      offset += x_inner;
    }
    DX_ASSIGN_OR_RETURN(op->kernel_, MakeKernel(*ctx.device, "copy_block"));
    return std::unique_ptr<ClOp>(std::move(op));
  }
  Status Enqueue(const ClArgs& args) override {
    for (size_t i = 0; i < parts_.size(); ++i) {
      const Part& p = parts_[i];
      DX_RETURN_IF_ERROR(SetArgs(kernel_.get(), args.in[i], args.out[0], static_cast<int>(p.outer),
                                 static_cast<int>(p.x_inner), static_cast<int>(p.y_inner), static_cast<int>(p.offset)));
      DX_RETURN_IF_ERROR(Launch(*device_, kernel_.get(), p.outer * p.x_inner, "copy_block"));
    }
    return Status::Ok();
  }
  std::string impl_name() const override { return "opencl:concat"; }

 private:
  struct Part {
    int64_t outer, x_inner, y_inner, offset;
  };
  std::shared_ptr<ClDevice> device_;
  std::vector<Part> parts_;
  ClKernel kernel_;
};

class TransposeOp final : public ClOp {
 public:
  static Result<std::unique_ptr<ClOp>> Make(const ClOpContext& ctx) {
    auto op = std::unique_ptr<TransposeOp>(new TransposeOp());
    op->device_ = ctx.device;
    const Shape& x = ctx.in(0).shape;
    const size_t rank = x.size();
    std::vector<int64_t> perm(rank);
    std::iota(perm.rbegin(), perm.rend(), 0);  // default: reverse the dims
    perm = ctx.node.attrs.Ints("perm", perm);
    std::vector<int64_t> x_strides(rank, 1);
    for (size_t d = rank; d-- > 1;) x_strides[d - 1] = x_strides[d] * x[d];
    op->out_ = Dims8(ctx.out(0).shape);
    for (int i = 0; i < 8; ++i) op->in_strides_.s[i] = 0;
    for (size_t d = 0; d < rank; ++d)
      op->in_strides_.s[8 - rank + d] = static_cast<cl_int>(x_strides[static_cast<size_t>(perm[d])]);
    op->n_ = NumElements(x);
    DX_ASSIGN_OR_RETURN(op->kernel_, MakeKernel(*ctx.device, "transpose"));
    return std::unique_ptr<ClOp>(std::move(op));
  }
  Status Enqueue(const ClArgs& args) override {
    DX_RETURN_IF_ERROR(SetArgs(kernel_.get(), args.in[0], args.out[0], static_cast<int>(n_), out_, in_strides_));
    return Launch(*device_, kernel_.get(), n_, "transpose");
  }
  std::string impl_name() const override { return "opencl:transpose"; }

 private:
  std::shared_ptr<ClDevice> device_;
  cl_int8 out_, in_strides_;
  int64_t n_ = 0;
  ClKernel kernel_;
};

}  // namespace

Status CheckTensorFamily(const Graph& g, const Node& n) {
  const std::string& op = n.op_type;
  if (!IsView(op) && op != "Concat" && op != "Transpose") return NotFound(op);
  if (g.value(n.inputs[0]).dtype != DataType::kFloat32) return Unimplemented(g.NodeLabel(n) + ": input is not float32");
  if (IsView(op)) {
    // Shape/axes inputs must be known now (they are, after specialisation, unless fed by a run-time value).
    for (size_t i = 1; i < n.inputs.size(); ++i) {
      if (n.inputs[i] != kNoValue && !g.value(n.inputs[i]).is_constant())
        return Unimplemented(g.NodeLabel(n) + ": a run-time shape/axes input is not supported on OpenCL");
    }
    return Status::Ok();
  }
  if (op == "Concat") {
    for (ValueId v : n.inputs)
      if (v == kNoValue || g.value(v).dtype != DataType::kFloat32)
        return Unimplemented(g.NodeLabel(n) + ": Concat of non-float32 inputs");
  }
  if (op == "Transpose" && g.value(n.inputs[0]).shape.size() > 8)
    return Unimplemented(g.NodeLabel(n) + ": Transpose of rank above 8");
  return Status::Ok();
}

Result<std::unique_ptr<ClOp>> MakeTensorFamilyOp(const ClOpContext& ctx) {
  const std::string& op = ctx.node.op_type;
  if (IsView(op)) {
    return std::unique_ptr<ClOp>(
        std::make_unique<ViewOp>(ctx.device, static_cast<size_t>(NumElements(ctx.out(0).shape)) * sizeof(float)));
  }
  if (op == "Concat") return ConcatOp::Make(ctx);
  return TransposeOp::Make(ctx);
}

}  // namespace deepx::opencl
