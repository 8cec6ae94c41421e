// ExtractBlockGraph: a block of a plan as a standalone graph.
#include "plan/block_graph.h"

#include <gtest/gtest.h>

#include <cstring>

#include "backends/reference/reference_backend.h"
#include "deepx/deepx.hpp"
#include "onnx/model_writer.h"
#include "runtime/model_impl.h"
#include "test_util.h"

namespace deepx {
namespace {

TEST(BlockGraph, MiddleBlockHasItsOwnInputsOutputsAndConstants) {
  auto model = Model::Load(testing::SourcePath("models/fashion_mnist_cnn.onnx"));
  ASSERT_TRUE(model.ok());
  auto g = SpecializeModel(**model, {});
  ASSERT_TRUE(g.ok());
  const size_t n = g->nodes.size();
  ASSERT_GE(n, 3u);
  std::vector<int> assignment(n, 0);
  for (size_t i = 1; i + 1 < n; ++i) assignment[i] = 1;
  auto plan = PlanFromAssignment(*g, assignment);
  ASSERT_TRUE(plan.ok());
  ASSERT_EQ(plan->blocks.size(), 3u);
  const Block& mid = plan->blocks[1];
  auto sub = ExtractBlockGraph(*g, mid);
  ASSERT_TRUE(sub.ok()) << sub.status().ToString();
  EXPECT_EQ(sub->nodes.size(), mid.nodes.size());
  ASSERT_EQ(sub->inputs.size(), mid.inputs.size());
  for (size_t i = 0; i < mid.inputs.size(); ++i)
    EXPECT_EQ(sub->value(sub->inputs[i]).name, g->value(mid.inputs[i]).name);
  ASSERT_EQ(sub->outputs.size(), mid.outputs.size());
  int constants = 0;
  for (const Value& v : sub->values) constants += v.is_constant();
  EXPECT_GT(constants, 0);  // weights travel with the block
  // Standalone: it serialises, loads back, and computes what the block computes in place.
  auto bytes = SerializeOnnx(*sub);
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  auto reloaded = Model::LoadFromBytes(bytes->data(), bytes->size());
  ASSERT_TRUE(reloaded.ok()) << reloaded.status().ToString();
  ReferenceBackend ref;
  auto whole_graph = std::make_shared<const Graph>(*g);
  auto sub_graph = std::make_shared<const Graph>(*sub);
  auto first = ref.Prepare(whole_graph, plan->blocks[0]);
  ASSERT_TRUE(first.ok());
  std::vector<Tensor> a;
  ASSERT_TRUE((*first)->Run({testing::RandomTensor(g->value(g->inputs[0]).shape, 5)}, a).ok());
  auto in_place = ref.Prepare(whole_graph, mid);
  auto standalone = ref.Prepare(sub_graph, SingleBackendPlan(*sub).blocks[0]);
  ASSERT_TRUE(in_place.ok() && standalone.ok());
  std::vector<Tensor> want, got;
  ASSERT_TRUE((*in_place)->Run(a, want).ok());
  ASSERT_TRUE((*standalone)->Run(a, got).ok());
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_EQ(got[i].shape(), want[i].shape());
    EXPECT_EQ(std::memcmp(got[i].raw_data(), want[i].raw_data(), got[i].size_bytes()), 0) << "output " << i;
  }
}

TEST(BlockGraph, RejectsABlockReadingAValueFromNowhere) {
  Graph g = testing::SingleNodeGraph("Relu", {{"x", testing::RandomTensor({2}, 1)}}, {});
  Block b;
  b.nodes = {0};
  // The block does not declare x as an input.
  b.outputs = g.outputs;
  auto sub = ExtractBlockGraph(g, b);
  ASSERT_FALSE(sub.ok());
  EXPECT_EQ(sub.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(sub.status().message().find("'x'"), std::string::npos) << sub.status().ToString();
  b.inputs = g.inputs;
  b.outputs = {99};
  EXPECT_FALSE(ExtractBlockGraph(g, b).ok());
}

}  // namespace
}  // namespace deepx
