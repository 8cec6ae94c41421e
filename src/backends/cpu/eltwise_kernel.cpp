// Elementwise ops on oneDNN: unary activations (eltwise primitive) and Add/Sub/Mul/Div with numpy broadcasting
// (binary primitive). oneDNN's binary needs the first source to have the output's shape and lets only the second
// broadcast, so for Add/Mul the operands are swapped when needed; Sub/Div with a broadcast first operand stay on
// the reference kernel. Clip from opset 11 takes min/max as inputs, which must be constants here.
#include <algorithm>
#include <limits>

#include "backends/cpu/cpu_kernel.h"

namespace deepx::cpu {

using dnnl::memory;

namespace {

// Right-aligns `s` to `rank` dims (numpy broadcasting); rank 0 becomes [1].
Shape Align(Shape s, size_t rank) {
  s.insert(s.begin(), rank - s.size(), 1);
  if (s.empty()) s.push_back(1);
  return s;
}

Result<std::unique_ptr<CpuKernel>> MakeBinary(const KernelBuildContext& ctx, dnnl::algorithm alg, bool commutative) {
  const Shape& y0 = ctx.out(0).shape;
  if (y0.size() > 6) return std::unique_ptr<CpuKernel>();
  Shape y = Align(y0, y0.size());
  Shape a = Align(ctx.in(0).shape, y0.size()), b = Align(ctx.in(1).shape, y0.size());
  size_t first = 0, second = 1;
  if (a != y) {
    if (!commutative || b != y) return std::unique_ptr<CpuKernel>();
    std::swap(a, b);
    std::swap(first, second);
  }
  // NHWC only reaches here for same-shape 4-D operands (the backend's layout pass); the output follows.
  const memory::desc a_md = LayoutDesc(a, ctx.in_layout(first)), b_md = LayoutDesc(b, ctx.in_layout(second));
  const memory::desc y_md = LayoutDesc(y, ctx.out_layout);
  dnnl::binary::desc desc(alg, a_md, b_md, y_md);
  dnnl::binary::primitive_desc pd(desc, ctx.engine);
  auto k = std::make_unique<PrimitiveKernel>("onednn:binary:" + std::string(pd.impl_info_str()), dnnl::binary(pd));
  k->Bind(DNNL_ARG_SRC_0, false, first, a_md, ctx.engine);
  k->Bind(DNNL_ARG_SRC_1, false, second, b_md, ctx.engine);
  k->Bind(DNNL_ARG_DST, true, 0, y_md, ctx.engine);
  return std::unique_ptr<CpuKernel>(std::move(k));
}

Result<std::unique_ptr<CpuKernel>> MakeUnary(const KernelBuildContext& ctx, dnnl::algorithm alg, float alpha,
                                             float beta) {
  const Shape& x = ctx.in(0).shape;
  if (x.size() > 6) return std::unique_ptr<CpuKernel>();
  const memory::desc md = LayoutDesc(x, ctx.in_layout(0));  // one desc: output layout == input layout
  dnnl::eltwise_forward::desc desc(dnnl::prop_kind::forward_inference, alg, md, alpha, beta);
  dnnl::eltwise_forward::primitive_desc pd(desc, ctx.engine);
  auto k = std::make_unique<PrimitiveKernel>("onednn:eltwise:" + std::string(pd.impl_info_str()),
                                             dnnl::eltwise_forward(pd));
  k->Bind(DNNL_ARG_SRC, false, 0, md, ctx.engine);
  k->Bind(DNNL_ARG_DST, true, 0, md, ctx.engine);
  return std::unique_ptr<CpuKernel>(std::move(k));
}

}  // namespace

Result<std::unique_ptr<CpuKernel>> MakeEltwiseKernel(const KernelBuildContext& ctx) {
  if (!AllFloat(ctx) || !ctx.has_in(0)) return std::unique_ptr<CpuKernel>();
  using dnnl::algorithm;
  const std::string& op = ctx.node.op_type;
  const Attributes& a = ctx.node.attrs;
  if (op == "Add") return MakeBinary(ctx, algorithm::binary_add, true);
  if (op == "Mul") return MakeBinary(ctx, algorithm::binary_mul, true);
  if (op == "Sub") return MakeBinary(ctx, algorithm::binary_sub, false);
  if (op == "Div") return MakeBinary(ctx, algorithm::binary_div, false);
  if (op == "Relu") return MakeUnary(ctx, algorithm::eltwise_relu, 0.0f, 0.0f);
  if (op == "LeakyRelu") return MakeUnary(ctx, algorithm::eltwise_relu, a.Float("alpha", 0.01f), 0.0f);
  if (op == "Sigmoid") return MakeUnary(ctx, algorithm::eltwise_logistic, 0.0f, 0.0f);
  if (op == "Tanh") return MakeUnary(ctx, algorithm::eltwise_tanh, 0.0f, 0.0f);
  if (op == "Exp") return MakeUnary(ctx, algorithm::eltwise_exp, 0.0f, 0.0f);
  if (op == "Abs") return MakeUnary(ctx, algorithm::eltwise_abs, 0.0f, 0.0f);
  if (op == "Sqrt") return MakeUnary(ctx, algorithm::eltwise_sqrt, 0.0f, 0.0f);
  if (op == "Elu") return MakeUnary(ctx, algorithm::eltwise_elu, a.Float("alpha", 1.0f), 0.0f);
  if (op == "HardSwish") return MakeUnary(ctx, algorithm::eltwise_hardswish, 0.0f, 0.0f);
  if (op == "Clip") {
    float lo = -std::numeric_limits<float>::max(), hi = std::numeric_limits<float>::max();
    if (ctx.node.opset < 11) {
      lo = a.Float("min", lo);
      hi = a.Float("max", hi);
    } else {
      for (size_t i = 1; i < 3; ++i) {
        if (!ctx.has_in(i)) continue;
        if (!ctx.in(i).is_constant()) return std::unique_ptr<CpuKernel>();
        (i == 1 ? lo : hi) = ctx.in(i).constant.data<float>()[0];
      }
    }
    return MakeUnary(ctx, algorithm::eltwise_clip_v2, lo, hi);
  }
  return std::unique_ptr<CpuKernel>();
}

// Concat on oneDNN's concat primitive (any rank up to 6, float, no empty inputs). Inputs and output use the
// layouts the backend gives; it gives NHWC only for a channel concat of NHWC inputs (GoogLeNet/SqueezeNet
// branches), where the copy is a run of contiguous channel slices per pixel.
Result<std::unique_ptr<CpuKernel>> MakeConcatKernel(const KernelBuildContext& ctx) {
  if (!AllFloat(ctx) || ctx.node.outputs.size() != 1) return std::unique_ptr<CpuKernel>();
  const Shape& y = ctx.out(0).shape;
  const int64_t rank = static_cast<int64_t>(y.size());
  if (rank < 1 || rank > 6 || NumElements(y) == 0) return std::unique_ptr<CpuKernel>();
  int64_t axis = ctx.node.attrs.Int("axis", 0);
  if (axis < 0) axis += rank;
  if (axis < 0 || axis >= rank) return std::unique_ptr<CpuKernel>();
  std::vector<memory::desc> srcs;
  std::vector<size_t> indices;
  for (size_t i = 0; i < ctx.node.inputs.size(); ++i) {
    if (!ctx.has_in(i)) return std::unique_ptr<CpuKernel>();
    const Shape& x = ctx.in(i).shape;
    if (static_cast<int64_t>(x.size()) != rank) return std::unique_ptr<CpuKernel>();
    if (NumElements(x) == 0) continue;  // contributes nothing (oneDNN rejects zero-sized sources)
    srcs.push_back(LayoutDesc(x, ctx.in_layout(i)));
    indices.push_back(i);
  }
  if (srcs.empty()) return std::unique_ptr<CpuKernel>();
  const memory::desc y_md = LayoutDesc(y, ctx.out_layout);
  dnnl::concat::primitive_desc pd(y_md, static_cast<int>(axis), srcs, ctx.engine);
  auto k = std::make_unique<PrimitiveKernel>("onednn:concat:" + std::string(pd.impl_info_str()), dnnl::concat(pd));
  for (size_t j = 0; j < srcs.size(); ++j)
    k->Bind(DNNL_ARG_MULTIPLE_SRC + static_cast<int>(j), false, indices[j], srcs[j], ctx.engine);
  k->Bind(DNNL_ARG_DST, true, 0, y_md, ctx.engine);
  return std::unique_ptr<CpuKernel>(std::move(k));
}

}  // namespace deepx::cpu
