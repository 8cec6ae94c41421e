#include "plan/block_graph.h"

#include <string>
#include <unordered_map>

namespace deepx {

Result<Graph> ExtractBlockGraph(const Graph& g, const Block& b) {
  Graph out;
  out.name = g.name;
  out.opset = g.opset;
  // Old value id -> new value id.
  std::unordered_map<ValueId, ValueId> map;
  auto in_range = [&](ValueId id) { return id >= 0 && static_cast<size_t>(id) < g.values.size(); };
  auto add = [&](ValueId id) {
    auto [it, inserted] = map.emplace(id, kNoValue);
    if (inserted) it->second = out.AddValue(g.value(id));
    return it->second;
  };

  for (ValueId id : b.inputs) {
    if (!in_range(id)) return InvalidArgument("block input value id " + std::to_string(id) + " is out of range");
    if (g.value(id).is_constant())
      return InvalidArgument("block input '" + g.value(id).name + "' is a constant, not a run-time value");
    out.inputs.push_back(add(id));
  }
  for (NodeId nid : b.nodes) {
    if (nid < 0 || static_cast<size_t>(nid) >= g.nodes.size())
      return InvalidArgument("block node id " + std::to_string(nid) + " is out of range");
    Node n = g.node(nid);
    for (ValueId& v : n.inputs) {
      if (v == kNoValue) continue;
      if (!in_range(v)) return InvalidArgument(g.NodeLabel(nid) + " reads an out-of-range value");
      if (!map.count(v) && !g.value(v).is_constant())
        return InvalidArgument(g.NodeLabel(nid) + " reads '" + g.value(v).name +
                               "', which is neither a block input, a constant nor produced earlier in the block");
      v = add(v);
    }
    for (ValueId& v : n.outputs) {
      if (v == kNoValue) continue;
      if (!in_range(v)) return InvalidArgument(g.NodeLabel(nid) + " writes an out-of-range value");
      if (map.count(v))
        return InvalidArgument(g.NodeLabel(nid) + " writes '" + g.value(v).name + "', already defined in the block");
      v = add(v);
    }
    out.nodes.push_back(std::move(n));
  }
  for (ValueId id : b.outputs) {
    if (!in_range(id)) return InvalidArgument("block output value id " + std::to_string(id) + " is out of range");
    auto it = map.find(id);
    if (it == map.end() || g.value(id).is_constant())
      return InvalidArgument("block output '" + g.value(id).name + "' is not produced by the block");
    out.outputs.push_back(it->second);
  }
  return out;
}

}  // namespace deepx
