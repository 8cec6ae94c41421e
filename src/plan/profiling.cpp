#include "plan/profiling.h"

#include <algorithm>
#include <chrono>
#include <random>
#include <set>

#include "plan/unit_blocks.h"
#include "runtime/executor.h"

namespace deepx {
namespace {

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

Tensor RandomInput(const Value& v, std::mt19937& rng) {
  Tensor t = Tensor::Zeros(v.dtype, v.shape);
  if (v.dtype == DataType::kFloat32) {
    std::uniform_real_distribution<float> u(0, 1);
    float* p = t.data<float>();
    for (int64_t i = 0; i < t.num_elements(); ++i) p[i] = u(rng);
  }
  return t;
}

}  // namespace

Result<NodeProfile> ProfileNodes(std::shared_ptr<const Graph> graph, std::shared_ptr<Backend> backend,
                                 const ProfilingOptions& options) {
  const Graph& g = *graph;
  const size_t n = g.nodes.size();
  NodeProfile prof;
  prof.node_ms.assign(n, 0);
  // Nodes the backend cannot run go to the host fallback (backend 1).
  std::vector<int> assign(n, 0);
  std::set<std::string> unsupported;
  for (size_t k = 0; k < n; ++k)
    if (!backend->Supports(g, g.nodes[k]).ok()) {
      assign[k] = 1;
      prof.node_ms[k] = -1;
      unsupported.insert(g.nodes[k].op_type);
    }
  prof.unsupported.assign(unsupported.begin(), unsupported.end());
  std::vector<std::shared_ptr<Backend>> backends{backend};
  if (!unsupported.empty()) {
    DX_ASSIGN_OR_RETURN(std::shared_ptr<Backend> fallback, CreateBackend(HostFallbackBackend()));
    backends.push_back(fallback);
  }
  DX_ASSIGN_OR_RETURN(Plan plan, PlanFromAssignment(g, assign));
  ExecutorOptions eo;
  eo.concurrent = false;
  DX_ASSIGN_OR_RETURN(std::unique_ptr<Executor> exec, Executor::Create(graph, std::move(plan), backends, eo));
  std::mt19937 rng(static_cast<uint32_t>(options.seed));
  std::vector<Tensor> inputs;
  for (ValueId v : g.inputs) inputs.push_back(RandomInput(g.value(v), rng));
  for (int i = 0; i < options.warmup; ++i) DX_RETURN_IF_ERROR(exec->Run(inputs).status().WithContext("profiling warm-up"));
  std::vector<std::vector<double>> samples(n);
  std::vector<double> wall;
  bool any_timing = false;
  for (int i = 0; i < std::max(1, options.runs); ++i) {
    std::vector<NodeTiming> timings;
    RunOptions ro;
    ro.timings = &timings;
    const auto t0 = std::chrono::steady_clock::now();
    DX_RETURN_IF_ERROR(exec->Run(inputs, ro).status().WithContext("profiling run"));
    wall.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    std::vector<double> run(n, 0);
    for (const NodeTiming& t : timings)
      if (t.node >= 0 && static_cast<size_t>(t.node) < n) {
        run[static_cast<size_t>(t.node)] += static_cast<double>(t.end_ns - t.start_ns) / 1e6;
        any_timing = true;
      }
    for (size_t k = 0; k < n; ++k) samples[k].push_back(run[k]);
  }
  prof.run_ms = Median(wall);
  double timed = 0;
  for (size_t k = 0; k < n; ++k)
    if (prof.node_ms[k] >= 0) {
      prof.node_ms[k] = Median(samples[k]);
      timed += prof.node_ms[k];
    }
  if (!any_timing || timed < 0.2 * prof.run_ms) {
    // No usable per-node timings: spread the wall time by each supported node's bytes + flops share.
    prof.per_node_timings = false;
    std::vector<double> weight(n, 0);
    double total = 0;
    for (size_t k = 0; k < n; ++k) {
      if (prof.node_ms[k] < 0) continue;
      double bytes = 0;
      for (ValueId v : g.nodes[k].inputs)
        if (v != kNoValue) bytes += ValueBytes(g, v);
      for (ValueId v : g.nodes[k].outputs)
        if (v != kNoValue) bytes += ValueBytes(g, v);
      weight[k] = bytes + 1;
      total += weight[k];
    }
    for (size_t k = 0; k < n; ++k)
      if (prof.node_ms[k] >= 0) prof.node_ms[k] = total > 0 ? prof.run_ms * weight[k] / total : 0;
  }
  return prof;
}

}  // namespace deepx
