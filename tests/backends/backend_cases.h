// The shared differential suite's case list (after llama.cpp's test-backend-ops): ONE list of small graphs —
// mostly single nodes, a few chains — with random inputs, run on every backend and compared with the reference
// backend. A new backend (OpenCL, CUDA, remote) joins by being listed in AvailableBackends() and, if needed,
// declaring the cases it cannot run in UnsupportedCases().
#pragma once

#include <set>
#include <string>
#include <vector>

#include "core/graph.h"
#include "deepx/tensor.h"

namespace deepx::testing {

struct BackendCase {
  std::string name;         // unique; letters, digits and '_' only (it names the gtest)
  std::string op;           // the op under test ("chain" for multi-node graphs)
  Graph graph;              // shapes inferred, not folded
  std::vector<Tensor> inputs;  // follow graph.inputs
  // Bound on NormalisedError(backend output, reference output) for every output.
  double max_error = 1e-5;
};

// Every case, built deterministically (fixed seeds).
const std::vector<BackendCase>& AllBackendCases();

// max |got - want| / (max |want| + 1e-6); infinity when shapes or dtypes differ or a value is NaN on one side only.
double NormalisedError(const Tensor& got, const Tensor& want);

// Cases a backend cannot run at all (they are skipped, and listed in the test log). Running through a fallback
// kernel does not count: such cases run and must match.
std::set<std::string> UnsupportedCases(const std::string& backend);

// Cases the "cpu" backend is expected to hand to the reference kernel (a configuration its oneDNN kernels do not
// take, or an op it has no optimised kernel for); every other single-node case must run an optimised kernel
// (checked by a test, so a silent fallback cannot hide behind matching numbers).
std::set<std::string> CpuFallbackCases();

// Per device backend: the cases it cannot run, each with the reason in a comment (tests/backends/<name>_cases.cpp).
std::set<std::string> OpenClUnsupportedCases();
std::set<std::string> CudaUnsupportedCases();
std::set<std::string> RemoteUnsupportedCases();

}  // namespace deepx::testing
