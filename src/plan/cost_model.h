// Pass 2 of the planner: what each node costs on each processor, and the PlanProblem of a chain or DAG of tasks.
//
// Latency of a node on processor p at RLC level j:
//   measured here (PlannerInputs::measured, ms per node; a compressed variant scales it by the roofline ratio of
//   variant to dense on p), else the roofline of p's profile:
//     max(flops / (gflops * efficiency), bytes / gbps) + launch_overhead_us per kernel (2 for a factorised layer)
//   then divided by (1 - load) of p. Unsupported ops cost infinity on p.
// Memory: weights (constant inputs, or the factors of a compressed layer) + the node's run-time inputs and outputs.
// Transfers p -> q cross the links home <-> p and home <-> q: each link costs latency + bytes / bandwidth; the link
// into a processor (uplink to a remote) also costs its fixed energy (radio promotion + tail) once per transfer.
#pragma once

#include <map>
#include <vector>

#include "plan/plan_problem.h"
#include "plan/planner.h"
#include "plan/unit_blocks.h"

namespace deepx {

struct NodeCost {
  double flops = 0;
  double bytes = 0;          // read + written once each (roofline traffic)
  double weight_bytes = 0;   // constant inputs
  double activation_bytes = 0;  // run-time inputs + outputs
  bool compressible = false;    // has RankVariants
  bool splittable = false;      // Conv (group 1) / Gemm / MatMul with constant weights: output channels can split
};

// Per node x processor x RLC level. Level 0 is dense; level j >= 1 uses each compressible node's (j-1)-th variant
// (its last one when it has fewer), variants ordered by increasing accuracy loss.
struct CostTables {
  int levels = 1;
  std::vector<NodeCost> nodes;
  std::vector<std::vector<std::vector<double>>> seconds;  // [level][node][proc]
  std::vector<std::vector<double>> weight_bytes;          // [level][node]
  std::vector<std::vector<double>> accuracy_loss;         // [level][node]
  std::vector<std::vector<int64_t>> rank;                 // [level][node], 0: dense
  std::vector<std::vector<bool>> measured;                // [node][proc]: latency from profiling
  std::vector<std::vector<TransferCost>> link;            // [from][to]
  int home = 0;
};

// Processor p's load under in.conditions (0 when none is given): its times are divided by 1 - load.
double LoadOn(const PlannerInputs& in, size_t p);

// The measured fixed cost of a block on processor p (BoundaryCosts::block_ms), in seconds under p's load; 0 when
// not measured.
double BlockSeconds(const PlannerInputs& in, size_t p);

// The measured boundary time of `v` on processor p (milliseconds in `ms`, e.g. BoundaryCosts::enter_ms), in seconds
// under p's load; 0 when not measured.
double BoundarySeconds(const PlannerInputs& in, size_t p, const std::map<ValueId, double>& ms, ValueId v);

// Roofline seconds of `flops` / `bytes` in `kernels` kernels on `p` (no load).
double RooflineSeconds(const ProcessorSpec& p, double flops, double bytes, int kernels);

// The processors after applying conditions (load stays separate: it scales latencies), checked.
Result<std::vector<ProcessorSpec>> EffectiveProcessors(const PlannerInputs& in);

Result<CostTables> BuildCostTables(const Graph& g, const PlannerInputs& in);

// The chain problem over `chain` (source task pinned home, one task per segment, sink pinned home).
// task_level[t][k]: the RLC level of variant k of task t.
PlanProblem BuildChainProblem(const Graph& g, const SegmentChain& chain, const CostTables& costs,
                              const PlannerInputs& in, std::vector<std::vector<int>>* task_level);
// The DAG problem over `dag` (source, runs..., sink), no splits.
PlanProblem BuildDagProblem(const Graph& g, const RunDag& dag, const CostTables& costs, const PlannerInputs& in,
                            std::vector<std::vector<int>>* task_level);

}  // namespace deepx
