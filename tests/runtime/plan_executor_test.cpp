// A plan of several blocks on two reference-CPU backend instances must give exactly the single-block result:
// the executor's block boundaries, transfers and ordering are then proven independent of the kernels.
#include <gtest/gtest.h>

#include <cstring>

#include "backends/reference/reference_backend.h"
#include "ops/op.h"
#include "passes/shape_inference.h"
#include "plan/plan.h"
#include "runtime/executor.h"
#include "test_util.h"

namespace deepx {
namespace {

using testing::RandomTensor;

// x -> Conv(3x3) -> Relu -> [branch a: Conv 1x1] + [branch b: MaxPool 3x3 s1 p1] -> Add -> GlobalAveragePool -> Flatten
//   -> Gemm -> out
Graph DiamondGraph() {
  Graph g;
  g.opset = 13;
  auto value = [&](const std::string& name, Tensor constant = Tensor()) {
    Value v;
    v.name = name;
    if (!constant.empty()) {
      v.dtype = constant.dtype();
      v.shape = constant.shape();
      v.has_shape = true;
      v.constant = constant;
    }
    return g.AddValue(v);
  };
  auto node = [&](const std::string& name, const std::string& op, std::vector<ValueId> in, std::vector<ValueId> out,
                  Attributes attrs = {}) {
    g.nodes.push_back(Node{.name = name, .op_type = op, .opset = 13, .inputs = in, .outputs = out, .attrs = attrs});
  };
  ValueId x = value("x");
  g.value(x).dtype = DataType::kFloat32;
  g.value(x).shape = {1, 3, 12, 12};
  g.value(x).has_shape = true;
  g.inputs = {x};
  ValueId w1 = value("w1", RandomTensor({8, 3, 3, 3}, 1)), b1 = value("b1", RandomTensor({8}, 2));
  ValueId w2 = value("w2", RandomTensor({8, 8, 1, 1}, 3));
  ValueId wf = value("wf", RandomTensor({5, 8}, 4)), bf = value("bf", RandomTensor({5}, 5));
  ValueId c1 = value("c1"), r1 = value("r1"), a = value("a"), p = value("p"), s = value("s"), gp = value("gp"),
          fl = value("fl"), out = value("out");
  Attributes pad1;
  pad1.set("pads", std::vector<int64_t>{1, 1, 1, 1});
  Attributes pool = pad1;
  pool.set("kernel_shape", std::vector<int64_t>{3, 3});
  Attributes gemm;
  gemm.set("transB", int64_t{1});
  node("conv1", "Conv", {x, w1, b1}, {c1}, pad1);
  node("relu1", "Relu", {c1}, {r1});
  node("conv_a", "Conv", {r1, w2}, {a});
  node("pool_b", "MaxPool", {r1}, {p}, pool);
  node("add", "Add", {a, p}, {s});
  node("gap", "GlobalAveragePool", {s}, {gp});
  node("flatten", "Flatten", {gp}, {fl});
  node("fc", "Gemm", {fl, wf, bf}, {out}, gemm);
  g.outputs = {out, r1};  // an intermediate as a second output crosses block boundaries too
  return g;
}

Result<std::vector<Tensor>> RunWithAssignment(std::shared_ptr<const Graph> g, const std::vector<int>& assignment,
                                              const Tensor& input) {
  std::vector<std::shared_ptr<Backend>> backends = {std::make_shared<ReferenceBackend>("cpu-a"),
                                                    std::make_shared<ReferenceBackend>("cpu-b")};
  DX_ASSIGN_OR_RETURN(Plan plan, PlanFromAssignment(*g, assignment));
  DX_ASSIGN_OR_RETURN(auto executor, Executor::Create(g, std::move(plan), backends));
  return executor->Run({input});
}

TEST(PlanExecutor, SeveralBlocksOnTwoBackendsEqualOneBlock) {
  Graph g = DiamondGraph();
  ASSERT_TRUE(g.TopologicalSort().ok());
  Status s = InferShapes(g, OpRegistry::Default());
  ASSERT_TRUE(s.ok()) << s.ToString();
  auto graph = std::make_shared<const Graph>(std::move(g));
  Tensor input = RandomTensor({1, 3, 12, 12}, 42);

  auto single = RunWithAssignment(graph, std::vector<int>(graph->nodes.size(), 0), input);
  ASSERT_TRUE(single.ok()) << single.status().ToString();

  // Alternate backends node by node (8 blocks), then a two-way split in the middle of the diamond.
  std::vector<std::vector<int>> assignments = {{0, 1, 0, 1, 0, 1, 0, 1}, {0, 0, 0, 1, 1, 1, 1, 1},
                                               {1, 1, 1, 1, 1, 1, 1, 0}};
  for (const auto& assignment : assignments) {
    auto plan = PlanFromAssignment(*graph, assignment);
    ASSERT_TRUE(plan.ok());
    EXPECT_GT(plan->blocks.size(), 1u);
    auto split = RunWithAssignment(graph, assignment, input);
    ASSERT_TRUE(split.ok()) << split.status().ToString();
    ASSERT_EQ(split->size(), single->size());
    for (size_t i = 0; i < split->size(); ++i) {
      ASSERT_EQ((*split)[i].shape(), (*single)[i].shape());
      EXPECT_EQ(0, std::memcmp((*split)[i].raw_data(), (*single)[i].raw_data(), (*single)[i].size_bytes()))
          << "output " << i << " differs";
    }
  }
}

TEST(PlanExecutor, BlockInterfacesListCrossingValues) {
  Graph g = DiamondGraph();
  ASSERT_TRUE(g.TopologicalSort().ok());
  ASSERT_TRUE(InferShapes(g, OpRegistry::Default()).ok());
  auto plan = PlanFromAssignment(g, {0, 0, 0, 1, 1, 1, 1, 1});
  ASSERT_TRUE(plan.ok());
  // r1 is read on backend 1, so the first block ends after relu1 (pool_b need not wait for conv_a); add reads a
  // from backend 0, so it starts a block of its own rather than holding pool_b back: conv_a and pool_b overlap.
  ASSERT_EQ(plan->blocks.size(), 4u);
  auto names = [&](const std::vector<ValueId>& values) {
    std::vector<std::string> out;
    for (ValueId v : values) out.push_back(g.value(v).name);
    return out;
  };
  EXPECT_EQ(plan->blocks[0].nodes, (std::vector<NodeId>{0, 1}));
  EXPECT_EQ(names(plan->blocks[0].outputs), (std::vector<std::string>{"r1"}));  // read by conv_a, pool_b, graph
  EXPECT_EQ(names(plan->blocks[1].inputs), (std::vector<std::string>{"r1"}));
  EXPECT_EQ(names(plan->blocks[1].outputs), (std::vector<std::string>{"a"}));
  EXPECT_EQ(names(plan->blocks[2].inputs), (std::vector<std::string>{"r1"}));
  EXPECT_EQ(plan->blocks[2].backend, 1);
  EXPECT_EQ(names(plan->blocks[3].inputs), (std::vector<std::string>{"a", "p"}));
  EXPECT_EQ(plan->blocks[3].backend, 1);
}

TEST(PlanExecutor, InvalidPlansAreRejected) {
  Graph g = DiamondGraph();
  ASSERT_TRUE(g.TopologicalSort().ok());
  ASSERT_TRUE(InferShapes(g, OpRegistry::Default()).ok());
  Plan plan = SingleBackendPlan(g, 0);
  EXPECT_EQ(ValidatePlan(g, plan, 0).code(), StatusCode::kInvalidArgument);  // backend 0 of 0
  std::swap(plan.blocks[0].nodes[0], plan.blocks[0].nodes[1]);               // relu before conv
  Status s = ValidatePlan(g, plan, 1);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("relu1"), std::string::npos) << s.message();
  plan.blocks[0].nodes.pop_back();
  EXPECT_FALSE(ValidatePlan(g, plan, 1).ok());
}

}  // namespace
}  // namespace deepx
