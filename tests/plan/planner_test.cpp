// The planner on real graphs: unit-blocks, intra-layer split numerics, device profiles, PlanGraph limits and
// errors, energy meters on fake sysfs trees, and the `deepx plan --json` shape.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "../bench/plan/synthetic_graph.h"
#include "deepx/deepx.hpp"
#include "ops/op.h"
#include "passes/shape_inference.h"
#include "plan/device_profile.h"
#include "plan/energy_meter.h"
#include "plan/planner.h"
#include "plan/split_transform.h"
#include "plan/unit_blocks.h"
#include "runtime/executor.h"
#include "runtime/model_impl.h"
#include "test_util.h"

namespace deepx {
namespace {

namespace fs = std::filesystem;
using deepx::testing::InputSpec;
using deepx::testing::RandomTensor;
using deepx::testing::SourcePath;

// "bench/zoo/<name>" resolves to the copy the test_zoo fixture exported into the build tree (tests/CMakeLists.txt);
// other paths are relative to the source tree.
std::string ModelPath(const std::string& relative) {
  const std::string zoo = "bench/zoo/";
  if (relative.rfind(zoo, 0) == 0) return std::string(DEEPX_TEST_ZOO_DIR) + "/" + relative.substr(zoo.size());
  return SourcePath(relative);
}

Graph LoadSpecialised(const std::string& relative) {
  auto model = Model::Load(ModelPath(relative));
  EXPECT_TRUE(model.ok()) << model.status().ToString();
  if (!model.ok()) return Graph();
  auto g = SpecializeModel(**model, {});
  EXPECT_TRUE(g.ok()) << g.status().ToString();
  if (!g.ok()) return Graph();
  return std::move(*g);
}

PlannerInputs FromProfile(const std::string& name) {
  auto profile = LoadDeviceProfile(SourcePath("profiles/" + name));
  EXPECT_TRUE(profile.ok()) << profile.status().ToString();
  PlannerInputs in;
  in.processors = profile->processors;
  return in;
}

// ---- unit-blocks ---------------------------------------------------------------------------------------------

TEST(PlanUnitBlocks, ResidualBlocksBecomeOneSegmentEach) {
  const Graph g = bench::SyntheticResNet(60);
  const SegmentChain chain = CutIntoSegments(g);
  // Segments partition the nodes in order.
  NodeId expect = 0;
  for (const auto& seg : chain.segments)
    for (NodeId n : seg) EXPECT_EQ(n, expect++);
  EXPECT_EQ(expect, static_cast<NodeId>(g.nodes.size()));
  ASSERT_EQ(chain.cut_bytes.size(), chain.segments.size() + 1);
  // Every Add (residual join) shares its segment with its branch: each input comes from inside the segment or is
  // the one value entering it (the block input, produced by the node just before the segment).
  const auto producers = g.Producers();
  for (const auto& seg : chain.segments) {
    std::set<NodeId> in(seg.begin(), seg.end());
    for (NodeId n : seg) {
      if (g.node(n).op_type != "Add") continue;
      int inside = 0;
      for (ValueId v : g.node(n).inputs) {
        const NodeId p = producers[static_cast<size_t>(v)];
        inside += in.count(p) ? 1 : 0;
        EXPECT_TRUE(in.count(p) || p == seg.front() - 1) << g.NodeLabel(n);
      }
      EXPECT_GE(inside, 1) << g.NodeLabel(n);
    }
  }
  // Interior cuts carry exactly one activation (1 x 32 x 28 x 28 floats).
  for (size_t i = 1; i + 1 < chain.cut_bytes.size() - 2; ++i) EXPECT_LE(chain.cut_bytes[i], 32.0 * 28 * 28 * 4);
  EXPECT_LT(chain.segments.size(), g.nodes.size() / 2);
}

TEST(PlanUnitBlocks, ZooBranchesCollapseIntoSegments) {
  for (const char* model : {"bench/zoo/resnet18.onnx", "bench/zoo/googlenet.onnx", "bench/zoo/squeezenet1_1.onnx"}) {
    const Graph g = LoadSpecialised(model);
    const SegmentChain chain = CutIntoSegments(g);
    size_t covered = 0;
    for (const auto& seg : chain.segments) covered += seg.size();
    EXPECT_EQ(covered, g.nodes.size()) << model;
    EXPECT_LT(chain.segments.size(), g.nodes.size()) << model;
    // The runs DAG covers every node too, and its links go forward.
    const RunDag dag = SplitIntoRuns(g);
    covered = 0;
    for (const auto& run : dag.runs) covered += run.size();
    EXPECT_EQ(covered, g.nodes.size()) << model;
    for (const RunDag::Link& l : dag.links) EXPECT_LT(l.from, l.to) << model;
  }
}

// ---- intra-layer split ---------------------------------------------------------------------------------------

// Runs `g` on the reference backend, one block.
std::vector<Tensor> RunReference(const Graph& g, const std::vector<Tensor>& inputs) {
  auto backend = CreateBackend("reference");
  EXPECT_TRUE(backend.ok());
  auto graph = std::make_shared<const Graph>(g);
  auto exec = Executor::Create(graph, SingleBackendPlan(*graph), {*backend});
  EXPECT_TRUE(exec.ok()) << exec.status().ToString();
  auto out = (*exec)->Run(inputs);
  EXPECT_TRUE(out.ok()) << out.status().ToString();
  return *out;
}

void ExpectSplitMatches(const std::string& op, const std::vector<InputSpec>& specs, const Attributes& attrs,
                        double fraction) {
  Graph g = testing::SingleNodeGraph(op, specs, attrs);
  ASSERT_TRUE(InferShapes(g, OpRegistry::Default()).ok());
  std::vector<Tensor> inputs;
  for (const InputSpec& s : specs)
    if (!s.constant) inputs.push_back(s.value);
  const std::vector<Tensor> dense = RunReference(g, inputs);
  Graph split = g;
  auto s = SplitOutputChannels(split, 0, fraction);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ASSERT_EQ(split.nodes.size(), 3u);
  EXPECT_EQ(split.node(s->concat).op_type, "Concat");
  EXPECT_GE(s->channels_first, 1);
  EXPECT_LT(s->channels_first, s->channels);
  const std::vector<Tensor> parts = RunReference(split, inputs);
  ASSERT_EQ(parts.size(), 1u);
  ASSERT_EQ(parts[0].shape(), dense[0].shape());
  // Each output channel is computed from the same weights and inputs: equal up to summation order.
  EXPECT_LE(testing::MaxScaledError(parts[0], dense[0], 1e-6, 1e-6), 1.0) << op;
  // And on two processors: the parts in two blocks on two reference backends.
  auto b0 = CreateBackend("reference");
  auto b1 = CreateBackend("reference");
  auto graph = std::make_shared<const Graph>(split);
  auto plan = PlanFromAssignment(*graph, {0, 1, 0});
  ASSERT_TRUE(plan.ok());
  auto exec = Executor::Create(graph, *plan, {*b0, *b1});
  ASSERT_TRUE(exec.ok()) << exec.status().ToString();
  auto out = (*exec)->Run(inputs);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_LE(testing::MaxScaledError((*out)[0], dense[0], 1e-6, 1e-6), 1.0) << op;
}

TEST(PlanSplit, ConvOutputChannelsSplitMatchesUnsplit) {
  Attributes attrs;
  attrs.set("kernel_shape", std::vector<int64_t>{3, 3});
  attrs.set("pads", std::vector<int64_t>{1, 1, 1, 1});
  for (double f : {0.25, 0.5, 0.9})
    ExpectSplitMatches("Conv",
                       {{"x", RandomTensor({1, 4, 9, 9}, 1)},
                        {"w", RandomTensor({10, 4, 3, 3}, 2), true},
                        {"b", RandomTensor({10}, 3), true}},
                       attrs, f);
}

TEST(PlanSplit, GemmAndMatMulUnitsSplitMatchesUnsplit) {
  Attributes trans;
  trans.set("transB", int64_t{1});
  trans.set("alpha", 0.5f);
  ExpectSplitMatches("Gemm",
                     {{"x", RandomTensor({3, 8}, 4)}, {"w", RandomTensor({6, 8}, 5), true}, {"c", RandomTensor({6}, 6), true}},
                     trans, 0.5);
  ExpectSplitMatches("Gemm", {{"x", RandomTensor({2, 8}, 7)}, {"w", RandomTensor({8, 7}, 8), true}}, {}, 0.3);
  ExpectSplitMatches("MatMul", {{"x", RandomTensor({2, 3, 8}, 9)}, {"w", RandomTensor({8, 5}, 10), true}}, {}, 0.6);
}

TEST(PlanSplit, RefusesWhatCannotSplit) {
  Attributes grouped;
  grouped.set("group", int64_t{2});
  Graph g = testing::SingleNodeGraph(
      "Conv", {{"x", RandomTensor({1, 4, 5, 5}, 1)}, {"w", RandomTensor({4, 2, 1, 1}, 2), true}}, grouped);
  ASSERT_TRUE(InferShapes(g, OpRegistry::Default()).ok());
  EXPECT_EQ(SplitOutputChannels(g, 0, 0.5).status().code(), StatusCode::kUnimplemented);
  Graph relu = testing::SingleNodeGraph("Relu", {{"x", RandomTensor({4}, 1)}}, {});
  ASSERT_TRUE(InferShapes(relu, OpRegistry::Default()).ok());
  EXPECT_EQ(SplitOutputChannels(relu, 0, 0.5).status().code(), StatusCode::kUnimplemented);
  EXPECT_EQ(SplitOutputChannels(relu, 0, 1.5).status().code(), StatusCode::kInvalidArgument);
}

// ---- device profiles -----------------------------------------------------------------------------------------

TEST(PlanProfiles, EveryShippedProfileParsesWithSources) {
  int count = 0;
  for (const auto& e : fs::directory_iterator(SourcePath("profiles"))) {
    if (e.path().extension() != ".json") continue;
    auto p = LoadDeviceProfile(e.path().string());
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    ++count;
    EXPECT_GE(p->processors.size(), 2u) << e.path();
    int homes = 0;
    for (const ProcessorSpec& s : p->processors) {
      homes += s.home;
      EXPECT_TRUE(p->sources.count(s.name + ".gflops")) << s.name;
      EXPECT_GT(s.gflops, 0);
    }
    EXPECT_EQ(homes, 1) << e.path();
  }
  EXPECT_GE(count, 5);
}

TEST(PlanProfiles, BadProfilesAreErrorsNamingTheField) {
  const std::string ok_proc =
      R"({"name": "cpu", "kind": "cpu", "gflops": {"value": 10, "source": "s"}, "gbps": {"value": 5, "source": "s"},
          "active_w": {"value": 1, "source": "s"}, "idle_w": {"value": 0.1, "source": "s"}})";
  auto parse = [](const std::string& text) { return ParseDeviceProfile(text, "test.json"); };
  EXPECT_TRUE(parse(R"({"name": "d", "processors": [)" + ok_proc + "]}").ok());
  struct Case {
    std::string text, needle;
  };
  const std::vector<Case> cases = {
      {"not json", "not valid JSON"},
      {R"({"processors": []})", "name"},
      {R"({"name": "d", "processors": []})", "non-empty array"},
      {R"({"name": "d", "processors": [{"name": "cpu", "gflops": 10}]})", "cpu.gflops"},
      {R"({"name": "d", "processors": [{"name": "cpu", "gflops": {"value": 10}}]})", "source"},
      {R"({"name": "d", "processors": [{"name": "cpu", "gflops": {"value": -1, "source": "s"}}]})", ">= 0"},
      {R"({"name": "d", "processors": [)" + ok_proc + "," + ok_proc + "]}", "duplicate"},
      {R"({"name": "d", "processors": [{"name": "x", "kind": "fpga"}]})", "kind"},
      {R"({"name": "d", "processors": [)" + ok_proc +
           R"(, {"name": "r", "kind": "remote", "network": "lte", "gflops": {"value": 1, "source": "s"},
              "gbps": {"value": 1, "source": "s"}}]})",
       "no network 'lte'"},
  };
  for (const Case& c : cases) {
    auto r = parse(c.text);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(c.needle), std::string::npos) << r.status().ToString();
    EXPECT_NE(r.status().message().find("test.json"), std::string::npos);
  }
  EXPECT_EQ(LoadDeviceProfile("/nonexistent/p.json").status().code(), StatusCode::kIoError);
}

TEST(PlanProfiles, NetworksChangeTheRemoteLink) {
  auto p = LoadDeviceProfile(SourcePath("profiles/tegra_k1.json"));
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE(UseNetwork(*p, "lte").ok());
  const ProcessorSpec& cloud = p->processors.back();
  EXPECT_EQ(cloud.kind, "remote");
  EXPECT_NEAR(cloud.link_gbps, 6 / 8e3, 1e-12);
  EXPECT_NEAR(cloud.link_latency_ms, 35, 1e-9);
  EXPECT_NEAR(cloud.link_fixed_j, 11, 1e-9);
  EXPECT_EQ(UseNetwork(*p, "5g").code(), StatusCode::kNotFound);
}

// ---- PlanGraph -----------------------------------------------------------------------------------------------

TEST(PlanGraph, PlanIsValidAndNoWorseThanAnyFeasibleSingleProcessor) {
  for (const char* profile : {"snapdragon800.json", "tegra_k1.json", "jetson_orin_nano.json", "snapdragon_8gen3.json"}) {
    for (const char* model : {"models/fashion_mnist_cnn.onnx", "bench/zoo/squeezenet1_1.onnx"}) {
      const Graph g = LoadSpecialised(model);
      PlannerInputs in = FromProfile(profile);
      in.limits.latency_ms = 200;
      auto r = PlanGraph(g, in);
      ASSERT_TRUE(r.ok()) << profile << " " << model << ": " << r.status().ToString();
      EXPECT_TRUE(ValidatePlan(*r->graph, r->plan, static_cast<int>(in.processors.size())).ok());
      ASSERT_EQ(r->blocks.size(), r->plan.blocks.size());
      EXPECT_LE(r->predicted.latency_ms, 200 * (1 + 1e-9));
      EXPECT_EQ(r->energy_source, "modelled");
      for (const BaselineReport& b : r->baselines) {
        if (b.cost.feasible) {
          EXPECT_LE(r->predicted.energy_mj, b.cost.energy_mj * (1 + 1e-9)) << profile << " " << b.name;
        }
      }
      // Every block carries a finite prediction; without concurrent (split) blocks they add up to the plan's
      // latency less the final transfer of the outputs home.
      double blocks_ms = 0;
      bool concurrent = false;
      for (const BlockReport& b : r->blocks) {
        EXPECT_TRUE(std::isfinite(b.latency_ms) && b.latency_ms >= 0);
        blocks_ms += b.latency_ms + b.transfer_in_ms;
        concurrent |= b.split_group >= 0;
      }
      EXPECT_GT(blocks_ms, 0);
      if (!concurrent && r->method == "dp") {
        EXPECT_LE(blocks_ms, r->predicted.latency_ms * (1 + 1e-6) + 1e-9);
      }
      EXPECT_FALSE(r->frontier.empty());
    }
  }
}

TEST(PlanGraph, SmallGainsOverTheBestSingleProcessorDoNotSwitch) {
  const Graph g = LoadSpecialised("models/fashion_mnist_cnn.onnx");
  ASSERT_GE(g.nodes.size(), 4u);
  auto inputs_with = [&](double b_last_ms) {
    PlannerInputs in;
    in.processors.resize(2);
    in.processors[0].name = "a";
    in.processors[0].home = true;
    in.processors[1].name = "b";
    in.measured.assign(2, std::vector<double>(g.nodes.size(), 1.0));
    in.measured[1].back() = b_last_ms;  // b is faster on the last node only, and slower on the first
    in.measured[1].front() = 1.2;
    in.objective = PlanObjective::kLatency;
    in.options.intra_layer_splits = false;
    return in;
  };
  auto uses = [](const PlanReport& r) {
    std::set<int> procs;
    for (const Block& b : r.plan.blocks) procs.insert(b.backend);
    return procs.size();
  };
  const double n = static_cast<double>(g.nodes.size());
  // A 0.1 ms gain of ~n ms: both processors without the threshold, "a" alone with it.
  PlannerInputs small = inputs_with(0.9);
  auto both = PlanGraph(g, small);
  ASSERT_TRUE(both.ok()) << both.status().ToString();
  EXPECT_EQ(uses(*both), 2u);
  small.options.switch_min_gain = 0.05;
  auto single = PlanGraph(g, small);
  ASSERT_TRUE(single.ok()) << single.status().ToString();
  EXPECT_EQ(uses(*single), 1u);
  EXPECT_EQ(single->plan.blocks[0].backend, 0);
  EXPECT_NEAR(single->predicted.latency_ms, n, 1e-6);
  bool noted = false;
  for (const std::string& note : single->notes) noted |= note.find("a runs the whole graph") != std::string::npos;
  EXPECT_TRUE(noted);
  // A gain far above the threshold still switches: "a" 3x faster on the first half, "b" on the second.
  PlannerInputs large = inputs_with(1.0);
  for (size_t k = 0; k < g.nodes.size(); ++k) (k < g.nodes.size() / 2 ? large.measured[1] : large.measured[0])[k] = 3.0;
  large.options.switch_min_gain = 0.05;
  auto switched = PlanGraph(g, large);
  ASSERT_TRUE(switched.ok()) << switched.status().ToString();
  EXPECT_EQ(uses(*switched), 2u);
}

TEST(PlanGraph, InfeasibleLimitsSayWhichAndTheBestValue) {
  const Graph g = LoadSpecialised("models/fashion_mnist_cnn.onnx");
  PlannerInputs in = FromProfile("snapdragon800.json");
  in.limits.latency_ms = 1e-4;
  auto r = PlanGraph(g, in);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("latency limit 0.000 ms cannot be met: best achievable"), std::string::npos)
      << r.status().ToString();
  in.limits.latency_ms = 1000;
  in.conditions.free_memory.assign(in.processors.size(), 1000);  // 1 kB everywhere
  r = PlanGraph(g, in);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("memory limit of"), std::string::npos) << r.status().ToString();
  in.conditions.free_memory.clear();
  in.limits.latency_ms = -1;
  EXPECT_EQ(PlanGraph(g, in).status().code(), StatusCode::kInvalidArgument);
}

TEST(PlanGraph, RankVariantsAreChosenWithinTheAccuracyBound) {
  const Graph g = LoadSpecialised("models/fashion_mnist_cnn.onnx");
  NodeId gemm = -1;
  double flops = 0, weights = 0;
  for (size_t k = 0; k < g.nodes.size(); ++k)
    if (g.nodes[k].op_type == "Gemm" && gemm < 0) {
      gemm = static_cast<NodeId>(k);
      const Shape& w = g.value(g.nodes[k].inputs[1]).shape;
      flops = 2.0 * static_cast<double>(w[0] * w[1]);
      weights = 4.0 * static_cast<double>(w[0] * w[1]);
    }
  ASSERT_GE(gemm, 0);
  PlannerInputs in = FromProfile("snapdragon800.json");
  in.objective = PlanObjective::kLatency;
  in.rank_variants[gemm] = {{.rank = 16, .flops = flops / 8, .weight_bytes = weights / 8, .accuracy_loss = 0.03},
                            {.rank = 4, .flops = flops / 32, .weight_bytes = weights / 32, .accuracy_loss = 0.2}};
  in.limits.max_accuracy_drop = 0.05;
  auto r = PlanGraph(g, in);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_NEAR(r->predicted.accuracy_drop, 0.03, 1e-12);  // the rank-16 variant is faster and within the bound
  int64_t chosen = 0;
  for (const BlockReport& b : r->blocks)
    for (const BlockRank& rc : b.ranks) chosen = rc.rank;
  EXPECT_EQ(chosen, 16);
  in.limits.max_accuracy_drop = 0.01;
  r = PlanGraph(g, in);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->predicted.accuracy_drop, 0);
}

TEST(PlanGraph, MilpAndDpAgreeOnAChainModel) {
  const Graph g = LoadSpecialised("models/fashion_mnist_cnn.onnx");
  PlannerInputs in = FromProfile("tegra_k1.json");
  in.options.intra_layer_splits = false;
  in.options.method = PlanMethod::kDp;
  auto dp = PlanGraph(g, in);
  in.options.method = PlanMethod::kMilp;
  auto milp = PlanGraph(g, in);
  ASSERT_TRUE(dp.ok() && milp.ok()) << dp.status().ToString() << milp.status().ToString();
  // The MILP plans runs of layers (coarser than segments on a chain): never better than the DP here.
  EXPECT_LE(dp->predicted.energy_mj, milp->predicted.energy_mj * (1 + 1e-6));
}

// ---- energy meters -------------------------------------------------------------------------------------------

void Write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

TEST(PlanEnergyMeter, ReadsRaplBatteryAndIna3221FromSysfs) {
  const fs::path root = fs::temp_directory_path() / ("dad_sysfs_" + std::to_string(::getpid()));
  fs::remove_all(root);
  EXPECT_EQ(DetectEnergyMeter(root.string()).status().code(), StatusCode::kNotFound);
  // Battery: 0.5 A x 4 V = 2 W.
  Write(root / "class/power_supply/BAT0/type", "Battery\n");
  Write(root / "class/power_supply/BAT0/current_now", "500000\n");
  Write(root / "class/power_supply/BAT0/voltage_now", "4000000\n");
  auto battery = DetectEnergyMeter(root.string());
  ASSERT_TRUE(battery.ok());
  EXPECT_EQ((*battery)->kind(), "battery");
  EXPECT_NEAR(*(*battery)->ReadWatts(), 2.0, 1e-9);
  auto e = MeasureEnergy(**battery, [] {
    std::this_thread::sleep_for(std::chrono::milliseconds(60));
    return Status::Ok();
  }, 10);
  ASSERT_TRUE(e.ok());
  EXPECT_NEAR(e->watts(), 2.0, 1e-6);
  // INA3221 takes precedence over a battery: 5000 mV x 300 mA + 1000 mV x 100 mA = 1.6 W.
  Write(root / "class/hwmon/hwmon1/name", "ina3221\n");
  Write(root / "class/hwmon/hwmon1/in1_input", "5000\n");
  Write(root / "class/hwmon/hwmon1/curr1_input", "300\n");
  Write(root / "class/hwmon/hwmon1/in2_input", "1000\n");
  Write(root / "class/hwmon/hwmon1/curr2_input", "100\n");
  auto ina = DetectEnergyMeter(root.string());
  ASSERT_TRUE(ina.ok());
  EXPECT_EQ((*ina)->kind(), "ina3221");
  EXPECT_NEAR(*(*ina)->ReadWatts(), 1.6, 1e-9);
  // RAPL first of all; a counter that wraps during the measurement still gives the energy spent.
  Write(root / "class/powercap/intel-rapl:0/energy_uj", "999000000\n");
  Write(root / "class/powercap/intel-rapl:0/max_energy_range_uj", "1000000000\n");
  Write(root / "class/powercap/intel-rapl:0:0/energy_uj", "5\n");  // a subdomain: not counted
  auto rapl = DetectEnergyMeter(root.string());
  ASSERT_TRUE(rapl.ok());
  EXPECT_EQ((*rapl)->kind(), "rapl");
  EXPECT_NEAR(*(*rapl)->ReadJoules(), 999.0, 1e-9);
  auto wrapped = MeasureEnergy(**rapl, [&] {
    Write(root / "class/powercap/intel-rapl:0/energy_uj", "2000000\n");  // +3 J across the wrap
    return Status::Ok();
  });
  ASSERT_TRUE(wrapped.ok());
  EXPECT_NEAR(wrapped->joules, 3.0, 1e-9);
  fs::remove_all(root);
}

// ---- CLI -----------------------------------------------------------------------------------------------------

TEST(PlanCli, JsonHasBlocksPredictedAndBaselines) {
  const std::string out = (fs::temp_directory_path() / ("dad_plan_" + std::to_string(::getpid()) + ".json")).string();
  const std::string html = out + ".html";
  const std::string cmd = std::string(DEEPX_CLI_PATH) + " plan " + SourcePath("models/fashion_mnist_cnn.onnx") +
                          " --device " + SourcePath("profiles/tegra_k1.json") +
                          " --network lte --latency-ms 100 --json --html " + html + " > " + out;
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::ifstream in(out);
  const nlohmann::json doc = nlohmann::json::parse(in, nullptr, false);
  ASSERT_FALSE(doc.is_discarded());
  ASSERT_TRUE(doc["blocks"].is_array());
  ASSERT_FALSE(doc["blocks"].empty());
  size_t nodes = 0;
  for (const auto& b : doc["blocks"]) {
    ASSERT_TRUE(b["nodes"].is_array());
    ASSERT_TRUE(b["processor"].is_string());
    nodes += b["nodes"].size();
  }
  EXPECT_GT(nodes, 0u);
  for (const char* k : {"latency_ms", "energy_mj", "memory_mb"}) EXPECT_TRUE(doc["predicted"][k].is_number()) << k;
  EXPECT_EQ(doc["predicted"]["energy_source"], "modelled");
  for (const char* p : {"cpu", "gpu", "cloud"}) {
    ASSERT_TRUE(doc["baselines"].contains(p)) << p;
    EXPECT_TRUE(doc["baselines"][p]["latency_ms"].is_number());
    EXPECT_TRUE(doc["baselines"][p]["energy_mj"].is_number());
  }
  EXPECT_EQ(doc["network"], "lte");
  std::ifstream h(html);
  const std::string page((std::istreambuf_iterator<char>(h)), std::istreambuf_iterator<char>());
  EXPECT_NE(page.find("<svg"), std::string::npos);
  EXPECT_NE(page.find("polyline"), std::string::npos);
  // Infeasible limits exit 1 and say why.
  const std::string bad = std::string(DEEPX_CLI_PATH) + " plan " + SourcePath("models/fashion_mnist_cnn.onnx") +
                          " --device " + SourcePath("profiles/tegra_k1.json") + " --latency-ms 0.0001 2>&1";
  FILE* pipe = popen(bad.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string text;
  char buf[512];
  while (fgets(buf, sizeof buf, pipe)) text += buf;
  EXPECT_EQ(WEXITSTATUS(pclose(pipe)), 1);
  EXPECT_NE(text.find("latency limit"), std::string::npos) << text;
  fs::remove(out);
  fs::remove(html);
}

TEST(PlanCli, ProcessorsPresentHereAreProfiled) {
  // Profiles two CPU processors of this machine (power from profiles/host.json), caching in a private directory.
  const fs::path cache = fs::temp_directory_path() / ("dad_cache_" + std::to_string(::getpid()));
  const std::string out = (cache / "plan.json").string();
  fs::create_directories(cache);
  const std::string cmd = "XDG_CACHE_HOME=" + cache.string() + " " + std::string(DEEPX_CLI_PATH) + " plan " +
                          SourcePath("models/fashion_mnist_cnn.onnx") + " --processors cpu-big,cpu-little --runs 2" +
                          " --host-profile " + SourcePath("profiles/host.json") + " --json > " + out + " 2>/dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::ifstream in(out);
  const nlohmann::json doc = nlohmann::json::parse(in, nullptr, false);
  ASSERT_FALSE(doc.is_discarded());
  ASSERT_EQ(doc["processors"].size(), 2u);
  for (const auto& p : doc["processors"]) EXPECT_EQ(p["latency_source"], "measured");
  EXPECT_TRUE(doc["baselines"].contains("cpu-big"));
  EXPECT_TRUE(fs::exists(cache / "deepx" / "plan-profiles.json"));  // the profile is cached for next time
  fs::remove_all(cache);
}

}  // namespace
}  // namespace deepx
