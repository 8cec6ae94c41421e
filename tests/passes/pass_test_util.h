// Helpers for graph-pass tests: build small multi-node graphs by hand and run them with the reference backend,
// so a test can check both what a pass changed and that the outputs did not change.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "backends/reference/reference_backend.h"
#include "core/graph.h"
#include "ops/op.h"
#include "passes/shape_inference.h"
#include "plan/plan.h"
#include "runtime/executor.h"
#include "test_util.h"

namespace deepx::testing {

class GraphBuilder {
 public:
  explicit GraphBuilder(int opset = 17) { g_.opset = opset; }

  // A float32 run-time input of a concrete shape.
  ValueId Input(const std::string& name, const Shape& shape, DataType dtype = DataType::kFloat32) {
    Value v;
    v.name = name;
    v.dtype = dtype;
    v.shape = shape;
    v.has_shape = true;
    ValueId id = g_.AddValue(v);
    g_.inputs.push_back(id);
    return id;
  }

  ValueId Const(const std::string& name, const Tensor& t) {
    Value v;
    v.name = name;
    v.dtype = t.dtype();
    v.shape = t.shape();
    v.has_shape = true;
    v.constant = t;
    return g_.AddValue(v);
  }

  // Appends a node writing new values named `outputs` ("" = omitted); returns the first output's id.
  ValueId Op(const std::string& op_type, const std::string& name, const std::vector<ValueId>& inputs,
             const std::vector<std::string>& outputs, const Attributes& attrs = {}) {
    Node n;
    n.name = name;
    n.op_type = op_type;
    n.opset = g_.opset;
    n.inputs = inputs;
    n.attrs = attrs;
    for (const std::string& out : outputs) {
      if (out.empty()) {
        n.outputs.push_back(kNoValue);
        continue;
      }
      Value v;
      v.name = out;
      n.outputs.push_back(g_.AddValue(v));
    }
    g_.nodes.push_back(n);
    return n.outputs.empty() ? kNoValue : n.outputs[0];
  }

  void Output(ValueId id) { g_.outputs.push_back(id); }

  Graph& graph() { return g_; }

 private:
  Graph g_;
};

// Infers shapes (with folding) on a copy of `g` and runs it on the reference backend.
inline Result<std::vector<Tensor>> RunGraph(const Graph& g, const std::vector<Tensor>& inputs) {
  auto spec = std::make_shared<Graph>(g);
  DX_RETURN_IF_ERROR(InferShapes(*spec, OpRegistry::Default()));
  std::vector<std::shared_ptr<Backend>> backends = {std::make_shared<ReferenceBackend>()};
  Plan plan = SingleBackendPlan(*spec);
  DX_ASSIGN_OR_RETURN(auto executor, Executor::Create(spec, plan, backends));
  return executor->Run(inputs);
}

// Random inputs matching the declared shapes of a graph's (float32) inputs.
inline std::vector<Tensor> RandomInputs(const Graph& g, uint32_t seed = 1) {
  std::vector<Tensor> inputs;
  for (ValueId id : g.inputs) inputs.push_back(RandomTensor(g.value(id).shape, seed++));
  return inputs;
}

// Runs both graphs on the same inputs and expects equal outputs within 1e-5 (absolute or relative).
inline void ExpectSameOutputs(const Graph& before, const Graph& after, const std::vector<Tensor>& inputs) {
  auto expected = RunGraph(before, inputs);
  ASSERT_TRUE(expected.ok()) << "before the pass: " << expected.status().ToString();
  auto actual = RunGraph(after, inputs);
  ASSERT_TRUE(actual.ok()) << "after the pass: " << actual.status().ToString();
  ASSERT_EQ(actual->size(), expected->size());
  for (size_t i = 0; i < expected->size(); ++i) {
    EXPECT_LE(MaxScaledError((*actual)[i], (*expected)[i], 1e-5, 1e-5), 1.0) << "output " << i;
  }
}

// Names of a graph's outputs, in order.
inline std::vector<std::string> OutputNames(const Graph& g) {
  std::vector<std::string> names;
  for (ValueId id : g.outputs) names.push_back(g.value(id).name);
  return names;
}

// Op types of a graph's nodes, in order.
inline std::vector<std::string> OpTypes(const Graph& g) {
  std::vector<std::string> ops;
  for (const Node& n : g.nodes) ops.push_back(n.op_type);
  return ops;
}

inline Tensor Int64Scalar(int64_t v) { return Tensor::FromInt64s({}, {v}); }

inline Tensor BoolScalar(bool v) {
  Tensor t = Tensor::Zeros(DataType::kBool, {});
  t.data<uint8_t>()[0] = v ? 1 : 0;
  return t;
}

}  // namespace deepx::testing
