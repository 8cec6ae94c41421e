#include "runtime/monitor.h"

#include <pthread.h>
#include <sched.h>
#include <time.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace deepx {

// ---------------------------------------------------------------------------------------------------------------
// LinkEstimator

void LinkEstimator::Record(int64_t bytes, double seconds) {
  if (seconds <= 0 || bytes < 0) return;
  constexpr double kWeight = 0.25;
  constexpr int64_t kSmall = 4096;
  std::lock_guard<std::mutex> lock(mu_);
  // Fast attack, slow decay: a sample twice as bad as the estimate replaces it (a link that just dropped must be
  // planned around now); better samples blend in.
  auto blend = [&](double& field, double sample, bool worse_when_higher) {
    const bool much_worse = field >= 0 && (worse_when_higher ? sample > 2 * field : sample < field / 2);
    field = field < 0 || much_worse ? sample : (1 - kWeight) * field + kWeight * sample;
  };
  if (bytes < kSmall || link_.rtt_ms < 0) {
    blend(link_.rtt_ms, seconds * 1000, true);
    if (bytes < kSmall) return;
  }
  // The part of the time beyond one round trip moved the payload.
  const double payload_s = std::max(seconds - link_.rtt_ms / 1000, seconds * 0.05);
  blend(link_.bandwidth_mbps, static_cast<double>(bytes) * 8 / payload_s / 1e6, false);
}

LinkConditions LinkEstimator::Get() const {
  std::lock_guard<std::mutex> lock(mu_);
  return link_;
}

// ---------------------------------------------------------------------------------------------------------------
// BackgroundMonitor

BackgroundMonitor::BackgroundMonitor(std::shared_ptr<ResourceMonitor> inner, double interval_ms)
    : inner_(std::move(inner)) {
  latest_ = inner_->Sample();
  thread_ = std::thread([this, interval_ms] {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stop_) {
      cv_.wait_for(lock, std::chrono::microseconds(static_cast<int64_t>(interval_ms * 1000)),
                   [this] { return stop_ || wake_; });
      if (stop_) break;
      wake_ = false;
      lock.unlock();
      Result<Conditions> c = inner_->Sample();
      lock.lock();
      latest_ = std::move(c);
    }
  });
}

BackgroundMonitor::~BackgroundMonitor() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

Result<Conditions> BackgroundMonitor::Sample() {
  std::lock_guard<std::mutex> lock(mu_);
  return latest_;
}

void BackgroundMonitor::Refresh() {
  Result<Conditions> quick = inner_->SampleQuick();
  {
    std::lock_guard<std::mutex> lock(mu_);
    latest_ = std::move(quick);
    wake_ = true;
  }
  cv_.notify_all();
}

void BackgroundMonitor::SampleNow() {
  Result<Conditions> c = inner_->Sample();
  std::lock_guard<std::mutex> lock(mu_);
  latest_ = std::move(c);
}

// ---------------------------------------------------------------------------------------------------------------
// SystemMonitor

SystemMonitor::SystemMonitor(SystemMonitorOptions options) : options_(std::move(options)) {}

void SystemMonitor::RecordTransfer(const std::string& processor, int64_t bytes, double seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& link = links_[processor];
  if (!link) link = std::make_unique<LinkEstimator>();
  link->Record(bytes, seconds);
}

void SystemMonitor::AddLinkProbe(const std::string& processor, std::function<Result<LinkConditions>()> probe) {
  std::lock_guard<std::mutex> lock(mu_);
  probes_[processor] = std::move(probe);
}

// /proc/stat lines "cpu[N] user nice system idle iowait irq softirq steal guest guest_nice" (clock ticks). Busy is
// everything but idle and iowait; guest time is already inside user/nice. The load is the busy share of the time
// elapsed since the previous sample (the first sample reports the average since boot), over options_.cores (or the
// aggregate "cpu" line), less this process's own CPU time when exclude_self.
Status SystemMonitor::ReadCpu(Conditions& c) {
  const std::string path = options_.proc_root + "/stat";
  std::ifstream in(path);
  if (!in) return IoError("cannot open '" + path + "'");
  int64_t busy = 0, total = 0;
  int lines = 0;
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("cpu", 0) != 0) break;
    std::istringstream fields(line);
    std::string label;
    fields >> label;
    const bool aggregate = label == "cpu";
    bool wanted = options_.cores.empty() ? aggregate : false;
    if (!aggregate && !options_.cores.empty()) {
      const int id = std::atoi(label.c_str() + 3);
      wanted = std::find(options_.cores.begin(), options_.cores.end(), id) != options_.cores.end();
    }
    if (!wanted) continue;
    int64_t v[8] = {0};
    for (int64_t& x : v)
      if (!(fields >> x)) return IoError("malformed line '" + label + "' in '" + path + "'");
    int64_t t = 0;
    for (int64_t x : v) t += x;
    busy += t - v[3] - v[4];
    total += t;
    ++lines;
  }
  if (lines == 0) return IoError("'" + path + "' has no cpu line for the monitored cores");
  // Our own CPU time (ticks): the whole process, or with `cores` set the threads that last ran on those cores.
  int64_t self = 0;
  if (options_.exclude_self) {
    auto read_stat = [](const std::string& file, int64_t* ticks, int* processor) {
      // "pid (comm) state ...": utime, stime are fields 14 and 15, processor field 39; comm may hold spaces.
      std::ifstream st(file);
      std::string text;
      std::getline(st, text);
      const size_t close = text.rfind(')');
      if (close == std::string::npos || close + 2 > text.size()) return false;
      std::istringstream fields(text.substr(close + 2));
      std::string f;
      int64_t utime = 0, stime = 0;
      for (int i = 3; i <= 39 && fields >> f; ++i) {
        if (i == 14) utime = std::atoll(f.c_str());
        if (i == 15) stime = std::atoll(f.c_str());
        if (i == 39) *processor = std::atoi(f.c_str());
      }
      *ticks = utime + stime;
      return true;
    };
    if (options_.cores.empty()) {
      int processor = -1;
      read_stat(options_.proc_root + "/self/stat", &self, &processor);
    } else {
      // Each thread's time so far is attributed to the core it last ran on; threads pinned there (a plan's CPU
      // lanes) are attributed exactly. last_thread_ticks_ keeps the running per-core sum stable when threads move.
      namespace fs = std::filesystem;
      std::error_code ec;
      for (const auto& task : fs::directory_iterator(options_.proc_root + "/self/task", ec)) {
        int64_t ticks = 0;
        int processor = -1;
        if (!read_stat((task.path() / "stat").string(), &ticks, &processor)) continue;
        const std::string tid = task.path().filename().string();
        const int64_t delta = ticks - thread_ticks_[tid];
        thread_ticks_[tid] = ticks;
        if (std::find(options_.cores.begin(), options_.cores.end(), processor) != options_.cores.end())
          self_on_cores_ += delta;
      }
      self = self_on_cores_;
    }
  }
  int64_t d_busy = busy, d_total = total, d_self = self;
  if (last_total_ >= 0) {
    // Ticks are 10 ms per core: over fewer than kMinTicks the share is mostly rounding, and over none it is
    // undefined (falling back to the average since boot read 80 % on an idle VM). Keep the last value and let
    // the interval grow until it is long enough.
    constexpr int64_t kMinTicks = 10;
    if (total - last_total_ < kMinTicks) {
      c.cpu_load = last_cpu_load_;
      return Status::Ok();
    }
    d_busy = busy - last_busy_;
    d_total = total - last_total_;
    d_self = self - last_self_;
  }
  last_busy_ = busy;
  last_total_ = total;
  last_self_ = self;
  const double other = static_cast<double>(d_busy - d_self);
  c.cpu_load = d_total > 0 ? std::clamp(other / static_cast<double>(d_total), 0.0, 1.0) : 0;
  last_cpu_load_ = c.cpu_load;
  return Status::Ok();
}

Status SystemMonitor::ReadMemory(Conditions& c) {
  const std::string path = options_.proc_root + "/meminfo";
  std::ifstream in(path);
  if (!in) return IoError("cannot open '" + path + "'");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("MemAvailable:", 0) != 0) continue;
    std::istringstream fields(line.substr(13));
    int64_t kb = -1;
    if (!(fields >> kb) || kb < 0) return IoError("malformed MemAvailable line in '" + path + "'");
    c.mem_available_bytes = kb * 1024;
    return Status::Ok();
  }
  return IoError("'" + path + "' has no MemAvailable line");
}

// A battery ("type" Battery) reports "status" (Discharging/Charging/Full/...) and "capacity" (percent). On battery
// means some battery discharges and no mains supply ("type" Mains) is online. Machines without power supplies
// (servers, containers) report mains.
void SystemMonitor::ReadPower(Conditions& c) {
  namespace fs = std::filesystem;
  std::error_code ec;
  auto read = [](const fs::path& p) {
    std::ifstream in(p);
    std::string s;
    std::getline(in, s);
    return s;
  };
  bool discharging = false, mains_online = false;
  for (const auto& entry : fs::directory_iterator(options_.power_supply_dir, ec)) {
    const std::string type = read(entry.path() / "type");
    if (type == "Mains" || type == "USB") {
      mains_online |= read(entry.path() / "online") == "1";
    } else if (type == "Battery") {
      discharging |= read(entry.path() / "status") == "Discharging";
      const std::string capacity = read(entry.path() / "capacity");
      char* end = nullptr;
      const double pct = std::strtod(capacity.c_str(), &end);
      if (end != capacity.c_str()) c.battery_fraction = std::clamp(pct / 100.0, 0.0, 1.0);
    }
  }
  c.on_battery = discharging && !mains_online;
}

// Spins until this thread has had contention_probe_ms of CPU on cores[0]; the share of wall time it got is what a
// CPU-bound thread of ours gets there now.
void SystemMonitor::ProbeContention(Conditions& c) {
  if (options_.contention_probe_ms <= 0 || options_.cores.empty()) return;
  cpu_set_t old_mask, probe_mask;
  pthread_getaffinity_np(pthread_self(), sizeof(old_mask), &old_mask);
  CPU_ZERO(&probe_mask);
  CPU_SET(options_.cores[0], &probe_mask);
  if (pthread_setaffinity_np(pthread_self(), sizeof(probe_mask), &probe_mask) != 0) return;
  sched_yield();  // start on the probed core
  auto thread_ns = [] {
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
  };
  const int64_t want = static_cast<int64_t>(options_.contention_probe_ms * 1e6);
  const int64_t cpu0 = thread_ns(), wall0 = SteadyNowNs();
  volatile double x = 1;
  int64_t cpu = 0;
  while ((cpu = thread_ns() - cpu0) < want)
    for (int i = 0; i < 1000; ++i) x = x * 1.0000001 + 1e-9;
  const int64_t wall = SteadyNowNs() - wall0;
  pthread_setaffinity_np(pthread_self(), sizeof(old_mask), &old_mask);
  c.cpu_contention = wall > 0 ? std::clamp(1.0 - static_cast<double>(cpu) / static_cast<double>(wall), 0.0, 1.0) : 0;
}

Result<Conditions> SystemMonitor::Sample() { return Collect(true); }

Result<Conditions> SystemMonitor::SampleQuick() { return Collect(false); }

Result<Conditions> SystemMonitor::Collect(bool measure) {
  Conditions c;
  c.sampled_ns = SteadyNowNs();
  // The probe takes milliseconds on a loaded core: outside the lock, which RecordTransfer (called from inside
  // requests) also takes.
  if (measure) ProbeContention(c);
  std::lock_guard<std::mutex> lock(mu_);
  if (measure && c.cpu_contention >= 0) last_contention_ = c.cpu_contention;
  if (!measure) c.cpu_contention = last_contention_;
  DX_RETURN_IF_ERROR(ReadCpu(c));
  DX_RETURN_IF_ERROR(ReadMemory(c));
  ReadPower(c);
  for (const auto& [name, link] : links_) c.links[name] = link->Get();
  for (const auto& [name, probe] : probes_) {
    if (!measure) {
      auto last = last_probed_.find(name);
      if (last != last_probed_.end()) c.links[name] = last->second;
      continue;
    }
    Result<LinkConditions> link = probe();
    // A probe that fails means the link is down: unknown RTT, zero bandwidth.
    c.links[name] = last_probed_[name] = link.ok() ? *link : LinkConditions{-1, 0};
  }
  if (options_.health) c.unhealthy = options_.health->Unhealthy();
  return c;
}

}  // namespace deepx
