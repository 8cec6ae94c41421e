// Runs the built `deepx` (DEEPX_CLI_PATH): `devices` lists every processor with speeds and transfer costs and
// never fails on a processor that cannot be used, and `run`, `bench` and `profile` take --backend NAME for every
// processor of this machine (ProcessorNames(): cpu-big and cpu-little included), giving the reference's outputs.
#include <gtest/gtest.h>
#include <signal.h>
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

#include "runtime/processors.h"
#include "test_util.h"

namespace deepx {
namespace {
namespace fs = std::filesystem;
using json = nlohmann::json;

using CliOutput = testing::CliResult;

class ProcessorsCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("deepx_processors_cli_test_" + std::to_string(getpid()));
    fs::create_directories(dir_);
    model_ = testing::SourcePath("models/fashion_mnist_cnn.onnx");
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  CliOutput Run(const std::vector<std::string>& args) const { return testing::RunCli(args, Path("stderr.txt")); }
  json RunJson(const std::vector<std::string>& args) const {
    CliOutput r = Run(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    json doc = json::parse(r.out, nullptr, /*allow_exceptions=*/false);
    EXPECT_FALSE(doc.is_discarded()) << "stdout is not JSON:\n" << r.out << r.err;
    return doc;
  }

  // Small calibration: these tests check plumbing, not the machine.
  std::vector<std::string> Tiny() const {
    return {"--cache", Path("calibration.json"), "--calibration-gemm-size", "64", "--calibration-buffer-mb", "2"};
  }
  std::vector<std::string> With(std::vector<std::string> a, const std::vector<std::string>& b) const {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  }

  fs::path dir_;
  std::string model_;
};

TEST_F(ProcessorsCliTest, DevicesListsEveryProcessorWithSpeedsAndTransferCosts) {
  json doc = RunJson(With({"devices", "--json"}, Tiny()));
  ASSERT_TRUE(doc["processors"].is_array());
  std::map<std::string, json> by_name;
  for (const json& p : doc["processors"]) {
    for (const char* key : {"name", "kind", "memory_mb", "gflops", "gbps", "to_device_gbps", "to_host_gbps",
                            "transfer_latency_us", "threads", "cores", "emulated", "status", "power_profile"})
      EXPECT_TRUE(p.contains(key)) << key << " missing in " << p.dump();
    by_name[p["name"].get<std::string>()] = p;
  }
  // Every processor this machine names is listed, usable or with its error.
  for (const std::string& name : ProcessorNames()) {
    ASSERT_TRUE(by_name.count(name)) << name << " not listed";
    const json& p = by_name[name];
    if (p["status"] == "unavailable") {
      EXPECT_FALSE(p["error"].get<std::string>().empty()) << p.dump();
      continue;
    }
    EXPECT_EQ(p["status"], "measured") << p.dump();
    EXPECT_GT(p["gflops"].get<double>(), 0) << p.dump();
    EXPECT_GT(p["memory_mb"].get<int64_t>(), 0) << p.dump();
    EXPECT_GE(p["threads"].get<int>(), 1) << p.dump();
    if (p["host_memory"] == true) {
      // Computes on host memory (the CPU backends): transfers cost nothing, bandwidth is a host read.
      EXPECT_EQ(p["kind"], "cpu") << p.dump();
      EXPECT_TRUE(p["to_device_gbps"].is_null()) << p.dump();
      EXPECT_EQ(p["transfer_latency_us"].get<double>(), 0) << p.dump();
      EXPECT_EQ(p["bandwidth_method"], "host-read") << p.dump();
      EXPECT_GT(p["gbps"].get<double>(), 0) << p.dump();
    } else {
      // A device (an OpenCL CPU device too: it keeps its own buffers): transfer costs measured, or explained.
      const bool transfers = p["to_device_gbps"].is_number() && p["to_host_gbps"].is_number();
      EXPECT_TRUE(transfers || !p["calibration_notes"].get<std::string>().empty()) << p.dump();
      if (transfers) {
        EXPECT_GT(p["to_host_gbps"].get<double>(), 0) << p.dump();
      }
      EXPECT_GE(p["transfer_latency_us"].get<double>(), 0) << p.dump();
    }
  }
#ifdef DEEPX_HAVE_CPU_BACKEND
  const CpuTopology& t = HostCpuTopology();
  const json& little = by_name["cpu-little"];
  EXPECT_EQ(little["emulated"], !t.heterogeneous());
  EXPECT_EQ(little["cores"].get<std::vector<int>>(), SplitCpu(t, "cpu-little")->cores);
  EXPECT_EQ(little["threads"].get<int>(), static_cast<int>(SplitCpu(t, "cpu-little")->cores.size()));
  if (!t.heterogeneous()) {
    EXPECT_NE(little["note"].get<std::string>().find("emulated"), std::string::npos) << little.dump();
  }
#endif
  // Device families with nothing found are named with the reason.
  ASSERT_TRUE(doc["unavailable"].is_array());
  for (const json& u : doc["unavailable"]) EXPECT_FALSE(u["reason"].get<std::string>().empty()) << u.dump();

  // Again: every number from the cache; the table says so.
  json again = RunJson(With({"devices", "--json"}, Tiny()));
  for (const json& p : again["processors"]) {
    if (p["status"] != "unavailable") {
      EXPECT_EQ(p["status"], "cached") << p.dump();
    }
  }
  CliOutput text = Run(With({"devices"}, Tiny()));
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("cpu-little"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("to_dev_GB/s"), std::string::npos) << text.out;
}

TEST_F(ProcessorsCliTest, DevicesListsAnUnreachableRemoteWithItsErrorAndSucceeds) {
  std::ofstream(Path("token")) << "secret\n";
  // Port 1 on loopback: nothing listens there.
  json doc = RunJson(With({"devices", "--json", "--remote", "http://127.0.0.1:1", "--token-file", Path("token")},
                          Tiny()));
  const json* remote = nullptr;
  for (const json& p : doc["processors"])
    if (p["name"].get<std::string>().rfind("remote", 0) == 0) remote = &p;
  ASSERT_NE(remote, nullptr) << doc.dump(2);
  EXPECT_EQ((*remote)["status"], "unavailable") << remote->dump();
  EXPECT_FALSE((*remote)["error"].get<std::string>().empty());
  EXPECT_TRUE((*remote)["gflops"].is_null());
}

#ifdef DEEPX_HAVE_REMOTE_BACKEND
// A real `deepx serve` on loopback as the remote: devices measures its round trip, network and GEMM.
TEST_F(ProcessorsCliTest, DevicesCalibratesALoopbackRemote) {
  const std::string token = Path("token");
  std::ofstream(token) << "devices-test-token\n";
  int out[2];
  ASSERT_EQ(pipe(out), 0);
  std::vector<std::string> args = {DEEPX_CLI_PATH, "serve",       "--port", "0", "--token-file",
                                   token,          "--allow-upload", "--backend", "reference"};
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], STDOUT_FILENO);
    close(out[0]);
    close(out[1]);
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(out[1]);
  std::string line;
  char ch;
  while (read(out[0], &ch, 1) == 1 && ch != '\n') line += ch;
  close(out[0]);
  const size_t at = line.rfind("127.0.0.1:");
  if (at == std::string::npos) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    FAIL() << "deepx serve did not start: " << line;
  }
  const std::string url = "http://127.0.0.1:" + std::to_string(std::stoi(line.substr(at + 10)));
  json doc = RunJson(With({"devices", "--json", "--remote", url, "--token-file", token}, Tiny()));
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  const json* remote = nullptr;
  for (const json& p : doc["processors"])
    if (p["kind"] == "remote") remote = &p;
  ASSERT_NE(remote, nullptr) << doc.dump(2);
  ASSERT_EQ((*remote)["status"], "measured") << remote->dump();
  EXPECT_GT((*remote)["gflops"].get<double>(), 0);
  EXPECT_GT((*remote)["rtt_ms"].get<double>(), 0);
  EXPECT_EQ((*remote)["host_memory"], false);
  EXPECT_GT((*remote)["to_device_gbps"].get<double>(), 0) << remote->dump();
  EXPECT_TRUE((*remote)["gbps"].is_null());  // not separable from the network: explained in the notes
  EXPECT_NE((*remote)["calibration_notes"].get<std::string>().find("not separable"), std::string::npos);
}
#endif

// Every processor name works with run, bench and profile, and run's outputs match the reference backend's.
TEST_F(ProcessorsCliTest, RunBenchAndProfileTakeEveryProcessorName) {
  json want = RunJson({"run", model_, "--backend", "reference", "--seed", "7", "--json"});
  ASSERT_TRUE(want["outputs"].is_array() && !want["outputs"].empty());
  const json& want_values = want["outputs"][0]["first_values"];
  ASSERT_FALSE(want_values.empty());
  double scale = 0;
  for (const json& v : want_values) scale = std::max(scale, std::abs(v.get<double>()));
  for (const std::string& name : ProcessorNames()) {
    SCOPED_TRACE(name);
    json got = RunJson({"run", model_, "--backend", name, "--seed", "7", "--json"});
    ASSERT_TRUE(got["outputs"].is_array() && !got["outputs"].empty()) << got.dump();
    EXPECT_EQ(got["backend"], name);
    const json& values = got["outputs"][0]["first_values"];
    ASSERT_EQ(values.size(), want_values.size());
    for (size_t i = 0; i < values.size(); ++i)
      EXPECT_LE(std::abs(values[i].get<double>() - want_values[i].get<double>()), 1e-4 * (scale + 1e-6))
          << "output value " << i;

    json bench = RunJson({"bench", model_, "--backend", name, "--warmup", "0", "--iterations", "2", "--json"});
    EXPECT_EQ(bench["backend"], name) << bench.dump();
    json profile = RunJson(With({"profile", model_, "--backend", name, "--warmup", "0", "--iterations", "1", "--json"},
                                Tiny()));
    EXPECT_TRUE(profile["layers"].is_array() && !profile["layers"].empty()) << name;
    EXPECT_EQ(profile["backend"], name);
  }
  CliOutput bad = Run({"run", model_, "--backend", "cpu-medium"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("cpu-little"), std::string::npos) << "the error lists the known names: " << bad.err;
}

// `run --plan auto` plans over the processors named, runs the plan and reports every block's predicted and measured
// time (with where the measured time went); --placement runs a fixed placement and rejects malformed ones.
TEST_F(ProcessorsCliTest, RunPlanAutoReportsPredictedAndMeasuredPerBlock) {
  const std::vector<std::string> base = {"run", model_, "--plan", "auto", "--processors", "cpu-big,cpu-little",
                                         "--runs", "3", "--json"};
  auto check_blocks = [](const json& doc) {
    ASSERT_TRUE(doc["blocks"].is_array() && !doc["blocks"].empty()) << doc.dump();
    for (const json& b : doc["blocks"]) {
      const std::string proc = b["processor"];
      EXPECT_TRUE(proc == "cpu-big" || proc == "cpu-little") << proc;
      EXPECT_FALSE(b["nodes"].empty());
      EXPECT_GT(b["predicted_ms"].get<double>(), 0);
      EXPECT_GT(b["measured_ms"].get<double>(), 0);
      const json& parts = b["measured_parts_ms"];
      for (const char* key : {"wait", "transfer_in", "call", "publish"}) EXPECT_TRUE(parts.contains(key)) << key;
      EXPECT_GT(parts["call"].get<double>(), 0);
    }
    EXPECT_GT(doc["predicted"]["latency_ms"].get<double>(), 0);
    EXPECT_EQ(doc["measured"]["runs"], 3);
  };
  check_blocks(RunJson(base));

  json halves = RunJson(With(base, {"--placement", "halves"}));
  check_blocks(halves);
  std::set<std::string> used;
  for (const json& b : halves["blocks"]) used.insert(b["processor"].get<std::string>());
  EXPECT_EQ(used.size(), 2u) << halves.dump();

  const std::vector<std::pair<std::string, std::string>> bad = {
      {"alternate:0", "K >= 1"}, {"0,9", "not a processor index below 2"}, {"0", "unit-blocks"}};
  for (const auto& [placement, why] : bad) {
    CliOutput r = Run(With(base, {"--placement", placement}));
    EXPECT_EQ(r.exit_code, 1) << placement;
    EXPECT_NE(r.err.find(why), std::string::npos) << placement << ": " << r.err;
  }
}

}  // namespace
}  // namespace deepx
