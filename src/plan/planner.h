// The DAD planner: decides which unit-blocks of a specialised graph run on which processor (and, jointly with RLC,
// at which rank each compressible layer runs) so that energy per inference is lowest (or latency, by objective)
// while the latency limit, the accuracy-drop bound and every processor's memory hold.
//
// Pipeline (numbered passes, each in its own file):
//   1. unit_blocks:  the graph cut at articulation points into a chain of segments (branches of ResNet/GoogLeNet/
//                    SqueezeNet become one segment each); optionally a DAG of runs of layers for the MILP.
//   2. cost_model:   per segment x processor x variant: latency (measured on processors present here, roofline from
//                    the profile otherwise), memory (weights + peak activations), energy; transfers per link.
//   3. optimiser:    exact label-setting DP with Pareto labels on the chain (chain_dp), MILP through GLPK on DAGs
//                    (milp), brute force for tests (brute_force) — all over the same PlanProblem (plan_problem.h).
//   4. assemble:     intra-layer splits applied to the graph (split_transform), the Plan built with
//                    PlanFromAssignment, per-block predictions, baselines and the energy-latency frontier.
//
// Used by `deepx plan` and by the run-time side of DAD (plan executor, re-planning on changed conditions): call
// PlanGraph again with new PlannerInputs::conditions; it does no I/O and no profiling itself (see profiling.h for
// the measured costs it consumes), so a re-plan costs only the optimisation (bench/plan: a few ms).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/graph.h"
#include "deepx/status.h"
#include "plan/plan.h"

namespace deepx {

// One processor the planner may place blocks on. Figures come from a device profile (profiles/*.json, see
// device_profile.h) or from calibration of a backend present here.
struct ProcessorSpec {
  std::string name;               // unique: "cpu-big", "gpu", "remote-lte"
  std::string backend = "virtual";  // CreateBackend name when present here ("cpu", "opencl", "remote"), else "virtual"
  std::string kind = "cpu";       // "cpu", "gpu", "dsp", "remote"
  // Roofline: a node takes max(flops / (gflops * efficiency), bytes / gbps) + launch_overhead_us.
  double gflops = 1;              // fp32 peak, GFLOP/s
  double efficiency = 1;          // fraction of the peak convolutions/GEMMs reach (profiles: an estimate, cited)
  double gbps = 1;                // memory bandwidth, GB/s
  double launch_overhead_us = 0;  // per kernel (node) dispatch cost
  // How much slower it computes while another processor of the plan computes too (shared physical cores, caches,
  // memory bandwidth): applied to the two shares of a split layer, which run at the same time. >= 1. For
  // compute-bound layers:
  double contention = 1;
  double contention_memory = 1;   // the same for memory-bound layers (below the roofline's ridge), which share
                                  // memory bandwidth
  // Handing a block to it from another processor: queueing it on its worker and waking that thread (measured
  // here; a VM's sleeping virtual CPU takes tens of microseconds). Paid on every switch into it.
  double handoff_ms = 0;
  // Power (W) of this processor while it computes and while it idles; the device's idle power is paid for the
  // whole inference. power_gated: idle power is paid only when the plan uses the processor at all.
  double active_w = 0;
  double idle_w = 0;
  bool power_gated = false;
  int64_t memory_bytes = 0;       // memory for weights + activations (0: unlimited)
  // Link from the home processor (where graph inputs arrive and outputs are wanted) to this one. A transfer of
  // B bytes between two processors costs the sum over the links it crosses (home <-> p <-> q) of
  // latency_ms + B / bandwidth, and energy B * j_per_byte + fixed_j (fixed: radio promotion + tail energy per burst).
  double link_gbps = 0;           // 0: shares host memory (free transfers)
  double link_latency_ms = 0;     // per transfer, one way (remote: RTT / 2, so a request + reply costs one RTT)
  double link_j_per_byte = 0;
  double link_fixed_j = 0;
  bool home = false;              // exactly one processor is home (the first one if none says so)
  std::vector<std::string> unsupported_ops;  // op types it cannot run
  // "measured" when active_w/idle_w come from a power meter on this machine, else "modelled".
  std::string power_source = "modelled";
};

// Conditions at planning time; the run-time monitor fills these and re-plans when one leaves its bucket.
struct PlanConditions {
  std::vector<double> load;          // per processor: fraction busy with other work in [0, 1); latency / (1 - load)
  std::vector<int64_t> free_memory;  // per processor: bytes free now (0 or absent: the profile's memory_bytes)
  double network_mbps = -1;          // remote links: bandwidth override (< 0: the profile's)
  double network_rtt_ms = -1;        // remote links: latency override (< 0: the profile's)
};

struct PlanLimits {
  double latency_ms = 5000;          // per inference
  double max_accuracy_drop = 0.05;   // estimated top-1 drop allowed from compression (fraction)
  // Per-processor memory comes from ProcessorSpec::memory_bytes and PlanConditions::free_memory.
};

enum class PlanObjective { kEnergy, kLatency };
enum class PlanMethod { kAuto, kDp, kMilp, kBruteForce };

// One compressed form of a layer (RLC): rank k of its weight factorisation. Until RLC's per-layer API lands this
// is the planner's own description; `deepx plan` derives it from the weights' singular values.
struct RankVariant {
  int64_t rank = 0;             // 0 never appears: the dense layer is implicit
  double flops = 0;             // of the compressed pair of layers
  double weight_bytes = 0;      // of the factors
  double relative_error = 0;    // ||W - W_k||_F / ||W||_F
  double accuracy_loss = 0;     // estimated top-1 drop this layer's compression alone causes (fraction)
};

// Per-node measured kernel times (ms) on processors present here: measured[p][node] (< 0: not measured, use the
// roofline). Empty rows for virtual processors.
using MeasuredNodeTimes = std::vector<std::vector<double>>;

// What cutting the graph into blocks costs on a processor present here, measured (runtime/switch_costs.h): a
// block of a plan is not just the sum of its nodes. Each block run pays a fixed entry/exit cost, and a value that
// crosses a block boundary costs time on both sides (CPU: the block's interface is plain NCHW, so the layers next
// to a cut cannot use the faster blocked layout; CUDA: the block stages its inputs and outputs through host
// memory). Keyed by value of the graph given to PlanGraph; values not listed cost nothing extra.
struct BoundaryCosts {
  double block_ms = 0;
  std::map<ValueId, double> enter_ms;  // extra time on this processor when the value enters a block here
  std::map<ValueId, double> leave_ms;  // extra time when the value leaves a block here
  std::map<ValueId, double> recombine_ms;  // a splittable layer's output: concatenating its two shares here
};

struct PlannerOptions {
  PlanMethod method = PlanMethod::kAuto;  // auto: DP on the segment chain; MILP on the runs DAG when it branches
                                          // and is small (<= milp_max_tasks), keeping the better plan. The MILP
                                          // may take milp_time_limit_s: re-planning at run time wants kDp (ms).
  bool intra_layer_splits = true;         // consider splitting Conv/Gemm/MatMul output channels across two processors
  // ... only when that finishes the layer at least this fraction sooner (or is needed for memory). Measured
  // processors (LocalPlannerInputs) use 0.1: a smaller predicted gain is within the measurements' noise and the
  // concurrent shares' interference varies.
  double split_min_gain = 0;
  // ... and a plan over several processors must beat the best feasible single processor's objective by this
  // fraction, else that processor runs the whole graph. Measured processors use 0.05: a smaller predicted gain is
  // within the measurements' noise and below what waking an idle processor costs (GoogLeNet over cpu-big +
  // cpu-little: the last layer moved to the idle core for a predicted 1 % gain took 0.49 ms instead of 0.30).
  double switch_min_gain = 0;
  double milp_time_limit_s = 0.5;         // auto: the MILP refinement is bounded by this (re-planning at run time: use kDp)
  int milp_max_tasks = 40;
  int max_labels_per_state = 64;          // Pareto labels kept per DP state (exact below this; thinned beyond)
  // Non-empty: no optimisation — this placement of the unit-block chain (a processor index per segment of
  // CutIntoSegments, dense, no splits) is evaluated and reported like a solution (method "fixed"). For checking
  // the cost model on plans DAD would not choose; limits are reported, not enforced.
  std::vector<int> fixed_segments;
};

struct PlannerInputs {
  std::vector<ProcessorSpec> processors;
  MeasuredNodeTimes measured;             // optional, indexed like processors
  std::vector<BoundaryCosts> boundaries;  // optional, indexed like processors (none: blocks cost their nodes only)
  PlanConditions conditions;
  PlanLimits limits;
  PlanObjective objective = PlanObjective::kEnergy;
  std::map<NodeId, std::vector<RankVariant>> rank_variants;  // compressible nodes -> their variants
  PlannerOptions options;
};

// Predicted cost of a plan (or of one block of it).
struct PlanCost {
  double latency_ms = 0;
  double energy_mj = 0;
  double memory_mb = 0;                   // total over processors
  std::vector<double> memory_mb_per_processor;
  double accuracy_drop = 0;
  bool feasible = true;
  std::string violated;                   // which limit it breaks ("latency 812 ms > 500 ms"), when infeasible
};

struct BlockRank {
  NodeId node = -1;
  int64_t rank = 0;                       // 0: dense
};

// One block of the plan, in plan order (plan.blocks[i] <-> blocks[i]).
struct BlockReport {
  std::vector<NodeId> nodes;
  int processor = 0;                      // index into PlannerInputs::processors
  std::vector<BlockRank> ranks;          // compressed nodes of this block
  double latency_ms = 0;                  // compute on its processor (not counting transfers), including the
                                          // block's entry/exit and its boundary values' costs (boundary_ms)
  double boundary_ms = 0;                 // of which: block entry/exit + values entering/leaving it (measured)
  double transfer_in_ms = 0;              // moving its inputs to its processor
  double energy_mj = 0;                   // its processor's active power x latency + energy of moving its inputs in
                                          // (the device's idle power over the inference is in the totals only)
  double memory_mb = 0;                   // weights + peak activations on its processor
  bool measured_latency = false;          // from profiling here (else roofline from the profile)
  int split_group = -1;                   // blocks of one split layer share a group id (they run concurrently)
  double split_fraction = 0;              // this block's share of the split layer's output channels
};

// A plan of one kind compared in the report: "cpu-big" alone, "offload:remote-lte", "neurosurgeon", ...
struct BaselineReport {
  std::string name;
  PlanCost cost;
  int split_after_segment = -1;           // neurosurgeon: last segment run locally (-1: none / not a split)
  std::string detail;                     // neurosurgeon: "cpu | cloud" (the two processors of the split)
};

struct FrontierPoint {
  double latency_ms = 0;
  double energy_mj = 0;
  double accuracy_drop = 0;
};

struct PlanReport {
  // The graph the plan refers to: the input graph with intra-layer splits applied (equal to it when none).
  std::shared_ptr<Graph> graph;
  Plan plan;                              // blocks bound to processor indices (Block::backend)
  std::vector<BlockReport> blocks;        // parallel to plan.blocks
  std::vector<std::vector<NodeId>> segments;  // the unit-block chain (node ids of the input graph)
  PlanCost predicted;                     // totals of the chosen plan
  std::string energy_source = "modelled";  // "measured" when every processor's power came from a meter
  std::vector<BaselineReport> baselines;  // single processors, full offload to each remote, neurosurgeon
  std::vector<FrontierPoint> frontier;    // energy-latency Pareto frontier (accuracy within the limit)
  std::string method;                     // "dp", "milp", "brute-force"
  double milp_gap = 0;                    // relative gap of the MILP incumbent when its time limit hit
  double plan_time_ms = 0;                // optimisation time (excludes profiling)
  std::vector<std::string> notes;         // assumptions worth telling the user (fallbacks, approximations)
};

// Plans `specialised` (concrete shapes, topologically sorted) across inputs.processors. Errors:
//   INVALID_ARGUMENT: no processors, bad conditions, a graph that is not specialised;
//   FAILED_PRECONDITION ("infeasible: ..."): no plan meets the limits — the message names the limit that cannot
//   be met and the best value achievable for it (e.g. "latency limit 10 ms cannot be met: best achievable 37.2 ms").
Result<PlanReport> PlanGraph(const Graph& specialised, const PlannerInputs& inputs);

// The cost of running all of `specialised` on processor `p` alone (what the baselines report).
Result<PlanCost> SingleProcessorCost(const Graph& specialised, const PlannerInputs& inputs, int p);

}  // namespace deepx
