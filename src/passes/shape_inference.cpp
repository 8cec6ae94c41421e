#include "passes/shape_inference.h"

#include <algorithm>

namespace deepx {

Status ValidateNodeSignature(const Graph& g, const Node& n, const OpSchema& s) {
  auto count = [](const std::vector<ValueId>& ids) {
    // Trailing omitted optionals do not count; omitted ones in the middle do (they hold a position).
    size_t k = ids.size();
    while (k > 0 && ids[k - 1] == kNoValue) --k;
    return static_cast<int>(k);
  };
  int ni = count(n.inputs), no = count(n.outputs);
  if (ni < s.min_inputs || ni > s.max_inputs) {
    return InvalidArgument(g.NodeLabel(n) + ": expects " + std::to_string(s.min_inputs) + ".." +
                           std::to_string(s.max_inputs) + " inputs, got " + std::to_string(ni));
  }
  if (no < s.min_outputs || no > s.max_outputs) {
    return InvalidArgument(g.NodeLabel(n) + ": expects " + std::to_string(s.min_outputs) + ".." +
                           std::to_string(s.max_outputs) + " outputs, got " + std::to_string(no));
  }
  for (int i = 0; i < s.min_inputs; ++i) {
    if (n.inputs[static_cast<size_t>(i)] == kNoValue)
      return InvalidArgument(g.NodeLabel(n) + ": required input " + std::to_string(i) + " is empty");
  }
  for (const auto& [name, value] : n.attrs.all()) {
    if (name.rfind("deepx.", 0) == 0) continue;  // internal, set by passes (the loader rejects them in files)
    if (std::find(s.attributes.begin(), s.attributes.end(), name) == s.attributes.end())
      return Unimplemented(g.NodeLabel(n) + ": unsupported attribute '" + name + "'");
  }
  return Status::Ok();
}

Result<std::vector<Tensor>> RunReferenceNode(const Graph& g, const Node& n, const OpSchema& schema,
                                             const std::vector<const Tensor*>& inputs) {
  std::vector<Tensor> outputs(n.outputs.size());
  KernelContext ctx{n, inputs, {}};
  for (size_t i = 0; i < n.outputs.size(); ++i) {
    if (n.outputs[i] != kNoValue) {
      const Value& v = g.value(n.outputs[i]);
      outputs[i] = Tensor::Zeros(v.dtype, v.shape);
    }
    ctx.outputs.push_back(&outputs[i]);
  }
  if (!schema.reference) return Unimplemented(g.NodeLabel(n) + ": no reference kernel");
  DX_RETURN_IF_ERROR_CTX(schema.reference(ctx), g.NodeLabel(n));
  return outputs;
}

Status InferShapes(Graph& g, const OpRegistry& registry, const InferOptions& options) {
  for (size_t id = 0; id < g.nodes.size(); ++id) {
    const Node& n = g.nodes[id];
    const std::string label = g.NodeLabel(n);
    const OpSchema* schema = registry.Find(n.op_type);
    if (!schema || (!n.domain.empty() && n.domain != "ai.onnx"))
      return Unimplemented(label + ": unknown op '" + (n.domain.empty() ? "" : n.domain + ".") + n.op_type + "'");
    DX_RETURN_IF_ERROR(ValidateNodeSignature(g, n, *schema));

    bool all_constant = true;
    for (size_t i = 0; i < n.inputs.size(); ++i) {
      if (n.inputs[i] == kNoValue) continue;
      const Value& v = g.value(n.inputs[i]);
      if (!v.has_shape || v.dtype == DataType::kUndefined)
        return InvalidArgument(label + ": input '" + v.name + "' has no known shape or type");
      for (int64_t d : v.shape)
        if (d < 0) return InvalidArgument(label + ": input '" + v.name + "' has unresolved dynamic shape " +
                                          ShapeToString(v.shape));
      all_constant &= v.is_constant();
    }

    InferContext ctx(g, static_cast<NodeId>(id));
    if (!schema->infer) return Unimplemented(label + ": op has no shape inference");
    DX_RETURN_IF_ERROR_CTX(schema->infer(ctx), label);

    bool outputs_known = true;
    bool small_enough_to_fold = true;
    for (ValueId out : n.outputs) {
      if (out == kNoValue) continue;
      Value& v = g.value(out);
      if (!v.has_shape || v.dtype == DataType::kUndefined)
        return Internal(label + ": shape inference did not set output '" + v.name + "'");
      auto count = CheckedNumElements(v.shape, options.max_elements);
      if (!count.ok()) return count.status().WithContext(label + ": output '" + v.name + "'");
      outputs_known &= v.is_constant();
      small_enough_to_fold &= *count <= options.max_fold_elements;
    }

    if (options.fold_constants && all_constant && !outputs_known && small_enough_to_fold) {
      std::vector<const Tensor*> inputs;
      for (ValueId in : n.inputs) inputs.push_back(in == kNoValue ? nullptr : &g.value(in).constant);
      DX_ASSIGN_OR_RETURN(std::vector<Tensor> folded, RunReferenceNode(g, n, *schema, inputs));
      for (size_t i = 0; i < n.outputs.size(); ++i)
        if (n.outputs[i] != kNoValue) g.value(n.outputs[i]).constant = std::move(folded[i]);
    }
  }
  return Status::Ok();
}

Result<Graph> SpecializeGraph(const Graph& model_graph, const std::map<std::string, Shape>& input_shapes,
                              const OpRegistry& registry, const InferOptions& options,
                              const std::map<std::string, Tensor>& input_values) {
  Graph g = model_graph;
  for (const auto& [name, shape] : input_shapes) {
    ValueId id = g.FindValue(name);
    if (id == kNoValue || std::find(g.inputs.begin(), g.inputs.end(), id) == g.inputs.end())
      return NotFound("model has no input named '" + name + "'");
    Value& v = g.value(id);
    if (v.has_shape) {
      if (v.shape.size() != shape.size())
        return InvalidArgument("input '" + name + "' must have rank " + std::to_string(v.shape.size()) +
                               " (" + ShapeToString(v.shape) + "), got " + ShapeToString(shape));
      for (size_t i = 0; i < shape.size(); ++i)
        if (v.shape[i] >= 0 && v.shape[i] != shape[i])
          return InvalidArgument("input '" + name + "' must have shape " + ShapeToString(v.shape) + ", got " +
                                 ShapeToString(shape));
    }
    v.shape = shape;
    v.has_shape = true;
  }
  for (ValueId id : g.inputs) {
    Value& v = g.value(id);
    if (!v.has_shape) return InvalidArgument("input '" + v.name + "' has no declared shape; pass one explicitly");
    for (int64_t& d : v.shape)
      if (d < 0) d = 1;
  }
  for (ValueId id : g.inputs) {
    Value& v = g.value(id);
    auto n = CheckedNumElements(v.shape, options.max_elements);
    if (!n.ok()) return n.status().WithContext("input '" + v.name + "'");
  }
  for (const auto& [name, value] : input_values) {
    ValueId id = g.FindValue(name);
    auto pos = std::find(g.inputs.begin(), g.inputs.end(), id);
    if (id == kNoValue || pos == g.inputs.end()) return NotFound("model has no input named '" + name + "'");
    Value& v = g.value(id);
    if (value.shape() != v.shape || value.dtype() != v.dtype)
      return InvalidArgument("value given for input '" + name + "' does not match its shape or type");
    v.constant = value;
    g.inputs.erase(pos);
  }
  DX_RETURN_IF_ERROR(InferShapes(g, registry, options));
  return g;
}

}  // namespace deepx
