#include <gtest/gtest.h>

#include "passes/pass_test_util.h"
#include "passes/passes.h"

namespace deepx {
namespace {

using testing::GraphBuilder;
using testing::OpTypes;
using testing::OutputNames;
using testing::RandomTensor;

struct BnParams {
  Tensor scale, bias, mean, var;
};

BnParams RandomBn(int64_t channels, uint32_t seed) {
  return {RandomTensor({channels}, seed, 0.5f, 1.5f), RandomTensor({channels}, seed + 1),
          RandomTensor({channels}, seed + 2), RandomTensor({channels}, seed + 3, 0.5f, 2.0f)};
}

// Appends BatchNormalization(x) with constant parameters named "<name>.scale", ...
ValueId AddBn(GraphBuilder& b, const std::string& name, ValueId x, const BnParams& p, const std::string& out,
              const Attributes& attrs = {}) {
  ValueId s = b.Const(name + ".scale", p.scale);
  ValueId bias = b.Const(name + ".bias", p.bias);
  ValueId m = b.Const(name + ".mean", p.mean);
  ValueId v = b.Const(name + ".var", p.var);
  return b.Op("BatchNormalization", name, {x, s, bias, m, v}, {out}, attrs);
}

Attributes Pads1() {
  Attributes a;
  a.set("pads", std::vector<int64_t>{1, 1, 1, 1});
  return a;
}

TEST(FoldConvBatchNorm, HandCheckedScalarFold) {
  // 1x1 conv w=2, b=1; BN scale=3, bias=0.5, mean=1, var=3, eps=1: s = 3/sqrt(3+1) = 1.5,
  // so w' = 2*1.5 = 3 and b' = (1-1)*1.5 + 0.5 = 0.5.
  GraphBuilder b;
  ValueId x = b.Input("x", {1, 1, 1, 2});
  ValueId w = b.Const("w", Tensor::FromFloats({1, 1, 1, 1}, {2}));
  ValueId bias = b.Const("b", Tensor::FromFloats({1}, {1}));
  ValueId c = b.Op("Conv", "conv", {x, w, bias}, {"c"});
  Attributes eps;
  eps.set("epsilon", 1.0f);
  BnParams p{Tensor::FromFloats({1}, {3}), Tensor::FromFloats({1}, {0.5f}), Tensor::FromFloats({1}, {1}),
             Tensor::FromFloats({1}, {3})};
  b.Output(AddBn(b, "bn", c, p, "y", eps));
  Graph g = b.graph();
  Graph before = g;
  ASSERT_TRUE(FoldConvBatchNorm(g).ok());
  ASSERT_EQ(OpTypes(g), std::vector<std::string>{"Conv"});
  const Node& conv = g.nodes[0];
  ASSERT_EQ(conv.inputs.size(), 3u);
  EXPECT_EQ(g.value(conv.inputs[1]).name, "conv.folded_weight");
  EXPECT_EQ(g.value(conv.inputs[2]).name, "conv.folded_bias");
  EXPECT_FLOAT_EQ(g.value(conv.inputs[1]).constant.data<float>()[0], 3.0f);
  EXPECT_FLOAT_EQ(g.value(conv.inputs[2]).constant.data<float>()[0], 0.5f);
  EXPECT_EQ(OutputNames(g), std::vector<std::string>{"y"});
  // The BN parameters and the original weights are no longer referenced.
  EXPECT_EQ(g.FindValue("bn.scale"), kNoValue);
  EXPECT_EQ(g.FindValue("w"), kNoValue);
  testing::ExpectSameOutputs(before, g, {Tensor::FromFloats({1, 1, 1, 2}, {1, -2})});
}

TEST(FoldConvBatchNorm, FoldsConvWithAndWithoutBias) {
  for (bool with_bias : {true, false}) {
    SCOPED_TRACE(with_bias);
    GraphBuilder b;
    ValueId x = b.Input("x", {2, 3, 5, 5});
    std::vector<ValueId> conv_in = {x, b.Const("w", RandomTensor({4, 3, 3, 3}, 10))};
    if (with_bias) conv_in.push_back(b.Const("b", RandomTensor({4}, 11)));
    ValueId c = b.Op("Conv", "conv", conv_in, {"c"}, Pads1());
    ValueId y = AddBn(b, "bn", c, RandomBn(4, 20), "y");
    b.Output(b.Op("Relu", "relu", {y}, {"out"}));
    Graph g = b.graph();
    Graph before = g;
    ASSERT_TRUE(FoldConvBatchNorm(g).ok());
    EXPECT_EQ(OpTypes(g), (std::vector<std::string>{"Conv", "Relu"}));
    EXPECT_EQ(g.value(g.nodes[0].outputs[0]).name, "y");
    EXPECT_EQ(g.nodes[0].inputs.size(), 3u);
    testing::ExpectSameOutputs(before, g, testing::RandomInputs(g));
  }
}

TEST(FoldConvBatchNorm, FoldsGroupedConvAndConvTranspose) {
  struct Case {
    const char* op;
    Shape x, w;
    int64_t group, out_channels;
  };
  // Conv: W [M, C/group, k, k]. ConvTranspose: W [C, M/group, k, k], so M = 3 * 2 = 6 spread over two groups.
  for (const Case& c : {Case{"Conv", {1, 4, 5, 5}, {6, 2, 3, 3}, 2, 6},
                        Case{"ConvTranspose", {1, 4, 3, 3}, {4, 3, 3, 3}, 2, 6},
                        Case{"ConvTranspose", {1, 2, 3, 3}, {2, 5, 2, 2}, 1, 5}}) {
    SCOPED_TRACE(std::string(c.op) + " group " + std::to_string(c.group));
    GraphBuilder b;
    ValueId x = b.Input("x", c.x);
    Attributes attrs;
    attrs.set("group", c.group);
    attrs.set("strides", std::vector<int64_t>{2, 2});
    ValueId conv = b.Op(c.op, "conv",
                        {x, b.Const("w", RandomTensor(c.w, 30)), b.Const("b", RandomTensor({c.out_channels}, 31))},
                        {"c"}, attrs);
    b.Output(AddBn(b, "bn", conv, RandomBn(c.out_channels, 40), "y"));
    Graph g = b.graph();
    Graph before = g;
    ASSERT_TRUE(FoldConvBatchNorm(g).ok());
    EXPECT_EQ(OpTypes(g), std::vector<std::string>{c.op});
    EXPECT_EQ(OutputNames(g), std::vector<std::string>{"y"});
    testing::ExpectSameOutputs(before, g, testing::RandomInputs(g));
  }
}

TEST(FoldConvBatchNorm, SharedWeightsAreNotModified) {
  // Two convs share W; only the first feeds a BN. The second must still see the original weights.
  GraphBuilder b;
  ValueId x = b.Input("x", {1, 2, 4, 4});
  Tensor w_tensor = RandomTensor({3, 2, 3, 3}, 50);
  Tensor w_copy = w_tensor.Clone();
  ValueId w = b.Const("w", w_tensor);
  ValueId c1 = b.Op("Conv", "conv1", {x, w}, {"c1"}, Pads1());
  b.Output(AddBn(b, "bn", c1, RandomBn(3, 60), "y1"));
  b.Output(b.Op("Conv", "conv2", {x, w}, {"y2"}, Pads1()));
  Graph g = b.graph();
  Graph before = g;
  ASSERT_TRUE(FoldConvBatchNorm(g).ok());
  EXPECT_EQ(OpTypes(g), (std::vector<std::string>{"Conv", "Conv"}));
  EXPECT_EQ(g.value(g.nodes[0].inputs[1]).name, "conv1.folded_weight");
  ASSERT_EQ(g.value(g.nodes[1].inputs[1]).name, "w");
  const Tensor& kept = g.value(g.nodes[1].inputs[1]).constant;
  ASSERT_EQ(kept.num_elements(), w_copy.num_elements());
  for (int64_t i = 0; i < kept.num_elements(); ++i) ASSERT_EQ(kept.data<float>()[i], w_copy.data<float>()[i]) << i;
  testing::ExpectSameOutputs(before, g, testing::RandomInputs(g));
}

TEST(FoldConvBatchNorm, NewConstantNamesAreUnique) {
  GraphBuilder b;
  ValueId x = b.Input("x", {1, 1, 3, 3});
  b.Output(b.Input("conv.folded_weight", {1}));  // a value already holding the preferred name
  ValueId c = b.Op("Conv", "conv", {x, b.Const("w", RandomTensor({2, 1, 1, 1}, 70))}, {"c"});
  b.Output(AddBn(b, "bn", c, RandomBn(2, 80), "y"));
  Graph g = b.graph();
  Graph before = g;
  ASSERT_TRUE(FoldConvBatchNorm(g).ok());
  ASSERT_EQ(OpTypes(g), std::vector<std::string>{"Conv"});
  const std::string name = g.value(g.nodes[0].inputs[1]).name;
  EXPECT_NE(name, "conv.folded_weight");
  EXPECT_EQ(name.rfind("conv.folded_weight", 0), 0u);
  EXPECT_EQ(g.value(g.FindValue("conv.folded_weight")).shape, Shape{1});
  testing::ExpectSameOutputs(before, g, testing::RandomInputs(g));
}

TEST(FoldConvBatchNorm, ConvOutputWithTwoReadersIsNotFolded) {
  GraphBuilder b;
  ValueId x = b.Input("x", {1, 2, 4, 4});
  ValueId c = b.Op("Conv", "conv", {x, b.Const("w", RandomTensor({3, 2, 3, 3}, 1))}, {"c"});
  b.Output(AddBn(b, "bn", c, RandomBn(3, 2), "y"));
  b.Output(b.Op("Relu", "relu", {c}, {"r"}));
  Graph g = b.graph();
  ASSERT_TRUE(FoldConvBatchNorm(g).ok());
  EXPECT_EQ(OpTypes(g), (std::vector<std::string>{"Conv", "BatchNormalization", "Relu"}));
  EXPECT_EQ(g.FindValue("conv.folded_weight"), kNoValue);
}

TEST(FoldConvBatchNorm, ConvOutputThatIsAGraphOutputIsNotFolded) {
  GraphBuilder b;
  ValueId x = b.Input("x", {1, 2, 4, 4});
  ValueId c = b.Op("Conv", "conv", {x, b.Const("w", RandomTensor({3, 2, 3, 3}, 1))}, {"c"});
  b.Output(c);
  b.Output(AddBn(b, "bn", c, RandomBn(3, 2), "y"));
  Graph g = b.graph();
  ASSERT_TRUE(FoldConvBatchNorm(g).ok());
  EXPECT_EQ(OpTypes(g), (std::vector<std::string>{"Conv", "BatchNormalization"}));
  EXPECT_EQ(OutputNames(g), (std::vector<std::string>{"c", "y"}));
}

TEST(FoldConvBatchNorm, NonConstantParametersAreNotFolded) {
  // A run-time BN scale, and separately a run-time conv weight.
  for (int which = 0; which < 2; ++which) {
    SCOPED_TRACE(which);
    GraphBuilder b;
    ValueId x = b.Input("x", {1, 2, 4, 4});
    ValueId w = which == 1 ? b.Input("w", {3, 2, 3, 3}) : b.Const("w", RandomTensor({3, 2, 3, 3}, 1));
    ValueId c = b.Op("Conv", "conv", {x, w}, {"c"});
    BnParams p = RandomBn(3, 2);
    ValueId scale = which == 0 ? b.Input("scale", {3}) : b.Const("scale", p.scale);
    ValueId y = b.Op("BatchNormalization", "bn",
                     {c, scale, b.Const("bias", p.bias), b.Const("mean", p.mean), b.Const("var", p.var)}, {"y"});
    b.Output(y);
    Graph g = b.graph();
    ASSERT_TRUE(FoldConvBatchNorm(g).ok());
    EXPECT_EQ(OpTypes(g), (std::vector<std::string>{"Conv", "BatchNormalization"}));
  }
}

TEST(FoldConvBatchNorm, TrainingModeOrMismatchedParametersAreNotFolded) {
  for (int variant = 0; variant < 2; ++variant) {
    SCOPED_TRACE(variant);
    GraphBuilder b;
    ValueId x = b.Input("x", {1, 2, 4, 4});
    ValueId c = b.Op("Conv", "conv", {x, b.Const("w", RandomTensor({3, 2, 3, 3}, 1))}, {"c"});
    Attributes attrs;
    if (variant == 0) attrs.set("training_mode", int64_t{1});
    // variant 1: BN parameters for 4 channels after a 3-channel conv (malformed; left for inference to report).
    b.Output(AddBn(b, "bn", c, RandomBn(variant == 0 ? 3 : 4, 2), "y", attrs));
    Graph g = b.graph();
    ASSERT_TRUE(FoldConvBatchNorm(g).ok());
    EXPECT_EQ(OpTypes(g), (std::vector<std::string>{"Conv", "BatchNormalization"}));
  }
}

TEST(FoldConvBatchNorm, BatchNormAfterOtherOpIsUntouched) {
  GraphBuilder b;
  ValueId x = b.Input("x", {1, 3, 2, 2});
  ValueId r = b.Op("Relu", "relu", {x}, {"r"});
  b.Output(AddBn(b, "bn", r, RandomBn(3, 5), "y"));
  Graph g = b.graph();
  ASSERT_TRUE(FoldConvBatchNorm(g).ok());
  EXPECT_EQ(OpTypes(g), (std::vector<std::string>{"Relu", "BatchNormalization"}));
}

}  // namespace
}  // namespace deepx
