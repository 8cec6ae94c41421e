#include "runtime/executor.h"

namespace deepx {

Result<std::unique_ptr<Executor>> Executor::Create(std::shared_ptr<const Graph> graph, Plan plan,
                                                   std::vector<std::shared_ptr<Backend>> backends) {
  DX_RETURN_IF_ERROR(ValidatePlan(*graph, plan, static_cast<int>(backends.size())));
  std::unique_ptr<Executor> e(new Executor());
  e->graph_ = std::move(graph);
  e->plan_ = std::move(plan);
  e->backends_ = std::move(backends);
  for (const Block& block : e->plan_.blocks) {
    Backend& backend = *e->backends_[static_cast<size_t>(block.backend)];
    auto exe = backend.Prepare(e->graph_, block);
    if (!exe.ok()) return exe.status().WithContext("preparing a block on '" + backend.info().name + "'");
    e->executables_.push_back(std::move(exe).value());
  }
  e->env_.resize(e->graph_->values.size());
  e->block_inputs_.resize(e->plan_.blocks.size());
  return e;
}

Result<std::vector<Tensor>> Executor::Run(const std::vector<Tensor>& inputs, const RunOptions& options) {
  const Graph& g = *graph_;
  if (inputs.size() != g.inputs.size())
    return InvalidArgument("expected " + std::to_string(g.inputs.size()) + " inputs, got " +
                           std::to_string(inputs.size()));
  std::unique_lock<std::mutex> lock(env_mu_, std::try_to_lock);
  std::vector<Tensor> local_env;
  std::vector<std::vector<Tensor>> local_block_inputs;
  if (!lock.owns_lock()) {
    local_env.resize(g.values.size());
    local_block_inputs.resize(plan_.blocks.size());
  }
  std::vector<Tensor>& env = lock.owns_lock() ? env_ : local_env;
  std::vector<std::vector<Tensor>>& all_block_inputs = lock.owns_lock() ? block_inputs_ : local_block_inputs;
  // Empties the slots this run filled, on every return path, so the tables hold no tensor between runs.
  struct Clear {
    const Executor& e;
    std::vector<Tensor>& env;
    std::vector<std::vector<Tensor>>& block_inputs;
    ~Clear() {
      for (ValueId v : e.graph_->inputs) env[static_cast<size_t>(v)] = Tensor();
      for (size_t b = 0; b < e.plan_.blocks.size(); ++b) {
        for (ValueId v : e.plan_.blocks[b].outputs) env[static_cast<size_t>(v)] = Tensor();
        block_inputs[b].clear();
      }
    }
  } clear{*this, env, all_block_inputs};
  for (size_t i = 0; i < inputs.size(); ++i) env[static_cast<size_t>(g.inputs[i])] = inputs[i];

  std::vector<Tensor> block_outputs;
  for (size_t b = 0; b < plan_.blocks.size(); ++b) {
    const Block& block = plan_.blocks[b];
    Backend& backend = *backends_[static_cast<size_t>(block.backend)];
    std::vector<Tensor>& block_inputs = all_block_inputs[b];
    block_inputs.clear();
    block_inputs.reserve(block.inputs.size());
    for (ValueId v : block.inputs) {
      DX_ASSIGN_OR_RETURN(Tensor t, backend.ToDevice(env[static_cast<size_t>(v)]));
      block_inputs.push_back(std::move(t));
    }
    block_outputs.clear();
    DX_RETURN_IF_ERROR_CTX(executables_[b]->Run(block_inputs, block_outputs, options),
                           "block " + std::to_string(b) + " on '" + backend.info().name + "'");
    for (size_t i = 0; i < block.outputs.size(); ++i)
      env[static_cast<size_t>(block.outputs[i])] = std::move(block_outputs[i]);
  }

  std::vector<Tensor> outputs;
  outputs.reserve(g.outputs.size());
  for (ValueId v : g.outputs) {
    const Value& value = g.value(v);
    if (value.is_constant()) {
      outputs.push_back(value.constant);
      continue;
    }
    const Tensor& t = env[static_cast<size_t>(v)];
    if (t.is_host()) {
      outputs.push_back(t);
    } else {
      // Bring it back through the backend that produced it.
      Result<Tensor> host = Unimplemented("no backend can read output '" + value.name + "'");
      for (auto& backend : backends_) {
        host = backend->ToHost(t);
        if (host.ok()) break;
      }
      if (!host.ok()) return host.status();
      outputs.push_back(std::move(host).value());
    }
  }
  return outputs;
}

int64_t Executor::activation_bytes() const {
  int64_t total = 0;
  for (const auto& e : executables_) total += e->activation_bytes();
  return total;
}

int64_t Executor::resident_bytes() const {
  int64_t total = 0;
  for (const auto& e : executables_) total += e->resident_bytes();
  return total;
}

}  // namespace deepx
