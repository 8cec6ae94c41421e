#include "backends/cpu/cpu_kernel.h"

#include <limits>

namespace deepx::cpu {

using dnnl::memory;

memory::dims ToDims(const Shape& s) { return memory::dims(s.begin(), s.end()); }

memory::format_tag PlainTag(size_t rank) {
  using tag = memory::format_tag;
  switch (rank) {
    case 1: return tag::a;
    case 2: return tag::ab;
    case 3: return tag::abc;
    case 4: return tag::abcd;
    case 5: return tag::abcde;
    case 6: return tag::abcdef;
    default: return tag::undef;
  }
}

memory::desc PlainDesc(const Shape& s) {
  // oneDNN has no rank-0 tensors; a scalar is a 1-element vector.
  if (s.empty()) return memory::desc({1}, memory::data_type::f32, memory::format_tag::a);
  return memory::desc(ToDims(s), memory::data_type::f32, PlainTag(s.size()));
}

memory::desc LayoutDesc(const Shape& s, Layout layout) {
  if (layout == Layout::kNhwc && s.size() == 4)
    return memory::desc(ToDims(s), memory::data_type::f32, memory::format_tag::acdb);
  return PlainDesc(s);
}

bool AllFloat(const KernelBuildContext& ctx) {
  for (size_t i = 0; i < ctx.node.inputs.size(); ++i)
    if (ctx.has_in(i) && ctx.in(i).dtype != DataType::kFloat32) return false;
  for (ValueId v : ctx.node.outputs)
    if (v == kNoValue || ctx.graph.value(v).dtype != DataType::kFloat32) return false;
  return true;
}

bool AppendActivation(const FusedActivation& act, dnnl::post_ops& ops) {
  using dnnl::algorithm;
  auto param = [&](size_t i, float fallback) { return i < act.params.size() ? act.params[i] : fallback; };
  const std::string& k = act.kind;
  if (act.none()) return true;
  if (k == "Relu") {
    ops.append_eltwise(1.0f, algorithm::eltwise_relu, 0.0f, 0.0f);
  } else if (k == "LeakyRelu") {
    ops.append_eltwise(1.0f, algorithm::eltwise_relu, param(0, 0.01f), 0.0f);  // relu with a negative slope
  } else if (k == "Clip") {
    const float big = std::numeric_limits<float>::max();
    ops.append_eltwise(1.0f, algorithm::eltwise_clip_v2, param(0, -big), param(1, big));
  } else if (k == "Sigmoid") {
    ops.append_eltwise(1.0f, algorithm::eltwise_logistic, 0.0f, 0.0f);
  } else if (k == "HardSigmoid") {
    // oneDNN 2.6 has no hardsigmoid: clamp(alpha * x + beta, 0, 1) as linear then clip.
    ops.append_eltwise(1.0f, algorithm::eltwise_linear, param(0, 0.2f), param(1, 0.5f));
    ops.append_eltwise(1.0f, algorithm::eltwise_clip_v2, 0.0f, 1.0f);
  } else if (k == "HardSwish") {
    ops.append_eltwise(1.0f, algorithm::eltwise_hardswish, 0.0f, 0.0f);  // x * relu6(x + 3) / 6
  } else if (k == "Tanh") {
    ops.append_eltwise(1.0f, algorithm::eltwise_tanh, 0.0f, 0.0f);
  } else {
    return false;
  }
  return true;
}

memory ReorderConstant(const KernelBuildContext& ctx, const memory::desc& from, const void* data,
                       const memory::desc& to) {
  memory src(from, ctx.engine, const_cast<void*>(data));
  memory dst(to, ctx.engine);
  dnnl::reorder(src, dst).execute(ctx.stream, src, dst);
  ctx.stream.wait();
  return dst;
}

void PrimitiveKernel::Bind(int arg, bool is_output, size_t index, const memory::desc& md,
                           const dnnl::engine& engine) {
  // DNNL_MEMORY_NONE: the handle is set on each run, nothing is allocated here.
  memory mem(md, engine, DNNL_MEMORY_NONE);
  bindings_.push_back({arg, is_output, index, mem});
  exec_args_[arg] = mem;
}

void PrimitiveKernel::BindConstant(int arg, memory mem) {
  resident_ += static_cast<int64_t>(mem.get_desc().get_size());
  exec_args_[arg] = mem;
}

Status PrimitiveKernel::Run(dnnl::stream& stream, const KernelArgs& args) {
  for (Binding& b : bindings_) b.mem.set_data_handle(b.is_output ? args.outputs[b.index] : args.inputs[b.index]);
  primitive_.execute(stream, exec_args_);
  return Status::Ok();
}

}  // namespace deepx::cpu
