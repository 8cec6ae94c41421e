// The DAD planner (plan/planner.h) as the adaptive session's PlannerFn, and the measurements it needs about the
// processors present here.
//
// Conditions map onto PlannerInputs as follows: the monitor's CPU load u (busy share of other work) becomes the load
// u / (1 + u) of every processor of kind "cpu" (fair scheduling against one competitor per core at u = 1 halves our
// speed; a remote or a discrete GPU does not share the cores) — or, when the monitor measured it, cpu_contention
// as it is; free memory bounds every processor that
// shares host memory (link_gbps 0); a link's RTT / bandwidth override the link of the remote processor of that name
// (PlanConditions holds one override for all remote links: the first remote with a measurement wins); processors
// in conditions.unhealthy are left out of the problem altogether.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "plan/planner.h"
#include "runtime/adaptive_session.h"
#include "runtime/backend.h"

namespace deepx {

// Per-node kernel times (ms; the median of `repeats` runs after one warm-up) of `graph` on each backend, with
// RunOptions timings: row p for backends[p], -1 for nodes backend p does not support (they run on the reference
// backend for the measurement and stay unmeasured).
Result<MeasuredNodeTimes> MeasureNodeTimes(const std::shared_ptr<const Graph>& graph,
                                           const std::vector<std::shared_ptr<Backend>>& backends,
                                           const std::vector<Tensor>& inputs, int repeats = 3);

// A planner spec for a backend present here: name and kind from its info, throughput derived from the measured
// node times (gflops = FLOPs of the measured nodes / their time, the same for bytes), memory from its info.
// Power figures are left at 0: the caller sets them from a device profile and says where they come from.
ProcessorSpec LocalProcessorSpec(const Backend& backend, const Graph& graph, const std::vector<double>& node_ms);

// PlannerInputs for processors present here: one spec per backend (LocalProcessorSpec; the first host CPU is
// home), node times measured on each. A remote backend reports one timing per request, so its row is derived:
// its round trip is timed with a one-element request, its bandwidth with a 1 MiB one, and the whole graph's
// remote time less those is spread over the nodes in proportion to the home processor's times. What cutting
// blocks costs is measured too: block boundaries per local processor (runtime/switch_costs.h), the hand-over into
// each processor's worker (handoff_ms), device links (host <-> device copies), and how much two host CPU
// processors slow each other when both compute (contention, for split layers). Splits must gain >= 10 %
// (options.split_min_gain), a plan over several processors >= 5 % over the best single one (switch_min_gain).
// Power figures stay 0 (set them from a device profile, citing it); limits and objective are the defaults.
Result<PlannerInputs> LocalPlannerInputs(const std::shared_ptr<const Graph>& graph,
                                         const std::vector<std::shared_ptr<Backend>>& backends,
                                         const std::vector<Tensor>& inputs, int repeats = 3);

// The planner as a PlannerFn. `base.processors[i].name` must be the ProcessorInfo::name of the backend it runs
// on; `base.measured`, limits, objective and options are used as given; conditions as described above. When no
// plan meets the limits under the conditions (FAILED_PRECONDITION "infeasible"), it returns the fastest plan with
// PlannedGraph::meets_limits false, so that requests are still answered while the conditions last.
PlannerFn MakeDadPlanner(PlannerInputs base);

// The PlanConditions and processor subset (indices into base.processors) MakeDadPlanner plans with for `c`.
// Exposed for tests.
Result<PlannerInputs> InputsForConditions(const PlannerInputs& base, const Conditions& c, std::vector<int>* kept);

}  // namespace deepx
