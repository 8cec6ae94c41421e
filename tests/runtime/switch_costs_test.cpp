// MeasureBoundaryCosts against a backend whose block boundaries cost a known time: a wrapper around the reference
// backend sleeps a fixed time per block call, and a time per block input / output that is not a graph input /
// output (as the CPU backend's layout conversions at a block's interface do). The measurement must find them.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "backends/reference/reference_backend.h"
#include "plan/unit_blocks.h"
#include "runtime/executor.h"
#include "runtime/probe_util.h"
#include "runtime/switch_costs.h"
#include "test_util.h"

namespace deepx {
namespace {

struct Delays {
  double block_ms = 0, enter_ms = 0, leave_ms = 0;
};

class DelayBackend final : public Backend {
 public:
  DelayBackend(Delays d) : inner_(std::make_shared<ReferenceBackend>("delay")), delays_(d) { info_ = inner_->info(); }
  const ProcessorInfo& info() const override { return info_; }
  Status Supports(const Graph& g, const Node& n) const override { return inner_->Supports(g, n); }
  Result<std::unique_ptr<Executable>> Prepare(std::shared_ptr<const Graph> graph, const Block& block) override {
    double ms = delays_.block_ms;
    for (ValueId v : block.inputs)
      if (std::find(graph->inputs.begin(), graph->inputs.end(), v) == graph->inputs.end()) ms += delays_.enter_ms;
    for (ValueId v : block.outputs)
      if (!graph->IsGraphOutput(v)) ms += delays_.leave_ms;
    DX_ASSIGN_OR_RETURN(auto exe, inner_->Prepare(std::move(graph), block));
    return std::unique_ptr<Executable>(new Exe(std::move(exe), ms));
  }

 private:
  struct Exe final : Executable {
    Exe(std::unique_ptr<Executable> inner, double ms) : inner(std::move(inner)), ms(ms) {}
    Status Run(const std::vector<Tensor>& in, std::vector<Tensor>& out, const RunOptions& options) override {
      // Outside any node, like staging or a conversion between the block's interface and its kernels.
      std::this_thread::sleep_for(std::chrono::microseconds(static_cast<int64_t>(ms * 1000)));
      return inner->Run(in, out, options);
    }
    std::unique_ptr<Executable> inner;
    double ms;
  };
  std::shared_ptr<Backend> inner_;
  Delays delays_;
  ProcessorInfo info_;
};

// x -> Relu -> Relu -> ... (n nodes): n segments, n - 1 inner cuts.
std::shared_ptr<const Graph> ReluChain(int n) {
  auto g = std::make_shared<Graph>();
  g->opset = 13;
  auto value = [&](const std::string& name) {
    Value v;
    v.name = name;
    v.dtype = DataType::kFloat32;
    v.shape = {1, 8, 4, 4};
    v.has_shape = true;
    return g->AddValue(v);
  };
  ValueId prev = value("x");
  g->inputs = {prev};
  for (int i = 0; i < n; ++i) {
    const ValueId next = value("r" + std::to_string(i));
    g->nodes.push_back(Node{.name = "relu" + std::to_string(i), .op_type = "Relu", .opset = 13, .inputs = {prev}, .outputs = {next}});
    prev = next;
  }
  g->outputs = {prev};
  return g;
}

TEST(SwitchCosts, RepeatsCoverAFixedTimeBudget) {
  EXPECT_EQ(probe::RepeatsFor(30.0, 5), 5);    // a large model: the asked-for repeats
  EXPECT_EQ(probe::RepeatsFor(1.0, 5), 25);    // 25 ms of 1 ms runs
  EXPECT_EQ(probe::RepeatsFor(0.12, 5), 100);  // a tiny one: capped
  EXPECT_EQ(probe::RepeatsFor(0.0, 7), 7);     // no time measured: as asked
}

TEST(SwitchCosts, FindsTheInjectedBlockAndBoundaryCosts) {
  auto g = ReluChain(5);
  const SegmentChain chain = CutIntoSegments(*g);
  ASSERT_EQ(chain.segments.size(), 5u);
  auto backend = std::make_shared<DelayBackend>(Delays{.block_ms = 4, .enter_ms = 6, .leave_ms = 2});
  auto costs = MeasureBoundaryCosts(g, backend, {testing::RandomTensor({1, 8, 4, 4}, 1)}, 5);
  ASSERT_TRUE(costs.ok()) << costs.status().ToString();
  // Sleeps overshoot by a scheduler delay on a busy machine (medians of 5 runs): generous tolerances, but the
  // injected costs stay well apart from each other and from zero.
  EXPECT_NEAR(costs->block_ms, 4, 2);
  // Time outside nodes is split between a block's entry and exit in proportion to bytes (equal here), so single
  // cuts get 6 or 10 ms instead of the injected 8; over all cuts nothing is lost or invented.
  double total = 0;
  for (int cut = 1; cut < 5; ++cut) {
    const ValueId v = g->nodes[static_cast<size_t>(cut) - 1].outputs[0];
    ASSERT_TRUE(costs->enter_ms.count(v)) << "cut " << cut;
    ASSERT_TRUE(costs->leave_ms.count(v)) << "cut " << cut;
    const double both = costs->enter_ms.at(v) + costs->leave_ms.at(v);
    EXPECT_GT(both, 4) << "cut " << cut;
    EXPECT_LT(both, 13) << "cut " << cut;
    total += both;
  }
  EXPECT_NEAR(total, 4 * 8, 8);
  EXPECT_FALSE(costs->leave_ms.count(g->outputs[0]));  // a graph output is no boundary
}

TEST(SwitchCosts, FreeBoundariesCostLittle) {
  auto g = ReluChain(4);
  auto backend = std::make_shared<DelayBackend>(Delays{});
  auto costs = MeasureBoundaryCosts(g, backend, {testing::RandomTensor({1, 8, 4, 4}, 2)}, 3);
  ASSERT_TRUE(costs.ok()) << costs.status().ToString();
  EXPECT_GE(costs->block_ms, 0);
  for (const auto& [v, ms] : costs->enter_ms) EXPECT_LT(ms, 1.0) << g->value(v).name;
  for (const auto& [v, ms] : costs->leave_ms) EXPECT_LT(ms, 1.0) << g->value(v).name;
}

TEST(SwitchCosts, UnsupportedNodeIsAnError) {
  auto g = std::make_shared<Graph>(*ReluChain(2));
  g->nodes[1].op_type = "NoSuchOp";
  auto costs = MeasureBoundaryCosts(g, std::make_shared<DelayBackend>(Delays{}), {testing::RandomTensor({1, 8, 4, 4}, 3)}, 1);
  ASSERT_FALSE(costs.ok());
  EXPECT_NE(costs.status().message().find("relu1"), std::string::npos) << costs.status().ToString();
}

}  // namespace
}  // namespace deepx
