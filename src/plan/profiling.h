// Measured costs for the planner: per-node kernel times of a specialised graph on a backend present here.
//
// The graph runs as one block on the backend (nodes it does not support run on the host fallback and are reported
// unsupported), after `warmup` untimed runs; each node's time is the median over `runs` timed runs. A backend
// that fuses nodes reports the group under its first node: the group's time goes there and the fused nodes get 0,
// so sums over blocks stay right. A backend that reports no per-node timings (a remote server) gets its measured
// wall time spread over the nodes in proportion to their roofline cost.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/graph.h"
#include "deepx/status.h"
#include "runtime/backend.h"

namespace deepx {

struct NodeProfile {
  std::vector<double> node_ms;            // per node of the graph; -1: unsupported on this backend
  std::vector<std::string> unsupported;   // op types it could not run
  double run_ms = 0;                      // median wall time of a whole run
  bool per_node_timings = true;           // false: spread from wall time
};

struct ProfilingOptions {
  int warmup = 1;
  int runs = 5;
  uint64_t seed = 1;
};

Result<NodeProfile> ProfileNodes(std::shared_ptr<const Graph> graph, std::shared_ptr<Backend> backend,
                                 const ProfilingOptions& options = {});

}  // namespace deepx
