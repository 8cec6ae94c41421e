// The graph IR every DeepX stage works on: loader -> passes -> planner -> backends.
//
// A Graph is a list of nodes in topological order over a table of values. Every value has a dtype and, once the
// graph is specialised for concrete input shapes (see core/shape_inference.h), a concrete shape. A value with a
// constant tensor is a weight or a folded result; everything else is computed at run time.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/attributes.h"
#include "deepx/status.h"
#include "deepx/tensor.h"

namespace deepx {

using ValueId = int32_t;
using NodeId = int32_t;
inline constexpr ValueId kNoValue = -1;  // an omitted optional input/output

struct Value {
  std::string name;
  DataType dtype = DataType::kUndefined;
  // Concrete after specialisation. Before it, graph inputs may hold -1 for a dynamic dimension.
  Shape shape;
  bool has_shape = false;  // false until shape inference (or the model file) provides one
  Tensor constant;         // non-empty for initializers and folded values
  bool is_constant() const { return !constant.empty(); }
};

struct Node {
  std::string name;     // unique; the loader names unnamed nodes "<op_type>_<index>"
  std::string op_type;  // "Conv", "Relu", ...
  std::string domain;   // "" for the default ONNX domain
  int opset = 0;        // the opset version the model imports for `domain`
  std::vector<ValueId> inputs;   // kNoValue for an omitted optional input
  std::vector<ValueId> outputs;  // kNoValue for an omitted optional output
  Attributes attrs;
};

class Graph {
 public:
  std::string name;
  std::vector<Value> values;
  std::vector<Node> nodes;        // topological order once TopologicalSort() succeeded
  std::vector<ValueId> inputs;    // run-time inputs (initializers excluded)
  std::vector<ValueId> outputs;
  int opset = 0;                  // default-domain opset version

  // Adds a value; the name must be unique (checked by the caller, see FindValue).
  ValueId AddValue(Value v);
  // The value with this name, or kNoValue.
  ValueId FindValue(const std::string& name) const;
  Value& value(ValueId id) { return values[static_cast<size_t>(id)]; }
  const Value& value(ValueId id) const { return values[static_cast<size_t>(id)]; }
  Node& node(NodeId id) { return nodes[static_cast<size_t>(id)]; }
  const Node& node(NodeId id) const { return nodes[static_cast<size_t>(id)]; }

  // For each value, the node producing it (-1 for graph inputs and constants).
  std::vector<NodeId> Producers() const;
  // For each value, the nodes reading it.
  std::vector<std::vector<NodeId>> Consumers() const;
  // Whether a value is a graph output.
  bool IsGraphOutput(ValueId id) const;

  // Orders nodes so that every input is produced before it is read. Fails naming a node on a cycle.
  Status TopologicalSort();
  // Drops nodes whose outputs are not needed for the graph outputs, then values nobody references.
  void RemoveDeadCode();
  // Replaces every read of `from` (node inputs and graph outputs) with `to`.
  void ReplaceAllUses(ValueId from, ValueId to);

  // "node 'conv1' (Conv)" for error messages.
  std::string NodeLabel(const Node& n) const;
  std::string NodeLabel(NodeId id) const { return NodeLabel(node(id)); }

  // Rebuilds the name -> id index after values were edited directly.
  void ReindexValues();

 private:
  std::unordered_map<std::string, ValueId> value_index_;
};

}  // namespace deepx
