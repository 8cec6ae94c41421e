// Adaptive session: runs a specialised graph with the plan that fits the current conditions, re-planning only when
// a condition leaves its discretised bucket.
//
//   monitor sample --> bucket key (with hysteresis) --> plan cache[key] --(miss)--> planner --> Executor
//
// Conditions are discretised per dimension (CPU load, free memory, battery, per-link RTT and bandwidth; the set of
// unhealthy processors is part of the key as it is). Hysteresis is two-fold: a value must cross a bucket edge by a
// margin before it counts as another bucket, and a new key must be seen on `hold_samples` consecutive distinct
// samples (Conditions::sampled_ns)
// before the session switches to it — except for processor health and a drop in free memory, which switch at once
// (a dead processor must not wait, and the executor's failover has already saved the request that found it dead; a
// plan that no longer fits in memory must not wait either). Plans are cached per key,
// so steady state, and any return to a condition seen before, costs only a map lookup per sample.
//
// Preparing an executor (kernels, packed weights on every processor of the plan) costs far more than planning
// (SqueezeNet over a CPU core and an edge server: 5-9 ms vs 0.5 ms), and a new key often plans what an existing
// executor already runs (a CPU-load spike that leaves the edge plan best). Executors are therefore shared by every
// key whose plan is the same (same graph, same blocks on the same processors); a switch to such a plan pays only the
// planner. When free memory drops, the executors of plans not in use are released (their packed weights are what
// the drop asks back) and prepared again if their plan is chosen later.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/graph.h"
#include "plan/plan.h"
#include "runtime/executor.h"
#include "runtime/monitor.h"

namespace deepx {

// What a planner returns to the adaptive session.
struct PlannedGraph {
  std::shared_ptr<const Graph> graph;     // the graph the plan runs (the input, or with intra-layer splits applied)
  Plan plan;                              // Block::backend indexes `processors`
  std::vector<std::string> processors;    // backend names (ProcessorInfo::name) by plan index
  std::vector<double> predicted_block_ms; // per block: compute + transfer in (< 0: no prediction)
  double predicted_latency_ms = -1;
  double predicted_energy_mj = -1;
  std::string energy_source = "modelled";
  // false: no plan meets the limits under these conditions and this is the fastest one (see MakeDadPlanner).
  bool meets_limits = true;
};

// Plans `graph` for `conditions`. Must not use processors listed in conditions.unhealthy.
using PlannerFn = std::function<Result<PlannedGraph>(const std::shared_ptr<const Graph>& graph,
                                                     const Conditions& conditions)>;

// Bucket edges of one condition. Bucket i holds values in [edges[i-1], edges[i]). `margin` is the hysteresis: a
// value in another bucket within `margin` of the current bucket's range still counts as the current bucket (on a
// log scale the margin is a ratio: 0.2 = 20 %).
struct BucketEdges {
  std::vector<double> edges;
  double margin = 0;
  bool log_scale = false;
  // The bucket of `x`, staying in `current` (>= 0) while x is within the margin of it.
  int Bucket(double x, int current = -1) const;
};

struct AdaptiveOptions {
  BucketEdges cpu_load{{0.25, 0.5, 0.75}, 0.05, false};
  BucketEdges mem_available_mb{{256, 512, 1024, 2048, 4096}, 0.1, true};
  BucketEdges battery_fraction{{0.2, 0.5}, 0.03, false};
  BucketEdges rtt_ms{{5, 20, 50, 100, 200, 500}, 0.2, true};
  BucketEdges bandwidth_mbps{{1, 5, 10, 20, 50, 100, 500}, 0.2, true};
  int hold_samples = 3;          // consecutive samples a new key must hold before re-planning
  // A run slower than late_factor x its plan's predicted latency is evidence that conditions changed: the next
  // sample that shows a new key switches at once instead of holding for hold_samples (0: off).
  double late_factor = 2.0;
  int sample_every_runs = 1;     // sample the monitor before every N-th run
  size_t max_cached_plans = 64;  // least recently used plans beyond this are dropped
  ExecutorOptions executor;      // fallback and timeout of every plan's executor (health is the session's)
};

// The discretised conditions a plan is cached under.
struct ConditionKey {
  int cpu = 0, mem = 0, battery = 0;
  bool on_battery = false;
  std::vector<std::pair<std::string, std::pair<int, int>>> links;  // name -> (rtt bucket, bandwidth bucket)
  std::vector<std::string> unhealthy;
  bool operator<(const ConditionKey& o) const;
  bool operator==(const ConditionKey& o) const;
  std::string ToString() const;  // "cpu=2 mem=4 bat=0 link[remote]=1/3 down=[opencl]"
};

struct AdaptiveRunInfo {
  bool sampled = false;          // the monitor was read before this run
  bool replanned = false;        // the planner ran for this run (a new key not in the cache)
  bool switched = false;         // the plan runs differently from the previous run's (new key, cached or not)
  bool prepared = false;         // an executor was prepared for this run (no prepared one ran the same plan)
  double replan_ms = 0;          // planner + preparing the executor (if one was), when replanned
  double plan_ms = 0;            // of which the planner
  std::string key;               // ConditionKey::ToString of the plan used
  const PlannedGraph* plan = nullptr;  // valid until the session drops it from its cache
  RunReport report;              // per block: processor, times, failover
};

struct AdaptiveStats {
  int64_t runs = 0, samples = 0, replans = 0, switches = 0, cache_hits = 0;
  int64_t executors_prepared = 0;  // executors made (a re-plan to a plan already prepared shares its executor)
  int64_t executors_released = 0;  // executors dropped on a free-memory drop
  std::vector<double> replan_ms;  // every re-plan's time (planner + prepare)
  std::vector<double> plan_ms;    // of which the planner
};

class AdaptiveSession {
 public:
  // `graph`: specialised (concrete shapes). `backends`: every processor plans may use, by ProcessorInfo::name.
  static Result<std::unique_ptr<AdaptiveSession>> Create(std::shared_ptr<const Graph> graph,
                                                         std::vector<std::shared_ptr<Backend>> backends,
                                                         PlannerFn planner, std::shared_ptr<ResourceMonitor> monitor,
                                                         AdaptiveOptions options = {});

  // One inference with the plan for the current conditions. `inputs` follow graph->inputs.
  Result<std::vector<Tensor>> Run(const std::vector<Tensor>& inputs, AdaptiveRunInfo* info = nullptr,
                                  const RunOptions& run_options = {});

  const AdaptiveStats& stats() const { return stats_; }
  const std::shared_ptr<ProcessorHealth>& health() const { return health_; }
  const Graph& graph() const { return *graph_; }
  // The key the session currently plans for.
  const ConditionKey& current_key() const { return current_; }

  // Discretises `c` starting from `current` (hysteresis); exposed for tests.
  ConditionKey KeyFor(const Conditions& c, const ConditionKey* current) const;

 private:
  struct CachedPlan {
    PlannedGraph planned;
    std::shared_ptr<Executor> executor;  // shared by every cached plan that runs the same blocks; null: released
    int64_t last_used = 0;
  };
  AdaptiveSession() = default;
  Result<CachedPlan*> PlanFor(const ConditionKey& key, const Conditions& c, AdaptiveRunInfo* info);
  // Gives `plan` an executor: one a cached plan with the same blocks already has, or a new one.
  Status EnsureExecutor(CachedPlan& plan, AdaptiveRunInfo* info);
  // Releases the executors no plan but `keep` uses (free memory dropped).
  void ReleaseExecutorsExcept(const CachedPlan& keep);

  std::shared_ptr<const Graph> graph_;
  std::map<std::string, std::shared_ptr<Backend>> backends_;
  PlannerFn planner_;
  std::shared_ptr<ResourceMonitor> monitor_;
  AdaptiveOptions options_;
  std::shared_ptr<ProcessorHealth> health_;
  std::mutex mu_;
  std::map<ConditionKey, CachedPlan> cache_;
  ConditionKey current_;
  bool have_current_ = false;
  CachedPlan* current_plan_ = nullptr;
  bool late_ = false;       // a run took > late_factor x its predicted latency since the last switch
  bool refreshed_ = false;  // the monitor was refreshed in the current run of late inferences
  ConditionKey pending_;  // a new key seen on `pending_count_` consecutive samples
  int pending_count_ = 0;
  int64_t last_failures_ = 0;  // ProcessorHealth::failures() at the previous run
  int64_t last_sampled_ns_ = 0;  // Conditions::sampled_ns of the previous sample
  AdaptiveStats stats_;
};

}  // namespace deepx
