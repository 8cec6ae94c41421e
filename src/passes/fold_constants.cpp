#include "passes/passes.h"

namespace deepx {

// InferShapes already ran every node whose inputs were all constant and stored the results on its output
// values, so such a node has nothing left to compute: its outputs behave like initializers from here on.
Status FoldConstants(Graph& g) {
  std::vector<Node> kept;
  kept.reserve(g.nodes.size());
  for (Node& n : g.nodes) {
    bool any_output = false;
    bool all_constant = true;
    for (ValueId v : n.outputs) {
      if (v == kNoValue) continue;
      any_output = true;
      all_constant &= g.value(v).is_constant();
    }
    // A node with no outputs at all is dead anyway; RemoveDeadCode decides about it.
    if (any_output && all_constant) continue;
    kept.push_back(std::move(n));
  }
  g.nodes = std::move(kept);
  // Values only the folded nodes read (shape arithmetic inputs, Constant-node payloads) are now unreferenced;
  // constant graph outputs are still referenced by g.outputs and survive as plain constants.
  g.RemoveDeadCode();
  return Status::Ok();
}

}  // namespace deepx
