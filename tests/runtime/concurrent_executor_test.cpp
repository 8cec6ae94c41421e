// The concurrent plan executor: independent blocks on different processors run at the same time, transfers and
// recomposition give single-backend results (also across real backends: cpu, reference, opencl when present), an
// intra-layer split (two halves of a conv on two processors + Concat) equals the whole layer, and a processor that
// fails or hangs mid-inference is replaced by the fallback without losing the request.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>

#include "backends/reference/reference_backend.h"
#include "ops/op.h"
#include "passes/shape_inference.h"
#include "plan/plan.h"
#include "plan/split_transform.h"
#include "runtime/executor.h"
#include "test_util.h"

#ifdef DEEPX_HAVE_REMOTE_BACKEND
#include "serve/server.h"
#endif

namespace deepx {
namespace {

using testing::MaxScaledError;
using testing::RandomTensor;

// ---------------------------------------------------------------------------------------------------------------
// Graph builders

struct Builder {
  Graph g;
  Builder() { g.opset = 13; }
  ValueId Value(const std::string& name, Tensor constant = Tensor()) {
    deepx::Value v;
    v.name = name;
    if (!constant.empty()) {
      v.dtype = constant.dtype();
      v.shape = constant.shape();
      v.has_shape = true;
      v.constant = constant;
    }
    return g.AddValue(v);
  }
  ValueId Input(const std::string& name, Shape shape) {
    ValueId x = Value(name);
    g.value(x).dtype = DataType::kFloat32;
    g.value(x).shape = std::move(shape);
    g.value(x).has_shape = true;
    g.inputs.push_back(x);
    return x;
  }
  void Node(const std::string& name, const std::string& op, std::vector<ValueId> in, std::vector<ValueId> out,
            Attributes attrs = {}) {
    g.nodes.push_back(deepx::Node{.name = name, .op_type = op, .opset = 13, .inputs = in, .outputs = out,
                                  .attrs = attrs});
  }
  std::shared_ptr<const Graph> Finish() {
    EXPECT_TRUE(g.TopologicalSort().ok());
    Status s = InferShapes(g, OpRegistry::Default());
    EXPECT_TRUE(s.ok()) << s.ToString();
    return std::make_shared<const Graph>(std::move(g));
  }
};

Attributes Pads1() {
  Attributes a;
  a.set("pads", std::vector<int64_t>{1, 1, 1, 1});
  return a;
}

// x -> conv1 -> relu -> {branch a: conv 1x1 -> relu} {branch b: maxpool 3x3} -> add -> gap -> flatten -> fc
// Nodes: 0 conv1, 1 relu1, 2 conv_a, 3 relu_a, 4 pool_b, 5 add, 6 gap, 7 flatten, 8 fc.
std::shared_ptr<const Graph> Diamond() {
  Builder b;
  ValueId x = b.Input("x", {1, 3, 16, 16});
  ValueId w1 = b.Value("w1", RandomTensor({8, 3, 3, 3}, 1)), b1 = b.Value("b1", RandomTensor({8}, 2));
  ValueId w2 = b.Value("w2", RandomTensor({8, 8, 1, 1}, 3));
  ValueId wf = b.Value("wf", RandomTensor({5, 8}, 4)), bf = b.Value("bf", RandomTensor({5}, 5));
  ValueId c1 = b.Value("c1"), r1 = b.Value("r1"), a = b.Value("a"), ar = b.Value("ar"), p = b.Value("p"),
          s = b.Value("s"), gp = b.Value("gp"), fl = b.Value("fl"), out = b.Value("out");
  Attributes pool = Pads1();
  pool.set("kernel_shape", std::vector<int64_t>{3, 3});
  Attributes gemm;
  gemm.set("transB", int64_t{1});
  b.Node("conv1", "Conv", {x, w1, b1}, {c1}, Pads1());
  b.Node("relu1", "Relu", {c1}, {r1});
  b.Node("conv_a", "Conv", {r1, w2}, {a});
  b.Node("relu_a", "Relu", {a}, {ar});
  b.Node("pool_b", "MaxPool", {r1}, {p}, pool);
  b.Node("add", "Add", {ar, p}, {s});
  b.Node("gap", "GlobalAveragePool", {s}, {gp});
  b.Node("flatten", "Flatten", {gp}, {fl});
  b.Node("fc", "Gemm", {fl, wf, bf}, {out}, gemm);
  b.g.outputs = {out, r1};
  return b.Finish();
}

// Rows [begin, end) of a tensor's first dimension (a conv weight's output channels), as a new host tensor.
Tensor SliceRows(const Tensor& t, int64_t begin, int64_t end) {
  Shape shape = t.shape();
  const int64_t row = t.num_elements() / shape[0];
  shape[0] = end - begin;
  Tensor out = Tensor::Zeros(t.dtype(), shape);
  std::memcpy(out.raw_data(), t.data<float>() + begin * row, static_cast<size_t>((end - begin) * row) * sizeof(float));
  return out;
}

// The same conv layer whole (split_at = 0) or as two convs over output channels [0, split_at) and
// [split_at, 16) recombined by Concat along channels, then Relu. Nodes (split): 0 conv_lo, 1 conv_hi, 2 concat,
// 3 relu.
std::shared_ptr<const Graph> ConvLayer(int64_t split_at) {
  Builder b;
  ValueId x = b.Input("x", {1, 4, 12, 12});
  Tensor w = RandomTensor({16, 4, 3, 3}, 11), bias = RandomTensor({16}, 12);
  ValueId c = b.Value("c"), y = b.Value("y");
  if (split_at == 0) {
    b.Node("conv", "Conv", {x, b.Value("w", w), b.Value("b", bias)}, {c}, Pads1());
  } else {
    ValueId lo = b.Value("lo"), hi = b.Value("hi");
    b.Node("conv_lo", "Conv", {x, b.Value("w_lo", SliceRows(w, 0, split_at)), b.Value("b_lo", SliceRows(bias, 0, split_at))},
           {lo}, Pads1());
    b.Node("conv_hi", "Conv", {x, b.Value("w_hi", SliceRows(w, split_at, 16)), b.Value("b_hi", SliceRows(bias, split_at, 16))},
           {hi}, Pads1());
    Attributes axis;
    axis.set("axis", int64_t{1});
    b.Node("concat", "Concat", {lo, hi}, {c}, axis);
  }
  b.Node("relu", "Relu", {c}, {y});
  b.g.outputs = {y};
  return b.Finish();
}

// ---------------------------------------------------------------------------------------------------------------
// A test backend wrapping a real one: it can fail its Nth run, hang in a run until released, or wait at a
// rendezvous with another processor (which only works if the two run concurrently).

struct Faults {
  std::atomic<int> runs{0};
  int fail_on_run = -1;          // 1-based: this run returns UNAVAILABLE
  int fail_from_run = -1;        // every run from this one on fails (a lost processor)
  int hang_on_run = -1;          // this run blocks until `release` (at most 5 s)
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  std::vector<std::thread::id> run_threads;  // the thread of every run (guarded by mu)
  void Release() {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
    cv.notify_all();
  }
};

// Two executables meeting here each wait for the other for up to `wait`; met stays false if they ran one after
// the other.
struct Rendezvous {
  std::mutex mu;
  std::condition_variable cv;
  int arrived = 0;
  bool met = false;
  void Arrive(std::chrono::milliseconds wait) {
    std::unique_lock<std::mutex> lock(mu);
    if (++arrived == 2) {
      met = true;
      cv.notify_all();
      return;
    }
    cv.wait_for(lock, wait, [&] { return arrived >= 2; });
  }
};

class TestBackend final : public Backend {
 public:
  TestBackend(std::string name, std::shared_ptr<Backend> inner) : inner_(std::move(inner)) {
    info_ = inner_->info();
    info_.name = std::move(name);
  }
  std::shared_ptr<Faults> faults = std::make_shared<Faults>();
  std::shared_ptr<Rendezvous> rendezvous;  // when set, every run arrives there first
  const ProcessorInfo& info() const override { return info_; }
  void set_threads(int n) { info_.threads = n; }
  Status Supports(const Graph& g, const Node& n) const override { return inner_->Supports(g, n); }
  Result<std::unique_ptr<Executable>> Prepare(std::shared_ptr<const Graph> graph, const Block& block) override {
    DX_ASSIGN_OR_RETURN(auto exe, inner_->Prepare(std::move(graph), block));
    return std::unique_ptr<Executable>(new Exe(std::move(exe), faults, rendezvous));
  }
  Result<Tensor> ToDevice(const Tensor& t) override { return inner_->ToDevice(t); }
  Result<Tensor> ToHost(const Tensor& t) override { return inner_->ToHost(t); }

 private:
  struct Exe final : Executable {
    Exe(std::unique_ptr<Executable> inner, std::shared_ptr<Faults> f, std::shared_ptr<Rendezvous> r)
        : inner(std::move(inner)), faults(std::move(f)), rendezvous(std::move(r)) {}
    Status Run(const std::vector<Tensor>& in, std::vector<Tensor>& out, const RunOptions& options) override {
      const int n = ++faults->runs;
      {
        std::lock_guard<std::mutex> lock(faults->mu);
        faults->run_threads.push_back(std::this_thread::get_id());
      }
      if (rendezvous) rendezvous->Arrive(std::chrono::milliseconds(2000));
      if (n == faults->fail_on_run || (faults->fail_from_run > 0 && n >= faults->fail_from_run))
        return Unavailable("injected failure on run " + std::to_string(n));
      if (n == faults->hang_on_run) {
        std::unique_lock<std::mutex> lock(faults->mu);
        faults->cv.wait_for(lock, std::chrono::seconds(5), [&] { return faults->release; });
      }
      return inner->Run(in, out, options);
    }
    std::unique_ptr<Executable> inner;
    std::shared_ptr<Faults> faults;
    std::shared_ptr<Rendezvous> rendezvous;
  };
  std::shared_ptr<Backend> inner_;
  ProcessorInfo info_;
};

std::shared_ptr<TestBackend> Wrapped(const std::string& name) {
  return std::make_shared<TestBackend>(name, std::make_shared<ReferenceBackend>("reference"));
}

void ExpectClose(const std::vector<Tensor>& got, const std::vector<Tensor>& want, double tol = 1e-4) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_EQ(got[i].shape(), want[i].shape()) << "output " << i;
    if (tol == 0)
      EXPECT_EQ(0, std::memcmp(got[i].raw_data(), want[i].raw_data(), want[i].size_bytes())) << "output " << i;
    else
      EXPECT_LE(MaxScaledError(got[i], want[i], tol, tol), 1.0) << "output " << i;
  }
}

std::vector<Tensor> RunSingle(std::shared_ptr<const Graph> g, const Tensor& input) {
  auto e = Executor::Create(g, SingleBackendPlan(*g, 0), {std::make_shared<ReferenceBackend>("reference")});
  EXPECT_TRUE(e.ok()) << e.status().ToString();
  auto out = (*e)->Run({input});
  EXPECT_TRUE(out.ok()) << out.status().ToString();
  return out.ok() ? *out : std::vector<Tensor>{};
}

// ---------------------------------------------------------------------------------------------------------------

TEST(ConcurrentExecutor, IndependentBlocksRunAtTheSameTime) {
  auto g = Diamond();
  // Branch a (conv_a, relu_a) on processor 1, branch b (pool_b) on processor 2, the rest on 0. Each branch's
  // executable waits at a rendezvous for the other: the run only sees `met` if they overlapped.
  auto p0 = Wrapped("p0"), p1 = Wrapped("p1"), p2 = Wrapped("p2");
  auto meet = std::make_shared<Rendezvous>();
  p1->rendezvous = meet;
  p2->rendezvous = meet;
  auto plan = PlanFromAssignment(*g, {0, 0, 1, 1, 2, 0, 0, 0, 0});
  ASSERT_TRUE(plan.ok());
  ASSERT_EQ(plan->blocks.size(), 4u);
  auto e = Executor::Create(g, *plan, {p0, p1, p2});
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  Tensor x = RandomTensor({1, 3, 16, 16}, 7);
  RunReport report;
  auto out = (*e)->Run({x}, {}, &report);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(meet->met) << "the two branches ran one after the other";
  ExpectClose(*out, RunSingle(g, x), 0);
  ASSERT_EQ(report.blocks.size(), 4u);
  EXPECT_EQ(report.blocks[1].processor, "p1");
  EXPECT_EQ(report.blocks[2].processor, "p2");
  // The two branch blocks' intervals overlap.
  EXPECT_LT(report.blocks[1].start_ns, report.blocks[2].end_ns);
  EXPECT_LT(report.blocks[2].start_ns, report.blocks[1].end_ns);
}

TEST(ConcurrentExecutor, PlansAcrossRealBackendsMatchOneBackend) {
  auto g = Diamond();
  Tensor x = RandomTensor({1, 3, 16, 16}, 8);
  const std::vector<Tensor> want = RunSingle(g, x);
  std::vector<std::shared_ptr<Backend>> backends;
  std::vector<std::string> names;
  for (const std::string& name : {std::string("reference"), std::string("cpu"), std::string("opencl")}) {
    auto b = CreateBackend(name);
    if (!b.ok()) {
      // Only an absent backend may be skipped; anything else is a failure.
      ASSERT_TRUE(b.status().code() == StatusCode::kNotFound || b.status().code() == StatusCode::kUnimplemented ||
                  b.status().code() == StatusCode::kUnavailable)
          << b.status().ToString();
      std::cout << "[ INFO ] skipping backend '" << name << "': " << b.status().ToString() << "\n";
      continue;
    }
    backends.push_back(*b);
    names.push_back(name);
  }
  ASSERT_GE(backends.size(), 1u);
  const int nb = static_cast<int>(backends.size());
  // Every node on each backend in turn, branches split across backends, and alternating nodes.
  std::vector<std::vector<int>> assignments;
  for (int b = 0; b < nb; ++b) assignments.push_back(std::vector<int>(g->nodes.size(), b));
  assignments.push_back({0, 0, 1 % nb, 1 % nb, 2 % nb, 0, 1 % nb, 1 % nb, 0});
  std::vector<int> alternate;
  for (size_t n = 0; n < g->nodes.size(); ++n) alternate.push_back(static_cast<int>(n) % nb);
  assignments.push_back(alternate);
  for (const auto& assignment : assignments) {
    auto plan = PlanFromAssignment(*g, assignment);
    ASSERT_TRUE(plan.ok());
    bool supported = true;
    for (size_t n = 0; n < g->nodes.size(); ++n)
      supported &= backends[static_cast<size_t>(assignment[n])]->Supports(*g, g->nodes[n]).ok();
    if (!supported) continue;
    auto e = Executor::Create(g, *plan, backends);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    for (int run = 0; run < 2; ++run) {  // the second run reuses the executor's tables
      auto out = (*e)->Run({x});
      ASSERT_TRUE(out.ok()) << out.status().ToString();
      ExpectClose(*out, want);
    }
  }
}

TEST(ConcurrentExecutor, MultiThreadedHostCpuBlocksRunOnTheCallersThread) {
  // One OpenMP team per CPU backend: the caller runs a multi-threaded host CPU processor's blocks itself, and
  // they still overlap with other processors' blocks.
  auto g = Diamond();
  auto p0 = Wrapped("p0"), p1 = Wrapped("p1"), p2 = Wrapped("p2");
  p0->set_threads(4);
  p1->set_threads(4);  // only the first such processor of the plan is served by the caller
  auto meet = std::make_shared<Rendezvous>();
  p0->rendezvous = meet;
  p2->rendezvous = meet;
  // conv1 relu1 conv_a relu_a pool_b add gap flatten fc: branch a on p0 meets pool_b on p2.
  auto plan = PlanFromAssignment(*g, {1, 1, 0, 0, 2, 1, 1, 1, 1});
  ASSERT_TRUE(plan.ok());
  auto e = Executor::Create(g, *plan, {p0, p1, p2});
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  Tensor x = RandomTensor({1, 3, 16, 16}, 8);
  for (int run = 0; run < 2; ++run) {
    auto out = (*e)->Run({x});
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    ExpectClose(*out, RunSingle(g, x), 0);
  }
  EXPECT_TRUE(meet->met) << "the caller's block and the other lane's ran one after the other";
  for (auto id : p1->faults->run_threads) EXPECT_EQ(id, std::this_thread::get_id());
  for (auto id : p0->faults->run_threads) EXPECT_NE(id, std::this_thread::get_id());
  for (auto id : p2->faults->run_threads) EXPECT_NE(id, std::this_thread::get_id());
  EXPECT_EQ(p1->faults->run_threads.size(), 2u * 2);  // two blocks of p1 per run
}

TEST(ConcurrentExecutor, IntraLayerSplitOnTwoProcessorsEqualsTheWholeLayer) {
  auto whole = ConvLayer(0);
  auto split = ConvLayer(6);
  Tensor x = RandomTensor({1, 4, 12, 12}, 9);
  const std::vector<Tensor> want = RunSingle(whole, x);
  // conv_lo and conv_hi on two processors that must meet (run concurrently), Concat + Relu on the first.
  auto p0 = Wrapped("p0"), p1 = Wrapped("p1");
  auto meet = std::make_shared<Rendezvous>();
  p0->rendezvous = meet;
  p1->rendezvous = meet;
  auto plan = PlanFromAssignment(*split, {0, 1, 0, 0});
  ASSERT_TRUE(plan.ok());
  ASSERT_EQ(plan->blocks.size(), 3u);
  auto e = Executor::Create(split, *plan, {p0, p1});
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  auto out = (*e)->Run({x});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(meet->met);
  ExpectClose(*out, want, 1e-5);
  // And with a real CPU backend for one half when present.
  auto cpu = CreateBackend("cpu");
  if (cpu.ok()) {
    auto e2 = Executor::Create(split, *plan, {std::make_shared<ReferenceBackend>("reference"), *cpu});
    ASSERT_TRUE(e2.ok()) << e2.status().ToString();
    auto out2 = (*e2)->Run({x});
    ASSERT_TRUE(out2.ok()) << out2.status().ToString();
    ExpectClose(*out2, want, 1e-4);
  }
}

// The same through the planner's split transform (plan/split_transform.h) on the unsplit graph.
TEST(ConcurrentExecutor, PlannerSplitRunsConcurrentlyAndMatches) {
  auto whole = ConvLayer(0);
  Tensor x = RandomTensor({1, 4, 12, 12}, 10);
  const std::vector<Tensor> want = RunSingle(whole, x);
  Graph g = *whole;
  auto split = SplitOutputChannels(g, 0, 0.4);
  ASSERT_TRUE(split.ok()) << split.status().ToString();
  std::vector<int> assignment(g.nodes.size(), 0);
  assignment[static_cast<size_t>(split->second)] = 1;
  auto graph = std::make_shared<const Graph>(std::move(g));
  auto plan = PlanFromAssignment(*graph, assignment);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  auto p0 = Wrapped("p0"), p1 = Wrapped("p1");
  auto meet = std::make_shared<Rendezvous>();
  p0->rendezvous = meet;
  p1->rendezvous = meet;
  auto e = Executor::Create(graph, *plan, {p0, p1});
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  auto out = (*e)->Run({x});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(meet->met);
  ExpectClose(*out, want, 1e-5);
}

TEST(ConcurrentExecutor, PerNodeTimingsAndReportCoverEveryBlock) {
  auto g = Diamond();
  auto plan = PlanFromAssignment(*g, {0, 0, 1, 1, 0, 0, 1, 1, 1});
  ASSERT_TRUE(plan.ok());
  auto e = Executor::Create(g, *plan, {Wrapped("p0"), Wrapped("p1")});
  ASSERT_TRUE(e.ok());
  std::vector<NodeTiming> timings;
  RunOptions options;
  options.timings = &timings;
  RunReport report;
  auto out = (*e)->Run({RandomTensor({1, 3, 16, 16}, 1)}, options, &report);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(timings.size(), g->nodes.size());
  for (size_t i = 1; i < timings.size(); ++i) EXPECT_LE(timings[i - 1].start_ns, timings[i].start_ns);
  ASSERT_EQ(report.blocks.size(), plan->blocks.size());
  for (const BlockRecord& r : report.blocks) {
    EXPECT_FALSE(r.processor.empty());
    EXPECT_LE(report.start_ns, r.start_ns);
    EXPECT_LE(r.start_ns, r.end_ns);
    EXPECT_LE(r.end_ns, report.end_ns);
  }
}

TEST(ConcurrentExecutor, ConcurrentCallersGetTheirOwnResults) {
  auto g = Diamond();
  auto plan = PlanFromAssignment(*g, {0, 1, 0, 1, 0, 1, 0, 1, 0});
  ASSERT_TRUE(plan.ok());
  auto e = Executor::Create(g, *plan, {Wrapped("p0"), Wrapped("p1")});
  ASSERT_TRUE(e.ok());
  std::vector<Tensor> inputs, want;
  for (uint32_t i = 0; i < 4; ++i) {
    inputs.push_back(RandomTensor({1, 3, 16, 16}, 100 + i));
    want.push_back(RunSingle(g, inputs.back())[0]);
  }
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (size_t t = 0; t < inputs.size(); ++t)
    threads.emplace_back([&, t] {
      for (int r = 0; r < 5; ++r) {
        auto out = (*e)->Run({inputs[t]});
        if (!out.ok() || std::memcmp((*out)[0].raw_data(), want[t].raw_data(), want[t].size_bytes()) != 0) ++mismatches;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(mismatches.load(), 0);
}

// ---------------------------------------------------------------------------------------------------------------
// Failover

TEST(ExecutorFailover, BlockFailingMidInferenceIsRerunOnTheFallback) {
  auto g = Diamond();
  int64_t now = 0;
  auto health = std::make_shared<ProcessorHealth>(1000, [&] { return now; });
  auto p0 = Wrapped("p0"), flaky = Wrapped("flaky");
  flaky->faults->fail_on_run = 2;  // the second block on it, in the middle of the first inference
  auto fallback = std::make_shared<ReferenceBackend>("host");
  for (bool concurrent : {true, false}) {
    flaky->faults->runs = 0;
    health->MarkHealthy("flaky");
    // Blocks: flaky (conv1, relu1), flaky (branch a), p0 (pool_b), flaky (add ...): r1 is read on p0, so the
    // first block ends there.
    auto plan = PlanFromAssignment(*g, {1, 1, 1, 1, 0, 1, 1, 1, 1});
    ASSERT_TRUE(plan.ok());
    ExecutorOptions options;
    options.fallback = fallback;
    options.health = health;
    options.concurrent = concurrent;
    auto e = Executor::Create(g, *plan, {p0, flaky}, options);
    ASSERT_TRUE(e.ok());
    Tensor x = RandomTensor({1, 3, 16, 16}, 21);
    RunReport report;
    auto out = (*e)->Run({x}, {}, &report);
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    ExpectClose(*out, RunSingle(g, x), 0);
    EXPECT_EQ(report.failovers, 1);
    EXPECT_EQ(report.blocks[1].processor, "host");
    EXPECT_TRUE(report.blocks[1].failed_over);
    EXPECT_NE(report.blocks[1].failure.find("injected failure"), std::string::npos) << report.blocks[1].failure;
    EXPECT_FALSE(health->Healthy("flaky"));
    EXPECT_EQ(health->Unhealthy().count("flaky"), 1u);

    // While unhealthy, its blocks go straight to the fallback (the flaky processor sees no run).
    const int runs_before = flaky->faults->runs;
    out = (*e)->Run({x}, {}, &report);
    ASSERT_TRUE(out.ok());
    EXPECT_EQ(flaky->faults->runs, runs_before);
    EXPECT_EQ(report.blocks[0].processor, "host");
    EXPECT_EQ(report.failovers, 0);

    // After the re-probe interval it is tried again; a successful run marks it healthy.
    now += 1000;
    out = (*e)->Run({x}, {}, &report);
    ASSERT_TRUE(out.ok());
    EXPECT_GT(flaky->faults->runs, runs_before);
    EXPECT_EQ(report.blocks[0].processor, "flaky");
    EXPECT_TRUE(health->Healthy("flaky"));
    ExpectClose(*out, RunSingle(g, x), 0);
  }
}

TEST(ExecutorFailover, HangingProcessorTimesOutAndTheRequestCompletes) {
  auto g = Diamond();
  auto p0 = Wrapped("p0"), hangs = Wrapped("hangs");
  hangs->faults->hang_on_run = 1;
  auto plan = PlanFromAssignment(*g, {0, 0, 1, 1, 0, 0, 0, 0, 0});
  ASSERT_TRUE(plan.ok());
  ExecutorOptions options;
  options.fallback = std::make_shared<ReferenceBackend>("host");
  options.block_timeout_ns = 50'000'000;  // 50 ms
  auto e = Executor::Create(g, *plan, {p0, hangs}, options);
  ASSERT_TRUE(e.ok());
  Tensor x = RandomTensor({1, 3, 16, 16}, 22);
  RunReport report;
  const auto t0 = std::chrono::steady_clock::now();
  auto out = (*e)->Run({x}, {}, &report);
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ExpectClose(*out, RunSingle(g, x), 0);
  EXPECT_LT(ms, 2000) << "the run waited for the hanging call";
  EXPECT_TRUE(report.blocks[1].failed_over);
  EXPECT_EQ(report.blocks[1].processor, "host");
  EXPECT_NE(report.blocks[1].failure.find("took longer than 50 ms"), std::string::npos) << report.blocks[1].failure;
  EXPECT_FALSE((*e)->health()->Healthy("hangs"));
  // A second request while the call is still stuck also completes (on the fallback).
  out = (*e)->Run({x}, {}, &report);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(report.blocks[1].processor, "host");
  hangs->faults->Release();
}

TEST(ExecutorFailover, LostProcessorWithoutFallbackFailsNamingIt) {
  auto g = Diamond();
  auto p0 = Wrapped("p0"), lost = Wrapped("lost");
  lost->faults->fail_from_run = 1;
  auto plan = PlanFromAssignment(*g, {0, 0, 1, 1, 0, 0, 0, 0, 0});
  ASSERT_TRUE(plan.ok());
  auto e = Executor::Create(g, *plan, {p0, lost});
  ASSERT_TRUE(e.ok());
  auto out = (*e)->Run({RandomTensor({1, 3, 16, 16}, 23)});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(out.status().message().find("'lost'"), std::string::npos) << out.status().ToString();
}

TEST(ExecutorFailover, ErrorOnBothProcessorsIsReportedAndDoesNotBlameTheFirst) {
  auto g = Diamond();
  auto p0 = Wrapped("p0"), bad = Wrapped("bad"), fallback = Wrapped("host");
  bad->faults->fail_from_run = 1;
  fallback->faults->fail_from_run = 1;
  auto plan = PlanFromAssignment(*g, {0, 0, 1, 1, 0, 0, 0, 0, 0});
  ASSERT_TRUE(plan.ok());
  ExecutorOptions options;
  options.fallback = fallback;
  auto e = Executor::Create(g, *plan, {p0, bad}, options);
  ASSERT_TRUE(e.ok());
  auto out = (*e)->Run({RandomTensor({1, 3, 16, 16}, 24)});
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("'host'"), std::string::npos) << out.status().ToString();
  EXPECT_NE(out.status().message().find("after failing over"), std::string::npos) << out.status().ToString();
  EXPECT_TRUE((*e)->health()->Healthy("bad"));
}

#ifdef DEEPX_HAVE_REMOTE_BACKEND
// A loopback `deepx serve` (in process) that accepts uploaded blocks.
std::unique_ptr<serve::InferenceServer> StartServer() {
  serve::ServerOptions options;
  options.allow_upload = true;
  options.backend = "reference";
  auto server = serve::InferenceServer::Create(options);
  EXPECT_TRUE(server.ok()) << server.status().ToString();
  if (!server.ok()) return nullptr;
  EXPECT_TRUE((*server)->Start().ok());
  return std::move(server).value();
}

std::shared_ptr<Backend> RemoteFor(const serve::InferenceServer& server) {
  BackendConfig config;
  config.remote_url = "http://127.0.0.1:" + std::to_string(server.port());
  config.retries = 0;
  config.timeout_s = 5;
  auto b = CreateBackend("remote", config);
  EXPECT_TRUE(b.ok()) << b.status().ToString();
  return b.ok() ? *b : nullptr;
}

TEST(ConcurrentExecutor, PlanWithARemoteBlockMatchesOneBackend) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  auto remote = RemoteFor(*server);
  ASSERT_NE(remote, nullptr);
  auto g = Diamond();
  Tensor x = RandomTensor({1, 3, 16, 16}, 30);
  auto plan = PlanFromAssignment(*g, {0, 0, 1, 1, 0, 0, 1, 1, 0});  // branch a and gap/flatten remote
  ASSERT_TRUE(plan.ok());
  auto e = Executor::Create(g, *plan, {std::make_shared<ReferenceBackend>("reference"), remote});
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  RunReport report;
  auto out = (*e)->Run({x}, {}, &report);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ExpectClose(*out, RunSingle(g, x), 1e-6);
  EXPECT_EQ(report.blocks[1].processor, remote->info().name);
}

// A `deepx serve` child process on a free loopback port; killed with SIGKILL, its connections die with it.
struct ServeProcess {
  pid_t pid = -1;
  int port = 0;
  ServeProcess() {
    int out[2];
    if (pipe(out) != 0) return;
    pid = fork();
    if (pid == 0) {
      dup2(out[1], 1);
      close(out[0]);
      execl(DEEPX_CLI_PATH, DEEPX_CLI_PATH, "serve", "--port", "0", "--allow-upload", "--backend", "reference",
            static_cast<char*>(nullptr));
      _exit(127);
    }
    close(out[1]);
    // First line: "deepx serve: listening on http://127.0.0.1:PORT (no token)".
    std::string line;
    char c;
    while (read(out[0], &c, 1) == 1 && c != '\n') line += c;
    close(out[0]);
    const size_t colon = line.rfind(':');
    if (colon != std::string::npos) port = std::atoi(line.c_str() + colon + 1);
  }
  void Kill() {
    if (pid > 0) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
      pid = -1;
    }
  }
  ~ServeProcess() { Kill(); }
};

TEST(ExecutorFailover, KilledRemoteServerMidInferenceFailsOverToTheHost) {
  if (access(DEEPX_CLI_PATH, X_OK) != 0) GTEST_SKIP() << "the deepx CLI is not built: " << DEEPX_CLI_PATH;
  ServeProcess server;
  ASSERT_GT(server.port, 0) << "deepx serve did not start (" << DEEPX_CLI_PATH << ")";
  BackendConfig config;
  config.remote_url = "http://127.0.0.1:" + std::to_string(server.port);
  config.retries = 0;
  config.timeout_s = 5;
  auto real = CreateBackend("remote", config);
  ASSERT_TRUE(real.ok()) << real.status().ToString();
  auto remote = std::make_shared<TestBackend>("remote", *real);
  auto g = Diamond();
  auto plan = PlanFromAssignment(*g, {1, 1, 0, 0, 0, 1, 1, 1, 1});  // blocks: remote, local, local, remote
  ASSERT_TRUE(plan.ok());
  ExecutorOptions options;
  options.fallback = std::make_shared<ReferenceBackend>("host");
  auto e = Executor::Create(g, *plan, {std::make_shared<ReferenceBackend>("local"), remote}, options);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  // Kill the server once the first remote block has started, i.e. during the first inference. The block is held
  // at its start until the server is dead: killing it while the request runs raced with the whole inference
  // finishing first (on a loaded CI machine the inference won, and nothing failed over).
  remote->faults->hang_on_run = 1;
  std::thread killer([&] {
    while (remote->faults->runs.load() < 1) std::this_thread::sleep_for(std::chrono::microseconds(50));
    server.Kill();
    remote->faults->Release();
  });
  Tensor x = RandomTensor({1, 3, 16, 16}, 31);
  RunReport report;
  auto out = (*e)->Run({x}, {}, &report);
  killer.join();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ExpectClose(*out, RunSingle(g, x), 1e-6);
  // Block 0 found the server dead and failed over; block 3 cannot have run on the dead server.
  EXPECT_EQ(report.failovers, 1);
  EXPECT_EQ(report.blocks[3].processor, "host");
  EXPECT_FALSE((*e)->health()->Healthy("remote"));
  // Later requests complete on the host while the server is gone.
  out = (*e)->Run({x}, {}, &report);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(report.blocks[0].processor, "host");
}
#endif  // DEEPX_HAVE_REMOTE_BACKEND

}  // namespace
}  // namespace deepx
