// The ONNX writer: a loaded (optimised, activation-fused) model written back and loaded again computes the same
// outputs, and the written file is plain ONNX (no internal attributes).
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include "deepx/deepx.hpp"
#include "onnx/model_writer.h"
#include "ops/fused_activation.h"
#include "test_util.h"

namespace deepx {
namespace {

TEST(ModelWriter, RoundTripOfOptimisedModelComputesTheSameOutputs) {
  auto model = Model::Load(testing::SourcePath("models/fashion_mnist_cnn.onnx"));
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  bool has_fused = false;
  for (const Node& n : (*model)->graph().nodes) has_fused |= !GetFusedActivation(n.attrs).none();
  ASSERT_TRUE(has_fused) << "the test needs a model with fused activations";

  auto bytes = SerializeOnnx((*model)->graph());
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  onnx::ModelProto proto;
  ASSERT_TRUE(proto.ParseFromString(*bytes));
  for (const auto& n : proto.graph().node())
    for (const auto& a : n.attribute()) EXPECT_NE(a.name().rfind("deepx.", 0), 0u) << n.name();

  auto reloaded = Model::LoadFromBytes(bytes->data(), bytes->size());
  ASSERT_TRUE(reloaded.ok()) << reloaded.status().ToString();
  const Tensor x = testing::RandomTensor({2, 1, 28, 28}, 7, 0.0f, 1.0f);
  const std::string in = (*model)->inputs()[0].name;
  auto s1 = Session::Create(*model);
  auto s2 = Session::Create(*reloaded);
  ASSERT_TRUE(s1.ok() && s2.ok());
  auto y1 = (*s1)->Run({{in, x}});
  auto y2 = (*s2)->Run({{in, x}});
  ASSERT_TRUE(y1.ok() && y2.ok());
  EXPECT_LE(testing::MaxScaledError((*y2)[0], (*y1)[0], 1e-6, 1e-6), 1.0);
}

TEST(ModelWriter, ClipWithBoundsIsWrittenAsInputsFromOpset11) {
  Graph g = testing::SingleNodeGraph("Gemm", {{"x", testing::RandomTensor({1, 4}, 1)},
                                              {"w", testing::RandomTensor({3, 4}, 2), true}},
                                     [] {
                                       Attributes a;
                                       a.set("transB", int64_t{1});
                                       SetFusedActivation(a, {"Clip", {0.0f, 6.0f}});
                                       return a;
                                     }());
  auto bytes = SerializeOnnx(g);
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  onnx::ModelProto proto;
  ASSERT_TRUE(proto.ParseFromString(*bytes));
  ASSERT_EQ(proto.graph().node_size(), 2);
  EXPECT_EQ(proto.graph().node(1).op_type(), "Clip");
  EXPECT_EQ(proto.graph().node(1).input_size(), 3);
  EXPECT_EQ(proto.graph().node(1).output(0), "out0");
  auto reloaded = Model::LoadFromBytes(bytes->data(), bytes->size());
  ASSERT_TRUE(reloaded.ok()) << reloaded.status().ToString();
}

}  // namespace
}  // namespace deepx
