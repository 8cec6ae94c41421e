#include <unistd.h>

#include <chrono>

#include "backends/reference/reference_backend.h"
#include "runtime/backend.h"
#include "runtime/processors.h"

#ifdef DEEPX_HAVE_CPU_BACKEND
#include "backends/cpu/cpu_backend.h"
#endif
#ifdef DEEPX_HAVE_OPENCL_BACKEND
#include "backends/opencl/opencl_backend.h"
#endif
#ifdef DEEPX_HAVE_CUDA_BACKEND
#include "backends/cuda/cuda_backend.h"
#endif
#ifdef DEEPX_HAVE_REMOTE_BACKEND
#include "backends/remote/remote_backend.h"
#endif

namespace deepx {

int64_t SteadyNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int64_t PhysicalMemoryBytes() {
  long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  return pages > 0 && page > 0 ? static_cast<int64_t>(pages) * page : 0;
}

namespace {
bool HasPrefix(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }
}  // namespace

Result<std::shared_ptr<Backend>> CreateBackend(const std::string& name, const BackendConfig& config) {
  if (config.num_threads < 0)
    return InvalidArgument("num_threads must be >= 0, got " + std::to_string(config.num_threads));
  if (name == "reference") return std::shared_ptr<Backend>(std::make_shared<ReferenceBackend>(name));
#ifdef DEEPX_HAVE_CPU_BACKEND
  if (name == "cpu") {
    CpuBackendOptions options;
    options.name = name;
    options.num_threads = config.num_threads;  // 0: every core
    return std::shared_ptr<Backend>(std::make_shared<CpuBackend>(options));
  }
  // Big and little cores as two processors (runtime/processors.h); listed by ProcessorNames(), not by
  // AvailableBackends(), so the differential suite does not run every case three times on the same CPU.
  if (name == "cpu-big" || name == "cpu-little") return CreateCpuClusterBackend(name, config);
#endif
#ifdef DEEPX_HAVE_OPENCL_BACKEND
  if (name == "opencl" || HasPrefix(name, "opencl:")) return CreateOpenClBackend(name, config);
#endif
#ifdef DEEPX_HAVE_CUDA_BACKEND
  if (name == "cuda" || HasPrefix(name, "cuda:")) return CreateCudaBackend(name, config);
#endif
#ifdef DEEPX_HAVE_REMOTE_BACKEND
  if (name == "remote") return CreateRemoteBackend(config);
#endif
  std::string known;
  for (const std::string& n : ProcessorNames()) known += (known.empty() ? "" : ", ") + n;
#ifdef DEEPX_HAVE_REMOTE_BACKEND
  known += ", remote (with a URL)";
#endif
  return NotFound("unknown backend '" + name + "' (available: " + known + ")");
}

Result<std::shared_ptr<Backend>> CreateBackend(const std::string& name, int num_threads) {
  BackendConfig config;
  config.num_threads = num_threads;
  return CreateBackend(name, config);
}

std::vector<std::string> AvailableBackends() {
  std::vector<std::string> names = {"reference"};
#ifdef DEEPX_HAVE_CPU_BACKEND
  names.push_back("cpu");
#endif
#ifdef DEEPX_HAVE_OPENCL_BACKEND
  if (!OpenClDeviceNames().empty()) names.push_back("opencl");
#endif
#ifdef DEEPX_HAVE_CUDA_BACKEND
  if (!CudaDeviceNames().empty()) names.push_back("cuda");
#endif
  return names;
}

std::string HostFallbackBackend() {
#ifdef DEEPX_HAVE_CPU_BACKEND
  return "cpu";
#else
  return "reference";
#endif
}

}  // namespace deepx
