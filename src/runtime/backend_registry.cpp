#include <unistd.h>

#include <chrono>

#include "backends/reference/reference_backend.h"
#include "runtime/backend.h"

#ifdef DEEPX_HAVE_CPU_BACKEND
#include "backends/cpu/cpu_backend.h"
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

Result<std::shared_ptr<Backend>> CreateBackend(const std::string& name, int num_threads) {
  if (name == "reference") return std::shared_ptr<Backend>(std::make_shared<ReferenceBackend>(name));
#ifdef DEEPX_HAVE_CPU_BACKEND
  if (name == "cpu") {
    if (num_threads < 0) return InvalidArgument("num_threads must be >= 0, got " + std::to_string(num_threads));
    CpuBackendOptions options;
    options.name = name;
    options.num_threads = num_threads;  // 0: every core
    return std::shared_ptr<Backend>(std::make_shared<CpuBackend>(options));
  }
#endif
  std::string known;
  for (const std::string& n : AvailableBackends()) known += (known.empty() ? "" : ", ") + n;
  return NotFound("unknown backend '" + name + "' (available: " + known + ")");
}

std::vector<std::string> AvailableBackends() {
  std::vector<std::string> names = {"reference"};
#ifdef DEEPX_HAVE_CPU_BACKEND
  names.push_back("cpu");
#endif
  return names;
}

}  // namespace deepx
