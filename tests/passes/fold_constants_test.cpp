#include <gtest/gtest.h>

#include "ops/op.h"
#include "passes/pass_test_util.h"
#include "passes/passes.h"
#include "passes/shape_inference.h"

namespace deepx {
namespace {

using testing::GraphBuilder;

// y = x * (a + b): the Add reads only weights, so InferShapes evaluates it and the pass can drop it.
Graph WeightArithmetic() {
  GraphBuilder b;
  ValueId x = b.Input("x", {2, 3});
  ValueId a = b.Const("a", Tensor::FromFloats({3}, {1, 2, 3}));
  ValueId c = b.Const("b", Tensor::FromFloats({3}, {4, 5, 6}));
  ValueId t = b.Op("Add", "add", {a, c}, {"t"});
  b.Output(b.Op("Mul", "mul", {x, t}, {"y"}));
  return b.graph();
}

TEST(FoldConstants, DropsNodesEvaluatedByInference) {
  Graph g = WeightArithmetic();
  ASSERT_TRUE(InferShapes(g, OpRegistry::Default()).ok());
  Graph before = g;
  ASSERT_TRUE(FoldConstants(g).ok());
  EXPECT_EQ(testing::OpTypes(g), std::vector<std::string>{"Mul"});
  // The folded sum is now a plain constant; the addends nobody reads any more are gone.
  ValueId t = g.FindValue("t");
  ASSERT_NE(t, kNoValue);
  ASSERT_TRUE(g.value(t).is_constant());
  EXPECT_FLOAT_EQ(g.value(t).constant.data<float>()[0], 5.0f);
  EXPECT_FLOAT_EQ(g.value(t).constant.data<float>()[2], 9.0f);
  EXPECT_EQ(g.FindValue("a"), kNoValue);
  EXPECT_EQ(g.FindValue("b"), kNoValue);
  EXPECT_EQ(testing::OutputNames(g), std::vector<std::string>{"y"});
  testing::ExpectSameOutputs(before, g, testing::RandomInputs(g));
}

TEST(FoldConstants, DropsShapeArithmeticOverRuntimeInputs) {
  // Reshape(x, Shape(x)): Shape reads a run-time value, but its output is known from shapes alone.
  GraphBuilder b;
  ValueId x = b.Input("x", {2, 3, 4});
  ValueId s = b.Op("Shape", "shape", {x}, {"s"});
  b.Output(b.Op("Reshape", "reshape", {x, s}, {"y"}));
  Graph g = b.graph();
  ASSERT_TRUE(InferShapes(g, OpRegistry::Default()).ok());
  Graph before = g;
  ASSERT_TRUE(FoldConstants(g).ok());
  EXPECT_EQ(testing::OpTypes(g), std::vector<std::string>{"Reshape"});
  ASSERT_NE(g.FindValue("s"), kNoValue);
  EXPECT_EQ(g.value(g.FindValue("s")).constant.ToInt64Vector(), (std::vector<int64_t>{2, 3, 4}));
  testing::ExpectSameOutputs(before, g, testing::RandomInputs(g));
}

TEST(FoldConstants, ConstantGraphOutputStaysAsConstantValue) {
  GraphBuilder b;
  ValueId x = b.Input("x", {3});
  ValueId a = b.Const("a", Tensor::FromFloats({3}, {1, 2, 3}));
  ValueId c = b.Const("b", Tensor::FromFloats({3}, {4, 5, 6}));
  b.Output(b.Op("Add", "add", {a, c}, {"sum"}));
  b.Output(b.Op("Relu", "relu", {x}, {"r"}));
  Graph g = b.graph();
  ASSERT_TRUE(InferShapes(g, OpRegistry::Default()).ok());
  Graph before = g;
  ASSERT_TRUE(FoldConstants(g).ok());
  EXPECT_EQ(testing::OpTypes(g), std::vector<std::string>{"Relu"});
  ASSERT_EQ(testing::OutputNames(g), (std::vector<std::string>{"sum", "r"}));
  const Value& sum = g.value(g.outputs[0]);
  ASSERT_TRUE(sum.is_constant());
  EXPECT_EQ(sum.shape, (Shape{3}));
  EXPECT_FLOAT_EQ(sum.constant.data<float>()[0], 5.0f);
  EXPECT_FLOAT_EQ(sum.constant.data<float>()[1], 7.0f);
  EXPECT_FLOAT_EQ(sum.constant.data<float>()[2], 9.0f);
  testing::ExpectSameOutputs(before, g, testing::RandomInputs(g));
}

TEST(FoldConstants, KeepsRuntimeNodesAndDropsDeadOnes) {
  // A run-time chain stays intact; a branch that feeds no output disappears with the dead-code sweep.
  GraphBuilder b;
  ValueId x = b.Input("x", {4});
  ValueId r = b.Op("Relu", "relu", {x}, {"r"});
  b.Op("Sigmoid", "unused", {x}, {"dead"});
  b.Output(b.Op("Tanh", "tanh", {r}, {"y"}));
  Graph g = b.graph();
  ASSERT_TRUE(InferShapes(g, OpRegistry::Default()).ok());
  Graph before = g;
  ASSERT_TRUE(FoldConstants(g).ok());
  EXPECT_EQ(testing::OpTypes(g), (std::vector<std::string>{"Relu", "Tanh"}));
  EXPECT_EQ(g.FindValue("dead"), kNoValue);
  testing::ExpectSameOutputs(before, g, testing::RandomInputs(g));
}

TEST(FoldConstants, WithoutInferenceNothingIsConstantSoNothingFolds) {
  // Before InferShapes no node output carries a value: the pass must not mistake "unknown" for "constant".
  Graph g = WeightArithmetic();
  ASSERT_TRUE(FoldConstants(g).ok());
  EXPECT_EQ(testing::OpTypes(g), (std::vector<std::string>{"Add", "Mul"}));
}

}  // namespace
}  // namespace deepx
