// Small helpers shared by the nn op tests.
#pragma once

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "core/attributes.h"
#include "deepx/tensor.h"
#include "ops/op.h"
#include "passes/shape_inference.h"
#include "test_util.h"

namespace deepx::nn_test {

inline Attributes Attrs(std::initializer_list<std::pair<std::string, AttributeValue>> list) {
  Attributes a;
  for (const auto& [name, value] : list) a.set(name, value);
  return a;
}

using Ints = std::vector<int64_t>;

inline testing::InputSpec In(const std::string& name, Shape shape, std::vector<float> values) {
  return {name, Tensor::FromFloats(std::move(shape), values)};
}

// Expects `t` to be float32 with `shape` and values within 1e-5 (absolute) + 1e-5 (relative) of `want`.
inline void ExpectTensor(const Tensor& t, const Shape& shape, const std::vector<float>& want) {
  ASSERT_EQ(t.dtype(), DataType::kFloat32);
  ASSERT_EQ(ShapeToString(t.shape()), ShapeToString(shape));
  ASSERT_EQ(t.num_elements(), static_cast<int64_t>(want.size()));
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_NEAR(t.data<float>()[i], want[i], 1e-5 + 1e-5 * std::abs(want[i])) << "element " << i;
  }
}

// Runs a single-node op and returns output 0, failing the test on error.
inline Tensor RunOp(const std::string& op, const std::vector<testing::InputSpec>& inputs, const Attributes& attrs = {},
                  int opset = 17) {
  auto r = testing::RunReferenceOp(op, inputs, attrs, 1, opset);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? (*r)[0] : Tensor();
}

// Expects the op to fail with `code` and a message containing `text`.
inline void ExpectError(const std::string& op, const std::vector<testing::InputSpec>& inputs, const Attributes& attrs,
                        StatusCode code, const std::string& text, int opset = 17) {
  auto r = testing::RunReferenceOp(op, inputs, attrs, 1, opset);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), code) << r.status().ToString();
  EXPECT_NE(r.status().message().find(text), std::string::npos) << r.status().ToString();
}

// Cost of a single-node graph after shape inference.
inline OpCost CostOf(const std::string& op, const std::vector<testing::InputSpec>& inputs, const Attributes& attrs) {
  Graph g = testing::SingleNodeGraph(op, inputs, attrs);
  InferOptions options;
  options.fold_constants = false;
  Status s = InferShapes(g, OpRegistry::Default(), options);
  EXPECT_TRUE(s.ok()) << s.ToString();
  const Node& n = g.nodes[0];
  CostContext ctx{n, {}, {}};
  for (ValueId v : n.inputs) ctx.inputs.push_back(v == kNoValue ? nullptr : &g.value(v));
  for (ValueId v : n.outputs) ctx.outputs.push_back(v == kNoValue ? nullptr : &g.value(v));
  return ComputeCost(*OpRegistry::Default().Find(op), ctx);
}

}  // namespace deepx::nn_test
