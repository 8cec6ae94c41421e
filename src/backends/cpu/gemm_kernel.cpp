// Gemm and MatMul on oneDNN's matmul primitive.
//
// Gemm: Y = alpha * op(A) * op(B) + beta * C. Transposes are expressed as strides (no copies). When B is a graph
// constant (fully-connected layers), it is scaled by alpha and reordered once into the layout matmul prefers
// (format_tag::any), which for batch-1 FC layers is the packed layout its GEMV kernel streams through; a constant
// C becomes the bias (times beta, broadcast by oneDNN). A run-time C is added by a binary post-op (beta == 1 only).
// MatMul: 2-D and batched (numpy batch broadcast), operands of rank >= 2; constant B is pre-packed the same way.
// Fused activations become eltwise post-ops after the bias/C term.
#include <algorithm>

#include "backends/cpu/cpu_kernel.h"

namespace deepx::cpu {

using dnnl::memory;

namespace {

memory::desc Strided(memory::dims dims, memory::dims strides) {
  return memory::desc(dims, memory::data_type::f32, strides);
}

}  // namespace

Result<std::unique_ptr<CpuKernel>> MakeGemmKernel(const KernelBuildContext& ctx) {
  const Node& n = ctx.node;
  if (!AllFloat(ctx)) return std::unique_ptr<CpuKernel>();
  const bool trans_a = n.attrs.Int("transA", 0) != 0, trans_b = n.attrs.Int("transB", 0) != 0;
  const float alpha = n.attrs.Float("alpha", 1.0f), beta = n.attrs.Float("beta", 1.0f);
  const Shape& a = ctx.in(0).shape;
  const Shape& b = ctx.in(1).shape;
  const int64_t m = trans_a ? a[1] : a[0], k = trans_a ? a[0] : a[1], nn = trans_b ? b[0] : b[1];
  const bool b_const = ctx.in(1).is_constant();
  const bool has_c = ctx.has_in(2) && beta != 0.0f;
  const bool c_const = has_c && ctx.in(2).is_constant();
  if (!b_const && alpha != 1.0f) return std::unique_ptr<CpuKernel>();
  if (has_c && !c_const && beta != 1.0f) return std::unique_ptr<CpuKernel>();

  const memory::desc a_md = trans_a ? Strided({m, k}, {1, m}) : Strided({m, k}, {k, 1});
  const memory::desc b_md = trans_b ? Strided({k, nn}, {1, k}) : Strided({k, nn}, {nn, 1});
  const memory::desc y_md = PlainDesc({m, nn});
  memory::desc c_md;
  if (has_c) {
    const Shape& c = ctx.in(2).shape;
    const int64_t rows = c.size() == 2 ? c[0] : 1, cols = c.empty() ? 1 : c.back();
    c_md = PlainDesc({rows, cols});
  }

  dnnl::post_ops ops;
  if (has_c && !c_const) ops.append_binary(dnnl::algorithm::binary_add, c_md);
  if (!AppendActivation(GetFusedActivation(n.attrs), ops)) return std::unique_ptr<CpuKernel>();
  dnnl::primitive_attr attr;
  attr.set_post_ops(ops);
  const memory::desc b_req = b_const ? memory::desc({k, nn}, memory::data_type::f32, memory::format_tag::any) : b_md;
  const memory::desc bias_md = c_const ? c_md : memory::desc();
  dnnl::matmul::desc desc(a_md, b_req, bias_md, y_md);
  dnnl::matmul::primitive_desc pd(desc, attr, ctx.engine);

  auto kernel = std::make_unique<PrimitiveKernel>("onednn:matmul:" + std::string(pd.impl_info_str()),
                                                  dnnl::matmul(pd));
  kernel->Bind(DNNL_ARG_SRC, false, 0, a_md, ctx.engine);
  kernel->Bind(DNNL_ARG_DST, true, 0, y_md, ctx.engine);
  if (b_const) {
    const float* bd = ctx.in(1).constant.data<float>();
    std::vector<float> scaled;
    if (alpha != 1.0f) {
      scaled.assign(bd, bd + k * nn);
      for (float& v : scaled) v *= alpha;
      bd = scaled.data();
    }
    kernel->BindConstant(DNNL_ARG_WEIGHTS, ReorderConstant(ctx, b_md, bd, pd.weights_desc()));
  } else {
    kernel->Bind(DNNL_ARG_WEIGHTS, false, 1, b_md, ctx.engine);
  }
  if (c_const) {
    const Tensor& c = ctx.in(2).constant;
    std::vector<float> scaled(c.data<float>(), c.data<float>() + c.num_elements());
    for (float& v : scaled) v *= beta;
    kernel->BindConstant(DNNL_ARG_BIAS, ReorderConstant(ctx, c_md, scaled.data(), pd.bias_desc()));
  } else if (has_c) {
    kernel->Bind(DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1, false, 2, c_md, ctx.engine);
  }
  return std::unique_ptr<CpuKernel>(std::move(kernel));
}

Result<std::unique_ptr<CpuKernel>> MakeMatMulKernel(const KernelBuildContext& ctx) {
  if (!AllFloat(ctx)) return std::unique_ptr<CpuKernel>();
  Shape a = ctx.in(0).shape, b = ctx.in(1).shape;
  if (a.size() < 2 || b.size() < 2) return std::unique_ptr<CpuKernel>();  // 1-D operands: reference kernel
  const size_t rank = std::max(a.size(), b.size());
  if (rank > 6) return std::unique_ptr<CpuKernel>();
  a.insert(a.begin(), rank - a.size(), 1);  // numpy broadcasting: missing batch dims are 1
  b.insert(b.begin(), rank - b.size(), 1);
  Shape y = ctx.out(0).shape;
  const memory::desc a_md = PlainDesc(a), b_md = PlainDesc(b), y_md = PlainDesc(y);
  const bool b_const = ctx.in(1).is_constant();

  dnnl::post_ops ops;
  if (!AppendActivation(GetFusedActivation(ctx.node.attrs), ops)) return std::unique_ptr<CpuKernel>();
  dnnl::primitive_attr attr;
  attr.set_post_ops(ops);
  const memory::desc b_req =
      b_const ? memory::desc(ToDims(b), memory::data_type::f32, memory::format_tag::any) : b_md;
  dnnl::matmul::desc desc(a_md, b_req, y_md);
  dnnl::matmul::primitive_desc pd(desc, attr, ctx.engine);
  auto kernel = std::make_unique<PrimitiveKernel>("onednn:matmul:" + std::string(pd.impl_info_str()),
                                                  dnnl::matmul(pd));
  kernel->Bind(DNNL_ARG_SRC, false, 0, a_md, ctx.engine);
  kernel->Bind(DNNL_ARG_DST, true, 0, y_md, ctx.engine);
  if (b_const) {
    kernel->BindConstant(DNNL_ARG_WEIGHTS,
                         ReorderConstant(ctx, b_md, ctx.in(1).constant.raw_data(), pd.weights_desc()));
  } else {
    kernel->Bind(DNNL_ARG_WEIGHTS, false, 1, b_md, ctx.engine);
  }
  return std::unique_ptr<CpuKernel>(std::move(kernel));
}

}  // namespace deepx::cpu
