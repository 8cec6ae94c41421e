// Resource monitor: the run-time conditions a DAD plan depends on.
//
//   CPU load        busy fraction of all cores over the last interval, from /proc/stat deltas
//   free memory     MemAvailable from /proc/meminfo
//   power           on battery or mains, and charge fraction, from /sys/class/power_supply
//   network         RTT and bandwidth to each remote processor, from the remote backend's request timings
//                   (RecordTransfer) or an injected probe
//   health          processors marked unhealthy by the executor's failover (ProcessorHealth)
//
// The adaptive session reads conditions through the ResourceMonitor interface, so tests and the adaptation
// benchmark inject values with FakeMonitor instead of loading the machine.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <string>
#include <vector>

#include "deepx/status.h"
#include "runtime/executor.h"

namespace deepx {

struct LinkConditions {
  double rtt_ms = -1;          // round trip of a small request; < 0: unknown
  double bandwidth_mbps = -1;  // megabits per second; < 0: unknown
};

struct Conditions {
  double cpu_load = 0;                  // fraction in [0, 1] of the cores busy with other work
  // Fraction of a core's time a CPU-bound thread of ours loses to other runnable work, measured by the contention
  // probe (SystemMonitorOptions::contention_probe_ms); < 0: not measured. Unlike cpu_load it sees priorities and
  // the number of competitors: 4 busy threads of equal priority on our core read 0.8 (we get a fifth).
  double cpu_contention = -1;
  int64_t mem_available_bytes = -1;     // < 0: unknown
  bool on_battery = false;
  double battery_fraction = -1;         // [0, 1]; < 0: no battery
  std::map<std::string, LinkConditions> links;       // by remote processor name
  std::map<std::string, std::string> unhealthy;      // processor -> why (from ProcessorHealth)
  // When these conditions were measured (steady clock); 0: unknown. A monitor that returns the same sample twice
  // (BackgroundMonitor between its samples) returns the same value, so hysteresis counts distinct samples only.
  int64_t sampled_ns = 0;
};

class ResourceMonitor {
 public:
  virtual ~ResourceMonitor() = default;
  // Conditions now. Cheap enough to call between inferences (a few small file reads).
  virtual Result<Conditions> Sample() = 0;
  // Conditions without the measurements that take time (SystemMonitor: the contention probe and link probes keep
  // their last readings; what requests recorded, the /proc and /sys reads are current). Microseconds.
  virtual Result<Conditions> SampleQuick() { return Sample(); }
  // Makes the next Sample() current where it would otherwise return a cached reading (BackgroundMonitor): at once
  // from SampleQuick, and a full reading on the monitor's own thread soon after. A full reading may take
  // milliseconds (the contention probe on a loaded core took 25-45 ms in the adaptation trace's CPU spike), which
  // the inference that asks must not pay. The adaptive session calls it after a run that took far longer than its
  // plan predicted: that run's own timings (a link that got slow) are the news.
  virtual void Refresh() {}
};

// Injected values, for tests and the adaptation benchmark's trace.
class FakeMonitor final : public ResourceMonitor {
 public:
  Result<Conditions> Sample() override {
    std::lock_guard<std::mutex> lock(mu_);
    return conditions_;
  }
  void Set(const Conditions& c) {
    std::lock_guard<std::mutex> lock(mu_);
    conditions_ = c;
  }
  // Edits the current values in place: monitor.Update([](Conditions& c) { c.cpu_load = 0.9; }).
  void Update(const std::function<void(Conditions&)>& edit) {
    std::lock_guard<std::mutex> lock(mu_);
    edit(conditions_);
  }

 private:
  std::mutex mu_;
  Conditions conditions_;
};

// Smoothed RTT / bandwidth of one link from request timings: each request's time is rtt + bytes / bandwidth.
// Small requests (< 4 KiB) estimate the RTT; large ones the bandwidth after subtracting it. EWMA with weight 1/4,
// except that a sample more than twice as bad as the estimate replaces it (fast attack, slow decay).
class LinkEstimator {
 public:
  void Record(int64_t bytes, double seconds);
  LinkConditions Get() const;

 private:
  mutable std::mutex mu_;
  LinkConditions link_;
};

// Samples another monitor on a background thread every `interval_ms`; Sample() returns the latest conditions at
// once, so a slow sample (a contention probe, a network ping) never delays an inference.
class BackgroundMonitor final : public ResourceMonitor {
 public:
  BackgroundMonitor(std::shared_ptr<ResourceMonitor> inner, double interval_ms);
  ~BackgroundMonitor() override;
  Result<Conditions> Sample() override;
  // Samples now, on the caller's thread: for conditions that arrive as events rather than by polling (a memory
  // pressure notification — Linux PSI triggers, cgroup memory.events, Android onTrimMemory — or a network change
  // callback), so that the next inference already plans for them instead of waiting for the next interval.
  void SampleNow();
  // latest = inner SampleQuick() now, and wakes the background thread for a full sample.
  void Refresh() override;
  Result<Conditions> SampleQuick() override { return inner_->SampleQuick(); }

 private:
  std::shared_ptr<ResourceMonitor> inner_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool wake_ = false;  // Refresh asked for a sample before the interval ends
  Result<Conditions> latest_ = Conditions();
  std::thread thread_;
};

struct SystemMonitorOptions {
  std::string proc_root = "/proc";                    // tests point these at a fake tree
  // CPU ids whose load counts (the processors a plan's CPU blocks run on); empty: all of them.
  std::vector<int> cores;
  // Subtract this process's own CPU time (/proc/self/stat utime + stime) from the busy time, so that our own
  // inferences do not read as load from other work (what the planner's load means). With `cores` set, a thread's
  // time counts against the core it last ran on (/proc/self/task/*/stat), exact for threads pinned there.
  bool exclude_self = true;
  std::string power_supply_dir = "/sys/class/power_supply";
  std::shared_ptr<ProcessorHealth> health;            // optional: unhealthy processors
  // > 0: each Sample spins this much CPU time on cores[0] (the calling thread, pinned there for the probe) and
  // reports the wall time it took as cpu_contention = 1 - cpu / wall. Costs that CPU time per sample.
  double contention_probe_ms = 0;
};

// The real machine's conditions.
class SystemMonitor final : public ResourceMonitor {
 public:
  explicit SystemMonitor(SystemMonitorOptions options = {});
  Result<Conditions> Sample() override;
  Result<Conditions> SampleQuick() override;

  // Network: a remote processor's request timings (bytes moved, seconds taken) as the remote backend sees them.
  void RecordTransfer(const std::string& processor, int64_t bytes, double seconds);
  // Or a probe called on every Sample (e.g. a small request to the server, timed).
  void AddLinkProbe(const std::string& processor, std::function<Result<LinkConditions>()> probe);

 private:
  Status ReadCpu(Conditions& c);
  Status ReadMemory(Conditions& c);
  void ReadPower(Conditions& c);
  void ProbeContention(Conditions& c);
  Result<Conditions> Collect(bool measure);  // measure: run the contention probe and the link probes

  SystemMonitorOptions options_;
  std::mutex mu_;
  // /proc/stat totals of the previous sample (busy, all) for the delta.
  int64_t last_busy_ = -1, last_total_ = -1, last_self_ = -1;
  double last_cpu_load_ = 0;
  std::map<std::string, int64_t> thread_ticks_;  // per thread of ours: CPU ticks at the previous sample
  int64_t self_on_cores_ = 0;                     // our ticks attributed to options_.cores so far
  std::map<std::string, std::unique_ptr<LinkEstimator>> links_;
  std::map<std::string, std::function<Result<LinkConditions>()>> probes_;
  double last_contention_ = -1;                        // the last probe's reading (SampleQuick reuses them)
  std::map<std::string, LinkConditions> last_probed_;
};

}  // namespace deepx
