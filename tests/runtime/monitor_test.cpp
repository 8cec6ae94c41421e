// The resource monitor reads /proc and /sys (here: a fake tree with known values), and estimates links from
// request timings.
#include <gtest/gtest.h>

#include <cmath>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "runtime/monitor.h"

namespace deepx {
namespace {

namespace fs = std::filesystem;

class FakeTree {
 public:
  FakeTree() {
    root_ = fs::temp_directory_path() / ("deepx_monitor_" + std::to_string(::getpid()) + "_" + std::to_string(counter_++));
    fs::create_directories(root_ / "proc" / "self");
    fs::create_directories(root_ / "power");
  }
  ~FakeTree() {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  void Write(const std::string& rel, const std::string& text) {
    fs::create_directories((root_ / rel).parent_path());
    std::ofstream(root_ / rel) << text;
  }
  // Aggregate and two per-core lines: user nice system idle iowait irq softirq steal.
  void Stat(int64_t busy0, int64_t idle0, int64_t busy1, int64_t idle1) {
    auto line = [](const std::string& label, int64_t busy, int64_t idle) {
      return label + " " + std::to_string(busy) + " 0 0 " + std::to_string(idle) + " 0 0 0 0 0 0\n";
    };
    Write("proc/stat", line("cpu", busy0 + busy1, idle0 + idle1) + line("cpu0", busy0, idle0) + line("cpu1", busy1, idle1) +
                           "intr 12345\n");
  }
  void Self(int64_t utime, int64_t stime) {
    Write("proc/self/stat", "42 (deepx (test) x) S 1 2 3 4 5 6 7 8 9 10 " + std::to_string(utime) + " " +
                                std::to_string(stime) + " 0 0\n");
  }
  SystemMonitorOptions Options() const {
    SystemMonitorOptions o;
    o.proc_root = (root_ / "proc").string();
    o.power_supply_dir = (root_ / "power").string();
    return o;
  }

 private:
  static inline int counter_ = 0;
  fs::path root_;
};

TEST(ResourceMonitor, CpuLoadFromStatDeltasExcludingOurOwnTime) {
  FakeTree tree;
  tree.Write("proc/meminfo", "MemTotal: 1000 kB\nMemFree: 10 kB\nMemAvailable:   2048 kB\n");
  tree.Stat(100, 100, 0, 200);
  tree.Self(0, 0);
  SystemMonitor monitor(tree.Options());
  auto first = monitor.Sample();
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_DOUBLE_EQ(first->cpu_load, 0.25);  // since boot: 100 busy of 400
  EXPECT_EQ(first->mem_available_bytes, 2048 * 1024);
  EXPECT_FALSE(first->on_battery);
  EXPECT_LT(first->battery_fraction, 0);
  // Next interval: 300 ticks elapse over both cores, 150 busy of which 30 are ours.
  tree.Stat(200, 150, 50, 300);
  tree.Self(20, 10);
  auto second = monitor.Sample();
  ASSERT_TRUE(second.ok());
  EXPECT_DOUBLE_EQ(second->cpu_load, 120.0 / 300.0);
}

TEST(ResourceMonitor, ShortIntervalsKeepTheLastLoadUntilEnoughTicksPass) {
  FakeTree tree;
  tree.Write("proc/meminfo", "MemAvailable:   2048 kB\n");
  tree.Stat(100, 100, 0, 200);
  tree.Self(0, 0);
  SystemMonitor monitor(tree.Options());
  ASSERT_TRUE(monitor.Sample().ok());
  tree.Stat(140, 140, 40, 280);  // 200 ticks, 80 busy: 0.4
  auto a = monitor.Sample();
  ASSERT_TRUE(a.ok());
  EXPECT_DOUBLE_EQ(a->cpu_load, 0.4);
  // No tick at all, then 4 busy ticks of 4: too short to say anything (it read the since-boot average before).
  auto b = monitor.Sample();
  ASSERT_TRUE(b.ok());
  EXPECT_DOUBLE_EQ(b->cpu_load, 0.4);
  tree.Stat(142, 140, 42, 280);
  auto c = monitor.Sample();
  ASSERT_TRUE(c.ok());
  EXPECT_DOUBLE_EQ(c->cpu_load, 0.4);
  // Once the interval since the last used sample is long enough, all of it counts (22 busy ticks of 28).
  tree.Stat(150, 140, 52, 286);
  auto d = monitor.Sample();
  ASSERT_TRUE(d.ok());
  EXPECT_DOUBLE_EQ(d->cpu_load, 22.0 / 28.0);
}

TEST(ResourceMonitor, LoadOfSelectedCoresOnly) {
  FakeTree tree;
  tree.Write("proc/meminfo", "MemAvailable: 1 kB\n");
  tree.Stat(0, 0, 0, 0);
  tree.Self(0, 0);
  SystemMonitorOptions options = tree.Options();
  options.cores = {1};
  // Two threads of ours: one last ran on core 1, the other on core 0.
  auto thread = [&](const std::string& tid, int64_t ticks, int core) {
    std::string fields = tid + " (t) S";
    for (int i = 4; i <= 39; ++i)
      fields += " " + std::to_string(i == 14 ? ticks : i == 39 ? core : 0);
    tree.Write("proc/self/task/" + tid + "/stat", fields + "\n");
  };
  thread("11", 0, 1);
  thread("12", 0, 0);
  SystemMonitor monitor(options);
  ASSERT_TRUE(monitor.Sample().ok());
  tree.Stat(100, 0, 90, 10);  // core 0 fully busy, core 1 90 %, of which 30 ticks ours
  thread("11", 30, 1);
  thread("12", 50, 0);        // ours on core 0: does not count against core 1
  auto c = monitor.Sample();
  ASSERT_TRUE(c.ok());
  EXPECT_DOUBLE_EQ(c->cpu_load, 0.6);
}

TEST(ResourceMonitor, BatteryDischargingWithoutMains) {
  FakeTree tree;
  tree.Write("proc/meminfo", "MemAvailable: 1 kB\n");
  tree.Stat(1, 1, 1, 1);
  tree.Self(0, 0);
  tree.Write("power/BAT0/type", "Battery\n");
  tree.Write("power/BAT0/status", "Discharging\n");
  tree.Write("power/BAT0/capacity", "37\n");
  tree.Write("power/AC/type", "Mains\n");
  tree.Write("power/AC/online", "0\n");
  SystemMonitor monitor(tree.Options());
  auto c = monitor.Sample();
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->on_battery);
  EXPECT_DOUBLE_EQ(c->battery_fraction, 0.37);
  tree.Write("power/AC/online", "1\n");
  c = monitor.Sample();
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->on_battery);
}

TEST(ResourceMonitor, MissingFilesAreErrorsNamingThem) {
  FakeTree tree;
  SystemMonitor monitor(tree.Options());
  auto c = monitor.Sample();
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("stat"), std::string::npos) << c.status().ToString();
  tree.Stat(1, 1, 1, 1);
  tree.Write("proc/meminfo", "MemTotal: 5 kB\n");
  c = monitor.Sample();
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("MemAvailable"), std::string::npos) << c.status().ToString();
}

TEST(ResourceMonitor, LinksFromRequestTimingsProbesAndHealth) {
  FakeTree tree;
  tree.Write("proc/meminfo", "MemAvailable: 1 kB\n");
  tree.Stat(1, 1, 1, 1);
  tree.Self(0, 0);
  SystemMonitorOptions options = tree.Options();
  options.health = std::make_shared<ProcessorHealth>();
  SystemMonitor monitor(options);
  // A 100-byte request in 20 ms: RTT 20 ms. Then 1 MB in 20 ms + 80 ms: 8e6 bits / 0.08 s = 100 Mbit/s.
  monitor.RecordTransfer("edge", 100, 0.020);
  monitor.RecordTransfer("edge", 1'000'000, 0.100);
  bool up = true;
  monitor.AddLinkProbe("cloud", [&]() -> Result<LinkConditions> {
    if (!up) return Unavailable("no route");
    return LinkConditions{80, 5};
  });
  options.health->MarkUnhealthy("opencl", "lost");
  auto c = monitor.Sample();
  ASSERT_TRUE(c.ok());
  EXPECT_NEAR(c->links["edge"].rtt_ms, 20, 1e-9);
  EXPECT_NEAR(c->links["edge"].bandwidth_mbps, 100, 1e-6);
  EXPECT_EQ(c->links["cloud"].rtt_ms, 80);
  EXPECT_EQ(c->unhealthy.count("opencl"), 1u);
  up = false;
  c = monitor.Sample();
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->links["cloud"].bandwidth_mbps, 0);
  // A better sample blends in; a much worse one replaces the estimate at once.
  monitor.RecordTransfer("edge", 100, 0.012);
  c = monitor.Sample();
  EXPECT_NEAR(c->links["edge"].rtt_ms, 18, 1e-9);
  monitor.RecordTransfer("edge", 100, 0.200);
  c = monitor.Sample();
  EXPECT_NEAR(c->links["edge"].rtt_ms, 200, 1e-9);
}

TEST(ResourceMonitor, BackgroundMonitorReturnsTheLatestSampleAtOnce) {
  auto fake = std::make_shared<FakeMonitor>();
  fake->Update([](Conditions& c) { c.cpu_load = 0.1; });
  BackgroundMonitor background(fake, 1);
  auto c = background.Sample();
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->cpu_load, 0.1);  // sampled at construction
  fake->Update([](Conditions& c) { c.cpu_load = 0.7; });
  for (int i = 0; i < 2000 && background.Sample()->cpu_load != 0.7; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_EQ(background.Sample()->cpu_load, 0.7);
}

// A monitor whose full samples block until the test opens the gate (armed after construction); quick samples
// return cpu_load 0.5 at once.
class GatedMonitor final : public ResourceMonitor {
 public:
  Result<Conditions> SampleQuick() override {
    Conditions c;
    c.cpu_load = 0.5;
    return c;
  }
  Result<Conditions> Sample() override {
    std::unique_lock<std::mutex> lock(mu);
    ++started;
    cv.notify_all();
    cv.wait(lock, [&] { return !armed || open; });
    Conditions c;
    c.cpu_load = started * 0.1;
    return c;
  }
  std::mutex mu;
  std::condition_variable cv;
  bool armed = false, open = false;
  int started = 0;
};

TEST(ResourceMonitor, BackgroundRefreshIsQuickNowAndFullOnItsOwnThread) {
  auto gated = std::make_shared<GatedMonitor>();
  BackgroundMonitor background(gated, 1e7);  // the interval never ends within the test
  EXPECT_NEAR(background.Sample()->cpu_load, 0.1, 1e-9);
  {
    std::lock_guard<std::mutex> lock(gated->mu);
    gated->armed = true;
  }
  background.Refresh();  // returns although the full sample it asked for cannot finish yet
  EXPECT_NEAR(background.Sample()->cpu_load, 0.5, 1e-9);  // the quick one, at once
  std::unique_lock<std::mutex> lock(gated->mu);
  ASSERT_TRUE(gated->cv.wait_for(lock, std::chrono::seconds(10), [&] { return gated->started == 2; }));
  gated->open = true;
  gated->cv.notify_all();
  lock.unlock();
  for (int i = 0; i < 10000 && std::abs(background.Sample()->cpu_load - 0.2) > 1e-9; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_NEAR(background.Sample()->cpu_load, 0.2, 1e-9);
}

TEST(ResourceMonitor, QuickSampleKeepsTheLastProbeReadings) {
  SystemMonitorOptions options;
  options.cores = {0};
  options.contention_probe_ms = 1;
  SystemMonitor monitor(options);
  int probes = 0;
  monitor.AddLinkProbe("edge", [&]() -> Result<LinkConditions> { return LinkConditions{10.0 + probes++, 100}; });
  auto quick = monitor.SampleQuick();  // nothing probed yet: contention unknown, no link reading
  ASSERT_TRUE(quick.ok()) << quick.status().ToString();
  EXPECT_LT(quick->cpu_contention, 0);
  EXPECT_EQ(quick->links.count("edge"), 0u);
  auto full = monitor.Sample();
  ASSERT_TRUE(full.ok()) << full.status().ToString();
  EXPECT_GE(full->cpu_contention, 0);
  EXPECT_EQ(full->links["edge"].rtt_ms, 10);
  quick = monitor.SampleQuick();
  ASSERT_TRUE(quick.ok());
  EXPECT_EQ(quick->cpu_contention, full->cpu_contention);
  EXPECT_EQ(quick->links["edge"].rtt_ms, 10);
  EXPECT_EQ(probes, 1);
  EXPECT_GT(quick->mem_available_bytes, 0);  // the cheap reads are current
  EXPECT_GT(quick->sampled_ns, full->sampled_ns);
}

TEST(ResourceMonitor, RealMachineSampleIsSane) {
  SystemMonitor monitor;
  auto c = monitor.Sample();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_GE(c->cpu_load, 0);
  EXPECT_LE(c->cpu_load, 1);
  EXPECT_GT(c->mem_available_bytes, 0);
  EXPECT_LT(c->cpu_contention, 0);  // not probed
  // The contention probe: 1 ms of CPU on core 0; the share it did not get is in [0, 1].
  SystemMonitorOptions options;
  options.cores = {0};
  options.contention_probe_ms = 1;
  SystemMonitor probing(options);
  c = probing.Sample();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_GE(c->cpu_contention, 0);
  EXPECT_LE(c->cpu_contention, 1);
}

}  // namespace
}  // namespace deepx
