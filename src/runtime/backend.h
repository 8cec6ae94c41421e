// The Backend interface: one processor DeepX can run blocks of a plan on.
//
// Modelled on ggml-backend's device/buffer split and IREE's HAL, kept small:
//   - what it is:        info()      (name, kind, memory, threads)
//   - what it can run:   Supports()  (per node of a specialised graph; the reason when not)
//   - compile:           Prepare()   (a block -> Executable; validation and weight packing happen here)
//   - memory/transfers:  ToDevice() / ToHost()
// A plan's executor asks each block's backend to prepare it once, then per inference moves block inputs to the
// backend's memory, runs the executable, and leaves outputs where they are until another block or the caller
// needs them. CPU backends share host memory, so their transfers are free.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/graph.h"
#include "deepx/status.h"
#include "deepx/tensor.h"
#include "plan/plan.h"

namespace deepx {

struct ProcessorInfo {
  std::string name;           // unique per session, e.g. "reference", "cpu-big", "opencl:0", "remote:host:port"
  std::string kind;           // "cpu", "gpu", "remote"
  int64_t memory_bytes = 0;   // memory usable for tensors (0: unknown)
  int threads = 1;
};

// steady_clock now, in nanoseconds: the time base of NodeTiming.
int64_t SteadyNowNs();
// Physical memory of this machine in bytes (0 if unknown), for host backends' ProcessorInfo.
int64_t PhysicalMemoryBytes();

// Wall-clock interval of one node's kernel, for `deepx profile` and the planner's measured costs.
struct NodeTiming {
  NodeId node = -1;
  int64_t start_ns = 0;  // steady_clock, nanoseconds
  int64_t end_ns = 0;
};

struct RunOptions {
  // When set, the executable appends one entry per node it ran (fused nodes: one entry for the group, `node`
  // being its first). Timing costs a clock read per node; leave it null in production runs.
  std::vector<NodeTiming>* timings = nullptr;
};

// A block compiled for one backend.
class Executable {
 public:
  virtual ~Executable() = default;
  // `inputs` follow block.inputs and are resident on the backend; `outputs` (resized by the callee) follow
  // block.outputs.
  virtual Status Run(const std::vector<Tensor>& inputs, std::vector<Tensor>& outputs,
                     const RunOptions& options = {}) = 0;
  // Bytes of memory this executable holds between runs (packed weights, activation arena); 0 if unknown.
  virtual int64_t resident_bytes() const { return 0; }
  // Peak bytes of intermediate activations (arena + scratch) a run needs, excluding block inputs and outputs;
  // 0 if unknown.
  virtual int64_t activation_bytes() const { return 0; }
};

class Backend {
 public:
  virtual ~Backend() = default;

  virtual const ProcessorInfo& info() const = 0;

  // OK when the backend can run node `n` of the specialised graph `g`; UNIMPLEMENTED with the reason otherwise.
  virtual Status Supports(const Graph& g, const Node& n) const = 0;

  // Compiles a block. `graph` outlives the executable.
  virtual Result<std::unique_ptr<Executable>> Prepare(std::shared_ptr<const Graph> graph, const Block& block) = 0;

  // A tensor this backend's executables can read holding `t`'s value; returns `t` itself when it already is.
  // Executables must accept host tensors too: a backend whose executables stage host inputs themselves (CUDA
  // copies them through pinned memory inside the run, which is cheaper than a separate synchronised copy) may
  // return host tensors unchanged here.
  virtual Result<Tensor> ToDevice(const Tensor& t) { return HostOnly(t); }
  // A host tensor holding `t`'s value; returns `t` itself when it is on the host.
  virtual Result<Tensor> ToHost(const Tensor& t) { return HostOnly(t); }

 protected:
  static Result<Tensor> HostOnly(const Tensor& t) {
    if (!t.is_host()) return Unimplemented("tensor is not in host memory and this backend cannot reach it");
    return t;
  }
};

// What CreateBackend may need beyond a name.
struct BackendConfig {
  int num_threads = 0;         // worker threads of CPU backends (0: the backend's default)
  std::string remote_url;      // "remote": http://host:port or https://host:port of a KServe v2 server
  std::string token_file;      // "remote": file holding the bearer token ("" : no auth)
  double timeout_s = 30;       // "remote": per-request timeout
  int retries = 2;             // "remote": bounded retries of a failed request
};

// Creates a backend by name:
//   "reference"                     plain C++ kernels
//   "cpu", "cpu-big", "cpu-little"  oneDNN on all cores / the big cores / the little cores (backends/cpu/)
//   "opencl", "opencl:N"            OpenCL device N (backends/opencl/)
//   "cuda", "cuda:N"                CUDA device N (backends/cuda/)
//   "remote"                        a KServe v2 server at config.remote_url (backends/remote/)
Result<std::shared_ptr<Backend>> CreateBackend(const std::string& name, const BackendConfig& config);
Result<std::shared_ptr<Backend>> CreateBackend(const std::string& name, int num_threads = 0);
// Names CreateBackend accepts in this build without further configuration and whose processor is present on this
// machine (an OpenCL device found, a CUDA GPU found). "remote" is not listed: it needs a URL.
std::vector<std::string> AvailableBackends();
// The host backend that runs nodes another backend does not support: "cpu" when built, else "reference".
std::string HostFallbackBackend();

}  // namespace deepx
