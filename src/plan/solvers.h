// The three solvers of a PlanProblem (plan_problem.h):
//   SolveChainDp  — exact label-setting dynamic programme over (task, processor holding the output, set of
//                   power-gated processors in use), labels (latency, energy, accuracy loss, memory of processors
//                   whose limit can bind) pruned by Pareto dominance. Chains only (PlanProblem::IsChain).
//                   Yields the whole energy-latency frontier in the same pass.
//   SolveMilp     — GLPK MILP for DAGs: binary placement x[t,p,k], transfer indicators, start times with
//                   precedence, big-M disjunctions for tasks sharing a processor, memory/accuracy/latency limits.
//                   No intra-layer splits. Time-limited; returns the incumbent and its gap.
//   SolveBruteForce — every assignment (and, for DAGs, every topological order): the oracle of the tests.
// All return the best feasible plan, or FAILED_PRECONDITION naming the limit that cannot be met and the best value.
#pragma once

#include "plan/plan_problem.h"

namespace deepx {

struct DpOptions {
  bool splits = true;
  int max_labels_per_state = 256;
};

Result<Solution> SolveChainDp(const PlanProblem& pb, const DpOptions& options = {});

struct MilpOptions {
  double time_limit_s = 2;
};
// Whether this build links GLPK.
bool MilpAvailable();
Result<Solution> SolveMilp(const PlanProblem& pb, const MilpOptions& options = {});

struct BruteForceOptions {
  bool splits = true;
  int64_t max_assignments = 2000000;  // refuses larger problems
};
Result<Solution> SolveBruteForce(const PlanProblem& pb, const BruteForceOptions& options = {});

// The choices solvers consider for task t (splits when asked): every allowed (proc, variant[, partner, fraction]).
std::vector<TaskChoice> TaskOptions(const PlanProblem& pb, int t, bool splits);

// The errors for limits no plan meets, with the best achievable value (see planner.h).
Status LatencyInfeasible(const PlanProblem& pb, double best_latency_s);
// `e`: the plan whose worst memory overrun (ratio to its limit) is least, evaluated without memory limits.
Status MemoryInfeasible(const PlanProblem& pb, const Evaluation& e);
// The processor of `e` whose memory exceeds its limit by the largest ratio (and that ratio), -1 when none does.
int WorstMemoryProcessor(const PlanProblem& pb, const Evaluation& e, double* ratio);

}  // namespace deepx
