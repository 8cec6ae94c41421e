// The CPU backend's activation arena planner: no two tensors live at the same time may share bytes, and reuse
// must actually happen on a chain.
#include <gtest/gtest.h>

#ifdef DEEPX_HAVE_CPU_BACKEND
#include <random>

#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/memory_planner.h"
#include "ops/op.h"
#include "passes/shape_inference.h"
#include "plan/plan.h"
#include "test_util.h"

namespace deepx {
namespace {

using cpu::ArenaRequest;

// Checks the plan's invariants; returns a failure message or "".
std::string CheckPlan(const std::vector<ArenaRequest>& requests, const cpu::ArenaPlan& plan) {
  for (size_t i = 0; i < requests.size(); ++i) {
    if (plan.offsets[i] % 64 != 0) return "offset " + std::to_string(i) + " is not aligned";
    if (plan.offsets[i] < 0 || plan.offsets[i] + requests[i].size > plan.total_bytes) return "out of the arena";
    for (size_t j = i + 1; j < requests.size(); ++j) {
      const bool live_together = requests[i].first <= requests[j].last && requests[j].first <= requests[i].last;
      const bool bytes_overlap = plan.offsets[i] < plan.offsets[j] + requests[j].size &&
                                 plan.offsets[j] < plan.offsets[i] + requests[i].size;
      if (live_together && bytes_overlap) return "requests " + std::to_string(i) + " and " + std::to_string(j) +
                                                 " are live together and overlap";
    }
  }
  return "";
}

TEST(ArenaPlanner, LiveTensorsNeverOverlapOnRandomLifetimes) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 200; ++trial) {
    const int steps = 1 + static_cast<int>(rng() % 40);
    std::vector<ArenaRequest> requests(1 + rng() % 60);
    for (ArenaRequest& r : requests) {
      r.size = 1 + static_cast<int64_t>(rng() % 100000);
      r.first = static_cast<int>(rng() % steps);
      r.last = r.first + static_cast<int>(rng() % 6);
    }
    const cpu::ArenaPlan plan = cpu::PlanArena(requests);
    ASSERT_EQ(CheckPlan(requests, plan), "") << "trial " << trial;
    EXPECT_GE(plan.total_bytes, cpu::PeakLiveBytes(requests));  // nothing beats the live-set bound
  }
}

TEST(ArenaPlanner, ChainReusesMemory) {
  // x -> a -> b -> c -> d: each step reads the previous tensor only, so two buffers suffice.
  std::vector<ArenaRequest> requests = {{1000, 0, 1}, {4000, 1, 2}, {2000, 2, 3}, {4000, 3, 4}, {1000, 4, 5}};
  const cpu::ArenaPlan plan = cpu::PlanArena(requests);
  ASSERT_EQ(CheckPlan(requests, plan), "");
  EXPECT_EQ(plan.total_bytes, cpu::PeakLiveBytes(requests));
  EXPECT_LT(plan.total_bytes, 1024 + 4032 + 2048 + 4032 + 1024);
}

// A chain of eight 3x3 convolutions with ReLU between them, prepared on the CPU backend.
TEST(ArenaPlanner, CpuExecutableArenaIsSmallerThanAllActivations) {
  Graph g;
  g.opset = 17;
  auto add = [&](const std::string& name, Tensor t, bool constant) {
    Value v;
    v.name = name;
    v.dtype = DataType::kFloat32;
    v.shape = t.shape();
    v.has_shape = true;
    if (constant) v.constant = t;
    return g.AddValue(v);
  };
  ValueId x = add("x", testing::RandomTensor({1, 8, 32, 32}, 1), false);
  g.inputs = {x};
  Attributes pads;
  pads.set("pads", std::vector<int64_t>{1, 1, 1, 1});
  ValueId cur = x;
  for (int i = 0; i < 8; ++i) {
    ValueId w = add("w" + std::to_string(i), testing::RandomTensor({8, 8, 3, 3}, 10 + i, -0.3f, 0.3f), true);
    Value c;
    c.name = "conv" + std::to_string(i);
    ValueId conv = g.AddValue(c);
    g.nodes.push_back(Node{.name = c.name, .op_type = "Conv", .opset = 17, .inputs = {cur, w}, .outputs = {conv},
                           .attrs = pads});
    Value r;
    r.name = "relu" + std::to_string(i);
    ValueId relu = g.AddValue(r);
    g.nodes.push_back(Node{.name = r.name, .op_type = "Relu", .opset = 17, .inputs = {conv}, .outputs = {relu}});
    cur = relu;
  }
  g.outputs = {cur};
  ASSERT_TRUE(InferShapes(g, OpRegistry::Default()).ok());
  auto graph = std::make_shared<const Graph>(std::move(g));
  CpuBackend backend;
  auto exe = backend.Prepare(graph, SingleBackendPlan(*graph).blocks[0]);
  ASSERT_TRUE(exe.ok()) << exe.status().ToString();
  auto* cpu_exe = dynamic_cast<CpuExecutable*>(exe->get());
  ASSERT_NE(cpu_exe, nullptr);
  const int64_t tensor_bytes = 8 * 32 * 32 * 4;
  // 15 intermediates (the last ReLU is the block output, allocated per run); two live at a time.
  EXPECT_EQ(cpu_exe->unshared_activation_bytes(), 15 * tensor_bytes);
  EXPECT_EQ(cpu_exe->activation_arena_bytes(), 2 * tensor_bytes);
  EXPECT_GE((*exe)->resident_bytes(), cpu_exe->activation_arena_bytes() + 8 * 8 * 8 * 9 * 4);
}

}  // namespace
}  // namespace deepx
#endif  // DEEPX_HAVE_CPU_BACKEND
