// Pass 1 of the planner: unit-blocks.
//
// Segments: the graph (topologically ordered) cut into a chain wherever at most `max_cut_values` run-time values
// are live across the cut (an articulation point of the data flow). A plain CNN becomes one segment per layer
// (fused activations are part of their layer); a residual block, an Inception module or a Fire module becomes one
// segment, so the chain DP sees a chain. Consecutive segments on one processor form a run of layers (one block).
//
// Runs: maximal linear runs of nodes (each node after the first has exactly one producer, the previous node, whose
// outputs nobody else reads): the DAG the MILP plans when branches may run on different processors concurrently.
#pragma once

#include <vector>

#include "core/graph.h"

namespace deepx {

struct SegmentChain {
  std::vector<std::vector<NodeId>> segments;
  // cut_bytes[i]: bytes of the run-time values live across the cut before segment i (i = 0: graph inputs;
  // i = segments.size(): graph outputs).
  std::vector<double> cut_bytes;
  std::vector<std::vector<ValueId>> cut_values;  // the values behind cut_bytes[i]
};

SegmentChain CutIntoSegments(const Graph& g, int max_cut_values = 1);

struct RunDag {
  std::vector<std::vector<NodeId>> runs;  // in topological order (by first node)
  struct Link {
    int from = 0, to = 0;  // run indices; -1: the graph inputs (source), runs.size(): the graph outputs (sink)
    double bytes = 0;
    std::vector<ValueId> values;  // what flows along it
  };
  std::vector<Link> links;
};

RunDag SplitIntoRuns(const Graph& g);

// Bytes of a value (elements x dtype size; 0 without a shape).
double ValueBytes(const Graph& g, ValueId v);

}  // namespace deepx
