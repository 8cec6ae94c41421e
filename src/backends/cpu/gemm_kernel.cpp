// Gemm and MatMul on oneDNN's matmul primitive.
//
// Gemm: Y = alpha * op(A) * op(B) + beta * C. Transposes are expressed as strides (no copies). When B is a graph
// constant (fully-connected layers), it is scaled by alpha and reordered once into the layout matmul prefers
// (format_tag::any), which for batch-1 FC layers is the packed layout its GEMV kernel streams through; a constant
// C becomes the bias (times beta, broadcast by oneDNN). A run-time C is added by a binary post-op (beta == 1 only).
// MatMul: 2-D and batched (numpy batch broadcast), operands of rank >= 2; constant B is pre-packed the same way.
// Fused activations become eltwise post-ops after the bias/C term.
//
// Large constant weights at few rows (batch-1 FC of AlexNet/VGG, MatMul with a 2-D constant B) are NOT packed:
// an inner_product primitive reads them in place from the graph's constant tensor (weights `oi` when transB, `io`
// otherwise), so the model's biggest tensors exist once instead of twice. Its x64:gemm:jit GEMV streams plain
// weights at least as fast as matmul streams its packed copy once they exceed the caches; matmul on plain weights
// is no option (brgemm re-blocks B on every run: 5x slower on a 1024x1024 layer). Small weights stay packed: they
// are cache-resident between runs, where the packed kernel is 10-20% faster and the copy costs little memory.
#include <algorithm>

#include "backends/cpu/cpu_kernel.h"

namespace deepx::cpu {

using dnnl::memory;

namespace {

memory::desc Strided(memory::dims dims, memory::dims strides) {
  return memory::desc(dims, memory::data_type::f32, strides);
}

// Zero-copy FC route (see the file comment): at most this many rows, weights of at least this many bytes.
constexpr int64_t kInPlaceMaxRows = 8;
constexpr int64_t kInPlaceMinWeightBytes = int64_t{8} << 20;

// Y[rows, n] = act(A[rows, k] * W^T + bias) on an inner_product reading W ([n, k] when `w_is_nk`, else [k, n],
// row-major) from node input `w_input` in place. `bias_input` is the node input holding a length-n bias read in
// place (-1: none); `bias_scaled`, when not empty, is a bias to own instead.
Result<std::unique_ptr<CpuKernel>> MakeInPlaceFc(const KernelBuildContext& ctx, int64_t rows, int64_t k, int64_t n,
                                                 bool w_is_nk, size_t w_input, int bias_input,
                                                 const std::vector<float>& bias_scaled) {
  const memory::desc src_md({rows, k}, memory::data_type::f32, memory::format_tag::nc);
  const memory::desc w_md({n, k}, memory::data_type::f32, w_is_nk ? memory::format_tag::oi : memory::format_tag::io);
  const memory::desc dst_md({rows, n}, memory::data_type::f32, memory::format_tag::nc);
  const bool has_bias = bias_input >= 0 || !bias_scaled.empty();
  const memory::desc bias_md = has_bias ? memory::desc({n}, memory::data_type::f32, memory::format_tag::a)
                                        : memory::desc();
  dnnl::post_ops ops;
  if (!AppendActivation(GetFusedActivation(ctx.node.attrs), ops)) return std::unique_ptr<CpuKernel>();
  dnnl::primitive_attr attr;
  attr.set_post_ops(ops);
  dnnl::inner_product_forward::primitive_desc pd;
  try {
    dnnl::inner_product_forward::desc desc(dnnl::prop_kind::forward_inference, src_md, w_md, bias_md, dst_md);
    pd = dnnl::inner_product_forward::primitive_desc(desc, attr, ctx.engine);
  } catch (const dnnl::error&) {
    return std::unique_ptr<CpuKernel>();  // no implementation for this configuration: the packed route serves it
  }
  // Only an implementation that takes the plain layout as given is zero-copy; otherwise let the caller pack.
  if (pd.weights_desc() != w_md) return std::unique_ptr<CpuKernel>();
  auto kernel = std::make_unique<PrimitiveKernel>("onednn:inner_product:" + std::string(pd.impl_info_str()),
                                                  dnnl::inner_product_forward(pd));
  kernel->Bind(DNNL_ARG_SRC, false, 0, src_md, ctx.engine);
  kernel->Bind(DNNL_ARG_DST, true, 0, dst_md, ctx.engine);
  kernel->Bind(DNNL_ARG_WEIGHTS, false, w_input, w_md, ctx.engine);
  if (bias_input >= 0) {
    kernel->Bind(DNNL_ARG_BIAS, false, static_cast<size_t>(bias_input), bias_md, ctx.engine);
  } else if (has_bias) {
    kernel->BindConstant(DNNL_ARG_BIAS, ReorderConstant(ctx, bias_md, bias_scaled.data(), bias_md));
  }
  return std::unique_ptr<CpuKernel>(std::move(kernel));
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
  // Batch-1 FC with big weights: read B (and a per-column C) in place, no packed copy.
  const bool c_is_row = c_const && ctx.in(2).constant.num_elements() == nn;
  if (b_const && alpha == 1.0f && !trans_a && m <= kInPlaceMaxRows && (!has_c || c_is_row) &&
      k * nn * static_cast<int64_t>(sizeof(float)) >= kInPlaceMinWeightBytes) {
    std::vector<float> bias_scaled;
    if (has_c && beta != 1.0f) {
      const float* cd = ctx.in(2).constant.data<float>();
      bias_scaled.assign(cd, cd + nn);
      for (float& v : bias_scaled) v *= beta;
    }
    const int bias_input = has_c && beta == 1.0f ? 2 : -1;
    DX_ASSIGN_OR_RETURN(auto fc, MakeInPlaceFc(ctx, m, k, nn, trans_b, 1, bias_input, bias_scaled));
    if (fc) return fc;
  }

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
  if (b_const && ctx.in(1).shape.size() == 2) {
    int64_t rows = 1;  // A's rows, all multiplied by the same 2-D B
    for (size_t i = 0; i + 1 < a.size(); ++i) rows *= a[i];
    const int64_t k = b[rank - 2], n = b[rank - 1];
    if (rows <= kInPlaceMaxRows && k * n * static_cast<int64_t>(sizeof(float)) >= kInPlaceMinWeightBytes) {
      DX_ASSIGN_OR_RETURN(auto fc, MakeInPlaceFc(ctx, rows, k, n, false, 1, -1, {}));
      if (fc) return fc;
    }
  }

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
