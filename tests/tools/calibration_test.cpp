// Unit tests of the measurement helpers behind `deepx bench`, `profile` and `devices`: percentiles, resident
// memory, calibration measurements and the calibration cache.
#include "runtime/calibration.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

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

}  // namespace
}  // namespace deepx
