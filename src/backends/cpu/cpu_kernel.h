// Kernels of the CPU backend: one object per node, built once by CpuBackend::Prepare (primitive creation,
// weight reordering/packing) and run many times with the node's tensor addresses of that run.
//
// Each optimised family has a factory `Make<Family>Kernel` in its own file. A factory returns nullptr (not an
// error) when this node's configuration is outside what the family handles; the backend then uses the op's
// reference kernel for the node, so every model runs. Errors are kept for real failures.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

#include "core/graph.h"
#include "deepx/status.h"
#include "ops/fused_activation.h"

namespace deepx::cpu {

// Addresses of one node's tensors for one run, in the node's input/output order (nullptr for omitted ones).
// Constant inputs point at the graph's constant tensors; optimised kernels mostly ignore those (they use the
// copies they packed at Prepare).
struct KernelArgs {
  std::vector<void*> inputs;
  std::vector<void*> outputs;
  // Scratch memory shared by all kernels of the executable (they run one at a time), at least scratch_bytes().
  void* scratch = nullptr;
};

class CpuKernel {
 public:
  virtual ~CpuKernel() = default;
  virtual Status Run(dnnl::stream& stream, const KernelArgs& args) = 0;
  // Bytes held between runs (packed weights).
  virtual int64_t resident_bytes() const { return 0; }
  // Temporary bytes needed during Run, valid only for that run (blocked copies of activations).
  virtual int64_t scratch_bytes() const { return 0; }
  // "onednn:conv", "reference", ...: which implementation runs the node (for tests and `profile`).
  virtual std::string impl_name() const = 0;
};

// How a 4-D float activation is laid out in memory between nodes. kPlain is NCHW (oneDNN abcd); kNhwc is
// channels-last (acdb), the layout oneDNN 2.6's convolutions pick on this machine (docs/decisions/0001), so convs,
// pools, batch norms and elementwise ops can pass it along without reorders. Both are dense: a value takes the same
// bytes in either layout. Values of other ranks are always plain.
enum class Layout { kPlain, kNhwc };

struct KernelBuildContext {
  const Graph& graph;
  const Node& node;
  dnnl::engine& engine;
  dnnl::stream& stream;  // for reorders done while preparing
  // Layouts of the node's inputs and the layout wanted for output 0, chosen by the backend's layout pass. Only the
  // layout-aware families (conv, pool, batch norm, elementwise) are ever given anything but kPlain; they must
  // honour these exactly (the backend has already planned around them).
  std::vector<Layout> in_layouts = {};
  Layout out_layout = Layout::kPlain;
  Layout in_layout(size_t i) const { return i < in_layouts.size() ? in_layouts[i] : Layout::kPlain; }
  // Values of the node's inputs/outputs.
  const Value& in(size_t i) const { return graph.value(node.inputs[i]); }
  bool has_in(size_t i) const { return i < node.inputs.size() && node.inputs[i] != kNoValue; }
  const Value& out(size_t i) const { return graph.value(node.outputs[i]); }
};

using KernelFactory = Result<std::unique_ptr<CpuKernel>> (*)(const KernelBuildContext& ctx);

// Factories, one per family (each file documents which configurations it takes).
Result<std::unique_ptr<CpuKernel>> MakeConvKernel(const KernelBuildContext& ctx);
Result<std::unique_ptr<CpuKernel>> MakeGemmKernel(const KernelBuildContext& ctx);
Result<std::unique_ptr<CpuKernel>> MakeMatMulKernel(const KernelBuildContext& ctx);
Result<std::unique_ptr<CpuKernel>> MakePoolKernel(const KernelBuildContext& ctx);
Result<std::unique_ptr<CpuKernel>> MakeNormKernel(const KernelBuildContext& ctx);  // BatchNorm, LRN, Softmax
Result<std::unique_ptr<CpuKernel>> MakeEltwiseKernel(const KernelBuildContext& ctx);  // unary and binary
Result<std::unique_ptr<CpuKernel>> MakeConcatKernel(const KernelBuildContext& ctx);   // in eltwise_kernel.cpp

// Helpers shared by the families.
dnnl::memory::dims ToDims(const Shape& s);
// Plain row-major (NCHW for 4-D) memory description of a float tensor of this shape.
dnnl::memory::desc PlainDesc(const Shape& s);
// Memory description of a float tensor of this shape in `layout` (kNhwc only for rank 4).
dnnl::memory::desc LayoutDesc(const Shape& s, Layout layout);
// The plain format tag for a rank ("a", "ab", "abc", ...); format_tag::undef above 6.
dnnl::memory::format_tag PlainTag(size_t rank);
// Whether every listed input is float32 and every output float32.
bool AllFloat(const KernelBuildContext& ctx);
// Appends the fused activation of `attrs` as eltwise post-ops; false when it has no oneDNN equivalent.
bool AppendActivation(const FusedActivation& act, dnnl::post_ops& ops);
// Reorders `data` (laid out as `from`) into a new memory of layout `to`, once, at Prepare.
dnnl::memory ReorderConstant(const KernelBuildContext& ctx, const dnnl::memory::desc& from, const void* data,
                             const dnnl::memory::desc& to);

// A kernel running one primitive whose arguments are given by (dnnl arg, node input/output index) bindings plus
// constant memories bound once. Covers most families.
class PrimitiveKernel : public CpuKernel {
 public:
  struct Binding {
    int arg;          // DNNL_ARG_*
    bool is_output;
    size_t index;     // node input/output index
    dnnl::memory mem;  // created at Prepare; its handle is set per run
  };
  PrimitiveKernel(std::string name, dnnl::primitive primitive) : name_(std::move(name)), primitive_(primitive) {}
  void Bind(int arg, bool is_output, size_t index, const dnnl::memory::desc& md, const dnnl::engine& engine);
  // A constant (packed weights, bias) bound once; counted in resident_bytes().
  void BindConstant(int arg, dnnl::memory mem);
  Status Run(dnnl::stream& stream, const KernelArgs& args) override;
  int64_t resident_bytes() const override { return resident_; }
  std::string impl_name() const override { return name_; }

 private:
  std::string name_;
  dnnl::primitive primitive_;
  std::vector<Binding> bindings_;
  std::unordered_map<int, dnnl::memory> exec_args_;
  int64_t resident_ = 0;
};

}  // namespace deepx::cpu
