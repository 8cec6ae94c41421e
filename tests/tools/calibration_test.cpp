// Unit tests of the measurement helpers behind `deepx bench`, `profile` and `devices`: percentiles, resident
// memory, calibration measurements and the calibration cache.
#include "runtime/calibration.h"

#include <gtest/gtest.h>
#include <sched.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "backends/reference/reference_backend.h"
#include "runtime/processors.h"
#include "runtime/resource_usage.h"

namespace deepx {
namespace {
namespace fs = std::filesystem;

TEST(Percentile, InterpolatesBetweenRanks) {
  const std::vector<double> v = {5, 1, 4, 2, 3};  // unsorted on purpose
  EXPECT_DOUBLE_EQ(*Percentile(v, 0), 1);
  EXPECT_DOUBLE_EQ(*Percentile(v, 25), 2);
  EXPECT_DOUBLE_EQ(*Percentile(v, 50), 3);
  EXPECT_DOUBLE_EQ(*Percentile(v, 90), 4.6);  // rank 3.6: 4 + 0.6 * (5 - 4)
  EXPECT_DOUBLE_EQ(*Percentile(v, 100), 5);
  EXPECT_DOUBLE_EQ(*Percentile({10, 20}, 50), 15);
  EXPECT_DOUBLE_EQ(*Percentile({7}, 99), 7);
}

TEST(Percentile, RejectsEmptyInputAndOutOfRangeP) {
  EXPECT_EQ(Percentile({}, 50).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Percentile({1, 2}, -1).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Percentile({1, 2}, 100.5).status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(ComputeLatencyStats({}).ok());
}

TEST(Percentile, LatencyStatsAreOrdered) {
  std::vector<double> samples;
  for (int i = 0; i < 200; ++i) samples.push_back(1.0 + (i * 37 % 101) * 0.01 + (i == 17 ? 50.0 : 0.0));
  auto s = ComputeLatencyStats(samples);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->count, 200);
  EXPECT_LE(s->min, s->p50);
  EXPECT_LE(s->p50, s->p90);
  EXPECT_LE(s->p90, s->p99);
  EXPECT_LE(s->p99, s->max);
  EXPECT_DOUBLE_EQ(s->max, 51.0 + 17 * 37 % 101 * 0.01);  // the one outlier
  EXPECT_GT(s->mean, s->min);
  EXPECT_LT(s->mean, s->max);
}

TEST(ResourceUsage, ResidentMemoryGrowsWhenPagesAreTouched) {
  auto before = CurrentResidentBytes();
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  constexpr size_t kBytes = size_t{64} << 20;
  std::unique_ptr<char[]> block(new char[kBytes]);
  std::memset(block.get(), 1, kBytes);  // touch every page
  auto after = CurrentResidentBytes();
  auto peak = PeakResidentBytes();
  ASSERT_TRUE(after.ok() && peak.ok());
  EXPECT_GE(*after - *before, int64_t{60} << 20);
  EXPECT_GE(*peak, *after);
  EXPECT_EQ(block[kBytes - 1], 1);
}

class CalibrationCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("deepx_calibration_test_" + std::to_string(getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  // Small sizes: these tests check plumbing, not the machine.
  static CalibrationOptions Tiny() {
    CalibrationOptions o;
    o.gemm_max_size = 64;
    o.gemm_budget_s = 0.05;
    o.bandwidth_bytes = int64_t{4} << 20;
    o.bandwidth_budget_s = 0.05;
    return o;
  }

  fs::path dir_;
};

TEST_F(CalibrationCacheTest, SavesAndLoadsEntriesKeyedByBackendThreadsAndCpu) {
  Calibration a;
  a.backend = "reference";
  a.threads = 1;
  a.cpu_model = "Test CPU";
  a.gflops = 12.5;
  a.gbps = 7.25;
  a.gemm_size = 512;
  a.bandwidth_bytes = 1 << 20;
  a.calibrated_at = "2024-01-02T03:04:05Z";
  Calibration b = a;
  b.threads = 2;
  b.gflops = 24;
  CalibrationCache cache;
  cache.Put(a);
  cache.Put(b);
  const std::string path = Path("nested/dir/calibration.json");  // parent directories are created
  ASSERT_TRUE(cache.Save(path).ok());
  auto loaded = CalibrationCache::Load(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->entries().size(), 2u);
  const Calibration* got = loaded->Find("reference", 2, "Test CPU");
  ASSERT_NE(got, nullptr);
  EXPECT_DOUBLE_EQ(got->gflops, 24);
  EXPECT_DOUBLE_EQ(got->gbps, 7.25);
  EXPECT_EQ(got->gemm_size, 512);
  EXPECT_EQ(got->bandwidth_bytes, 1 << 20);
  EXPECT_EQ(got->calibrated_at, "2024-01-02T03:04:05Z");
  EXPECT_EQ(loaded->Find("reference", 3, "Test CPU"), nullptr);
  EXPECT_EQ(loaded->Find("reference", 1, "Other CPU"), nullptr);
  EXPECT_EQ(loaded->Find("cpu", 1, "Test CPU"), nullptr);
  EXPECT_NE(CalibrationKey("a", 1, "x"), CalibrationKey("a", 2, "x"));
}

TEST_F(CalibrationCacheTest, MissingFileIsEmptyAndCorruptFileIsAnError) {
  auto missing = CalibrationCache::Load(Path("none.json"));
  ASSERT_TRUE(missing.ok());
  EXPECT_TRUE(missing->entries().empty());
  for (const std::string& text :
       {std::string("{not json"), std::string("[1, 2]"), std::string(R"({"entries": [{"backend": "reference"}]})"),
        std::string(R"({"entries": [{"backend": "r", "threads": 1, "cpu_model": "c",
                                                  "gflops": -1, "gbps": 1}]})")}) {
    std::ofstream(Path("bad.json"), std::ios::trunc) << text;
    EXPECT_EQ(CalibrationCache::Load(Path("bad.json")).status().code(), StatusCode::kInvalidArgument) << text;
  }
}

TEST_F(CalibrationCacheTest, GetOrCalibrateMeasuresOnceThenReadsTheCache) {
  const std::string path = Path("cal.json");
  std::ofstream(path) << "{corrupt";  // replaced by the first measurement
  bool measured = false;
  auto first = GetOrCalibrate("reference", 1, path, /*force=*/false, Tiny(), &measured);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(measured);
  EXPECT_GT(first->gflops, 0);
  EXPECT_GT(first->gbps, 0);
  EXPECT_EQ(first->threads, 1);
  EXPECT_EQ(first->gemm_size, 64);
  EXPECT_EQ(first->cpu_model, CpuModelName());
  EXPECT_EQ(first->calibrated_at.size(), 20u);  // 2024-01-02T03:04:05Z

  auto second = GetOrCalibrate("reference", 1, path, /*force=*/false, Tiny(), &measured);
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(measured);
  EXPECT_DOUBLE_EQ(second->gflops, first->gflops);
  EXPECT_DOUBLE_EQ(second->gbps, first->gbps);

  auto forced = GetOrCalibrate("reference", 1, path, /*force=*/true, Tiny(), &measured);
  ASSERT_TRUE(forced.ok());
  EXPECT_TRUE(measured);
  EXPECT_EQ(GetOrCalibrate("no-such-backend", 1, path, false, Tiny()).status().code(), StatusCode::kNotFound);
}

TEST(Calibration, MeasurementsArePositiveAndUseTheRequestedSize) {
  CalibrationOptions o;
  o.gemm_max_size = 96;
  o.gemm_budget_s = 0.05;
  o.bandwidth_bytes = int64_t{8} << 20;
  o.bandwidth_budget_s = 0.05;
  int size = 0;
  auto gflops = MeasureGemmGflops("reference", 1, o, &size);
  ASSERT_TRUE(gflops.ok()) << gflops.status().ToString();
  EXPECT_GT(*gflops, 0);
  EXPECT_EQ(size, 96);
  for (int threads : {1, 2}) {
    auto gbps = MeasureReadBandwidthGbps(threads, o);
    ASSERT_TRUE(gbps.ok()) << gbps.status().ToString();
    // Positive and physically plausible (no dead-code-eliminated loop reporting absurd speeds).
    EXPECT_GT(*gbps, 0.1);
    EXPECT_LT(*gbps, 10000);
  }
  o.gemm_max_size = 0;
  EXPECT_EQ(MeasureGemmGflops("reference", 1, o).status().code(), StatusCode::kInvalidArgument);
}

TEST(Calibration, DefaultCachePathFollowsXdgCacheHome) {
  const char* old_xdg = std::getenv("XDG_CACHE_HOME");
  const std::string saved = old_xdg ? old_xdg : "";
  setenv("XDG_CACHE_HOME", "/tmp/xdg-test", 1);
  EXPECT_EQ(DefaultCalibrationCachePath(), "/tmp/xdg-test/deepx/calibration.json");
  setenv("XDG_CACHE_HOME", "relative/ignored", 1);  // the XDG spec says to ignore relative paths
  const char* home = std::getenv("HOME");
  if (home != nullptr && home[0] != '\0') {
    EXPECT_EQ(DefaultCalibrationCachePath(), std::string(home) + "/.cache/deepx/calibration.json");
  }
  if (old_xdg) {
    setenv("XDG_CACHE_HOME", saved.c_str(), 1);
  } else {
    unsetenv("XDG_CACHE_HOME");
  }
}


// A simulated processor around the reference kernels, to drive calibration's device and remote paths here:
//   kind "gpu":    ToDevice/ToHost copy the tensor (so it is not host memory) and take latency + bytes / bandwidth;
//   kind "remote": tensors stay on the host and every Run takes latency + (input + output bytes) / bandwidth,
//                  as a request to a server would.
class SimulatedProcessor : public Backend {
 public:
  SimulatedProcessor(const std::string& kind, double latency_s, double bytes_per_s)
      : latency_s_(latency_s), bytes_per_s_(bytes_per_s) {
    info_.name = "simulated-" + kind;
    info_.kind = kind;
    info_.memory_bytes = int64_t{1} << 30;
    info_.threads = 1;
  }
  const ProcessorInfo& info() const override { return info_; }
  Status Supports(const Graph& g, const Node& n) const override { return reference_.Supports(g, n); }
  Result<std::unique_ptr<Executable>> Prepare(std::shared_ptr<const Graph> graph, const Block& block) override {
    DX_ASSIGN_OR_RETURN(std::unique_ptr<Executable> exe, reference_.Prepare(std::move(graph), block));
    if (info_.kind != "remote") return exe;
    return std::unique_ptr<Executable>(std::make_unique<Request>(std::move(exe), this));
  }
  Result<Tensor> ToDevice(const Tensor& t) override { return Move(t); }
  Result<Tensor> ToHost(const Tensor& t) override { return Move(t); }

 private:
  class Request : public Executable {
   public:
    Request(std::unique_ptr<Executable> exe, SimulatedProcessor* owner) : exe_(std::move(exe)), owner_(owner) {}
    Status Run(const std::vector<Tensor>& inputs, std::vector<Tensor>& outputs, const RunOptions& options) override {
      DX_RETURN_IF_ERROR(exe_->Run(inputs, outputs, options));
      size_t bytes = 0;
      for (const Tensor& t : inputs) bytes += t.size_bytes();
      for (const Tensor& t : outputs) bytes += t.size_bytes();
      owner_->Wait(bytes);
      return Status::Ok();
    }

   private:
    std::unique_ptr<Executable> exe_;
    SimulatedProcessor* owner_;
  };

  void Wait(size_t bytes) const {
    std::this_thread::sleep_for(
        std::chrono::duration<double>(latency_s_ + static_cast<double>(bytes) / bytes_per_s_));
  }
  Result<Tensor> Move(const Tensor& t) {
    if (info_.kind == "remote") return t;
    Wait(t.size_bytes());
    return t.Clone();
  }

  ProcessorInfo info_;
  ReferenceBackend reference_;
  double latency_s_, bytes_per_s_;
};

CalibrationOptions TinyDeviceOptions() {
  CalibrationOptions o;
  o.gemm_max_size = o.device_gemm_max_size = 64;
  o.gemm_budget_s = 0.05;
  o.bandwidth_bytes = int64_t{4} << 20;
  o.device_bandwidth_bytes = int64_t{1} << 20;
  o.bandwidth_budget_s = 0.05;
  o.large_transfer_bytes = int64_t{4} << 20;
  o.transfer_budget_s = 0.2;
  return o;
}

TEST(Calibration, DeviceTransfersFitLatencyAndBandwidth) {
  // 1 ms per transfer plus 1 GB/s: the 4 MiB tensor takes ~5 ms, the 4 KiB one ~1 ms.
  SimulatedProcessor device("gpu", 1e-3, 1e9);
  auto c = CalibrateBackend(device, "simulated-gpu", TinyDeviceOptions());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->kind, "gpu");
  EXPECT_FALSE(c->host_memory);
  EXPECT_GT(c->gflops, 0);
  EXPECT_EQ(c->gemm_size, 64);
  EXPECT_EQ(c->bandwidth_method, "device-add");
  EXPECT_GT(c->gbps, 0);
  // Sleeps only overshoot, so measured latencies sit a little above 1 ms and bandwidths a little below 1 GB/s;
  // the bounds leave room for a loaded machine.
  EXPECT_GT(c->to_host_latency_us, 700);
  EXPECT_LT(c->to_host_latency_us, 5000);
  EXPECT_GT(c->to_device_latency_us, 700);
  EXPECT_LT(c->to_device_latency_us, 5000);
  EXPECT_GT(c->to_host_gbps, 0.3);
  EXPECT_LT(c->to_host_gbps, 1.2);
  EXPECT_GT(c->to_device_gbps, 0.3);
  EXPECT_LT(c->to_device_gbps, 1.2);
  EXPECT_EQ(c->rtt_ms, 0);
  EXPECT_TRUE(c->notes.empty()) << c->notes;
}

TEST(Calibration, RemoteRoundTripAndNetworkBandwidthComeFromRequests) {
  // 2 ms per request plus 0.5 GB/s for its payload both ways.
  SimulatedProcessor remote("remote", 2e-3, 0.5e9);
  auto c = CalibrateBackend(remote, "remote:http://simulated", TinyDeviceOptions());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->kind, "remote");
  EXPECT_FALSE(c->host_memory);
  EXPECT_GT(c->rtt_ms, 1.8);
  EXPECT_LT(c->rtt_ms, 10);
  EXPECT_GT(c->to_device_gbps, 0.15);
  EXPECT_LT(c->to_device_gbps, 0.6);
  EXPECT_DOUBLE_EQ(c->to_host_gbps, c->to_device_gbps);  // one figure for both directions
  EXPECT_NEAR(c->to_device_latency_us, c->rtt_ms * 1e3 / 2, 1e-6);
  EXPECT_GT(c->gflops, 0);
  EXPECT_EQ(c->gbps, 0);  // not separable from the network: said in the notes
  EXPECT_NE(c->notes.find("not separable"), std::string::npos) << c->notes;
}

TEST(Calibration, CpuProcessorsComputeOnHostMemory) {
  for (const char* name : {"reference", "cpu", "cpu-big", "cpu-little"}) {
    auto backend = CreateBackend(name);
    if (!backend.ok()) continue;  // cpu, cpu-big and cpu-little need the oneDNN backend
    auto c = CalibrateBackend(**backend, name, TinyDeviceOptions());
    ASSERT_TRUE(c.ok()) << name << ": " << c.status().ToString();
    EXPECT_EQ(c->kind, "cpu") << name;
    EXPECT_TRUE(c->host_memory) << name;
    EXPECT_EQ(c->bandwidth_method, "host-read") << name;
    EXPECT_GT(c->gflops, 0) << name;
    EXPECT_GT(c->gbps, 0) << name;
    EXPECT_EQ(c->to_device_gbps, 0) << name;
    EXPECT_EQ(c->to_host_latency_us, 0) << name;
    EXPECT_EQ(c->threads, (*backend)->info().threads) << name;
    // The transfer probe agrees: a CPU backend's ToDevice hands back the host tensor.
    Calibration t;
    t.host_memory = false;
    ASSERT_TRUE(MeasureTransfers(**backend, TinyDeviceOptions(), t).ok());
    EXPECT_TRUE(t.host_memory) << name;
  }
}

TEST(Calibration, ReadBandwidthRunsPinnedToGivenCores) {
  CalibrationOptions o;
  o.bandwidth_bytes = int64_t{4} << 20;
  o.bandwidth_budget_s = 0.02;
  const std::vector<int> little = SplitCpu(HostCpuTopology(), "cpu-little")->cores;
  cpu_set_t before;
  ASSERT_EQ(sched_getaffinity(0, sizeof(before), &before), 0);
  auto gbps = MeasureReadBandwidthGbps(2, o, little);
  ASSERT_TRUE(gbps.ok());
  EXPECT_GT(*gbps, 0.1);
  cpu_set_t after;
  ASSERT_EQ(sched_getaffinity(0, sizeof(after), &after), 0);
  EXPECT_TRUE(CPU_EQUAL(&before, &after)) << "the caller's affinity mask must be restored";
}

TEST_F(CalibrationCacheTest, TransferFieldsRoundTripAndOldEntriesStillLoad) {
  Calibration c;
  c.backend = "opencl:0";
  c.threads = 1;
  c.cpu_model = "Test CPU";
  c.kind = "gpu";
  c.gflops = 100;
  c.gbps = 50;
  c.bandwidth_method = "device-add";
  c.host_memory = false;
  c.to_device_gbps = 6.5;
  c.to_host_gbps = 7.5;
  c.to_device_latency_us = 12;
  c.to_host_latency_us = 15;
  c.notes = "a note";
  Calibration r = c;
  r.backend = "remote:http://127.0.0.1:8000";
  r.kind = "remote";
  r.gbps = 0;  // not measurable on a remote: allowed
  r.rtt_ms = 0.8;
  CalibrationCache cache;
  cache.Put(c);
  cache.Put(r);
  ASSERT_TRUE(cache.Save(Path("t.json")).ok());
  auto loaded = CalibrationCache::Load(Path("t.json"));
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  const Calibration* got = loaded->Find("opencl:0", 1, "Test CPU");
  ASSERT_NE(got, nullptr);
  EXPECT_EQ(got->kind, "gpu");
  EXPECT_FALSE(got->host_memory);
  EXPECT_DOUBLE_EQ(got->to_device_gbps, 6.5);
  EXPECT_DOUBLE_EQ(got->to_host_gbps, 7.5);
  EXPECT_DOUBLE_EQ(got->to_device_latency_us, 12);
  EXPECT_DOUBLE_EQ(got->to_host_latency_us, 15);
  EXPECT_EQ(got->bandwidth_method, "device-add");
  EXPECT_EQ(got->notes, "a note");
  const Calibration* remote = loaded->Find("remote:http://127.0.0.1:8000", 1, "Test CPU");
  ASSERT_NE(remote, nullptr);
  EXPECT_DOUBLE_EQ(remote->rtt_ms, 0.8);
  EXPECT_EQ(remote->gbps, 0);

  // An entry written before transfers were measured is a host-memory processor.
  std::ofstream(Path("old.json")) << R"({"version": 1, "entries": [{"backend": "cpu", "threads": 2,
      "cpu_model": "c", "gflops": 200, "gbps": 40, "gemm_size": 1024}]})";
  auto old = CalibrationCache::Load(Path("old.json"));
  ASSERT_TRUE(old.ok()) << old.status().ToString();
  ASSERT_NE(old->Find("cpu", 2, "c"), nullptr);
  EXPECT_TRUE(old->Find("cpu", 2, "c")->host_memory);
}

TEST_F(CalibrationCacheTest, CpuLittleIsCachedUnderItsOwnName) {
  if (!CreateBackend("cpu-little").ok()) GTEST_SKIP() << "the CPU backend is not built";
  const std::string path = Path("cal.json");
  bool measured = false;
  auto little = GetOrCalibrate("cpu-little", 0, path, false, Tiny(), &measured);
  ASSERT_TRUE(little.ok()) << little.status().ToString();
  EXPECT_TRUE(measured);
  EXPECT_EQ(little->backend, "cpu-little");
  auto loaded = CalibrationCache::Load(path);
  ASSERT_TRUE(loaded.ok());
  EXPECT_NE(loaded->Find("cpu-little", little->threads, CpuModelName()), nullptr);
  EXPECT_EQ(loaded->Find("cpu-big", little->threads, CpuModelName()), nullptr);
}

}  // namespace
}  // namespace deepx
