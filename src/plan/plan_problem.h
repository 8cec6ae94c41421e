// The optimisation problem every DAD solver works on, with the graph already reduced to tasks (unit-blocks) and
// costs already computed (cost_model.h). Keeping it abstract lets tests build random small problems and check the
// DP and the MILP against brute force on exactly the same objective.
//
// Semantics (one inference):
//   - A task runs on one processor with one variant (RLC rank level), or — when splittable — on two processors
//     concurrently, a fraction f of its output channels on `proc` and 1 - f on `partner`, recombined on `proc`.
//   - A task starts when every predecessor has finished and its data has arrived (transfers run asynchronously,
//     they do not occupy processors), and when its processor(s) are free. Latency T = makespan.
//   - Energy = sum over processors of (active_w - idle_w) * busy time
//            + idle_w * T for every processor that is powered (not power-gated, or gated but used)
//            + transfer energy (J/byte and a fixed J per burst into a gated link, e.g. radio promotion + tail).
//   - Cutting the work into blocks is not free (EdgeCharge): an edge whose two tasks run on different processors
//     costs the link transfer, plus the producer's extra time to hand its value out of a block (leave_s, e.g. a
//     layout conversion) and the consumer's to take it into a new block (enter_s) and to start that block
//     (block_s of its processor) after being woken (handoff_s). An edge from the graph inputs always enters a
//     block.
//   - Memory on p = weights of the tasks on p + the largest activation footprint of a task on p.
//   - Accuracy drop = sum of the chosen variants' losses (an additive estimate).
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "plan/planner.h"

namespace deepx {

inline constexpr double kInfinity = std::numeric_limits<double>::infinity();

struct ProblemProcessor {
  std::string name;
  double active_w = 0;
  double idle_w = 0;
  bool power_gated = false;
  double memory_limit_bytes = 0;  // <= 0: unlimited
  bool can_split = true;          // may hold a share of an intra-layer split (not a remote: its RTT never pays)
  double block_s = 0;             // fixed cost of each block run on it (dispatch, executable entry and exit)
  double contention = 1;          // slowdown of its share of a split layer (both shares compute at once)
  double contention_memory = 1;   // ... of a memory-bound layer (flops per byte below ridge)
  double ridge = 0;               // flops per byte where its roofline turns compute-bound
  double handoff_s = 0;           // waking it when another processor hands it a block
};

// Cost of moving B bytes from one processor to another: seconds = fixed_s + B * s_per_byte, joules likewise.
struct TransferCost {
  double fixed_s = 0;
  double s_per_byte = 0;
  double fixed_j = 0;
  double j_per_byte = 0;
  double Seconds(double bytes) const { return bytes > 0 ? fixed_s + bytes * s_per_byte : 0; }
  double Joules(double bytes) const { return bytes > 0 ? fixed_j + bytes * j_per_byte : 0; }
};

struct TaskVariant {
  double accuracy_loss = 0;
  std::vector<double> latency_s;  // per processor; kInfinity where the processor cannot run the task
  double weight_bytes = 0;
  double activation_bytes = 0;    // peak activations while it runs
};

struct Task {
  std::string label;
  std::vector<TaskVariant> variants;  // [0]: dense
  int pinned = -1;                    // processor it must run on (graph input source and output sink), or -1
  // Intra-layer split: the task is one Conv/Gemm/MatMul; the partner receives split_in_bytes (the layer input) and
  // sends back its share of split_out_bytes (the layer output).
  bool splittable = false;
  double split_in_bytes = 0;
  double split_out_bytes = 0;
  // A split cuts blocks around the layer (per processor, empty: 0): the layer input leaves the block before it and
  // enters the blocks of both shares, each share leaves its block, and the recombination block takes them in.
  std::vector<double> split_in_leave_s, split_in_enter_s, split_out_leave_s, split_out_enter_s;
  std::vector<double> split_recombine_s;  // per processor, measured (empty: the split's concat is free)
  double split_intensity = 0;             // flops per byte of the layer (picks contention or contention_memory)
};

struct Edge {
  int from = 0;
  int to = 0;
  double bytes = 0;
  // Per processor (empty: 0): extra seconds on the producer's processor when the value leaves a block there, and
  // on the consumer's when it enters one. Charged only where the edge crosses processors (or from_inputs).
  std::vector<double> leave_s, enter_s;
  bool from_inputs = false;  // from the graph inputs: the consumer starts a block whichever processor it is on
  bool to_outputs = false;   // into the graph outputs: nothing starts there
};

struct PlanProblem {
  std::vector<ProblemProcessor> procs;
  std::vector<std::vector<TransferCost>> link;  // [from][to]; [p][p] is free
  std::vector<Task> tasks;                      // topological order
  std::vector<Edge> edges;                      // from < to
  int home = 0;
  double latency_limit_s = kInfinity;
  double accuracy_limit = kInfinity;
  PlanObjective objective = PlanObjective::kEnergy;
  std::vector<double> split_fractions;          // grid of f tried besides the balancing fraction
  // A split is considered only when it finishes the layer at least this fraction sooner than the faster of its
  // two processors alone, or when the layer's weights do not fit one of them: a predicted gain smaller than the
  // cost model's error is not worth two more blocks and a concurrent run whose interference varies.
  double split_min_gain = 0;

  // True when the edges form the path 0 -> 1 -> ... -> n-1 (the chain DP's case).
  bool IsChain() const;
};

struct TaskChoice {
  int proc = 0;
  int variant = 0;
  int partner = -1;       // split partner, or -1
  double fraction = 1.0;  // share of the output channels on `proc`
};

struct Evaluation {
  double latency_s = 0;
  double energy_j = 0;
  double accuracy_loss = 0;
  std::vector<double> busy_s;            // per processor
  std::vector<double> weight_bytes;      // per processor
  std::vector<double> activation_bytes;  // per processor (peak)
  std::vector<double> start_s, finish_s;  // per task
  bool feasible = true;
  std::string violated;                  // first limit broken
};

// What edge e adds when its producer runs on p and its consumer on q: transfer time and energy, the hand-out /
// take-in times of its value and the consumer's block start (each busy on its processor, so also energy).
// Zero when p == q, except for an edge from the graph inputs (the first block still starts).
struct EdgeCharge {
  double seconds = 0;
  double joules = 0;
};
EdgeCharge ChargeEdge(const PlanProblem& pb, const Edge& e, int p, int q);

// How much slower processor p runs its share of split task t while the partner runs the other share: its
// contention_memory below its roofline's ridge (flops per byte `intensity`), else its contention.
double ShareContention(const ProblemProcessor& p, double intensity);
double SplitContention(const PlanProblem& pb, int t, int p);

// The duration of task `t` under `c` and the busy time it puts on proc / partner.
struct TaskTiming {
  double duration_s = 0;
  double busy_proc_s = 0;
  double busy_partner_s = 0;
  double transfer_j = 0;  // split traffic
};
TaskTiming TimeTask(const PlanProblem& pb, int t, const TaskChoice& c);

// The balancing split fraction for task t on p with partner q (share on p), clamped to [0.05, 0.95].
double BalancedFraction(const PlanProblem& pb, int t, int variant, int p, int q);

// Evaluates an assignment. Tasks are list-scheduled in `order` (a topological order; empty: 0..n-1), each as early
// as its inputs and processors allow; for a chain this is exact. `OptimalEvaluate` tries every topological order
// (small DAGs only) and returns the one of least makespan — the exact optimum of the scheduling semantics above.
Evaluation Evaluate(const PlanProblem& pb, const std::vector<TaskChoice>& choice, const std::vector<int>& order = {});
Evaluation OptimalEvaluate(const PlanProblem& pb, const std::vector<TaskChoice>& choice);

// Energy (J) of an evaluated plan given its makespan: active/idle per processor + transfers (used by Evaluate).
// The objective value: energy, or latency, of an evaluation.
double ObjectiveValue(const PlanProblem& pb, const Evaluation& e);

// Whether choosing `c` for task t is allowed (supported, pinned, split rules).
bool ChoiceAllowed(const PlanProblem& pb, int t, const TaskChoice& c);

// Solver result.
struct Solution {
  std::vector<TaskChoice> choice;
  Evaluation eval;
  std::vector<FrontierPoint> frontier;  // (latency, energy) Pareto points found (DP: all of them)
  double gap = 0;                       // MILP: relative gap when stopped by the time limit
  bool thinned = false;                 // DP: a state exceeded its label cap (then not guaranteed exact)
};

}  // namespace deepx
