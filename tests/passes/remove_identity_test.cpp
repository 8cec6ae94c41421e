#include <gtest/gtest.h>

#include "passes/pass_test_util.h"
#include "passes/passes.h"

namespace deepx {
namespace {

using testing::GraphBuilder;
using testing::OpTypes;
using testing::OutputNames;

TEST(RemoveIdentityNodes, RewiresReadersToTheInput) {
  GraphBuilder b;
  ValueId x = b.Input("x", {2, 3});
  ValueId a = b.Op("Relu", "relu1", {x}, {"a"});
  ValueId c = b.Op("Identity", "id", {a}, {"c"});
  b.Output(b.Op("Tanh", "tanh", {c}, {"y"}));
  Graph g = b.graph();
  Graph before = g;
  ASSERT_TRUE(RemoveIdentityNodes(g).ok());
  EXPECT_EQ(OpTypes(g), (std::vector<std::string>{"Relu", "Tanh"}));
  EXPECT_EQ(g.value(g.nodes[1].inputs[0]).name, "a");
  EXPECT_EQ(g.FindValue("c"), kNoValue);
  EXPECT_EQ(OutputNames(g), std::vector<std::string>{"y"});
  testing::ExpectSameOutputs(before, g, testing::RandomInputs(g));
}

TEST(RemoveIdentityNodes, GraphOutputKeepsItsNameByRenamingTheProducer) {
  GraphBuilder b;
  ValueId x = b.Input("x", {2, 3});
  ValueId a = b.Op("Relu", "relu", {x}, {"a"});
  ValueId y = b.Op("Identity", "id", {a}, {"y"});
  b.Output(y);
  b.Output(b.Op("Sigmoid", "sig", {a}, {"z"}));  // a has another reader, which must follow the rename
  Graph g = b.graph();
  Graph before = g;
  ASSERT_TRUE(RemoveIdentityNodes(g).ok());
  EXPECT_EQ(OpTypes(g), (std::vector<std::string>{"Relu", "Sigmoid"}));
  EXPECT_EQ(OutputNames(g), (std::vector<std::string>{"y", "z"}));
  EXPECT_EQ(g.value(g.nodes[0].outputs[0]).name, "y");
  EXPECT_EQ(g.value(g.nodes[1].inputs[0]).name, "y");
  EXPECT_EQ(g.FindValue("a"), kNoValue);
  testing::ExpectSameOutputs(before, g, testing::RandomInputs(g));
}

TEST(RemoveIdentityNodes, ChainOfIdentitiesToAnOutputCollapses) {
  GraphBuilder b;
  ValueId x = b.Input("x", {4});
  ValueId a = b.Op("Relu", "relu", {x}, {"a"});
  ValueId c = b.Op("Identity", "id1", {a}, {"c"});
  b.Output(b.Op("Identity", "id2", {c}, {"y"}));
  Graph g = b.graph();
  Graph before = g;
  ASSERT_TRUE(RemoveIdentityNodes(g).ok());
  EXPECT_EQ(OpTypes(g), std::vector<std::string>{"Relu"});
  EXPECT_EQ(OutputNames(g), std::vector<std::string>{"y"});
  testing::ExpectSameOutputs(before, g, testing::RandomInputs(g));
}

TEST(RemoveIdentityNodes, KeepsIdentityBetweenGraphInputAndOutput) {
  GraphBuilder b;
  ValueId x = b.Input("x", {4});
  b.Output(b.Op("Identity", "id", {x}, {"y"}));
  Graph g = b.graph();
  ASSERT_TRUE(RemoveIdentityNodes(g).ok());
  EXPECT_EQ(OpTypes(g), std::vector<std::string>{"Identity"});
  EXPECT_EQ(OutputNames(g), std::vector<std::string>{"y"});
}

TEST(RemoveIdentityNodes, KeepsIdentityCopyingOneGraphOutputToAnother) {
  GraphBuilder b;
  ValueId x = b.Input("x", {4});
  ValueId a = b.Op("Relu", "relu", {x}, {"a"});
  b.Output(a);
  b.Output(b.Op("Identity", "id", {a}, {"y"}));
  Graph g = b.graph();
  Graph before = g;
  ASSERT_TRUE(RemoveIdentityNodes(g).ok());
  EXPECT_EQ(OpTypes(g), (std::vector<std::string>{"Relu", "Identity"}));
  EXPECT_EQ(OutputNames(g), (std::vector<std::string>{"a", "y"}));
  testing::ExpectSameOutputs(before, g, testing::RandomInputs(g));
}

TEST(RemoveIdentityNodes, KeepsIdentityOfAConstantGraphOutput) {
  GraphBuilder b;
  ValueId x = b.Input("x", {2});
  ValueId w = b.Const("w", Tensor::FromFloats({2}, {1, 2}));
  b.Output(b.Op("Identity", "id", {w}, {"y"}));
  b.Output(b.Op("Relu", "relu", {x}, {"r"}));
  Graph g = b.graph();
  ASSERT_TRUE(RemoveIdentityNodes(g).ok());
  EXPECT_EQ(OpTypes(g), (std::vector<std::string>{"Identity", "Relu"}));
  EXPECT_EQ(OutputNames(g), (std::vector<std::string>{"y", "r"}));
}

TEST(RemoveIdentityNodes, RemovesInferenceDropout) {
  // Opset 12+ with no training_mode, with training_mode constant false, and the opset-10 attribute form.
  for (int variant = 0; variant < 3; ++variant) {
    SCOPED_TRACE(variant);
    GraphBuilder b(variant == 2 ? 10 : 17);
    ValueId x = b.Input("x", {2, 3});
    ValueId a = b.Op("Relu", "relu", {x}, {"a"});
    std::vector<ValueId> inputs = {a};
    Attributes attrs;
    if (variant == 1) {
      inputs.push_back(b.Const("ratio", Tensor::Scalar(0.3f)));
      inputs.push_back(b.Const("mode", testing::BoolScalar(false)));
    }
    if (variant == 2) attrs.set("ratio", 0.3f);
    ValueId d = b.Op("Dropout", "drop", inputs, {"d", "mask"}, attrs);
    b.Output(b.Op("Tanh", "tanh", {d}, {"y"}));
    Graph g = b.graph();
    Graph before = g;
    ASSERT_TRUE(RemoveIdentityNodes(g).ok());
    EXPECT_EQ(OpTypes(g), (std::vector<std::string>{"Relu", "Tanh"}));
    testing::ExpectSameOutputs(before, g, testing::RandomInputs(g));
  }
}

TEST(RemoveIdentityNodes, DropoutAsLastNodeKeepsOutputName) {
  GraphBuilder b;
  ValueId x = b.Input("x", {3});
  ValueId a = b.Op("Relu", "relu", {x}, {"a"});
  b.Output(b.Op("Dropout", "drop", {a}, {"y"}));
  Graph g = b.graph();
  Graph before = g;
  ASSERT_TRUE(RemoveIdentityNodes(g).ok());
  EXPECT_EQ(OpTypes(g), std::vector<std::string>{"Relu"});
  EXPECT_EQ(OutputNames(g), std::vector<std::string>{"y"});
  testing::ExpectSameOutputs(before, g, testing::RandomInputs(g));
}

TEST(RemoveIdentityNodes, KeepsDropoutWhoseMaskIsUsed) {
  GraphBuilder b;
  ValueId x = b.Input("x", {3});
  b.Op("Dropout", "drop", {x}, {"d", "mask"});
  b.Output(b.graph().FindValue("d"));
  b.Output(b.graph().FindValue("mask"));
  Graph g = b.graph();
  ASSERT_TRUE(RemoveIdentityNodes(g).ok());
  EXPECT_EQ(OpTypes(g), std::vector<std::string>{"Dropout"});
  EXPECT_EQ(OutputNames(g), (std::vector<std::string>{"d", "mask"}));
}

TEST(RemoveIdentityNodes, KeepsDropoutInTrainingOrUnknownMode) {
  // A constant true is training (which the runtime must refuse, not silently skip); a run-time mode is unknown.
  for (bool runtime_mode : {false, true}) {
    SCOPED_TRACE(runtime_mode);
    GraphBuilder b;
    ValueId x = b.Input("x", {3});
    ValueId a = b.Op("Relu", "relu", {x}, {"a"});
    ValueId mode = runtime_mode ? b.Input("mode", {}, DataType::kBool) : b.Const("mode", testing::BoolScalar(true));
    ValueId d = b.Op("Dropout", "drop", {a, kNoValue, mode}, {"d"});
    b.Output(b.Op("Tanh", "tanh", {d}, {"y"}));
    Graph g = b.graph();
    ASSERT_TRUE(RemoveIdentityNodes(g).ok());
    EXPECT_EQ(OpTypes(g), (std::vector<std::string>{"Relu", "Dropout", "Tanh"}));
  }
}

TEST(RemoveIdentityNodes, IgnoresOtherDomains) {
  GraphBuilder b;
  ValueId x = b.Input("x", {3});
  ValueId a = b.Op("Relu", "relu", {x}, {"a"});
  ValueId c = b.Op("Identity", "custom", {a}, {"c"});
  b.graph().nodes.back().domain = "com.example";
  b.Output(b.Op("Tanh", "tanh", {c}, {"y"}));
  Graph g = b.graph();
  ASSERT_TRUE(RemoveIdentityNodes(g).ok());
  EXPECT_EQ(OpTypes(g), (std::vector<std::string>{"Relu", "Identity", "Tanh"}));
}

}  // namespace
}  // namespace deepx

namespace deepx::testing {
namespace {

// PyTorch exports avg_pool2d as Pad(pads = 0) -> AveragePool; the zero Pad is a copy and goes.
TEST(RemoveIdentityNodes, RemovesPadWithAllZeroPads) {
  GraphBuilder b(13);
  ValueId x = b.Input("x", {1, 1, 4, 4});
  ValueId zeros = b.Const("pads", Tensor::FromInt64s({8}, {0, 0, 0, 0, 0, 0, 0, 0}));
  ValueId p = b.Op("Pad", "pad", {x, zeros}, {"p"});
  Attributes pool;
  pool.set("kernel_shape", std::vector<int64_t>{2, 2});
  b.Output(b.Op("AveragePool", "pool", {p}, {"y"}, pool));
  Graph before = b.graph();
  Graph g = before;
  ASSERT_TRUE(RemoveIdentityNodes(g).ok());
  EXPECT_EQ(OpTypes(g), (std::vector<std::string>{"AveragePool"}));
  ExpectSameOutputs(before, g, RandomInputs(before));
}

TEST(RemoveIdentityNodes, KeepsPadThatPads) {
  GraphBuilder b(13);
  ValueId x = b.Input("x", {1, 1, 4, 4});
  ValueId pads = b.Const("pads", Tensor::FromInt64s({8}, {0, 0, 1, 0, 0, 0, 0, 0}));
  b.Output(b.Op("Pad", "pad", {x, pads}, {"y"}));
  Graph g = b.graph();
  ASSERT_TRUE(RemoveIdentityNodes(g).ok());
  EXPECT_EQ(OpTypes(g), (std::vector<std::string>{"Pad"}));
}

}  // namespace
}  // namespace deepx::testing
