// Intra-layer split (a unit-block smaller than a layer): a Conv (group 1), Gemm or MatMul with constant weights has
// its output channels (Conv: dim 1 of the output; Gemm/MatMul: the last dim) cut at a fraction f into two nodes —
// the first computing channels [0, c), the second [c, C) — whose outputs a Concat recombines into the original
// output value. The two parts are independent, so a plan may run them on two processors concurrently. Numerics are
// those of the unsplit layer: each output channel is computed from the same weights and inputs (tests compare on
// the reference backend).
#pragma once

#include <string>

#include "core/graph.h"
#include "deepx/status.h"

namespace deepx {

struct SplitNodes {
  NodeId first = -1;   // channels [0, channels_first)
  NodeId second = -1;  // the rest
  NodeId concat = -1;
  int64_t channels_first = 0;
  int64_t channels = 0;
};

// Splits node `node` of the specialised graph `g` in place (nodes after it shift by two). `fraction` in (0, 1) is
// the share of output channels of the first part, rounded to whole channels, at least one on each side.
// Fails (UNIMPLEMENTED) for nodes that cannot split: other ops, grouped convs, non-constant or non-float weights,
// fewer than two output channels.
Result<SplitNodes> SplitOutputChannels(Graph& g, NodeId node, double fraction);

}  // namespace deepx
