// Brute force: every combination of task options; for DAGs every topological order too (OptimalEvaluate). The
// oracle the DP and the MILP are tested against.
#include <algorithm>
#include <cmath>

#include "plan/solvers.h"

namespace deepx {

Result<Solution> SolveBruteForce(const PlanProblem& pb, const BruteForceOptions& options) {
  const size_t n = pb.tasks.size();
  if (n == 0) return InvalidArgument("no tasks to plan");
  std::vector<std::vector<TaskChoice>> opts(n);
  double combos = 1;
  for (size_t t = 0; t < n; ++t) {
    opts[t] = TaskOptions(pb, static_cast<int>(t), options.splits);
    if (opts[t].empty())
      return FailedPrecondition("infeasible: no processor can run task " + std::to_string(t) + " (" +
                                pb.tasks[t].label + ")");
    combos *= static_cast<double>(opts[t].size());
  }
  if (combos > static_cast<double>(options.max_assignments))
    return InvalidArgument("brute force would try " + std::to_string(combos) + " assignments");
  const bool chain = pb.IsChain();

  Solution best;
  bool have = false;
  double best_latency_other_ok = kInfinity;  // least latency among plans meeting the accuracy and memory limits
  double best_mem_ratio = kInfinity;
  Evaluation best_mem;
  std::vector<size_t> idx(n, 0);
  std::vector<TaskChoice> choice(n);
  std::vector<FrontierPoint> points;
  while (true) {
    for (size_t t = 0; t < n; ++t) choice[t] = opts[t][idx[t]];
    Evaluation e = chain ? Evaluate(pb, choice) : OptimalEvaluate(pb, choice);
    double ratio = 1;
    WorstMemoryProcessor(pb, e, &ratio);
    const bool acc_ok = e.accuracy_loss <= pb.accuracy_limit * (1 + 1e-12) + 1e-15;
    if (acc_ok && ratio < best_mem_ratio) {
      best_mem_ratio = ratio;
      best_mem = e;
    }
    if (acc_ok && ratio <= 1 + 1e-12) {
      best_latency_other_ok = std::min(best_latency_other_ok, e.latency_s);
      points.push_back({e.latency_s * 1e3, e.energy_j * 1e3, e.accuracy_loss});
    }
    if (e.feasible) {
      const double v = ObjectiveValue(pb, e), b = have ? ObjectiveValue(pb, best.eval) : kInfinity;
      if (!have || v < b - 1e-15) {
        best.choice = choice;
        best.eval = std::move(e);
        have = true;
      }
    }
    size_t t = 0;
    while (t < n && ++idx[t] == opts[t].size()) idx[t++] = 0;
    if (t == n) break;
  }
  if (!have) {
    if (std::isfinite(best_latency_other_ok)) return LatencyInfeasible(pb, best_latency_other_ok);
    if (best_mem_ratio > 1 && std::isfinite(best_mem_ratio)) return MemoryInfeasible(pb, best_mem);
    return FailedPrecondition("infeasible: the accuracy-drop limit cannot be met");
  }
  std::sort(points.begin(), points.end(), [](const FrontierPoint& a, const FrontierPoint& b) {
    return a.latency_ms != b.latency_ms ? a.latency_ms < b.latency_ms : a.energy_mj < b.energy_mj;
  });
  double best_e = kInfinity;
  for (const FrontierPoint& p : points)
    if (p.energy_mj < best_e - 1e-12) {
      best.frontier.push_back(p);
      best_e = p.energy_mj;
    }
  return best;
}

}  // namespace deepx
