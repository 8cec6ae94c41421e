#include "core/graph.h"

#include <algorithm>

namespace deepx {

ValueId Graph::AddValue(Value v) {
  ValueId id = static_cast<ValueId>(values.size());
  if (!v.name.empty()) value_index_[v.name] = id;
  values.push_back(std::move(v));
  return id;
}

ValueId Graph::FindValue(const std::string& n) const {
  auto it = value_index_.find(n);
  return it == value_index_.end() ? kNoValue : it->second;
}

void Graph::ReindexValues() {
  value_index_.clear();
  for (size_t i = 0; i < values.size(); ++i)
    if (!values[i].name.empty()) value_index_[values[i].name] = static_cast<ValueId>(i);
}

std::vector<NodeId> Graph::Producers() const {
  std::vector<NodeId> producer(values.size(), -1);
  for (size_t n = 0; n < nodes.size(); ++n)
    for (ValueId v : nodes[n].outputs)
      if (v != kNoValue) producer[static_cast<size_t>(v)] = static_cast<NodeId>(n);
  return producer;
}

std::vector<std::vector<NodeId>> Graph::Consumers() const {
  std::vector<std::vector<NodeId>> consumers(values.size());
  for (size_t n = 0; n < nodes.size(); ++n)
    for (ValueId v : nodes[n].inputs)
      if (v != kNoValue) {
        auto& c = consumers[static_cast<size_t>(v)];
        if (c.empty() || c.back() != static_cast<NodeId>(n)) c.push_back(static_cast<NodeId>(n));
      }
  return consumers;
}

bool Graph::IsGraphOutput(ValueId id) const {
  return std::find(outputs.begin(), outputs.end(), id) != outputs.end();
}

Status Graph::TopologicalSort() {
  // Kahn's algorithm, stable: among ready nodes the one earliest in the file goes first.
  std::vector<NodeId> producer = Producers();
  std::vector<int> pending(nodes.size(), 0);
  std::vector<std::vector<NodeId>> readers(nodes.size());
  for (size_t n = 0; n < nodes.size(); ++n) {
    for (ValueId v : nodes[n].inputs) {
      if (v == kNoValue) continue;
      NodeId p = producer[static_cast<size_t>(v)];
      if (p >= 0) {
        ++pending[n];
        readers[static_cast<size_t>(p)].push_back(static_cast<NodeId>(n));
      }
    }
  }
  std::vector<NodeId> order;
  order.reserve(nodes.size());
  std::vector<NodeId> ready;
  for (size_t n = 0; n < nodes.size(); ++n)
    if (pending[n] == 0) ready.push_back(static_cast<NodeId>(n));
  std::make_heap(ready.begin(), ready.end(), std::greater<>());
  while (!ready.empty()) {
    std::pop_heap(ready.begin(), ready.end(), std::greater<>());
    NodeId n = ready.back();
    ready.pop_back();
    order.push_back(n);
    for (NodeId r : readers[static_cast<size_t>(n)]) {
      if (--pending[static_cast<size_t>(r)] == 0) {
        ready.push_back(r);
        std::push_heap(ready.begin(), ready.end(), std::greater<>());
      }
    }
  }
  if (order.size() != nodes.size()) {
    for (size_t n = 0; n < nodes.size(); ++n)
      if (pending[n] > 0)
        return InvalidArgument("graph has a cycle through " + NodeLabel(static_cast<NodeId>(n)));
  }
  std::vector<Node> sorted;
  sorted.reserve(nodes.size());
  for (NodeId n : order) sorted.push_back(std::move(nodes[static_cast<size_t>(n)]));
  nodes = std::move(sorted);
  return Status::Ok();
}

void Graph::RemoveDeadCode() {
  // 1. Mark values needed by the outputs, walking nodes backwards (they are in topological order).
  std::vector<bool> needed(values.size(), false);
  for (ValueId v : outputs) needed[static_cast<size_t>(v)] = true;
  std::vector<bool> keep(nodes.size(), false);
  for (size_t i = nodes.size(); i-- > 0;) {
    const Node& n = nodes[i];
    bool used = false;
    for (ValueId v : n.outputs) used |= (v != kNoValue && needed[static_cast<size_t>(v)]);
    if (!used) continue;
    keep[i] = true;
    for (ValueId v : n.inputs)
      if (v != kNoValue) needed[static_cast<size_t>(v)] = true;
  }
  std::vector<Node> kept;
  for (size_t i = 0; i < nodes.size(); ++i)
    if (keep[i]) kept.push_back(std::move(nodes[i]));
  nodes = std::move(kept);

  // 2. Compact the value table to values still referenced, renumbering ids.
  std::vector<bool> referenced(values.size(), false);
  for (ValueId v : inputs) referenced[static_cast<size_t>(v)] = true;
  for (ValueId v : outputs) referenced[static_cast<size_t>(v)] = true;
  for (const Node& n : nodes) {
    for (ValueId v : n.inputs)
      if (v != kNoValue) referenced[static_cast<size_t>(v)] = true;
    for (ValueId v : n.outputs)
      if (v != kNoValue) referenced[static_cast<size_t>(v)] = true;
  }
  std::vector<ValueId> remap(values.size(), kNoValue);
  std::vector<Value> compact;
  for (size_t i = 0; i < values.size(); ++i) {
    if (!referenced[i]) continue;
    remap[i] = static_cast<ValueId>(compact.size());
    compact.push_back(std::move(values[i]));
  }
  values = std::move(compact);
  auto fix = [&](ValueId& v) {
    if (v != kNoValue) v = remap[static_cast<size_t>(v)];
  };
  for (ValueId& v : inputs) fix(v);
  for (ValueId& v : outputs) fix(v);
  for (Node& n : nodes) {
    for (ValueId& v : n.inputs) fix(v);
    for (ValueId& v : n.outputs) fix(v);
  }
  ReindexValues();
}

void Graph::ReplaceAllUses(ValueId from, ValueId to) {
  for (Node& n : nodes)
    for (ValueId& v : n.inputs)
      if (v == from) v = to;
  for (ValueId& v : outputs)
    if (v == from) v = to;
}

std::string Graph::NodeLabel(const Node& n) const { return "node '" + n.name + "' (" + n.op_type + ")"; }

}  // namespace deepx
