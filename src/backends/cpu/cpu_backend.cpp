#include "backends/cpu/cpu_backend.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>

#include <oneapi/dnnl/dnnl.hpp>

#include "backends/cpu/cpu_kernel.h"
#include "backends/cpu/memory_planner.h"
#include "backends/cpu/openmp_control.h"
#include "ops/op.h"

namespace deepx {
namespace {

using cpu::CpuKernel;
using cpu::KernelArgs;



// Host memory owned elsewhere (the arena, a caller's tensor), viewed as a Buffer for reference kernels.
class ViewBuffer final : public Buffer {
 public:
  ViewBuffer(void* data, size_t bytes) : data_(data), bytes_(bytes) {}
  void* host_data() override { return data_; }
  size_t size_bytes() const override { return bytes_; }
  const std::string& location() const override {
    static const std::string kHost = "host";
    return kHost;
  }

 private:
  void* data_;
  size_t bytes_;
};

// Uninitialised 64-byte aligned host memory for block outputs: every byte is written by the run, so the zero fill
// of AllocateHostBuffer would be wasted work on each run.
class OutputBuffer final : public Buffer {
 public:
  explicit OutputBuffer(size_t bytes)
      : bytes_(bytes), data_(static_cast<char*>(std::aligned_alloc(64, (std::max<size_t>(bytes, 1) + 63) / 64 * 64))) {}
  ~OutputBuffer() override { std::free(data_); }
  OutputBuffer(const OutputBuffer&) = delete;
  OutputBuffer& operator=(const OutputBuffer&) = delete;
  void* host_data() override { return data_; }
  size_t size_bytes() const override { return bytes_; }
  const std::string& location() const override {
    static const std::string kHost = "host";
    return kHost;
  }

 private:
  size_t bytes_;
  char* data_;
};

Tensor View(const Value& v, void* data) {
  const size_t bytes = static_cast<size_t>(NumElements(v.shape)) * DataTypeSize(v.dtype);
  return Tensor(v.dtype, v.shape, std::make_shared<ViewBuffer>(data, bytes));
}

// The op's reference kernel, for nodes no optimised family takes. It runs on views of the arena, so falling back
// costs no extra copies.
class ReferenceKernel final : public CpuKernel {
 public:
  ReferenceKernel(const Graph& g, const Node& n, const OpSchema& schema, std::string why)
      : graph_(g), node_(n), schema_(schema), why_(std::move(why)) {}
  Status Run(dnnl::stream&, const KernelArgs& args) override {
    std::vector<Tensor> ins(node_.inputs.size()), outs(node_.outputs.size());
    KernelContext ctx{node_, {}, {}};
    for (size_t i = 0; i < node_.inputs.size(); ++i) {
      const ValueId v = node_.inputs[i];
      if (v == kNoValue) {
        ctx.inputs.push_back(nullptr);
      } else if (graph_.value(v).is_constant()) {
        ctx.inputs.push_back(&graph_.value(v).constant);
      } else {
        ins[i] = View(graph_.value(v), args.inputs[i]);
        ctx.inputs.push_back(&ins[i]);
      }
    }
    for (size_t o = 0; o < node_.outputs.size(); ++o) {
      if (node_.outputs[o] != kNoValue) outs[o] = View(graph_.value(node_.outputs[o]), args.outputs[o]);
      ctx.outputs.push_back(&outs[o]);
    }
    return schema_.reference(ctx);
  }
  std::string impl_name() const override { return why_.empty() ? "reference" : "reference (" + why_ + ")"; }

 private:
  const Graph& graph_;
  const Node& node_;
  const OpSchema& schema_;
  std::string why_;
};

cpu::KernelFactory FactoryFor(const Node& n) {
  const std::string& op = n.op_type;
  if (!n.domain.empty()) return nullptr;
  if (op == "Conv") return cpu::MakeConvKernel;
  if (op == "Gemm") return cpu::MakeGemmKernel;
  if (op == "MatMul") return cpu::MakeMatMulKernel;
  if (op == "Concat") return cpu::MakeConcatKernel;
  if (op == "MaxPool" || op == "AveragePool" || op == "GlobalAveragePool" || op == "GlobalMaxPool")
    return cpu::MakePoolKernel;
  if (op == "BatchNormalization" || op == "LRN" || op == "Softmax" || op == "LogSoftmax") return cpu::MakeNormKernel;
  // Opset < 7 binary ops broadcast by an `axis` attribute, not numpy rules: leave them to the reference kernel.
  if ((op == "Add" || op == "Sub" || op == "Mul" || op == "Div") && (n.attrs.has("axis") || n.attrs.has("broadcast")))
    return nullptr;
  static const char* kEltwise[] = {"Add",  "Sub", "Mul", "Div",  "Relu", "LeakyRelu", "Sigmoid",
                                   "Tanh", "Exp", "Abs", "Sqrt", "Elu",  "HardSwish", "Clip"};
  for (const char* e : kEltwise)
    if (op == e) return cpu::MakeEltwiseKernel;
  return nullptr;
}

// Wraps a kernel that needs plain inputs where the layout pass left some of them NHWC: reorders those inputs into
// plain copies in the scratch buffer, then runs the wrapped kernel on the copies. This is the "reorder at a layout
// boundary" of the pass; it sits in the consuming node's kernel so the node's timing includes its reorders.
class PlainInputsKernel final : public CpuKernel {
 public:
  PlainInputsKernel(std::unique_ptr<CpuKernel> inner, const Graph& g, const Node& n, const std::vector<size_t>& which,
                    const dnnl::engine& engine)
      : inner_(std::move(inner)) {
    int64_t offset = 0;
    for (size_t i : which) {
      const Shape& shape = g.value(n.inputs[i]).shape;
      Conversion c;
      c.index = i;
      c.offset = offset;
      c.src = dnnl::memory(cpu::LayoutDesc(shape, cpu::Layout::kNhwc), engine, DNNL_MEMORY_NONE);
      c.dst = dnnl::memory(cpu::PlainDesc(shape), engine, DNNL_MEMORY_NONE);
      c.reorder = dnnl::reorder(c.src, c.dst);
      offset += (static_cast<int64_t>(c.dst.get_desc().get_size()) + 63) / 64 * 64;
      conversions_.push_back(std::move(c));
    }
    own_scratch_ = offset;
    inner_args_.inputs.resize(n.inputs.size());
    inner_args_.outputs.resize(n.outputs.size());
  }
  Status Run(dnnl::stream& stream, const KernelArgs& args) override {
    char* scratch = static_cast<char*>(args.scratch);
    inner_args_.inputs = args.inputs;  // same size every run: copies, no allocation
    inner_args_.outputs = args.outputs;
    inner_args_.scratch = scratch + own_scratch_;
    for (Conversion& c : conversions_) {
      c.src.set_data_handle(args.inputs[c.index]);
      c.dst.set_data_handle(scratch + c.offset);
      c.reorder.execute(stream, c.src, c.dst);
      inner_args_.inputs[c.index] = scratch + c.offset;
    }
    // Reference kernels read the copies on this thread: the reorders must have finished.
    stream.wait();
    return inner_->Run(stream, inner_args_);
  }
  int64_t resident_bytes() const override { return inner_->resident_bytes(); }
  int64_t scratch_bytes() const override { return own_scratch_ + inner_->scratch_bytes(); }
  std::string impl_name() const override { return inner_->impl_name() + " +reorder NHWC->NCHW"; }

 private:
  struct Conversion {
    size_t index;
    int64_t offset;
    dnnl::memory src, dst;
    dnnl::reorder reorder;
  };
  std::unique_ptr<CpuKernel> inner_;
  std::vector<Conversion> conversions_;
  int64_t own_scratch_ = 0;
  KernelArgs inner_args_;
};

// What a node can do with NHWC activations (layout pass, step 1).
enum class LayoutRole {
  kNone,         // needs plain inputs (reference kernels, Flatten/Reshape, Gemm, Softmax, ...)
  kFree,         // Conv: takes either layout in and produces either layout out
  kPassThrough,  // pools, BatchNorm, unary activations: output in the layout of input 0
  kBinary,       // Add/Sub/Mul/Div of same-shape run-time tensors: NHWC out when every input is NHWC
  kConcat,       // Concat on channels of run-time tensors: NHWC out when every input is NHWC
};

bool IsFloat4d(const Value& v) { return v.dtype == DataType::kFloat32 && v.shape.size() == 4; }

LayoutRole RoleOf(const Graph& g, const Node& n) {
  if (!n.domain.empty() || n.inputs.empty() || n.inputs[0] == kNoValue || n.outputs.empty() ||
      n.outputs[0] == kNoValue)
    return LayoutRole::kNone;
  for (size_t o = 1; o < n.outputs.size(); ++o)
    if (n.outputs[o] != kNoValue) return LayoutRole::kNone;  // Indices, training outputs: reference kernel
  const Value& x = g.value(n.inputs[0]);
  const Value& y = g.value(n.outputs[0]);
  if (!IsFloat4d(x) || !IsFloat4d(y)) return LayoutRole::kNone;
  const std::string& op = n.op_type;
  if (op == "Conv") return LayoutRole::kFree;
  if (op == "Concat") {
    const int64_t axis = n.attrs.Int("axis", 0);
    if (axis != 1 && axis != -3) return LayoutRole::kNone;
    for (ValueId v : n.inputs)
      if (v == kNoValue || g.value(v).is_constant() || !IsFloat4d(g.value(v))) return LayoutRole::kNone;
    return LayoutRole::kConcat;
  }
  static const char* kPass[] = {"MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool",
                                "BatchNormalization", "Relu", "LeakyRelu", "Sigmoid", "Tanh", "Exp", "Abs",
                                "Sqrt", "Elu", "HardSwish", "Clip"};
  for (const char* p : kPass)
    if (op == p) return LayoutRole::kPassThrough;
  if ((op == "Add" || op == "Sub" || op == "Mul" || op == "Div") && !n.attrs.has("axis") &&
      !n.attrs.has("broadcast") && n.inputs.size() == 2 && n.inputs[1] != kNoValue) {
    const Value& b = g.value(n.inputs[1]);
    if (!x.is_constant() && !b.is_constant() && b.dtype == x.dtype && b.shape == x.shape && y.shape == x.shape)
      return LayoutRole::kBinary;
  }
  return LayoutRole::kNone;
}

// Where a value's bytes are during a run.
struct Slot {
  enum Kind { kNone, kConstant, kBlockInput, kArena, kBlockOutput } kind = kNone;
  int64_t index = 0;  // block input/output index, or arena offset
};

class CpuExecutableImpl final : public CpuExecutable {
 public:
  CpuExecutableImpl(std::shared_ptr<const Graph> graph, Block block, int threads, std::vector<int> cores)
      : graph_(std::move(graph)), block_(std::move(block)), threads_(threads), cores_(std::move(cores)),
        engine_(dnnl::engine::kind::cpu, 0), stream_(engine_) {}

  // Prepare's work, in numbered steps:
  //  1. Layout roles: what each node can do with NHWC activations (RoleOf).
  //  2. Which values may be NHWC: 4-D float intermediates (not block inputs/outputs) with at least one reader that
  //     takes NHWC usefully. Block inputs and outputs are always plain NCHW, the layout callers see.
  //  3. Arena slots from value lifetimes. NHWC is dense, so a slot's size is the same in either layout.
  //  4. Kernels in block order, each told the actual layouts of its inputs (decided by the producers, step 4 of an
  //     earlier node) and the layout wanted for its output. A node that cannot take an NHWC input, or whose
  //     optimised kernel fell back to the reference one, gets that input reordered to plain first
  //     (PlainInputsKernel): the boundary reorders are inserted exactly where a value meets a plain-only reader.
  //  5. The shared scratch buffer, sized for the largest kernel's needs.
  Status Build() {
    const Graph& g = *graph_;
    // Step 1.
    std::vector<LayoutRole> roles;
    for (NodeId id : block_.nodes) roles.push_back(RoleOf(g, g.node(id)));
    // Step 2. Walked backwards, so that every reader of a node's output has been seen before the node: a reader
    // that passes its input's layout on (pools, batch norm, activations, Add, Concat) wants NHWC only when its own
    // output may be NHWC; otherwise the producer writes NCHW itself instead of a reorder being added later.
    std::vector<char> may_be_nhwc(g.values.size(), 0), pinned_plain(g.values.size(), 0);
    for (ValueId v : block_.inputs) pinned_plain[static_cast<size_t>(v)] = 1;
    for (ValueId v : block_.outputs) pinned_plain[static_cast<size_t>(v)] = 1;
    for (size_t step = block_.nodes.size(); step-- > 0;) {
      const Node& n = g.node(block_.nodes[step]);
      if (roles[step] == LayoutRole::kNone) continue;
      const bool out_ok = may_be_nhwc[static_cast<size_t>(n.outputs[0])] != 0;  // role != kNone: output 0 exists
      if (roles[step] != LayoutRole::kFree && !out_ok) continue;
      for (ValueId v : n.inputs)
        if (v != kNoValue && !pinned_plain[static_cast<size_t>(v)] && !g.value(v).is_constant() &&
            IsFloat4d(g.value(v)))
          may_be_nhwc[static_cast<size_t>(v)] = 1;
    }
    // Step 3.
    DX_RETURN_IF_ERROR(PlanMemory());
    // Step 4.
    layouts_.assign(g.values.size(), cpu::Layout::kPlain);
    for (size_t step = 0; step < block_.nodes.size(); ++step) {
      const Node& n = g.node(block_.nodes[step]);
      const OpSchema* schema = OpRegistry::Default().Find(n.op_type);
      if (!schema || !schema->reference) return Unimplemented(g.NodeLabel(n) + ": no kernel for this op");
      std::vector<cpu::Layout> in_layouts(n.inputs.size(), cpu::Layout::kPlain);
      for (size_t i = 0; i < n.inputs.size(); ++i)
        if (n.inputs[i] != kNoValue) in_layouts[i] = layouts_[static_cast<size_t>(n.inputs[i])];
      auto nhwc = [](cpu::Layout l) { return l == cpu::Layout::kNhwc; };
      const bool all_nhwc = std::all_of(in_layouts.begin(), in_layouts.end(), nhwc);
      const bool out_may = n.outputs.empty() || n.outputs[0] == kNoValue
                               ? false
                               : may_be_nhwc[static_cast<size_t>(n.outputs[0])] != 0;
      cpu::Layout out = cpu::Layout::kPlain;
      bool convert_all = false;  // reorder every NHWC input to plain before the kernel
      switch (roles[step]) {
        case LayoutRole::kFree: out = out_may ? cpu::Layout::kNhwc : cpu::Layout::kPlain; break;
        case LayoutRole::kPassThrough:
          if (nhwc(in_layouts[0]) && out_may) out = cpu::Layout::kNhwc;
          else convert_all = true;
          break;
        case LayoutRole::kBinary:
        case LayoutRole::kConcat:
          if (all_nhwc && out_may) out = cpu::Layout::kNhwc;
          else convert_all = true;
          break;
        case LayoutRole::kNone: convert_all = true; break;
      }
      std::vector<size_t> to_plain;
      if (convert_all)
        for (size_t i = 0; i < in_layouts.size(); ++i)
          if (nhwc(in_layouts[i])) {
            to_plain.push_back(i);
            in_layouts[i] = cpu::Layout::kPlain;
          }
      std::unique_ptr<CpuKernel> kernel;
      std::string why;
      if (cpu::KernelFactory factory = FactoryFor(n)) {
        cpu::KernelBuildContext ctx{g, n, engine_, stream_, in_layouts, out};
        try {
          auto made = factory(ctx);
          if (!made.ok()) return made.status().WithContext(g.NodeLabel(n));
          kernel = std::move(*made);
          if (!kernel) why = "configuration not taken by oneDNN path";
        } catch (const dnnl::error& e) {
          // oneDNN has no implementation for this configuration (e.g. padding larger than the window).
          why = std::string("oneDNN: ") + e.what();
        }
      }
      if (!kernel) {
        // The reference kernel reads and writes plain tensors only.
        kernel = std::make_unique<ReferenceKernel>(g, n, *schema, why);
        out = cpu::Layout::kPlain;
        for (size_t i = 0; i < in_layouts.size(); ++i)
          if (nhwc(in_layouts[i])) {
            to_plain.push_back(i);
            in_layouts[i] = cpu::Layout::kPlain;
          }
      }
      if (!to_plain.empty())
        kernel = std::make_unique<PlainInputsKernel>(std::move(kernel), g, n, to_plain, engine_);
      if (!n.outputs.empty() && n.outputs[0] != kNoValue) layouts_[static_cast<size_t>(n.outputs[0])] = out;
      scratch_bytes_ = std::max(scratch_bytes_, kernel->scratch_bytes());
      kernels_.push_back(std::move(kernel));
      // Argument slots, resolved to addresses on each run.
      std::vector<Slot> in_slots, out_slots;
      for (ValueId v : n.inputs) in_slots.push_back(v == kNoValue ? Slot{} : slots_[static_cast<size_t>(v)]);
      for (ValueId v : n.outputs) out_slots.push_back(v == kNoValue ? Slot{} : slots_[static_cast<size_t>(v)]);
      in_slots_.push_back(std::move(in_slots));
      out_slots_.push_back(std::move(out_slots));
      args_.push_back(KernelArgs{std::vector<void*>(n.inputs.size()), std::vector<void*>(n.outputs.size())});
    }
    // Which block outputs a oneDNN primitive writes in full (the others are zeroed before each run).
    zero_outputs_.assign(block_.outputs.size(), 1);
    for (size_t step = 0; step < block_.nodes.size(); ++step) {
      const Node& n = g.node(block_.nodes[step]);
      if (kernels_[step]->impl_name().rfind("onednn:", 0) != 0 || n.outputs.empty()) continue;
      for (size_t i = 0; i < block_.outputs.size(); ++i)
        if (block_.outputs[i] == n.outputs[0]) zero_outputs_[i] = 0;
    }
    // Step 5.
    scratch_ = AllocateHostBuffer(static_cast<size_t>(scratch_bytes_));
    for (KernelArgs& a : args_) a.scratch = scratch_->host_data();
    return Status::Ok();
  }

  Status Run(const std::vector<Tensor>& inputs, std::vector<Tensor>& outputs, const RunOptions& options) override {
    std::lock_guard<std::mutex> lock(mu_);  // one arena: runs of one executable are serialised
    const Graph& g = *graph_;
    if (inputs.size() != block_.inputs.size())
      return InvalidArgument("expected " + std::to_string(block_.inputs.size()) + " inputs, got " +
                             std::to_string(inputs.size()));
    for (size_t i = 0; i < inputs.size(); ++i) {
      const Value& v = g.value(block_.inputs[i]);
      if (!inputs[i].is_host() || inputs[i].dtype() != v.dtype || inputs[i].shape() != v.shape)
        return InvalidArgument("block input '" + v.name + "' must be a host " + DataTypeName(v.dtype) + " tensor of " +
                               ShapeToString(v.shape));
    }
    // Fresh outputs each run, since the caller may hold the previous run's outputs; but when the caller passes
    // back a tensor of the right kind that nobody else holds, its buffer is reused (no allocation).
    outputs.resize(block_.outputs.size());
    for (size_t i = 0; i < block_.outputs.size(); ++i) {
      const Value& v = g.value(block_.outputs[i]);
      Tensor& t = outputs[i];
      const bool reusable = !t.empty() && t.buffer().use_count() == 1 &&
                            dynamic_cast<OutputBuffer*>(t.buffer().get()) != nullptr && t.dtype() == v.dtype &&
                            t.shape() == v.shape;
      const size_t bytes = static_cast<size_t>(NumElements(v.shape)) * DataTypeSize(v.dtype);
      if (!reusable) t = Tensor(v.dtype, v.shape, std::make_shared<OutputBuffer>(bytes));
      // Reference kernels may count on zeroed outputs (they were given Tensor::Zeros before); oneDNN writes all.
      if (zero_outputs_[i]) std::memset(t.raw_data(), 0, bytes);
    }
    auto address = [&](const Slot& s, ValueId v) -> void* {
      switch (s.kind) {
        case Slot::kConstant: return const_cast<void*>(g.value(v).constant.raw_data());
        case Slot::kBlockInput: return const_cast<void*>(inputs[static_cast<size_t>(s.index)].raw_data());
        case Slot::kArena: return static_cast<char*>(arena_->host_data()) + s.index;
        case Slot::kBlockOutput: return outputs[static_cast<size_t>(s.index)].raw_data();
        default: return nullptr;
      }
    };

    cpu::SetOpenMpThreads(threads_);
    cpu_set_t caller_mask;
    const bool restore = !cores_.empty() && cpu::GetThreadAffinity(&caller_mask);
    if (!cores_.empty()) cpu::PinOpenMpTeam(cores_);
    Status status = Status::Ok();
    try {
      for (size_t i = 0; i < kernels_.size() && status.ok(); ++i) {
        const Node& n = g.node(block_.nodes[i]);
        KernelArgs& args = args_[i];
        for (size_t k = 0; k < n.inputs.size(); ++k) args.inputs[k] = address(in_slots_[i][k], n.inputs[k]);
        for (size_t k = 0; k < n.outputs.size(); ++k) args.outputs[k] = address(out_slots_[i][k], n.outputs[k]);
        const int64_t start = options.timings ? SteadyNowNs() : 0;
        status = kernels_[i]->Run(stream_, args);
        if (!status.ok()) status = status.WithContext(g.NodeLabel(n));
        if (options.timings) options.timings->push_back({block_.nodes[i], start, SteadyNowNs()});
      }
      stream_.wait();
    } catch (const dnnl::error& e) {
      status = Internal(std::string("oneDNN: ") + e.what());
    }
    if (restore) cpu::SetThreadAffinity(caller_mask);
    return status;
  }

  int64_t resident_bytes() const override {
    int64_t total = arena_bytes_ + scratch_bytes_;
    for (const auto& k : kernels_) total += k->resident_bytes();
    return total;
  }
  int64_t activation_arena_bytes() const override { return arena_bytes_; }
  int64_t activation_bytes() const override { return arena_bytes_ + scratch_bytes_; }
  int64_t unshared_activation_bytes() const override { return unshared_bytes_; }
  int64_t scratch_bytes() const override { return scratch_bytes_; }
  std::vector<std::string> node_impls() const override {
    std::vector<std::string> names;
    for (const auto& k : kernels_) names.push_back(k->impl_name());
    return names;
  }

 private:
  // Assigns every value the block touches a slot; intermediates get arena offsets from the lifetime planner.
  Status PlanMemory() {
    const Graph& g = *graph_;
    slots_.assign(g.values.size(), Slot{});
    for (size_t i = 0; i < g.values.size(); ++i)
      if (g.values[i].is_constant()) slots_[i] = {Slot::kConstant, 0};
    for (size_t i = 0; i < block_.inputs.size(); ++i)
      slots_[static_cast<size_t>(block_.inputs[i])] = {Slot::kBlockInput, static_cast<int64_t>(i)};
    for (size_t i = 0; i < block_.outputs.size(); ++i)
      slots_[static_cast<size_t>(block_.outputs[i])] = {Slot::kBlockOutput, static_cast<int64_t>(i)};
    // Lifetimes in block steps: from the producing node to the last reader.
    std::vector<int> first(g.values.size(), -1), last(g.values.size(), -1);
    for (size_t step = 0; step < block_.nodes.size(); ++step) {
      const Node& n = g.node(block_.nodes[step]);
      for (ValueId v : n.inputs)
        if (v != kNoValue) last[static_cast<size_t>(v)] = static_cast<int>(step);
      for (ValueId v : n.outputs)
        if (v != kNoValue && first[static_cast<size_t>(v)] < 0) first[static_cast<size_t>(v)] = static_cast<int>(step);
    }
    std::vector<cpu::ArenaRequest> requests;
    std::vector<size_t> values;
    for (size_t v = 0; v < g.values.size(); ++v) {
      if (first[v] < 0 || slots_[v].kind != Slot::kNone) continue;
      const Value& value = g.values[v];
      DX_ASSIGN_OR_RETURN(int64_t elements, CheckedNumElements(value.shape));
      const int64_t size = elements * static_cast<int64_t>(DataTypeSize(value.dtype));
      requests.push_back({size, first[v], std::max(first[v], last[v])});  // unread outputs live one step
      values.push_back(v);
      unshared_bytes_ += size;
    }
    const cpu::ArenaPlan plan = cpu::PlanArena(requests);
    for (size_t i = 0; i < values.size(); ++i) slots_[values[i]] = {Slot::kArena, plan.offsets[i]};
    arena_bytes_ = plan.total_bytes;
    arena_ = AllocateHostBuffer(static_cast<size_t>(arena_bytes_));
    return Status::Ok();
  }

  std::shared_ptr<const Graph> graph_;
  Block block_;
  int threads_;
  std::vector<int> cores_;
  dnnl::engine engine_;
  dnnl::stream stream_;
  std::vector<std::unique_ptr<CpuKernel>> kernels_;
  std::vector<Slot> slots_;  // per graph value
  std::vector<cpu::Layout> layouts_;  // per graph value, as produced in a run
  std::vector<char> zero_outputs_;    // per block output
  std::vector<std::vector<Slot>> in_slots_, out_slots_;
  std::vector<KernelArgs> args_;
  std::shared_ptr<Buffer> arena_;
  int64_t arena_bytes_ = 0;
  std::shared_ptr<Buffer> scratch_;  // blocked activation copies, shared by every kernel (they run in turn)
  int64_t scratch_bytes_ = 0;
  int64_t unshared_bytes_ = 0;
  std::mutex mu_;
};

}  // namespace

CpuBackend::CpuBackend(CpuBackendOptions options) {
  int threads = options.num_threads;
  if (threads <= 0) threads = !options.cores.empty() ? static_cast<int>(options.cores.size())
                                                     : static_cast<int>(std::thread::hardware_concurrency());
  if (threads <= 0) threads = 1;
  if (!options.cores.empty())
    for (int i = 0; i < threads; ++i) cores_.push_back(options.cores[static_cast<size_t>(i) % options.cores.size()]);
  info_.name = std::move(options.name);
  info_.kind = "cpu";
  info_.memory_bytes = PhysicalMemoryBytes();
  info_.threads = threads;
}

Status CpuBackend::Supports(const Graph& g, const Node& n) const {
  const OpSchema* s = OpRegistry::Default().Find(n.op_type);
  if (!s || !s->reference) return Unimplemented(g.NodeLabel(n) + ": no kernel for this op");
  return Status::Ok();
}

Result<std::unique_ptr<Executable>> CpuBackend::Prepare(std::shared_ptr<const Graph> graph, const Block& block) {
  // Reorders run while preparing: give them this instance's threads too.
  cpu::SetOpenMpThreads(info_.threads);
  try {
    auto exe = std::make_unique<CpuExecutableImpl>(std::move(graph), block, info_.threads, cores_);
    DX_RETURN_IF_ERROR(exe->Build());
    return std::unique_ptr<Executable>(std::move(exe));
  } catch (const dnnl::error& e) {
    return Internal(std::string("oneDNN while preparing a block: ") + e.what());
  }
}

}  // namespace deepx
