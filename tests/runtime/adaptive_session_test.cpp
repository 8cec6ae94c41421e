// The adaptive session: plans per condition bucket with hysteresis, a plan cache that makes steady state and
// returns to earlier conditions free, and immediate re-planning around a processor that failed mid-inference.
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <set>

#include "backends/reference/reference_backend.h"
#include "ops/op.h"
#include "passes/shape_inference.h"
#include "runtime/adaptive_planner.h"
#include "runtime/adaptive_session.h"
#include "test_util.h"

namespace deepx {
namespace {

using testing::RandomTensor;

// x -> Conv 3x3 -> Relu -> y
std::shared_ptr<const Graph> SmallGraph() {
  Graph g;
  g.opset = 13;
  Value x;
  x.name = "x";
  x.dtype = DataType::kFloat32;
  x.shape = {1, 2, 6, 6};
  x.has_shape = true;
  ValueId xi = g.AddValue(x);
  Value w;
  w.name = "w";
  w.constant = RandomTensor({4, 2, 3, 3}, 3);
  w.dtype = DataType::kFloat32;
  w.shape = w.constant.shape();
  w.has_shape = true;
  ValueId wi = g.AddValue(w);
  Value c, y;
  c.name = "c";
  y.name = "y";
  ValueId ci = g.AddValue(c), yi = g.AddValue(y);
  g.nodes.push_back(Node{.name = "conv", .op_type = "Conv", .opset = 13, .inputs = {xi, wi}, .outputs = {ci}});
  g.nodes.push_back(Node{.name = "relu", .op_type = "Relu", .opset = 13, .inputs = {ci}, .outputs = {yi}});
  g.inputs = {xi};
  g.outputs = {yi};
  EXPECT_TRUE(InferShapes(g, OpRegistry::Default()).ok());
  return std::make_shared<const Graph>(std::move(g));
}

// A reference backend under another name that can be told to fail every run.
class Switchable final : public Backend {
 public:
  explicit Switchable(const std::string& name) : inner_(name) {}
  std::shared_ptr<std::atomic<bool>> broken = std::make_shared<std::atomic<bool>>(false);
  const ProcessorInfo& info() const override { return inner_.info(); }
  Status Supports(const Graph& g, const Node& n) const override { return inner_.Supports(g, n); }
  Result<std::unique_ptr<Executable>> Prepare(std::shared_ptr<const Graph> graph, const Block& block) override {
    DX_ASSIGN_OR_RETURN(auto exe, inner_.Prepare(std::move(graph), block));
    return std::unique_ptr<Executable>(new Exe(std::move(exe), broken));
  }

 private:
  struct Exe final : Executable {
    Exe(std::unique_ptr<Executable> e, std::shared_ptr<std::atomic<bool>> b) : inner(std::move(e)), broken(std::move(b)) {}
    Status Run(const std::vector<Tensor>& in, std::vector<Tensor>& out, const RunOptions& o) override {
      if (*broken) return Unavailable("connection lost");
      return inner->Run(in, out, o);
    }
    std::unique_ptr<Executable> inner;
    std::shared_ptr<std::atomic<bool>> broken;
  };
  ReferenceBackend inner_;
};

// Plans everything on "fast" while CPU load < 0.5 and it is healthy, else on "slow"; records its calls.
struct FakePlanner {
  int calls = 0;
  double predicted_ms = -1;  // what every plan predicts (< 0: no prediction)
  std::vector<Conditions> seen;
  PlannerFn Fn() {
    return [this](const std::shared_ptr<const Graph>& g, const Conditions& c) -> Result<PlannedGraph> {
      ++calls;
      seen.push_back(c);
      PlannedGraph p;
      p.graph = g;
      const bool fast = c.cpu_load < 0.5 && !c.unhealthy.count("fast");
      p.processors = {fast ? "fast" : "slow"};
      p.plan = SingleBackendPlan(*g, 0);
      p.predicted_block_ms = {1.0};
      p.predicted_latency_ms = predicted_ms;
      return p;
    };
  }
};

struct Fixture {
  std::shared_ptr<const Graph> graph = SmallGraph();
  std::shared_ptr<Switchable> fast = std::make_shared<Switchable>("fast");
  std::shared_ptr<Switchable> slow = std::make_shared<Switchable>("slow");
  std::shared_ptr<FakeMonitor> monitor = std::make_shared<FakeMonitor>();
  FakePlanner planner;
  std::unique_ptr<AdaptiveSession> session;
  Tensor x = RandomTensor({1, 2, 6, 6}, 5);

  explicit Fixture(AdaptiveOptions options = {}) {
    options.executor.fallback = std::make_shared<ReferenceBackend>("host");
    auto s = AdaptiveSession::Create(graph, {fast, slow}, planner.Fn(), monitor, options);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    session = std::move(s).value();
  }
  void Load(double load) {
    monitor->Update([&](Conditions& c) { c.cpu_load = load; });
  }
  // Runs once; returns the processor the (single) block ran on.
  std::string Run(AdaptiveRunInfo* info = nullptr) {
    AdaptiveRunInfo local;
    if (!info) info = &local;
    auto out = session->Run({x}, info);
    EXPECT_TRUE(out.ok()) << out.status().ToString();
    return info->report.blocks.empty() ? "" : info->report.blocks[0].processor;
  }
};

TEST(BucketEdges, HysteresisMarginKeepsTheCurrentBucket) {
  BucketEdges load{{0.25, 0.5, 0.75}, 0.05, false};
  EXPECT_EQ(load.Bucket(0.1), 0);
  EXPECT_EQ(load.Bucket(0.5), 2);
  EXPECT_EQ(load.Bucket(0.52, 1), 1);   // within the margin above bucket 1
  EXPECT_EQ(load.Bucket(0.56, 1), 2);
  EXPECT_EQ(load.Bucket(0.47, 2), 2);   // within the margin below bucket 2
  EXPECT_EQ(load.Bucket(0.9, 1), 3);
  BucketEdges mbps{{1, 10, 100}, 0.2, true};
  EXPECT_EQ(mbps.Bucket(11, 1), 1);     // 11 < 10 * 1.2
  EXPECT_EQ(mbps.Bucket(13, 1), 2);
  EXPECT_EQ(mbps.Bucket(0.9, 1), 1);    // 0.9 > 1 / 1.2
  EXPECT_EQ(mbps.Bucket(0.5, 1), 0);
}

TEST(AdaptiveSession, SteadyStatePlansOnce) {
  Fixture f;
  f.Load(0.1);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(f.Run(), "fast");
  EXPECT_EQ(f.planner.calls, 1);
  EXPECT_EQ(f.session->stats().replans, 1);
  EXPECT_EQ(f.session->stats().switches, 0);
  EXPECT_EQ(f.session->stats().samples, 20);
  ASSERT_EQ(f.session->stats().replan_ms.size(), 1u);
  EXPECT_GT(f.session->stats().replan_ms[0], 0);
}

TEST(AdaptiveSession, ReplansAfterHoldSamplesAndReusesCachedPlans) {
  AdaptiveOptions options;
  options.hold_samples = 3;
  Fixture f(options);
  f.Load(0.3);
  EXPECT_EQ(f.Run(), "fast");
  f.Load(0.52);  // another bucket, but within the margin of the current one: no change
  for (int i = 0; i < 5; ++i) EXPECT_EQ(f.Run(), "fast");
  f.Load(0.9);
  EXPECT_EQ(f.Run(), "fast");  // 1st and 2nd sample of the new bucket: held
  EXPECT_EQ(f.Run(), "fast");
  AdaptiveRunInfo info;
  EXPECT_EQ(f.Run(&info), "slow");  // 3rd: switch, with a re-plan
  EXPECT_TRUE(info.replanned);
  EXPECT_TRUE(info.switched);
  EXPECT_GT(info.replan_ms, 0);
  EXPECT_EQ(f.planner.calls, 2);
  // A blip back for one sample does not switch.
  f.Load(0.3);
  EXPECT_EQ(f.Run(), "slow");
  f.Load(0.9);
  EXPECT_EQ(f.Run(), "slow");
  // Back for good (the first bucket again): after 3 samples its cached plan returns without calling the planner.
  f.Load(0.3);
  f.Run();
  f.Run();
  EXPECT_EQ(f.Run(&info), "fast");
  EXPECT_TRUE(info.switched);
  EXPECT_FALSE(info.replanned);
  EXPECT_EQ(f.planner.calls, 2);
  EXPECT_EQ(f.session->stats().cache_hits, 1);
  EXPECT_EQ(f.session->stats().switches, 2);
}

TEST(AdaptiveSession, KeysWithTheSamePlanShareOneExecutor) {
  AdaptiveOptions options;
  options.hold_samples = 3;
  Fixture f(options);
  f.Load(0.1);
  AdaptiveRunInfo info;
  EXPECT_EQ(f.Run(&info), "fast");
  EXPECT_TRUE(info.prepared);
  // Another load bucket whose plan is the same: the planner runs, the executor is the one already prepared.
  f.Load(0.3);
  f.Run();
  f.Run();
  EXPECT_EQ(f.Run(&info), "fast");
  EXPECT_TRUE(info.replanned);
  EXPECT_FALSE(info.prepared);
  EXPECT_FALSE(info.switched);  // same execution: not a switch
  EXPECT_EQ(f.planner.calls, 2);
  EXPECT_EQ(f.session->stats().executors_prepared, 1);
  EXPECT_EQ(f.session->stats().switches, 0);
  // A plan that differs gets its own.
  f.Load(0.9);
  f.Run();
  f.Run();
  EXPECT_EQ(f.Run(&info), "slow");
  EXPECT_TRUE(info.prepared);
  EXPECT_TRUE(info.switched);
  EXPECT_EQ(f.session->stats().executors_prepared, 2);
}

TEST(AdaptiveSession, LessFreeMemoryReleasesIdleExecutors) {
  AdaptiveOptions options;
  options.hold_samples = 3;
  Fixture f(options);
  auto set = [&](double load, double mem_mb) {
    f.monitor->Update([&](Conditions& c) {
      c.cpu_load = load;
      c.mem_available_bytes = static_cast<int64_t>(mem_mb * (1 << 20));
    });
  };
  set(0.1, 8192);
  EXPECT_EQ(f.Run(), "fast");
  set(0.9, 8192);
  f.Run();
  f.Run();
  EXPECT_EQ(f.Run(), "slow");
  EXPECT_EQ(f.session->stats().executors_prepared, 2);
  // Free memory drops: switch at once (same plan, same executor) and release the idle "fast" executor.
  set(0.9, 300);
  AdaptiveRunInfo info;
  EXPECT_EQ(f.Run(&info), "slow");
  EXPECT_TRUE(info.replanned);
  EXPECT_FALSE(info.prepared);
  EXPECT_EQ(f.session->stats().executors_released, 1);
  // Back to the first conditions: the cached plan returns without the planner, its executor prepared again.
  set(0.1, 8192);
  f.Run();
  f.Run();
  EXPECT_EQ(f.Run(&info), "fast");
  EXPECT_FALSE(info.replanned);
  EXPECT_TRUE(info.prepared);
  EXPECT_TRUE(info.switched);
  EXPECT_EQ(f.session->stats().executors_prepared, 3);
  EXPECT_EQ(f.planner.calls, 3);
}

TEST(AdaptiveSession, LateRunsSkipTheHoldOnTheNextNewKey) {
  AdaptiveOptions options;
  options.hold_samples = 3;
  // Every run takes far longer than the 1 ns its plan predicts, so each counts as late.
  Fixture late(options);
  late.planner.predicted_ms = 1e-6;
  late.Load(0.1);
  EXPECT_EQ(late.Run(), "fast");
  late.Load(0.9);
  AdaptiveRunInfo info;
  EXPECT_EQ(late.Run(&info), "slow");  // the first sample of the new bucket switches
  EXPECT_TRUE(info.switched);

  // Runs as fast as predicted: the hold applies.
  Fixture on_time(options);
  on_time.planner.predicted_ms = 1e6;
  on_time.Load(0.1);
  EXPECT_EQ(on_time.Run(), "fast");
  on_time.Load(0.9);
  EXPECT_EQ(on_time.Run(), "fast");
  EXPECT_EQ(on_time.Run(), "fast");
  EXPECT_EQ(on_time.Run(), "slow");

  // late_factor 0 turns the shortcut off.
  options.late_factor = 0;
  Fixture off(options);
  off.planner.predicted_ms = 1e-6;
  off.Load(0.1);
  off.Run();
  off.Load(0.9);
  EXPECT_EQ(off.Run(), "fast");
}

TEST(AdaptiveSession, FailedProcessorIsPlannedAroundAtOnce) {
  AdaptiveOptions options;
  options.hold_samples = 5;
  options.sample_every_runs = 10;  // even with rare sampling, a failure triggers a sample on the next run
  Fixture f(options);
  f.Load(0.1);
  EXPECT_EQ(f.Run(), "fast");
  *f.fast->broken = true;
  AdaptiveRunInfo info;
  EXPECT_EQ(f.Run(&info), "host");  // the request completes on the fallback
  EXPECT_EQ(info.report.failovers, 1);
  EXPECT_EQ(f.Run(&info), "slow");  // next request: re-planned without "fast", no hold
  EXPECT_TRUE(info.sampled);
  EXPECT_TRUE(info.replanned);
  EXPECT_NE(info.key.find("down=[fast]"), std::string::npos) << info.key;
  ASSERT_EQ(f.planner.seen.size(), 2u);
  EXPECT_EQ(f.planner.seen[1].unhealthy.count("fast"), 1u);
}

TEST(AdaptiveSession, PlannerErrorsAndUnknownProcessorsAreReported) {
  auto graph = SmallGraph();
  auto monitor = std::make_shared<FakeMonitor>();
  PlannerFn failing = [](const std::shared_ptr<const Graph>&, const Conditions&) -> Result<PlannedGraph> {
    return FailedPrecondition("infeasible: latency limit 1 ms cannot be met: best achievable 3 ms");
  };
  auto s = AdaptiveSession::Create(graph, {std::make_shared<ReferenceBackend>("a")}, failing, monitor);
  ASSERT_TRUE(s.ok());
  auto out = (*s)->Run({RandomTensor({1, 2, 6, 6}, 1)});
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("latency limit"), std::string::npos);
  PlannerFn unknown = [](const std::shared_ptr<const Graph>& g, const Conditions&) -> Result<PlannedGraph> {
    PlannedGraph p;
    p.graph = g;
    p.plan = SingleBackendPlan(*g, 0);
    p.processors = {"gpu"};
    return p;
  };
  s = AdaptiveSession::Create(graph, {std::make_shared<ReferenceBackend>("a")}, unknown, monitor);
  ASSERT_TRUE(s.ok());
  out = (*s)->Run({RandomTensor({1, 2, 6, 6}, 1)});
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("'gpu'"), std::string::npos);
}

// The DAD planner behind the session: a local CPU and a remote "edge" with measured node times. Latency objective:
// the CPU wins unloaded (2 ms vs 0.4 ms + two 1 ms link crossings); loaded to 90 % it is 1.9x slower and the edge
// wins; with the edge down the
// CPU is all that is left.
TEST(AdaptiveSession, DadPlannerFollowsLoadAndHealth) {
  auto graph = SmallGraph();
  PlannerInputs base;
  ProcessorSpec cpu;
  cpu.name = "cpu";
  cpu.kind = "cpu";
  cpu.home = true;
  cpu.active_w = 2;
  ProcessorSpec edge;
  edge.name = "edge";
  edge.kind = "remote";
  edge.link_gbps = 1;  // 1 GB/s
  edge.link_latency_ms = 1;
  edge.active_w = 0.4;
  base.processors = {cpu, edge};
  base.measured = {{1.0, 1.0}, {0.2, 0.2}};  // ms per node
  base.objective = PlanObjective::kLatency;
  base.limits.latency_ms = 1000;
  base.options.intra_layer_splits = false;

  std::vector<int> kept;
  Conditions c;
  c.cpu_load = 0.5;
  c.mem_available_bytes = 1 << 30;
  c.links["edge"] = LinkConditions{30, 8};
  auto in = InputsForConditions(base, c, &kept);
  ASSERT_TRUE(in.ok()) << in.status().ToString();
  ASSERT_EQ(in->conditions.load.size(), 2u);
  EXPECT_DOUBLE_EQ(in->conditions.load[0], 0.5 / 1.5);
  EXPECT_EQ(in->conditions.load[1], 0.0);
  EXPECT_EQ(in->conditions.free_memory, (std::vector<int64_t>{1 << 30, 0}));
  EXPECT_EQ(in->conditions.network_rtt_ms, 30);
  EXPECT_EQ(in->conditions.network_mbps, 8);
  c.unhealthy["cpu"] = "lost";
  in = InputsForConditions(base, c, &kept);
  ASSERT_TRUE(in.ok());
  EXPECT_EQ(kept, std::vector<int>{1});
  EXPECT_TRUE(in->processors[0].home);

  auto monitor = std::make_shared<FakeMonitor>();
  AdaptiveOptions options;
  options.hold_samples = 1;
  auto s = AdaptiveSession::Create(graph, {std::make_shared<ReferenceBackend>("cpu"), std::make_shared<ReferenceBackend>("edge")},
                                   MakeDadPlanner(base), monitor, options);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  Tensor x = RandomTensor({1, 2, 6, 6}, 6);
  auto processors_used = [&](const AdaptiveRunInfo& info) {
    std::set<std::string> used;
    for (const BlockRecord& r : info.report.blocks) used.insert(r.processor);
    return used;
  };
  AdaptiveRunInfo info;
  ASSERT_TRUE((*s)->Run({x}, &info).ok());
  EXPECT_EQ(processors_used(info), std::set<std::string>{"cpu"});
  ASSERT_NE(info.plan, nullptr);
  EXPECT_GT(info.plan->predicted_latency_ms, 0);
  monitor->Update([](Conditions& c) { c.cpu_load = 0.9; });
  ASSERT_TRUE((*s)->Run({x}, &info).ok());
  EXPECT_TRUE(info.replanned);
  EXPECT_EQ(processors_used(info), std::set<std::string>{"edge"});
  monitor->Update([](Conditions& c) { c.unhealthy["edge"] = "connection refused"; });
  ASSERT_TRUE((*s)->Run({x}, &info).ok());
  EXPECT_EQ(processors_used(info), std::set<std::string>{"cpu"});
  EXPECT_TRUE(info.plan->meets_limits);

  // A limit nothing meets: the planner still answers, with the fastest plan, marked.
  base.limits.latency_ms = 0.01;
  auto fastest = MakeDadPlanner(base)(graph, Conditions());
  ASSERT_TRUE(fastest.ok()) << fastest.status().ToString();
  EXPECT_FALSE(fastest->meets_limits);
  EXPECT_EQ(fastest->processors[static_cast<size_t>(fastest->plan.blocks[0].backend)], "cpu");
}

}  // namespace
}  // namespace deepx
