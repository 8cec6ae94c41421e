// Which nodes the CUDA backend runs: pure graph logic, usable without a GPU (the planner's Supports(), and a CI
// test that keeps tests/backends/cuda_cases.cpp's unsupported list true on machines without a GPU).
#pragma once

#include "core/graph.h"
#include "deepx/status.h"

namespace deepx::cuda {

// OK when CudaBackend can run node `n` of the specialised graph `g`; UNIMPLEMENTED naming the node and the reason
// otherwise (the Session then runs the node on the host fallback backend).
Status SupportsNode(const Graph& g, const Node& n);

// Ops that only re-label their input's bytes with another shape (Reshape, Flatten, ...): the output aliases the
// input's memory, no kernel runs.
bool IsViewOp(const Node& n);

}  // namespace deepx::cuda
