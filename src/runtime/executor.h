// Runs a Plan over a specialised graph: prepares each block on its backend once, then per inference moves block
// inputs to the block's backend, runs the blocks in order and brings graph outputs back to the host.
#pragma once

#include <memory>
#include <mutex>
#include <vector>

#include "core/graph.h"
#include "plan/plan.h"
#include "runtime/backend.h"

namespace deepx {

class Executor {
 public:
  static Result<std::unique_ptr<Executor>> Create(std::shared_ptr<const Graph> graph, Plan plan,
                                                  std::vector<std::shared_ptr<Backend>> backends);

  // `inputs` follow graph->inputs; returns tensors following graph->outputs, on the host.
  Result<std::vector<Tensor>> Run(const std::vector<Tensor>& inputs, const RunOptions& options = {});

  const std::vector<std::shared_ptr<Backend>>& backends() const { return backends_; }

  const Graph& graph() const { return *graph_; }
  // Sums over the plan's blocks of Executable::activation_bytes / resident_bytes.
  int64_t activation_bytes() const;
  int64_t resident_bytes() const;
  const Plan& plan() const { return plan_; }

 private:
  Executor() = default;
  std::shared_ptr<const Graph> graph_;
  Plan plan_;
  std::vector<std::shared_ptr<Backend>> backends_;
  std::vector<std::unique_ptr<Executable>> executables_;
  // Value -> tensor table of a run, kept between runs so that one run allocates no table (it is sized to
  // g.values, hundreds of entries on big graphs). Every slot is emptied again at the end of a run so no tensor
  // outlives it. A run that finds the table in use (concurrent callers) uses a local one.
  std::vector<Tensor> env_;
  std::mutex env_mu_;
  // Block inputs of each block, reused the same way (guarded by env_mu_).
  std::vector<std::vector<Tensor>> block_inputs_;
};

}  // namespace deepx
