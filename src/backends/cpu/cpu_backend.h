// The optimised CPU backend, on oneDNN (Debian's libdnnl, OpenMP runtime).
//
// Prepare turns a block into one kernel per node: a oneDNN primitive for the ops and configurations listed in
// each kernel family file (conv, gemm/matmul, pool, norm, eltwise), the op's reference kernel for everything
// else, so every model runs. Primitives are created and constant weights reordered/packed once, at Prepare.
// Activations live in one arena sized by a lifetime-based planner (memory_planner.h); block outputs are allocated
// per run so a caller may keep them while the executable runs again.
//
// Threads and affinity are per backend instance, which is what lets one process hold a "big cores" and a
// "little cores" instance: every run sets the OpenMP thread count of the thread that runs it, and, when a core
// list is given, pins the OpenMP team's threads (one per listed core) for that run and restores the calling
// thread's own mask afterwards. See openmp_control.h for how OpenMP is reached.
#pragma once

#include <string>
#include <vector>

#include "runtime/backend.h"

namespace deepx {

struct CpuBackendOptions {
  std::string name = "cpu";
  int num_threads = 0;     // 0: as many as `cores` lists, or the hardware concurrency
  std::vector<int> cores;  // CPU ids to pin the OpenMP team to (thread i -> cores[i % size]); empty: no pinning
};

class CpuBackend final : public Backend {
 public:
  explicit CpuBackend(CpuBackendOptions options = {});
  const ProcessorInfo& info() const override { return info_; }
  // Any node with a reference kernel: unsupported configurations fall back to it.
  Status Supports(const Graph& g, const Node& n) const override;
  Result<std::unique_ptr<Executable>> Prepare(std::shared_ptr<const Graph> graph, const Block& block) override;

  const std::vector<int>& cores() const { return cores_; }

 private:
  ProcessorInfo info_;
  std::vector<int> cores_;  // one per thread when pinning, else empty
};

// Introspection of an executable prepared by CpuBackend (tests, `deepx profile`).
class CpuExecutable : public Executable {
 public:
  // Bytes of the activation arena (the planned peak of intermediate tensors).
  virtual int64_t activation_arena_bytes() const = 0;
  // Bytes of the scratch buffer kernels share during a run (blocked copies of a convolution's input and output).
  // Peak activation memory of a run is activation_arena_bytes() + scratch_bytes() + the block's outputs.
  virtual int64_t scratch_bytes() const = 0;
  // Sum of the sizes of every arena-resident value, i.e. what the arena would be without reuse.
  virtual int64_t unshared_activation_bytes() const = 0;
  // Per node of the block, which implementation runs it ("onednn:conv:...", "reference").
  virtual std::vector<std::string> node_impls() const = 0;
};

}  // namespace deepx
