// Shared by the solvers: the options of a task and the errors for unmeetable limits.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "plan/solvers.h"

namespace deepx {

std::vector<TaskChoice> TaskOptions(const PlanProblem& pb, int t, bool splits) {
  std::vector<TaskChoice> out;
  const Task& task = pb.tasks[static_cast<size_t>(t)];
  const int np = static_cast<int>(pb.procs.size());
  for (int k = 0; k < static_cast<int>(task.variants.size()); ++k) {
    for (int p = 0; p < np; ++p) {
      TaskChoice c{.proc = p, .variant = k};
      if (ChoiceAllowed(pb, t, c)) out.push_back(c);
      // Splits of dense layers only: a factorised layer is two layers (RLC), split neither.
      if (!splits || !task.splittable || task.pinned >= 0 || k != 0) continue;
      if (!pb.procs[static_cast<size_t>(p)].can_split) continue;
      for (int q = 0; q < np; ++q) {
        if (q == p || !pb.procs[static_cast<size_t>(q)].can_split) continue;
        std::vector<double> fractions = pb.split_fractions;
        if (std::isfinite(task.variants[static_cast<size_t>(k)].latency_s[static_cast<size_t>(q)]) &&
            std::isfinite(task.variants[static_cast<size_t>(k)].latency_s[static_cast<size_t>(p)]))
          fractions.push_back(BalancedFraction(pb, t, k, p, q));
        const TaskVariant& v = task.variants[static_cast<size_t>(k)];
        const double alone = std::min(v.latency_s[static_cast<size_t>(p)], v.latency_s[static_cast<size_t>(q)]);
        auto fits = [&](int x) {
          const double limit = pb.procs[static_cast<size_t>(x)].memory_limit_bytes;
          return limit <= 0 || v.weight_bytes + v.activation_bytes <= limit;
        };
        const bool for_memory = !fits(p) || !fits(q);
        for (double f : fractions) {
          TaskChoice s{.proc = p, .variant = k, .partner = q, .fraction = f};
          if (!ChoiceAllowed(pb, t, s)) continue;
          if (!for_memory && pb.split_min_gain > 0 &&
              TimeTask(pb, t, s).duration_s > (1 - pb.split_min_gain) * alone)
            continue;
          out.push_back(s);
        }
      }
    }
  }
  return out;
}

Status LatencyInfeasible(const PlanProblem& pb, double best_latency_s) {
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "infeasible: latency limit %.3f ms cannot be met: best achievable %.3f ms (within the accuracy and "
                "memory limits)",
                pb.latency_limit_s * 1e3, best_latency_s * 1e3);
  return FailedPrecondition(buf);
}

int WorstMemoryProcessor(const PlanProblem& pb, const Evaluation& e, double* ratio) {
  int worst = -1;
  double worst_ratio = 1;
  for (size_t p = 0; p < pb.procs.size(); ++p) {
    if (pb.procs[p].memory_limit_bytes <= 0) continue;
    const double r = (e.weight_bytes[p] + e.activation_bytes[p]) / pb.procs[p].memory_limit_bytes;
    if (r > worst_ratio) {
      worst_ratio = r;
      worst = static_cast<int>(p);
    }
  }
  if (ratio) *ratio = worst_ratio;
  return worst;
}

Status MemoryInfeasible(const PlanProblem& pb, const Evaluation& e) {
  double ratio = 1;
  const int p = WorstMemoryProcessor(pb, e, &ratio);
  if (p < 0) return FailedPrecondition("infeasible: the memory limits cannot be met");
  const size_t i = static_cast<size_t>(p);
  char buf[320];
  std::snprintf(buf, sizeof buf,
                "infeasible: memory limit of %s (%.1f MB) cannot be met: best achievable %.1f MB there (the plan "
                "that exceeds its memory limits least)",
                pb.procs[i].name.c_str(), pb.procs[i].memory_limit_bytes / 1e6,
                (e.weight_bytes[i] + e.activation_bytes[i]) / 1e6);
  return FailedPrecondition(buf);
}

}  // namespace deepx
