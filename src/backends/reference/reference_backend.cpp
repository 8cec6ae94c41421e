#include "backends/reference/reference_backend.h"

#include <unistd.h>

#include <chrono>
#include <mutex>

#include "ops/op.h"

namespace deepx {
namespace {


class ReferenceExecutable final : public Executable {
 public:
  ReferenceExecutable(std::shared_ptr<const Graph> graph, Block block) : graph_(std::move(graph)), block_(block) {
    const Graph& g = *graph_;
    for (NodeId n : block_.nodes) schemas_.push_back(OpRegistry::Default().Find(g.node(n).op_type));
    // Last node (position in the block) reading each value, so intermediates can be dropped early.
    last_use_.assign(g.values.size(), -1);
    for (size_t i = 0; i < block_.nodes.size(); ++i)
      for (ValueId v : g.node(block_.nodes[i]).inputs)
        if (v != kNoValue) last_use_[static_cast<size_t>(v)] = static_cast<int>(i);
    for (ValueId v : block_.outputs) last_use_[static_cast<size_t>(v)] = static_cast<int>(block_.nodes.size());
    env_.resize(g.values.size());
  }

  Status Run(const std::vector<Tensor>& inputs, std::vector<Tensor>& outputs, const RunOptions& options) override {
    const Graph& g = *graph_;
    // The value table is kept between runs (no per-run allocation of g.values.size() entries) unless another
    // run holds it; every slot filled here is emptied before returning so no tensor outlives the run.
    std::unique_lock<std::mutex> lock(env_mu_, std::try_to_lock);
    std::vector<Tensor> local_env;
    if (!lock.owns_lock()) local_env.resize(g.values.size());
    std::vector<Tensor>& env = lock.owns_lock() ? env_ : local_env;
    struct Clear {
      const ReferenceExecutable& e;
      std::vector<Tensor>& env;
      ~Clear() {
        for (ValueId v : e.block_.inputs) env[static_cast<size_t>(v)] = Tensor();
        for (NodeId n : e.block_.nodes)
          for (ValueId v : e.graph_->node(n).outputs)
            if (v != kNoValue) env[static_cast<size_t>(v)] = Tensor();
      }
    } clear{*this, env};
    std::vector<Tensor> results;
    for (size_t i = 0; i < block_.inputs.size(); ++i) env[static_cast<size_t>(block_.inputs[i])] = inputs[i];
    for (size_t i = 0; i < block_.nodes.size(); ++i) {
      const Node& n = g.node(block_.nodes[i]);
      KernelContext ctx{n, {}, {}};
      ctx.inputs.reserve(n.inputs.size());
      ctx.outputs.reserve(n.outputs.size());
      for (ValueId v : n.inputs) {
        if (v == kNoValue) {
          ctx.inputs.push_back(nullptr);
          continue;
        }
        const Value& value = g.value(v);
        ctx.inputs.push_back(value.is_constant() ? &value.constant : &env[static_cast<size_t>(v)]);
      }
      results.clear();
      results.resize(n.outputs.size());
      for (size_t o = 0; o < n.outputs.size(); ++o) {
        if (n.outputs[o] != kNoValue) {
          const Value& value = g.value(n.outputs[o]);
          results[o] = Tensor::Zeros(value.dtype, value.shape);
        }
        ctx.outputs.push_back(&results[o]);
      }
      const int64_t start = options.timings ? SteadyNowNs() : 0;
      DX_RETURN_IF_ERROR_CTX(schemas_[i]->reference(ctx), g.NodeLabel(n));
      if (options.timings) options.timings->push_back({block_.nodes[i], start, SteadyNowNs()});
      for (size_t o = 0; o < n.outputs.size(); ++o)
        if (n.outputs[o] != kNoValue) env[static_cast<size_t>(n.outputs[o])] = std::move(results[o]);
      for (ValueId v : n.inputs)
        if (v != kNoValue && last_use_[static_cast<size_t>(v)] == static_cast<int>(i))
          env[static_cast<size_t>(v)] = Tensor();
    }
    outputs.resize(block_.outputs.size());
    for (size_t i = 0; i < block_.outputs.size(); ++i) outputs[i] = env[static_cast<size_t>(block_.outputs[i])];
    return Status::Ok();
  }

 private:
  std::shared_ptr<const Graph> graph_;
  Block block_;
  std::vector<const OpSchema*> schemas_;
  std::vector<int> last_use_;
  std::vector<Tensor> env_;
  std::mutex env_mu_;
};



}  // namespace

ReferenceBackend::ReferenceBackend(std::string name) {
  info_.name = std::move(name);
  info_.kind = "cpu";
  info_.memory_bytes = PhysicalMemoryBytes();
  info_.threads = 1;
}

Status ReferenceBackend::Supports(const Graph& g, const Node& n) const {
  const OpSchema* s = OpRegistry::Default().Find(n.op_type);
  if (!s || !s->reference) return Unimplemented(g.NodeLabel(n) + ": no reference kernel");
  return Status::Ok();
}

Result<std::unique_ptr<Executable>> ReferenceBackend::Prepare(std::shared_ptr<const Graph> graph,
                                                              const Block& block) {
  for (NodeId n : block.nodes) DX_RETURN_IF_ERROR(Supports(*graph, graph->node(n)));
  return std::unique_ptr<Executable>(std::make_unique<ReferenceExecutable>(std::move(graph), block));
}

}  // namespace deepx
