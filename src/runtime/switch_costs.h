// What cutting a graph into blocks costs on a processor present here (plan/planner.h BoundaryCosts), measured.
//
// A block is not the sum of its nodes' times in a one-block run: every kernel call has a fixed entry/exit cost,
// and a value crossing a block boundary costs time on both sides — the CPU backend keeps activations in the
// blocked NHWC layout inside a block but hands plain NCHW across its boundary, so the layers next to a cut run
// their slower plain-layout kernels; the CUDA backend stages a block's inputs and outputs through host memory.
// Without these the planner took cuts to be free and alternated processors every few layers (SqueezeNet over
// cpu-big + cpu-little: 9.0 ms predicted, 36.5 ms measured).
//
// Method, on the unit-block chain (plan/unit_blocks.h) of the graph, all blocks on the one processor:
//   A: the whole graph as one block        -> t0(s): each segment's node time
//   B: blocks of segments {0,1} {2,3} ...  -> every odd cut is a boundary
//   C: blocks {0} {1,2} {3,4} ...          -> every even cut is a boundary
// The fixed cost c0 of a block is the least time outside any node over the blocks of B and C; what the whole
// graph's block spends outside its nodes beyond c0 (converting graph inputs and outputs) is charged to the graph
// inputs' entry, which every plan pays. The three plans run alternately (so load changes hit all alike), `repeats` times after a warm-up, and medians
// are taken. In B and C every block has at most one boundary on each side, and each cut is a block's entry once
// and a block's exit once over B and C. A block's time beyond c0 and its segments' t0 is split between its entry
// and exit: the extra node time of its first segment goes to the entry, of its last segment to the exit, and
// time outside any node (staging, conversions between kernels) in proportion to the two values' bytes. Also
// timed: concatenating the two halves of each layer the planner may split (its recombination). Every time is
// scaled by untimed / timed whole runs, since per-node timing slows some backends (CUDA: no graph replay).
#pragma once

#include <memory>
#include <vector>

#include "core/graph.h"
#include "deepx/status.h"
#include "plan/planner.h"
#include "runtime/backend.h"

namespace deepx {

// Boundary costs of `graph` on `backend` (every node must be supported there). `inputs` follow graph->inputs.
Result<BoundaryCosts> MeasureBoundaryCosts(const std::shared_ptr<const Graph>& graph,
                                           const std::shared_ptr<Backend>& backend,
                                           const std::vector<Tensor>& inputs, int repeats = 5);

}  // namespace deepx
