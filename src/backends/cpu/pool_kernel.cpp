// MaxPool, AveragePool, GlobalAveragePool and GlobalMaxPool on oneDNN pooling (1-D/2-D/3-D; plain, or NHWC when
// the backend gives it, with the same layout in and out).
//
// ceil_mode is expressed as extra trailing padding so oneDNN's floor arithmetic yields the ceil-mode size; padded
// positions never win a max and are not counted by "exclude padding" averages. An average with
// count_include_pad=1 would count that extra padding, so that one case (ceil_mode actually extending the window)
// stays on the reference kernel. Dilated pools and MaxPool's Indices output also stay there.
#include <algorithm>

#include "backends/cpu/cpu_kernel.h"
#include "ops/nn/nn_common.h"

namespace deepx::cpu {

using dnnl::memory;

Result<std::unique_ptr<CpuKernel>> MakePoolKernel(const KernelBuildContext& ctx) {
  const Node& n = ctx.node;
  const std::string& op = n.op_type;
  if (n.outputs.size() > 1 && n.outputs[1] != kNoValue) return std::unique_ptr<CpuKernel>();
  if (!ctx.has_in(0) || ctx.in(0).dtype != DataType::kFloat32 || ctx.out(0).dtype != DataType::kFloat32)
    return std::unique_ptr<CpuKernel>();
  const Shape& x = ctx.in(0).shape;
  const Shape& y = ctx.out(0).shape;
  if (x.size() < 3 || x.size() > 5) return std::unique_ptr<CpuKernel>();
  const size_t nd = x.size() - 2;
  const std::vector<int64_t> in(x.begin() + 2, x.end());

  dnnl::algorithm alg;
  nn::Window win;
  if (op == "GlobalAveragePool" || op == "GlobalMaxPool") {
    alg = op == "GlobalMaxPool" ? dnnl::algorithm::pooling_max : dnnl::algorithm::pooling_avg_exclude_padding;
    win.in = in;
    win.kernel = in;
    win.out.assign(nd, 1);
    win.strides.assign(nd, 1);
    win.dilations.assign(nd, 1);
    win.pad_begin.assign(nd, 0);
    win.pad_end.assign(nd, 0);
  } else {
    const bool ceil_mode = n.attrs.Int("ceil_mode", 0) != 0;
    DX_ASSIGN_OR_RETURN(win, nn::ResolveWindow(n.attrs, in, n.attrs.Ints("kernel_shape"), ceil_mode));
    if (op == "MaxPool") {
      alg = dnnl::algorithm::pooling_max;
    } else {
      alg = n.attrs.Int("count_include_pad", 0) ? dnnl::algorithm::pooling_avg_include_padding
                                                : dnnl::algorithm::pooling_avg_exclude_padding;
    }
  }
  memory::dims strides(win.strides.begin(), win.strides.end()), kernel(win.kernel.begin(), win.kernel.end());
  memory::dims pad_l(win.pad_begin.begin(), win.pad_begin.end()), pad_r(nd);
  for (size_t d = 0; d < nd; ++d) {
    if (win.dilations[d] != 1) return std::unique_ptr<CpuKernel>();
    pad_r[d] = (win.out[d] - 1) * win.strides[d] + win.kernel[d] - win.in[d] - win.pad_begin[d];
    if (pad_r[d] < win.pad_end[d]) pad_r[d] = win.pad_end[d];  // floor mode may leave trailing pad unused
    if (pad_r[d] != win.pad_end[d] && alg == dnnl::algorithm::pooling_avg_include_padding)
      return std::unique_ptr<CpuKernel>();
  }
  const memory::desc src_md = LayoutDesc(x, ctx.in_layout(0)), dst_md = LayoutDesc(y, ctx.out_layout);
  dnnl::pooling_forward::desc desc(dnnl::prop_kind::forward_inference, alg, src_md, dst_md, strides, kernel, pad_l,
                                   pad_r);
  dnnl::pooling_forward::primitive_desc pd(desc, ctx.engine);
  auto k = std::make_unique<PrimitiveKernel>("onednn:pool:" + std::string(pd.impl_info_str()),
                                             dnnl::pooling_forward(pd));
  k->Bind(DNNL_ARG_SRC, false, 0, src_md, ctx.engine);
  k->Bind(DNNL_ARG_DST, true, 0, dst_md, ctx.engine);
  return std::unique_ptr<CpuKernel>(std::move(k));
}

}  // namespace deepx::cpu
