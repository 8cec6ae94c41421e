#include <algorithm>
#include <string>
#include <vector>

#include "passes/pass_util.h"
#include "passes/passes.h"

namespace deepx {
namespace {

using pass_util::CountReads;
using pass_util::EraseNodes;
using pass_util::IsDefaultDomain;
using pass_util::IsPresent;

// Dropout-12 moved ratio to input 1 and added the training_mode input 2.
constexpr int kDropoutInputsOpset = 12;

// Whether a Dropout node is a plain copy of its input: no one looks at its mask and it is provably in inference
// mode. A training_mode computed at run time keeps the node, so its kernel can still refuse training.
bool DropoutIsIdentity(const Graph& g, const Node& n, const std::vector<int>& reads) {
  if (IsPresent(n.outputs, 1)) {
    ValueId mask = n.outputs[1];
    if (reads[static_cast<size_t>(mask)] > 0 || g.IsGraphOutput(mask)) return false;
  }
  for (size_t i = 2; i < n.outputs.size(); ++i)
    if (n.outputs[i] != kNoValue) return false;  // malformed; leave it to shape inference to report
  if (n.opset < kDropoutInputsOpset) {
    for (size_t i = 1; i < n.inputs.size(); ++i)
      if (n.inputs[i] != kNoValue) return false;  // malformed before opset 12; same reason
    return true;
  }
  if (!IsPresent(n.inputs, 2)) return true;
  const Value& mode = g.value(n.inputs[2]);
  if (!mode.is_constant() || mode.constant.num_elements() < 1) return false;
  return mode.constant.GetAsInt64(0) == 0;
}

// Whether a Pad node pads nothing: every pad is a constant zero. PyTorch exports avg_pool2d as such a Pad before
// the AveragePool, which would otherwise cost a copy of the tensor per run.
bool PadIsIdentity(const Graph& g, const Node& n) {
  if (n.outputs.size() != 1) return false;
  std::vector<int64_t> pads;
  if (n.opset < 11) {
    pads = n.attrs.Ints(n.opset < 2 ? "paddings" : "pads");
  } else {
    if (!IsPresent(n.inputs, 1) || !g.value(n.inputs[1]).is_constant()) return false;
    pads = g.value(n.inputs[1]).constant.ToInt64Vector();
  }
  return !pads.empty() && std::all_of(pads.begin(), pads.end(), [](int64_t p) { return p == 0; });
}

}  // namespace

Status RemoveIdentityNodes(Graph& g) {
  std::vector<int> reads = CountReads(g);
  std::vector<NodeId> producer = g.Producers();
  std::vector<bool> is_graph_input(g.values.size(), false);
  for (ValueId v : g.inputs) is_graph_input[static_cast<size_t>(v)] = true;

  std::vector<bool> removed(g.nodes.size(), false);
  bool changed = false;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    if (!IsDefaultDomain(n)) continue;
    if (n.op_type != "Identity" && n.op_type != "Dropout" && n.op_type != "Pad") continue;
    if (!IsPresent(n.inputs, 0) || !IsPresent(n.outputs, 0)) continue;
    if (n.op_type == "Pad" && !PadIsIdentity(g, n)) continue;
    if (n.op_type == "Identity" && (n.inputs.size() != 1 || n.outputs.size() != 1)) continue;
    if (n.op_type == "Dropout" && !DropoutIsIdentity(g, n, reads)) continue;

    const ValueId x = n.inputs[0];
    const ValueId y = n.outputs[0];
    if (!g.IsGraphOutput(y)) {
      g.ReplaceAllUses(y, x);
    } else {
      // The caller knows outputs by name, so y must survive. When x is an ordinary intermediate, let its
      // producer write y directly; when x is a graph input, a graph output or a constant, the copy is real work
      // the graph needs (two names for one tensor), so the node stays.
      const size_t xi = static_cast<size_t>(x);
      const NodeId p = producer[xi];
      if (p < 0 || removed[static_cast<size_t>(p)] || is_graph_input[xi] || g.IsGraphOutput(x) ||
          g.value(x).is_constant())
        continue;
      for (ValueId& out : g.node(p).outputs)
        if (out == x) out = y;
      g.ReplaceAllUses(x, y);
      producer[static_cast<size_t>(y)] = p;
      Value& yv = g.value(y);
      const Value& xv = g.value(x);
      if (yv.dtype == DataType::kUndefined) yv.dtype = xv.dtype;
      if (!yv.has_shape && xv.has_shape) {
        yv.shape = xv.shape;
        yv.has_shape = true;
      }
    }
    removed[i] = true;
    changed = true;
  }
  if (!changed) return Status::Ok();

  EraseNodes(g, removed);  // drops the values only the removed nodes referenced
  return Status::Ok();
}

}  // namespace deepx
