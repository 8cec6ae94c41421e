#include "ops/op.h"

#include "ops/register_ops.h"

namespace deepx {

InferContext::InferContext(Graph& graph, NodeId node) : graph_(graph), node_(node) {}

const Tensor* InferContext::input_constant(size_t i) const {
  if (!has_input(i)) return nullptr;
  const Value& v = input(i);
  return v.is_constant() ? &v.constant : nullptr;
}

void InferContext::SetOutput(size_t i, DataType dtype, Shape shape) {
  if (!has_output(i)) return;
  Value& v = graph_.value(node().outputs[i]);
  v.dtype = dtype;
  v.shape = std::move(shape);
  v.has_shape = true;
}

void InferContext::SetOutputConstant(size_t i, Tensor value) {
  if (!has_output(i)) return;
  Value& v = graph_.value(node().outputs[i]);
  v.dtype = value.dtype();
  v.shape = value.shape();
  v.has_shape = true;
  v.constant = std::move(value);
}

static double ValueBytes(const Value* v) {
  if (!v) return 0;
  return static_cast<double>(NumElements(v->shape)) * static_cast<double>(DataTypeSize(v->dtype));
}

OpCost ElementwiseCost(const CostContext& ctx, double flops_per_output) {
  OpCost c;
  for (const Value* v : ctx.inputs) c.bytes_read += ValueBytes(v);
  for (const Value* v : ctx.outputs) {
    c.bytes_written += ValueBytes(v);
    if (v) c.flops += flops_per_output * static_cast<double>(NumElements(v->shape));
  }
  return c;
}

OpCost ComputeCost(const OpSchema& schema, const CostContext& ctx) {
  return schema.cost ? schema.cost(ctx) : ElementwiseCost(ctx, 1.0);
}

void OpRegistry::Register(OpSchema schema) {
  std::string name = schema.name;
  schemas_[name] = std::move(schema);
}

const OpSchema* OpRegistry::Find(const std::string& op_type) const {
  auto it = schemas_.find(op_type);
  return it == schemas_.end() ? nullptr : &it->second;
}

std::vector<std::string> OpRegistry::Names() const {
  std::vector<std::string> names;
  for (const auto& [name, schema] : schemas_) names.push_back(name);
  return names;
}

const OpRegistry& OpRegistry::Default() {
  static const OpRegistry registry = [] {
    OpRegistry r;
    RegisterAllOps(r);
    return r;
  }();
  return registry;
}

}  // namespace deepx
