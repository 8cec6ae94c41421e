// Conv on oneDNN: 1-D/2-D/3-D, any group (depthwise included), strides, dilations, explicit or auto pads, bias and
// the fused activation as eltwise post-ops. Weights (and bias) must be graph constants: they are reordered into
// the layout the chosen implementation prefers once, here.
#include <algorithm>
#include <string>

#include "backends/cpu/cpu_kernel.h"
#include "ops/nn/nn_common.h"

namespace deepx::cpu {

using dnnl::memory;

namespace {

// The convolution primitive, with its input reordered from the layout the backend gave it (plain NCHW or NHWC, see
// Layout) into the layout the primitive chose, and its output reordered into the layout the backend asked for; the
// reordered copies live in the shared scratch buffer. On AVX-512 oneDNN 2.6 chooses NHWC, so a conv inside an NHWC
// run of nodes does no reorders at all.
class ConvKernel final : public CpuKernel {
 public:
  ConvKernel(const dnnl::convolution_forward::primitive_desc& pd, const memory::desc& src_plain,
                    const memory::desc& dst_plain, const dnnl::engine& engine, memory weights, memory bias)
      : conv_(pd), src_user_(src_plain, engine, DNNL_MEMORY_NONE), dst_user_(dst_plain, engine, DNNL_MEMORY_NONE),
        src_(pd.src_desc(), engine, DNNL_MEMORY_NONE), dst_(pd.dst_desc(), engine, DNNL_MEMORY_NONE),
        weights_(weights), bias_(bias),
        name_("onednn:conv:" + std::string(pd.impl_info_str())) {
    if (src_plain != pd.src_desc()) reorder_in_ = dnnl::reorder(src_user_, src_);
    if (dst_plain != pd.dst_desc()) reorder_out_ = dnnl::reorder(dst_, dst_user_);
    // The argument map is built once: a run only changes the data handles of these memory objects.
    conv_args_ = {{DNNL_ARG_SRC, reorder_in_ ? src_ : src_user_},
                  {DNNL_ARG_WEIGHTS, weights_},
                  {DNNL_ARG_DST, reorder_out_ ? dst_ : dst_user_}};
    if (bias_) conv_args_[DNNL_ARG_BIAS] = bias_;
  }
  Status Run(dnnl::stream& stream, const KernelArgs& args) override {
    src_user_.set_data_handle(args.inputs[0]);
    dst_user_.set_data_handle(args.outputs[0]);
    if (reorder_in_) src_.set_data_handle(args.scratch);
    if (reorder_out_) dst_.set_data_handle(static_cast<char*>(args.scratch) + SrcScratch());
    if (reorder_in_) reorder_in_.execute(stream, src_user_, src_);
    conv_.execute(stream, conv_args_);  // bound to src_/src_user_ and dst_/dst_user_ at construction
    if (reorder_out_) reorder_out_.execute(stream, dst_, dst_user_);
    return Status::Ok();
  }
  int64_t resident_bytes() const override {
    return static_cast<int64_t>(weights_.get_desc().get_size() + (bias_ ? bias_.get_desc().get_size() : 0));
  }
  int64_t scratch_bytes() const override {
    return SrcScratch() + (reorder_out_ ? static_cast<int64_t>(dst_.get_desc().get_size()) : 0);
  }
  std::string impl_name() const override { return name_; }

 private:
  int64_t SrcScratch() const {
    return reorder_in_ ? (static_cast<int64_t>(src_.get_desc().get_size()) + 63) / 64 * 64 : 0;
  }
  dnnl::convolution_forward conv_;
  memory src_user_, dst_user_, src_, dst_, weights_, bias_;
  dnnl::reorder reorder_in_, reorder_out_;
  std::unordered_map<int, memory> conv_args_;
  std::string name_;
};

}  // namespace

Result<std::unique_ptr<CpuKernel>> MakeConvKernel(const KernelBuildContext& ctx) {
  const Node& n = ctx.node;
  if (!AllFloat(ctx) || !ctx.in(1).is_constant() || (ctx.has_in(2) && !ctx.in(2).is_constant()))
    return std::unique_ptr<CpuKernel>();
  const Shape& x = ctx.in(0).shape;
  const Shape& w = ctx.in(1).shape;
  const Shape& y = ctx.out(0).shape;
  const size_t rank = x.size();
  if (rank < 3 || rank > 5) return std::unique_ptr<CpuKernel>();
  const size_t nd = rank - 2;
  DX_ASSIGN_OR_RETURN(nn::Window win,
                      nn::ResolveWindow(n.attrs, std::vector<int64_t>(x.begin() + 2, x.end()),
                                        std::vector<int64_t>(w.begin() + 2, w.end()), false));
  const int64_t group = n.attrs.Int("group", 1);
  memory::dims strides(win.strides.begin(), win.strides.end()), pad_l(win.pad_begin.begin(), win.pad_begin.end());
  memory::dims dilates(nd), pad_r(nd);
  for (size_t d = 0; d < nd; ++d) {
    dilates[d] = win.dilations[d] - 1;  // oneDNN counts the gaps, ONNX the step
    // oneDNN checks (in + pl + pr - window) / stride + 1 == out exactly; keep pr consistent with out.
    const int64_t window = (win.kernel[d] - 1) * win.dilations[d] + 1;
    pad_r[d] = (win.out[d] - 1) * win.strides[d] + window - win.in[d] - win.pad_begin[d];
    if (pad_r[d] < 0) pad_r[d] = win.pad_end[d];
  }
  // Grouped weights are [G, M/G, C/G, k...]: the same bytes as ONNX's [M, C/G, k...].
  memory::dims wdims = ToDims(w);
  memory::format_tag wtag = PlainTag(rank);
  if (group > 1) {
    wdims[0] = w[0] / group;
    wdims.insert(wdims.begin(), group);
    wtag = PlainTag(rank + 1);  // goi(d)hw is the plain order
  }
  const memory::desc src_md = LayoutDesc(x, ctx.in_layout(0)), dst_md = LayoutDesc(y, ctx.out_layout);
  const memory::desc w_any(wdims, memory::data_type::f32, memory::format_tag::any);
  const memory::desc w_plain(wdims, memory::data_type::f32, wtag);
  const bool has_bias = ctx.has_in(2);
  const memory::desc b_md = has_bias ? PlainDesc(ctx.in(2).shape) : memory::desc();

  dnnl::post_ops ops;
  if (!AppendActivation(GetFusedActivation(n.attrs), ops)) return std::unique_ptr<CpuKernel>();
  dnnl::primitive_attr attr;
  attr.set_post_ops(ops);
  // Activations between nodes are plain NCHW or NHWC, but the convolution itself may pick other activations
  // (format_tag::any): its blocked direct/depthwise kernels beat the plain-layout GEMM path even with a reorder in
  // and out (measured on ResNet-18 and MobileNetV2 at batch 1, 1 thread: p50 about 55 vs 73 ms and 30 vs 34 ms).
  const memory::desc src_any(ToDims(x), memory::data_type::f32, memory::format_tag::any);
  const memory::desc dst_any(ToDims(y), memory::data_type::f32, memory::format_tag::any);
  dnnl::convolution_forward::desc desc(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
                                       src_any, w_any, b_md, dst_any, strides, dilates, pad_l, pad_r);
  dnnl::convolution_forward::primitive_desc pd(desc, attr, ctx.engine);
  memory weights = ReorderConstant(ctx, w_plain, ctx.in(1).constant.raw_data(), pd.weights_desc());
  memory bias = has_bias ? ReorderConstant(ctx, b_md, ctx.in(2).constant.raw_data(), pd.bias_desc()) : memory();
  return std::unique_ptr<CpuKernel>(std::make_unique<ConvKernel>(pd, src_md, dst_md, ctx.engine, weights, bias));
}

}  // namespace deepx::cpu
