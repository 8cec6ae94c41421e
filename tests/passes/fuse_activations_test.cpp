#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "ops/fused_activation.h"
#include "passes/pass_test_util.h"
#include "passes/passes.h"

namespace deepx {
namespace {

using testing::GraphBuilder;
using testing::OpTypes;
using testing::OutputNames;
using testing::RandomTensor;

// Appends a fusable producer reading x; returns its output.
ValueId AddProducer(GraphBuilder& b, const std::string& op, ValueId x, const std::string& out) {
  if (op == "Conv") {
    Attributes a;
    a.set("pads", std::vector<int64_t>{1, 1, 1, 1});
    return b.Op(op, "producer", {x, b.Const("w", RandomTensor({3, 2, 3, 3}, 7)), b.Const("b", RandomTensor({3}, 8))},
                {out}, a);
  }
  if (op == "ConvTranspose") {
    return b.Op(op, "producer", {x, b.Const("w", RandomTensor({2, 3, 2, 2}, 7)), b.Const("b", RandomTensor({3}, 8))},
                {out});
  }
  if (op == "Gemm") {
    Attributes a;
    a.set("transB", int64_t{1});
    return b.Op(op, "producer", {x, b.Const("w", RandomTensor({4, 3}, 7)), b.Const("b", RandomTensor({4}, 8))},
                {out}, a);
  }
  return b.Op(op, "producer", {x, b.Const("w", RandomTensor({3, 4}, 7))}, {out});
}

Shape ProducerInputShape(const std::string& op) {
  if (op == "Conv" || op == "ConvTranspose") return {1, 2, 3, 3};
  return {2, 3};  // Gemm, MatMul
}

struct ActivationCase {
  std::string name;  // for traces
  std::string op;
  int opset = 17;
  Attributes attrs;
  std::vector<float> bounds;       // Clip-11 constant inputs: {min, max}; NaN = omitted
  std::vector<float> want_params;  // expected deepx.activation_params
};

std::vector<ActivationCase> AllActivations() {
  const float lowest = std::numeric_limits<float>::lowest();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<ActivationCase> cases;
  cases.push_back({"Relu", "Relu", 17, {}, {}, {}});
  Attributes leaky;
  leaky.set("alpha", 0.2f);
  cases.push_back({"LeakyRelu", "LeakyRelu", 17, leaky, {}, {0.2f}});
  cases.push_back({"LeakyRelu default", "LeakyRelu", 17, {}, {}, {0.01f}});
  cases.push_back({"Clip-11 both", "Clip", 17, {}, {-0.5f, 0.5f}, {-0.5f, 0.5f}});
  cases.push_back({"Clip-11 max only", "Clip", 17, {}, {nan, 0.3f}, {lowest, 0.3f}});
  Attributes clip6;
  clip6.set("min", 0.0f);
  clip6.set("max", 0.5f);
  cases.push_back({"Clip-6 attributes", "Clip", 10, clip6, {}, {0.0f, 0.5f}});
  cases.push_back({"Sigmoid", "Sigmoid", 17, {}, {}, {}});
  Attributes hs;
  hs.set("alpha", 0.3f);
  hs.set("beta", 0.4f);
  cases.push_back({"HardSigmoid", "HardSigmoid", 17, hs, {}, {0.3f, 0.4f}});
  cases.push_back({"HardSwish", "HardSwish", 17, {}, {}, {}});
  cases.push_back({"Tanh", "Tanh", 17, {}, {}, {}});
  return cases;
}

// producer -> activation -> graph output "y".
Graph ProducerThenActivation(const std::string& producer, const ActivationCase& act) {
  GraphBuilder b(act.opset);
  ValueId x = b.Input("x", ProducerInputShape(producer));
  ValueId p = AddProducer(b, producer, x, "p");
  std::vector<ValueId> inputs = {p};
  for (size_t i = 0; i < act.bounds.size(); ++i) {
    float v = act.bounds[i];
    inputs.push_back(std::isnan(v) ? kNoValue : b.Const(i == 0 ? "min" : "max", Tensor::Scalar(v)));
  }
  b.Output(b.Op(act.op, "act", inputs, {"y"}, act.attrs));
  return b.graph();
}

TEST(FuseActivations, FusesEveryActivationIntoEveryProducer) {
  for (const std::string producer : {"Conv", "ConvTranspose", "Gemm", "MatMul"}) {
    for (const ActivationCase& act : AllActivations()) {
      SCOPED_TRACE(producer + " + " + act.name);
      Graph g = ProducerThenActivation(producer, act);
      Graph before = g;
      ASSERT_TRUE(FuseActivations(g).ok());
      ASSERT_EQ(OpTypes(g), std::vector<std::string>{producer});
      FusedActivation fused = GetFusedActivation(g.nodes[0].attrs);
      EXPECT_EQ(fused.kind, act.op);
      EXPECT_EQ(fused.params, act.want_params);
      EXPECT_EQ(g.value(g.nodes[0].outputs[0]).name, "y");
      EXPECT_EQ(OutputNames(g), std::vector<std::string>{"y"});
      EXPECT_EQ(g.FindValue("p"), kNoValue);
      testing::ExpectSameOutputs(before, g, testing::RandomInputs(g));
    }
  }
}

TEST(FuseActivations, ClipWithRuntimeBoundIsNotFused) {
  GraphBuilder b;
  ValueId x = b.Input("x", {1, 2, 3, 3});
  ValueId lo = b.Input("lo", {});
  ValueId p = AddProducer(b, "Conv", x, "p");
  b.Output(b.Op("Clip", "clip", {p, lo, b.Const("hi", Tensor::Scalar(1.0f))}, {"y"}));
  Graph g = b.graph();
  ASSERT_TRUE(FuseActivations(g).ok());
  EXPECT_EQ(OpTypes(g), (std::vector<std::string>{"Conv", "Clip"}));
  EXPECT_FALSE(g.nodes[0].attrs.has(kFusedActivationAttr));
}

TEST(FuseActivations, ProducerOutputWithTwoReadersIsNotFused) {
  GraphBuilder b;
  ValueId x = b.Input("x", {1, 2, 3, 3});
  ValueId p = AddProducer(b, "Conv", x, "p");
  b.Output(b.Op("Relu", "relu", {p}, {"y"}));
  b.Output(b.Op("Sigmoid", "sig", {p}, {"z"}));
  Graph g = b.graph();
  ASSERT_TRUE(FuseActivations(g).ok());
  EXPECT_EQ(OpTypes(g), (std::vector<std::string>{"Conv", "Relu", "Sigmoid"}));
  EXPECT_FALSE(g.nodes[0].attrs.has(kFusedActivationAttr));
}

TEST(FuseActivations, ProducerOutputThatIsAGraphOutputIsNotFused) {
  GraphBuilder b;
  ValueId x = b.Input("x", {2, 3});
  ValueId p = AddProducer(b, "MatMul", x, "p");
  b.Output(p);
  b.Output(b.Op("Relu", "relu", {p}, {"y"}));
  Graph g = b.graph();
  ASSERT_TRUE(FuseActivations(g).ok());
  EXPECT_EQ(OpTypes(g), (std::vector<std::string>{"MatMul", "Relu"}));
  EXPECT_EQ(OutputNames(g), (std::vector<std::string>{"p", "y"}));
}

TEST(FuseActivations, OnlyOneActivationPerProducer) {
  GraphBuilder b;
  ValueId x = b.Input("x", {2, 3});
  ValueId p = AddProducer(b, "Gemm", x, "p");
  ValueId r = b.Op("Relu", "relu", {p}, {"r"});
  b.Output(b.Op("Tanh", "tanh", {r}, {"y"}));
  Graph g = b.graph();
  Graph before = g;
  ASSERT_TRUE(FuseActivations(g).ok());
  EXPECT_EQ(OpTypes(g), (std::vector<std::string>{"Gemm", "Tanh"}));
  EXPECT_EQ(GetFusedActivation(g.nodes[0].attrs).kind, "Relu");
  EXPECT_EQ(g.value(g.nodes[0].outputs[0]).name, "r");
  testing::ExpectSameOutputs(before, g, testing::RandomInputs(g));
}

TEST(FuseActivations, ActivationAfterOtherOpsIsUntouched) {
  GraphBuilder b;
  ValueId x = b.Input("x", {2, 3});
  ValueId s = b.Op("Add", "add", {x, x}, {"s"});
  b.Output(b.Op("Relu", "relu", {s}, {"y"}));
  Graph g = b.graph();
  ASSERT_TRUE(FuseActivations(g).ok());
  EXPECT_EQ(OpTypes(g), (std::vector<std::string>{"Add", "Relu"}));
}

TEST(FuseActivations, IntegerMatMulIsNotFused) {
  // Fused activations run in float kernels; an int64 MatMul keeps its separate Relu.
  GraphBuilder b;
  ValueId x = b.Input("x", {2, 2}, DataType::kInt64);
  ValueId w = b.Const("w", Tensor::FromInt64s({2, 2}, {1, -2, 3, 4}));
  ValueId p = b.Op("MatMul", "mm", {x, w}, {"p"});
  b.Output(b.Op("Relu", "relu", {p}, {"y"}));
  Graph g = b.graph();
  ASSERT_TRUE(FuseActivations(g).ok());
  EXPECT_EQ(OpTypes(g), (std::vector<std::string>{"MatMul", "Relu"}));
}

TEST(FuseActivations, BatchNormFoldThenFusionGivesOneConv) {
  // The order OptimizeModelGraph uses: Conv -> BN -> Relu collapses to one Conv with a fused Relu.
  GraphBuilder b;
  ValueId x = b.Input("x", {1, 2, 3, 3});
  ValueId p = AddProducer(b, "Conv", x, "p");
  ValueId bn = b.Op("BatchNormalization", "bn",
                    {p, b.Const("s", RandomTensor({3}, 1, 0.5f, 1.5f)), b.Const("bb", RandomTensor({3}, 2)),
                     b.Const("m", RandomTensor({3}, 3)), b.Const("v", RandomTensor({3}, 4, 0.5f, 2.0f))},
                    {"bn_out"});
  ValueId id = b.Op("Identity", "id", {bn}, {"id_out"});
  b.Output(b.Op("Relu", "relu", {id}, {"y"}));
  Graph g = b.graph();
  Graph before = g;
  ASSERT_TRUE(OptimizeModelGraph(g).ok());
  ASSERT_EQ(OpTypes(g), std::vector<std::string>{"Conv"});
  EXPECT_EQ(GetFusedActivation(g.nodes[0].attrs).kind, "Relu");
  EXPECT_EQ(OutputNames(g), std::vector<std::string>{"y"});
  testing::ExpectSameOutputs(before, g, testing::RandomInputs(g));
}

}  // namespace
}  // namespace deepx
