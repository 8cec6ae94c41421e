#include <gtest/gtest.h>

#include "ops/fused_activation.h"
#include "pass_test_util.h"
#include "passes/passes.h"

namespace deepx::testing {
namespace {

// PyTorch's ReLU6 at opset 13: Conv -> Clip(x, Constant(0), Constant(6)), the bounds being Constant nodes.
Graph ConvRelu6WithConstantNodes() {
  GraphBuilder b(13);
  ValueId x = b.Input("x", {1, 2, 5, 5});
  ValueId w = b.Const("w", RandomTensor({3, 2, 3, 3}, 7, -2.0f, 2.0f));
  ValueId c = b.Op("Conv", "conv", {x, w}, {"c"});
  Attributes lo, hi;
  lo.set("value", Tensor::Scalar(0.0f));
  hi.set("value", Tensor::Scalar(6.0f));
  ValueId min = b.Op("Constant", "min", {}, {"min"}, lo);
  ValueId max = b.Op("Constant", "max", {}, {"max"}, hi);
  b.Output(b.Op("Clip", "relu6", {c, min, max}, {"y"}));
  return b.graph();
}

TEST(MaterializeConstantNodes, ConstantNodesBecomeValues) {
  Graph g = ConvRelu6WithConstantNodes();
  ASSERT_TRUE(MaterializeConstantNodes(g).ok());
  EXPECT_EQ(OpTypes(g), (std::vector<std::string>{"Conv", "Clip"}));
  ValueId max = g.FindValue("max");
  ASSERT_NE(max, kNoValue);
  ASSERT_TRUE(g.value(max).is_constant());
  EXPECT_EQ(g.value(max).constant.GetAsDouble(0), 6.0);
}

TEST(MaterializeConstantNodes, LetsClipWithConstantNodeBoundsFuse) {
  Graph before = ConvRelu6WithConstantNodes();
  Graph g = before;
  ASSERT_TRUE(OptimizeModelGraph(g).ok());
  ASSERT_EQ(OpTypes(g), (std::vector<std::string>{"Conv"}));
  FusedActivation act = GetFusedActivation(g.nodes[0].attrs);
  EXPECT_EQ(act.kind, "Clip");
  EXPECT_EQ(act.params, (std::vector<float>{0.0f, 6.0f}));
  EXPECT_EQ(OutputNames(g), (std::vector<std::string>{"y"}));
  ExpectSameOutputs(before, g, RandomInputs(before));
}

TEST(MaterializeConstantNodes, MalformedConstantIsLeftForShapeInference) {
  GraphBuilder b(13);
  Attributes none;  // a Constant without a value attribute
  b.Output(b.Op("Constant", "broken", {}, {"k"}, none));
  Graph g = b.graph();
  ASSERT_TRUE(MaterializeConstantNodes(g).ok());
  EXPECT_EQ(OpTypes(g), (std::vector<std::string>{"Constant"}));
}

}  // namespace
}  // namespace deepx::testing
