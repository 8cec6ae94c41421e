// A block of a plan as a graph of its own: the block's nodes, its inputs as graph inputs, its outputs as graph
// outputs and the constants it reads copied in. Backends that compile or ship a block as a standalone model (the
// remote backend serialises it to ONNX for a server; device backends may reuse it) start from here.
#pragma once

#include "core/graph.h"
#include "deepx/status.h"
#include "plan/plan.h"

namespace deepx {

// Fails (INVALID_ARGUMENT, naming the node and value) when a node of the block reads a non-constant value that is
// neither a block input nor produced earlier in the block, or when a block input/output is out of range.
// Constant tensors are shared with `g` (tensors are reference counted), not deep-copied.
Result<Graph> ExtractBlockGraph(const Graph& g, const Block& b);

}  // namespace deepx
