// Thread count and core affinity of the OpenMP team oneDNN runs on.
//
// Debian's libdnnl uses the OpenMP (libgomp) CPU runtime, so its thread count is an OpenMP per-thread setting
// (nthreads-var of the calling thread), not a oneDNN one: a backend instance sets it on every run, in the thread
// that runs, which is what lets two instances ("big cores", "little cores") in one process use different counts.
//
// DeepX is not compiled with -fopenmp and links libgomp only through libdnnl, so the few OpenMP entry points needed
// are resolved at run time (dlsym) from the already-loaded libgomp; when they are missing (a oneDNN built with
// another runtime) these calls do nothing and oneDNN keeps its own default.
#pragma once

#include <sched.h>

#include <vector>

namespace deepx::cpu {

// Sets the OpenMP thread count for parallel regions started by the calling thread; does nothing when this function
// already set the same count on this thread (code calling omp_set_num_threads directly would defeat that cache).
void SetOpenMpThreads(int n);

// Whether the OpenMP runtime was found.
bool OpenMpAvailable();

// Pins OpenMP thread i of a team of `cores.size()` threads started from the calling thread to cores[i]
// (thread 0 is the calling thread itself). libgomp keeps the team's threads alive between parallel regions of
// the same calling thread, so the pinning holds for the oneDNN primitives that follow. Returns false when the
// runtime or sched_setaffinity is unavailable.
bool PinOpenMpTeam(const std::vector<int>& cores);

// The calling thread's affinity mask (to restore it after a pinned run).
bool GetThreadAffinity(cpu_set_t* mask);
void SetThreadAffinity(const cpu_set_t& mask);

}  // namespace deepx::cpu
