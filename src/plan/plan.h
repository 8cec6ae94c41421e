// A Plan: the graph cut into blocks, each bound to one backend (processor), executed in order with tensors
// transferred between processors at block boundaries.
//
// The simplest plan is one block on one backend. The DAD planner produces many-block plans across CPU, GPU and
// remote processors; the executor does not care who made the plan.
#pragma once

#include <string>
#include <vector>

#include "core/graph.h"
#include "deepx/status.h"

namespace deepx {

struct Block {
  int backend = 0;                // index into the session's backend list
  std::vector<NodeId> nodes;      // in topological order
  std::vector<ValueId> inputs;    // non-constant values read by the block and produced outside it
  std::vector<ValueId> outputs;   // values produced in the block and read after it (or graph outputs)
};

struct Plan {
  std::vector<Block> blocks;
};

// Groups `node_backend` (one backend index per node, in graph order) into blocks of consecutive nodes on the same
// backend and computes every block's inputs and outputs. A block also ends after a node whose output another
// backend reads, and a new one starts at a node reading a value from another backend, so that work placed on
// different processors can overlap (a block starts when all its inputs are there and publishes when it ends).
Result<Plan> PlanFromAssignment(const Graph& g, const std::vector<int>& node_backend);

// Blocks given by their nodes and backends (inputs/outputs computed), checked like ValidatePlan with
// `num_backends`. Unlike PlanFromAssignment, consecutive blocks may share a backend.
Result<Plan> PlanFromBlocks(const Graph& g, std::vector<Block> blocks, int num_backends);

// One block holding every node, on `backend`.
Plan SingleBackendPlan(const Graph& g, int backend = 0);

// Checks a plan covers every node once, in dependency order, with backends in [0, num_backends).
Status ValidatePlan(const Graph& g, const Plan& plan, int num_backends);

}  // namespace deepx
