// What DeepX knows about one operator: how to validate a node and infer its outputs, what it costs, and its
// reference kernel.
//
// Lifecycle (after TensorFlow Lite Micro's prepare/invoke split): `infer` runs once per specialisation with
// concrete input shapes and performs *all* validation of attributes, ranks, dtypes and shapes, so that kernels —
// the reference one here and every optimised backend's — run blind on inputs already checked. `reference` is the
// plain, readable, never-optimised implementation every other backend is tested against.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/graph.h"
#include "deepx/status.h"
#include "deepx/tensor.h"

namespace deepx {

// Shape inference view of one node. Errors returned from `infer` are wrapped with the node's label by the
// caller, so messages need only say what is wrong ("pads must have 4 values, got 3").
class InferContext {
 public:
  InferContext(Graph& graph, NodeId node);

  const Node& node() const { return graph_.node(node_); }
  const Attributes& attrs() const { return node().attrs; }
  int opset() const { return node().opset; }

  size_t num_inputs() const { return node().inputs.size(); }
  bool has_input(size_t i) const { return i < num_inputs() && node().inputs[i] != kNoValue; }
  DataType input_dtype(size_t i) const { return input(i).dtype; }
  const Shape& input_shape(size_t i) const { return input(i).shape; }
  int64_t input_rank(size_t i) const { return static_cast<int64_t>(input(i).shape.size()); }
  // The input's value when known now (a weight, a folded constant), else nullptr.
  const Tensor* input_constant(size_t i) const;
  // Name of input i's value, for messages.
  const std::string& input_name(size_t i) const { return input(i).name; }

  size_t num_outputs() const { return node().outputs.size(); }
  bool has_output(size_t i) const { return i < num_outputs() && node().outputs[i] != kNoValue; }
  void SetOutput(size_t i, DataType dtype, Shape shape);
  // For ops whose output is known from shapes alone (Shape, Size): sets dtype, shape and the constant value.
  void SetOutputConstant(size_t i, Tensor value);

 private:
  const Value& input(size_t i) const { return graph_.value(node().inputs[i]); }
  Graph& graph_;
  NodeId node_;
};

// Execution view for a kernel: inputs as given (nullptr for omitted optional ones) and outputs already allocated
// with the dtype and shape `infer` set (empty Tensor for omitted outputs).
struct KernelContext {
  const Node& node;
  std::vector<const Tensor*> inputs;
  std::vector<Tensor*> outputs;

  const Attributes& attrs() const { return node.attrs; }
  int opset() const { return node.opset; }
  bool has_input(size_t i) const { return i < inputs.size() && inputs[i] != nullptr; }
  const Tensor& input(size_t i) const { return *inputs[i]; }
  Tensor& output(size_t i) const { return *outputs[i]; }
};

// Work and traffic of one node; shapes are concrete. Bytes count each input and output once, the minimum any
// implementation must move, which is what roofline analysis needs.
struct OpCost {
  double flops = 0;
  double bytes_read = 0;
  double bytes_written = 0;
};

// Shapes and dtypes of a node's inputs/outputs, for cost functions.
struct CostContext {
  const Node& node;
  std::vector<const Value*> inputs;   // nullptr for omitted inputs
  std::vector<const Value*> outputs;  // nullptr for omitted outputs
  const Attributes& attrs() const { return node.attrs; }
};

using InferFn = Status (*)(InferContext& ctx);
using KernelFn = Status (*)(KernelContext& ctx);
using CostFn = OpCost (*)(const CostContext& ctx);

struct OpSchema {
  std::string name;            // ONNX op_type
  int min_inputs = 1;
  int max_inputs = 1;
  int min_outputs = 1;
  int max_outputs = 1;
  std::vector<std::string> attributes;  // ONNX attribute names the op accepts; anything else is rejected
  InferFn infer = nullptr;
  KernelFn reference = nullptr;
  CostFn cost = nullptr;  // nullptr: one flop per output element, bytes = inputs + outputs
};

// Cost default: bytes of all inputs and outputs, `flops_per_output` flops per output element.
OpCost ElementwiseCost(const CostContext& ctx, double flops_per_output = 1.0);
OpCost ComputeCost(const OpSchema& schema, const CostContext& ctx);

// Explicit op registration (no static constructors): each op family file exposes a Register function, and
// OpRegistry::Default() calls them all.
class OpRegistry {
 public:
  void Register(OpSchema schema);
  const OpSchema* Find(const std::string& op_type) const;
  std::vector<std::string> Names() const;

  // The registry of every op DeepX implements.
  static const OpRegistry& Default();

 private:
  std::map<std::string, OpSchema> schemas_;
};

}  // namespace deepx
