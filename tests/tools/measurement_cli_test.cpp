// Runs `deepx bench`, `deepx profile` and `deepx devices` (the binary at DEEPX_CLI_PATH) on the bundled
// Fashion-MNIST CNN with the reference backend and small counts, and checks their JSON and trace output.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "capi/tiny_models.h"
#include "deepx/deepx.hpp"
#include "io/npy.h"
#include "test_util.h"

namespace deepx {
namespace {
namespace fs = std::filesystem;
using json = nlohmann::json;

// Small calibration: these tests check plumbing and consistency, not the machine.
const std::vector<std::string> kTinyCalibration = {"--calibration-gemm-size", "64", "--calibration-buffer-mb", "4"};

using Output = testing::CliResult;

class MeasurementCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("deepx_measure_cli_test_" + std::to_string(getpid()));
    fs::create_directories(dir_);
    model_ = testing::SourcePath("models/fashion_mnist_cnn.onnx");
    cache_ = Path("calibration.json");
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  Output Run(std::vector<std::string> args, bool tiny_calibration = false) const {
    if (tiny_calibration) args.insert(args.end(), kTinyCalibration.begin(), kTinyCalibration.end());
    return testing::RunCli(args, Path("stderr.txt"));
  }

  json RunJson(const std::vector<std::string>& args, bool tiny_calibration = false) const {
    Output r = Run(args, tiny_calibration);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    json doc = json::parse(r.out, nullptr, /*allow_exceptions=*/false);
    EXPECT_TRUE(doc.is_object()) << "stdout is not a JSON object:\n" << r.out << "\nstderr:\n" << r.err;
    return doc;
  }

  fs::path dir_;
  std::string model_, cache_;
};

TEST_F(MeasurementCliTest, BenchJsonHasOrderedLatenciesThroughputAndMemory) {
  json doc = RunJson({"bench", model_, "--backend", "reference", "--warmup", "1", "--iterations", "7", "--json"});
  ASSERT_TRUE(doc.is_object());
  EXPECT_EQ(doc["backend"], "reference");
  EXPECT_EQ(doc["iterations"], 7);
  EXPECT_EQ(doc["warmup"], 1);
  EXPECT_GE(doc["threads"].get<int>(), 1);
  const json& lat = doc["latency_ms"];
  for (const char* key : {"min", "mean", "p50", "p90", "p99", "max"}) ASSERT_TRUE(lat[key].is_number()) << key;
  EXPECT_GT(lat["min"].get<double>(), 0);
  EXPECT_LE(lat["min"].get<double>(), lat["p50"].get<double>());
  EXPECT_LE(lat["p50"].get<double>(), lat["p90"].get<double>());
  EXPECT_LE(lat["p90"].get<double>(), lat["p99"].get<double>());
  EXPECT_LE(lat["p99"].get<double>(), lat["max"].get<double>());
  EXPECT_GE(lat["mean"].get<double>(), lat["min"].get<double>());
  EXPECT_LE(lat["mean"].get<double>(), lat["max"].get<double>());
  // The statistics are those of the reported samples.
  ASSERT_EQ(doc["samples_ms"].size(), 7u);
  std::vector<double> samples = doc["samples_ms"].get<std::vector<double>>();
  std::sort(samples.begin(), samples.end());
  EXPECT_DOUBLE_EQ(samples.front(), lat["min"].get<double>());
  EXPECT_DOUBLE_EQ(samples[3], lat["p50"].get<double>());
  EXPECT_DOUBLE_EQ(samples.back(), lat["max"].get<double>());
  // Throughput counts runs over the timed loop's wall time, which is at least the sum of the samples.
  double sum = 0;
  for (double s : samples) sum += s;
  EXPECT_GT(doc["throughput_ips"].get<double>(), 0);
  EXPECT_LE(doc["throughput_ips"].get<double>(), 7 / (sum / 1e3) * 1.0001);
  EXPECT_GT(doc["peak_rss_mb"].get<double>(), 1);
  EXPECT_GE(doc["peak_rss_mb"].get<double>(), doc["current_rss_mb"].get<double>());
  EXPECT_GE(doc["load_ms"].get<double>(), 0);
  EXPECT_GE(doc["session_ms"].get<double>(), 0);
  EXPECT_GT(doc["first_run_ms"].get<double>(), 0);
  ASSERT_EQ(doc["inputs"].size(), 1u);
  EXPECT_EQ(doc["inputs"][0]["source"], "random");
}

TEST_F(MeasurementCliTest, BenchTextAndProgressLine) {
  Output r = Run({"bench", model_, "--backend", "reference", "--warmup", "0", "--iterations", "3", "--progress"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("latency (ms, 3 runs after 0 warm-up)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("throughput: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("peak RSS: "), std::string::npos) << r.out;
  // A run this short finishes before the progress line's first second.
  EXPECT_EQ(r.err.find("deepx bench: run"), std::string::npos) << r.err;
}

TEST_F(MeasurementCliTest, BenchInputShapesAndFiles) {
  const std::string classifier = Path("classifier.onnx");
  ASSERT_TRUE(testing::WriteModel(testing::ClassifierModel(), classifier));
  json doc =
      RunJson({"bench", classifier, "--backend", "reference", "--iterations", "2", "--input-shape", "x=3,4", "--json"});
  EXPECT_EQ(doc["inputs"][0]["shape"], json({3, 4}));
  doc =
      RunJson({"bench", classifier, "--backend", "reference", "--iterations", "2", "--input-shape", "x=2x4", "--json"});
  EXPECT_EQ(doc["inputs"][0]["shape"], json({2, 4}));
  const std::string x = Path("x.npy");
  ASSERT_TRUE(WriteNpyFile(x, Tensor::FromFloats({5, 4}, std::vector<float>(20, 0.5f))).ok());
  doc = RunJson({"bench", classifier, "--backend", "reference", "--iterations", "2", "--input", "x=" + x, "--json"});
  EXPECT_EQ(doc["inputs"][0]["shape"], json({5, 4}));
  EXPECT_EQ(doc["inputs"][0]["source"], x);

  auto expect_error = [&](const std::vector<std::string>& args, const std::string& fragment) {
    Output r = Run(args);
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_NE(r.err.find("deepx bench: error: "), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(fragment), std::string::npos) << r.err;
  };
  expect_error({"bench", classifier, "--backend", "reference", "--input-shape", "x=3,5"}, "declared [?, 4]");
  expect_error({"bench", classifier, "--backend", "reference", "--input-shape", "x=3"}, "declared [?, 4]");
  expect_error({"bench", classifier, "--backend", "reference", "--input-shape", "x=3,-4"}, "not a positive");
  expect_error({"bench", classifier, "--backend", "reference", "--input-shape", "y=3,4"}, "no input named 'y'");
  expect_error({"bench", classifier, "--backend", "reference", "--input", "x=" + x, "--input-shape", "x=2,4"},
               "but --input-shape says [2, 4]");
  expect_error({"bench", classifier, "--backend", "no-such-backend"}, "unknown backend 'no-such-backend'");
  expect_error({"bench", Path("missing.onnx")}, "does not exist");
  EXPECT_EQ(Run({"bench", classifier, "--iterations", "0"}).exit_code, 2);
}

TEST_F(MeasurementCliTest, DevicesCalibratesOnceAndCachesTheResult) {
  json first = RunJson({"devices", "--json", "--cache", cache_}, /*tiny_calibration=*/true);
  ASSERT_TRUE(first["processors"].is_array());
  ASSERT_FALSE(first["processors"].empty());
  EXPECT_TRUE(fs::exists(cache_));
  std::map<std::string, json> by_name;
  for (const json& p : first["processors"]) {
    for (const char* key : {"name", "kind", "memory_mb", "gflops", "gbps", "threads", "calibrated_at"})
      EXPECT_TRUE(p.contains(key)) << key << " missing in " << p.dump();
    EXPECT_GT(p["gflops"].get<double>(), 0);
    EXPECT_GT(p["gbps"].get<double>(), 0);
    EXPECT_GT(p["memory_mb"].get<int64_t>(), 0);
    EXPECT_GE(p["threads"].get<int>(), 1);
    EXPECT_EQ(p["measured_now"], true);
    by_name[p["name"].get<std::string>()] = p;
  }
  ASSERT_TRUE(by_name.count("reference"));
  EXPECT_EQ(by_name["reference"]["kind"], "cpu");

  // Second call: the same numbers, from the cache.
  json second = RunJson({"devices", "--json", "--cache", cache_}, true);
  for (const json& p : second["processors"]) {
    const json& before = by_name[p["name"].get<std::string>()];
    EXPECT_EQ(p["measured_now"], false);
    EXPECT_EQ(p["gflops"], before["gflops"]);
    EXPECT_EQ(p["gbps"], before["gbps"]);
    EXPECT_EQ(p["calibrated_at"], before["calibrated_at"]);
  }
  // --calibrate measures again; --cached-only never measures, so a fresh cache shows nothing.
  json forced = RunJson({"devices", "--json", "--cache", cache_, "--calibrate"}, true);
  for (const json& p : forced["processors"]) EXPECT_EQ(p["measured_now"], true);
  json empty = RunJson({"devices", "--json", "--cache", Path("fresh.json"), "--cached-only"});
  for (const json& p : empty["processors"]) EXPECT_TRUE(p["gflops"].is_null());
  EXPECT_FALSE(fs::exists(Path("fresh.json")));

  Output text = Run({"devices", "--cache", cache_});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("reference"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("(cached)"), std::string::npos) << text.out;
}

TEST_F(MeasurementCliTest, ProfileJoinsTimingsWithTheModelSummaryAndWritesATrace) {
  const std::string trace = Path("trace.json");
  json doc = RunJson({"profile", model_, "--backend", "reference", "--warmup", "1", "--iterations", "3", "--json",
                      "--trace", trace, "--cache", cache_},
                     /*tiny_calibration=*/true);
  ASSERT_TRUE(doc["layers"].is_array());
  ASSERT_FALSE(doc["layers"].empty());
  ASSERT_TRUE(doc["calibration"].is_object());
  const double peak_gflops = doc["calibration"]["gflops"].get<double>();
  const double gbps = doc["calibration"]["gbps"].get<double>();
  EXPECT_GT(peak_gflops, 0);
  EXPECT_GT(gbps, 0);

  // FLOPs and bytes per layer are those of Model::Summarize for the same node.
  auto model = Model::Load(model_);
  ASSERT_TRUE(model.ok());
  auto summary = (*model)->Summarize();
  ASSERT_TRUE(summary.ok());
  std::map<std::string, const LayerInfo*> info;
  for (const LayerInfo& l : summary->layers) info[l.name] = &l;

  double percent = 0, total_ms = 0;
  int conv_layers = 0;
  std::set<std::string> names;
  for (const json& l : doc["layers"]) {
    const std::string name = l["name"].get<std::string>();
    names.insert(name);
    ASSERT_TRUE(info.count(name)) << name;
    percent += l["percent"].get<double>();
    const double ms = l["time_ms"].get<double>();
    total_ms += ms;
    EXPECT_GE(ms, 0);
    if (l["nodes"].size() == 1) {
      EXPECT_DOUBLE_EQ(l["flops"].get<double>(), info[name]->flops) << name;
      EXPECT_DOUBLE_EQ(l["bytes"].get<double>(), info[name]->bytes_read + info[name]->bytes_written) << name;
    }
    if (l["op"].get<std::string>().rfind("Conv", 0) == 0) {
      ++conv_layers;
      ASSERT_GT(l["flops"].get<double>(), 0) << name;
      ASSERT_TRUE(l["roofline_ratio"].is_number()) << l.dump();
      // The bound is max(flops / peak, bytes / bandwidth), and the ratio is time over it.
      const double bound_ms =
          std::max(l["flops"].get<double>() / (peak_gflops * 1e9), l["bytes"].get<double>() / (gbps * 1e9)) * 1e3;
      EXPECT_NEAR(l["bound_ms"].get<double>(), bound_ms, bound_ms * 1e-9);
      EXPECT_NEAR(l["roofline_ratio"].get<double>(), ms / bound_ms, ms / bound_ms * 1e-9);
      if (ms > 0) {
        EXPECT_NEAR(l["gflops"].get<double>(), l["flops"].get<double>() / ms / 1e6, 1e-6 * (1 + ms));
      }
    }
  }
  EXPECT_GE(conv_layers, 2);
  EXPECT_NEAR(percent, 100.0, 1e-6);
  EXPECT_NEAR(doc["layers_total_ms"].get<double>(), total_ms, 1e-9 * (1 + total_ms));

  // The trace: Chrome trace event format, one complete ("X") event per profiled node, in run order.
  std::ifstream in(trace);
  ASSERT_TRUE(in.good());
  std::stringstream text;
  text << in.rdbuf();
  json t = json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  ASSERT_TRUE(t.is_object()) << text.str();
  ASSERT_TRUE(t["traceEvents"].is_array());
  std::vector<json> events;
  for (const json& e : t["traceEvents"])
    if (e["ph"] == "X") events.push_back(e);
  EXPECT_EQ(events.size(), doc["layers"].size());
  double last_ts = -1;
  std::set<std::string> event_names;
  for (const json& e : events) {
    for (const char* key : {"name", "cat", "ph", "ts", "dur", "pid", "tid", "args"})
      EXPECT_TRUE(e.contains(key)) << key << " missing in " << e.dump();
    EXPECT_GE(e["ts"].get<double>(), last_ts);
    EXPECT_GE(e["dur"].get<double>(), 0);
    last_ts = e["ts"].get<double>();
    event_names.insert(e["name"].get<std::string>());
  }
  EXPECT_EQ(event_names, names);
}

TEST_F(MeasurementCliTest, ProfileTextReportAndCalibrationReuse) {
  // Calibrate once through devices; profile then reads the cache (and says nothing about calibrating).
  ASSERT_EQ(Run({"devices", "--cache", cache_}, true).exit_code, 0);
  Output r =
      Run({"profile", model_, "--backend", "reference", "--warmup", "0", "--iterations", "2", "--cache", cache_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.find("calibrated"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("roofline: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("x bound"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Conv"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("total: "), std::string::npos) << r.out;
  Output bad = Run({"profile", Path("missing.onnx")});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("deepx profile: error: "), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace deepx
