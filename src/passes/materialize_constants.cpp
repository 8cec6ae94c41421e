#include "ops/op.h"
#include "passes/passes.h"

namespace deepx {

Status MaterializeConstantNodes(Graph& g) {
  const OpSchema* schema = OpRegistry::Default().Find("Constant");
  if (!schema || !schema->infer) return Status::Ok();
  bool changed = false;
  for (size_t id = 0; id < g.nodes.size(); ++id) {
    const Node& n = g.nodes[id];
    if (n.op_type != "Constant" || !n.domain.empty() || n.outputs.size() != 1 || n.outputs[0] == kNoValue) continue;
    // Constant's infer validates the attribute and stores the value on the output; a malformed one is left in
    // place for shape inference to report with its usual message.
    InferContext ctx(g, static_cast<NodeId>(id));
    if (!schema->infer(ctx).ok() || !g.value(n.outputs[0]).is_constant()) continue;
    changed = true;
  }
  if (!changed) return Status::Ok();
  return FoldConstants(g);
}

}  // namespace deepx
