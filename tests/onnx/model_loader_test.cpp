// Positive controls for the ONNX loader: small well-formed models load, report their inputs and outputs, and run
// through Session to hand-computed results (see the expected values documented in model_builder.h).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/graph.h"
#include "onnx/model_builder.h"

namespace deepx::testing {
namespace {

std::vector<float> RunOne(const std::shared_ptr<const Model>& model, const Tensor& x, Shape* out_shape = nullptr) {
  auto session = Session::Create(model);
  EXPECT_TRUE(session.ok()) << session.status().ToString();
  if (!session.ok()) return {};
  auto outputs = (*session)->Run({{"x", x}});
  EXPECT_TRUE(outputs.ok()) << outputs.status().ToString();
  if (!outputs.ok() || outputs->size() != 1) return {};
  const Tensor& y = (*outputs)[0];
  EXPECT_EQ(y.dtype(), DataType::kFloat32);
  if (out_shape) *out_shape = y.shape();
  return std::vector<float>(y.data<float>(), y.data<float>() + y.num_elements());
}

TEST(ModelLoader, AddReluReshapeLoadsAndDescribesItself) {
  auto model = LoadProto(AddReluReshapeModel());
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ((*model)->opset(), 17);
  EXPECT_EQ((*model)->producer(), "deepx-tests");
  ASSERT_EQ((*model)->inputs().size(), 1u);  // initializers are not inputs
  EXPECT_EQ((*model)->inputs()[0].name, "x");
  EXPECT_EQ((*model)->inputs()[0].dtype, DataType::kFloat32);
  EXPECT_EQ((*model)->inputs()[0].shape, (Shape{1, 1, 2, 3}));
  ASSERT_EQ((*model)->outputs().size(), 1u);
  // The file leaves the output type out; the loader fills it in from shape inference.
  EXPECT_EQ((*model)->outputs()[0].name, "y");
  EXPECT_EQ((*model)->outputs()[0].dtype, DataType::kFloat32);
  EXPECT_EQ((*model)->outputs()[0].shape, (Shape{2, 3}));
}

TEST(ModelLoader, AddReluReshapeRuns) {
  auto model = LoadProto(AddReluReshapeModel());
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  Shape shape;
  auto y = RunOne(*model, Tensor::FromFloats({1, 1, 2, 3}, {-2, -1, 0, 1, 2, 3}), &shape);
  EXPECT_EQ(shape, (Shape{2, 3}));
  EXPECT_EQ(y, (std::vector<float>{0, 0, 0.5f, 2, 1, 3.5f}));
}

TEST(ModelLoader, WeightsListedAsGraphInputsAreConstants) {
  // Older exporters (IR < 4) list every initializer as a graph input too.
  onnx::ModelProto m = AddReluReshapeModel();
  AddInput(m.mutable_graph(), "bias", kOnnxFloat, {3});
  auto model = LoadProto(m);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  ASSERT_EQ((*model)->inputs().size(), 1u);
  EXPECT_EQ((*model)->inputs()[0].name, "x");
}

TEST(ModelLoader, DynamicBatchDimension) {
  onnx::ModelProto m = MakeModel(13);
  auto* g = m.mutable_graph();
  auto* x = AddInput(g, "x", kOnnxFloat, {0, 3});
  x->mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim(0)->set_dim_param("batch");
  AddNode(g, "Relu", {"x"}, {"y"}, "relu");
  AddOutput(g, "y");
  auto model = LoadProto(m);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ((*model)->inputs()[0].shape, (Shape{-1, 3}));
  Shape shape;
  auto y = RunOne(*model, Tensor::FromFloats({2, 3}, {-1, 2, -3, 4, -5, 6}), &shape);
  EXPECT_EQ(shape, (Shape{2, 3}));
  EXPECT_EQ(y, (std::vector<float>{0, 2, 0, 4, 0, 6}));
}

TEST(ModelLoader, TypedFieldInitializers) {
  // The same bias in float_data instead of raw_data.
  onnx::ModelProto m = AddReluReshapeModel();
  auto* bias = m.mutable_graph()->mutable_initializer(0);
  bias->clear_raw_data();
  for (float v : {1.0f, -1.0f, 0.5f}) bias->add_float_data(v);
  auto model = LoadProto(m);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ(RunOne(*model, Tensor::FromFloats({1, 1, 2, 3}, {-2, -1, 0, 1, 2, 3})),
            (std::vector<float>{0, 0, 0.5f, 2, 1, 3.5f}));
}

TEST(ModelLoader, ConvReluRuns) {
  auto model = LoadProto(ConvReluModel());
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  Shape shape;
  auto y = RunOne(*model, Tensor::FromFloats({1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9}), &shape);
  EXPECT_EQ(shape, (Shape{1, 1, 2, 2}));
  EXPECT_EQ(y, (std::vector<float>{2, 6, 14, 18}));
}

TEST(ModelLoader, ExternalDataInsideTheDirectoryRuns) {
  TempDir dir("positive_external");
  // Both weights in one file: W (4 floats) at offset 0, B (1 float) at offset 16, as onnx's external data tools lay
  // them out.
  dir.Write("weights.bin", FloatBytes({1, 1, 1, 1, -10}));
  onnx::ModelProto m = ConvReluModel();
  SetExternalData(m.mutable_graph()->mutable_initializer(0), "weights.bin", 0, 16);
  SetExternalData(m.mutable_graph()->mutable_initializer(1), "weights.bin", 16, 4);
  const std::string path = dir.Write("conv.onnx", Serialize(m));
  auto model = Model::Load(path);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ(RunOne(*model, Tensor::FromFloats({1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9})),
            (std::vector<float>{2, 6, 14, 18}));
}

TEST(ModelLoader, ExternalDataInASubdirectoryRuns) {
  TempDir dir("positive_external_sub");
  std::filesystem::create_directory(dir.path() / "data");
  dir.Write("data/bias.bin", FloatBytes({1.0f, -1.0f, 0.5f}));
  onnx::ModelProto m = AddReluReshapeModel();
  SetExternalData(m.mutable_graph()->mutable_initializer(0), "data/bias.bin");
  auto model = Model::Load(dir.Write("m.onnx", Serialize(m)));
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ(RunOne(*model, Tensor::FromFloats({1, 1, 2, 3}, {-2, -1, 0, 1, 2, 3})),
            (std::vector<float>{0, 0, 0.5f, 2, 1, 3.5f}));
}

TEST(ModelLoader, NodesOutOfOrderAreSorted) {
  // ONNX requires topological order, but some tools write nodes shuffled; the loader sorts them.
  onnx::ModelProto m = AddReluReshapeModel();
  m.mutable_graph()->mutable_node()->SwapElements(0, 2);
  auto model = LoadProto(m);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ(RunOne(*model, Tensor::FromFloats({1, 1, 2, 3}, {-2, -1, 0, 1, 2, 3})),
            (std::vector<float>{0, 0, 0.5f, 2, 1, 3.5f}));
}

}  // namespace
}  // namespace deepx::testing
