// BatchNormalization (inference, constant statistics), LRN (across channels) and Softmax/LogSoftmax on oneDNN.
//
// Softmax before opset 13 normalises over all dims from `axis` on: the tensor is viewed as 2-D [outer, rest] and
// normalised along dim 1. From opset 13 it runs along the single dim `axis`.
// LRN: oneDNN's window is centred the same way as ONNX's (floor((size-1)/2) before, the rest after) and divides
// alpha by size as ONNX does for odd sizes; an even size (where ONNX puts the extra channel after) stays on the
// reference kernel.
#include <cmath>

#include "backends/cpu/cpu_kernel.h"
#include "ops/nn/nn_common.h"

namespace deepx::cpu {

using dnnl::memory;

namespace {

Result<std::unique_ptr<CpuKernel>> MakeBatchNorm(const KernelBuildContext& ctx) {
  for (size_t i = 1; i < 5; ++i)
    if (!ctx.has_in(i) || !ctx.in(i).is_constant()) return std::unique_ptr<CpuKernel>();
  const Shape& x = ctx.in(0).shape;
  if (x.size() < 2 || x.size() > 5) return std::unique_ptr<CpuKernel>();
  const float epsilon = ctx.node.attrs.Float("epsilon", 1e-5f);
  const memory::desc md = LayoutDesc(x, ctx.in_layout(0));  // one desc: output layout == input layout
  const auto flags = dnnl::normalization_flags::use_global_stats | dnnl::normalization_flags::use_scale |
                     dnnl::normalization_flags::use_shift;
  dnnl::batch_normalization_forward::desc desc(dnnl::prop_kind::forward_inference, md, epsilon, flags);
  dnnl::batch_normalization_forward::primitive_desc pd(desc, ctx.engine);
  auto k = std::make_unique<PrimitiveKernel>("onednn:bnorm:" + std::string(pd.impl_info_str()),
                                             dnnl::batch_normalization_forward(pd));
  k->Bind(DNNL_ARG_SRC, false, 0, md, ctx.engine);
  k->Bind(DNNL_ARG_DST, true, 0, md, ctx.engine);
  const memory::desc c_md = PlainDesc({x[1]});
  const int args[] = {DNNL_ARG_SCALE, DNNL_ARG_SHIFT, DNNL_ARG_MEAN, DNNL_ARG_VARIANCE};
  for (size_t i = 0; i < 4; ++i)
    k->BindConstant(args[i], ReorderConstant(ctx, c_md, ctx.in(i + 1).constant.raw_data(), c_md));
  return std::unique_ptr<CpuKernel>(std::move(k));
}

Result<std::unique_ptr<CpuKernel>> MakeLrn(const KernelBuildContext& ctx) {
  const Shape& x = ctx.in(0).shape;
  const Attributes& a = ctx.node.attrs;
  if (x.size() < 3 || x.size() > 5 || a.Int("size", 1) % 2 == 0) return std::unique_ptr<CpuKernel>();
  const memory::desc md = PlainDesc(x);
  dnnl::lrn_forward::desc desc(dnnl::prop_kind::forward_inference, dnnl::algorithm::lrn_across_channels, md,
                               a.Int("size", 1), a.Float("alpha", 1e-4f), a.Float("beta", 0.75f),
                               a.Float("bias", 1.0f));
  dnnl::lrn_forward::primitive_desc pd(desc, ctx.engine);
  auto k = std::make_unique<PrimitiveKernel>("onednn:lrn:" + std::string(pd.impl_info_str()), dnnl::lrn_forward(pd));
  k->Bind(DNNL_ARG_SRC, false, 0, md, ctx.engine);
  k->Bind(DNNL_ARG_DST, true, 0, md, ctx.engine);
  return std::unique_ptr<CpuKernel>(std::move(k));
}

Result<std::unique_ptr<CpuKernel>> MakeSoftmax(const KernelBuildContext& ctx, bool log) {
  const Shape& x = ctx.in(0).shape;
  const int64_t rank = static_cast<int64_t>(x.size());
  if (rank < 1 || rank > 6) return std::unique_ptr<CpuKernel>();
  const bool coerce_2d = ctx.node.opset < 13;
  DX_ASSIGN_OR_RETURN(int64_t axis, nn::NormalizeAxis(ctx.node.attrs.Int("axis", coerce_2d ? 1 : -1), rank, "axis"));
  Shape view = x;
  if (coerce_2d) {
    view = {nn::Product(x, 0, static_cast<size_t>(axis)), nn::Product(x, static_cast<size_t>(axis), x.size())};
    axis = 1;
  }
  const memory::desc md = PlainDesc(view);
  std::unique_ptr<PrimitiveKernel> k;
  if (log) {
    dnnl::logsoftmax_forward::desc desc(dnnl::prop_kind::forward_inference, md, static_cast<int>(axis));
    dnnl::logsoftmax_forward::primitive_desc pd(desc, ctx.engine);
    k = std::make_unique<PrimitiveKernel>("onednn:logsoftmax:" + std::string(pd.impl_info_str()),
                                          dnnl::logsoftmax_forward(pd));
  } else {
    dnnl::softmax_forward::desc desc(dnnl::prop_kind::forward_inference, md, static_cast<int>(axis));
    dnnl::softmax_forward::primitive_desc pd(desc, ctx.engine);
    k = std::make_unique<PrimitiveKernel>("onednn:softmax:" + std::string(pd.impl_info_str()),
                                          dnnl::softmax_forward(pd));
  }
  k->Bind(DNNL_ARG_SRC, false, 0, md, ctx.engine);
  k->Bind(DNNL_ARG_DST, true, 0, md, ctx.engine);
  return std::unique_ptr<CpuKernel>(std::move(k));
}

}  // namespace

Result<std::unique_ptr<CpuKernel>> MakeNormKernel(const KernelBuildContext& ctx) {
  const std::string& op = ctx.node.op_type;
  if (!ctx.has_in(0) || ctx.in(0).dtype != DataType::kFloat32 || ctx.out(0).dtype != DataType::kFloat32)
    return std::unique_ptr<CpuKernel>();
  if (op == "BatchNormalization") {
    for (size_t i = 1; i < ctx.node.outputs.size(); ++i)
      if (ctx.node.outputs[i] != kNoValue) return std::unique_ptr<CpuKernel>();
    return MakeBatchNorm(ctx);
  }
  if (op == "LRN") return MakeLrn(ctx);
  if (op == "Softmax" || op == "LogSoftmax") return MakeSoftmax(ctx, op == "LogSoftmax");
  return std::unique_ptr<CpuKernel>();
}

}  // namespace deepx::cpu
