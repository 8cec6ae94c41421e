#include "backends/cpu/openmp_control.h"

#include <dlfcn.h>
#include <pthread.h>

namespace deepx::cpu {
namespace {

struct OpenMpApi {
  void (*set_num_threads)(int) = nullptr;
  int (*get_thread_num)() = nullptr;
  // libgomp's entry for `#pragma omp parallel` (stable ABI since GCC 4.9).
  void (*gomp_parallel)(void (*fn)(void*), void* data, unsigned num_threads, unsigned flags) = nullptr;
};

const OpenMpApi& Api() {
  static const OpenMpApi api = [] {
    OpenMpApi a;
    a.set_num_threads = reinterpret_cast<void (*)(int)>(dlsym(RTLD_DEFAULT, "omp_set_num_threads"));
    a.get_thread_num = reinterpret_cast<int (*)()>(dlsym(RTLD_DEFAULT, "omp_get_thread_num"));
    a.gomp_parallel = reinterpret_cast<void (*)(void (*)(void*), void*, unsigned, unsigned)>(
        dlsym(RTLD_DEFAULT, "GOMP_parallel"));
    return a;
  }();
  return api;
}

struct PinJob {
  const std::vector<int>* cores;
  int (*get_thread_num)();
};

void PinOne(void* data) {
  const PinJob& job = *static_cast<const PinJob*>(data);
  const int i = job.get_thread_num();
  if (i < 0 || static_cast<size_t>(i) >= job.cores->size()) return;
  cpu_set_t mask;
  CPU_ZERO(&mask);
  CPU_SET((*job.cores)[static_cast<size_t>(i)], &mask);
  pthread_setaffinity_np(pthread_self(), sizeof(mask), &mask);
}

}  // namespace

void SetOpenMpThreads(int n) {
  // nthreads-var is per calling thread, so is this cache of what was last set on it; setting it again costs a call
  // into libgomp on every run for nothing.
  thread_local int last_set = 0;
  if (!Api().set_num_threads || n <= 0 || n == last_set) return;
  Api().set_num_threads(n);
  last_set = n;
}

bool OpenMpAvailable() { return Api().set_num_threads != nullptr; }

bool PinOpenMpTeam(const std::vector<int>& cores) {
  const OpenMpApi& api = Api();
  if (cores.empty() || !api.gomp_parallel || !api.get_thread_num) return false;
  PinJob job{&cores, api.get_thread_num};
  api.gomp_parallel(PinOne, &job, static_cast<unsigned>(cores.size()), 0);
  return true;
}

bool GetThreadAffinity(cpu_set_t* mask) {
  CPU_ZERO(mask);
  return pthread_getaffinity_np(pthread_self(), sizeof(*mask), mask) == 0;
}

void SetThreadAffinity(const cpu_set_t& mask) { pthread_setaffinity_np(pthread_self(), sizeof(mask), &mask); }

}  // namespace deepx::cpu
