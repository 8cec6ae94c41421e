// `deepx devices`: every processor DeepX can use on this machine — CPU (all cores, big and little), OpenCL and CUDA
// devices, a configured remote — with memory, threads, calibrated fp32 GEMM peak and memory bandwidth, and the cost
// of moving tensors between it and the host (measured once, then read from the calibration cache). A processor
// that cannot be created or calibrated is listed with the reason; it never stops the command.
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "commands.h"
#include "runtime/backend.h"
#include "runtime/calibration.h"
#include "runtime/processors.h"

namespace deepx::cli {
namespace {

using json = nlohmann::json;

struct DevicesArgs {
  bool json = false;
  bool calibrate = false;    // re-measure even when cached
  bool cached_only = false;  // never measure; show what the cache has
  std::string cache;         // "" = default path
  int threads = 0;
  int gemm_size = 0;  // 0 = CalibrationOptions default
  int buffer_mb = 0;  // 0 = default
  std::string remote_url;
  std::string token_file;
};

// MemTotal from /proc/meminfo in bytes (0 if unreadable): what a host-memory processor can use at most.
int64_t HostMemoryBytes() {
  std::ifstream in("/proc/meminfo");
  std::string key, unit;
  int64_t kb = 0;
  while (in >> key >> kb >> unit)
    if (key == "MemTotal:") return kb * 1024;
  return 0;
}

// Device families this build knows but found nothing of, with the reason (listed so "no GPU" is visible).
std::vector<std::pair<std::string, std::string>> MissingFamilies(const std::vector<std::string>& names) {
  [[maybe_unused]] auto has = [&](const std::string& prefix) {
    for (const std::string& n : names)
      if (n.rfind(prefix, 0) == 0) return true;
    return false;
  };
  std::vector<std::pair<std::string, std::string>> missing;
#ifdef DEEPX_HAVE_OPENCL_BACKEND
  if (!has("opencl")) missing.emplace_back("opencl", "no OpenCL platform or device found");
#else
  missing.emplace_back("opencl", "not built into this binary (DEEPX_WITH_OPENCL; needs the OpenCL ICD loader and CLBlast)");
#endif
#ifdef DEEPX_HAVE_CUDA_BACKEND
  if (!has("cuda")) missing.emplace_back("cuda", "no CUDA driver or GPU found");
#else
  missing.emplace_back("cuda", "not built into this binary (DEEPX_WITH_CUDA; needs nvcc)");
#endif
  return missing;
}

std::string Fixed(double v, int precision) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(precision) << v;
  return s.str();
}

Status Devices(const DevicesArgs& args) {
  CalibrationOptions options;
  if (args.gemm_size > 0) options.gemm_max_size = options.device_gemm_max_size = args.gemm_size;
  if (args.buffer_mb > 0) {
    options.bandwidth_bytes = options.device_bandwidth_bytes = options.large_transfer_bytes =
        int64_t{args.buffer_mb} << 20;
  }
  const std::string cache_path = args.cache.empty() ? DefaultCalibrationCachePath() : args.cache;
  CalibrationCache cache;
  if (args.cached_only && !cache_path.empty()) {
    auto loaded = CalibrationCache::Load(cache_path);
    if (!loaded.ok()) return loaded.status();
    cache = std::move(loaded).value();
  }
  BackendConfig config;
  config.num_threads = args.threads;
  config.remote_url = args.remote_url;
  config.token_file = args.token_file;

  std::vector<std::string> names = ProcessorNames();
  if (!args.remote_url.empty()) names.push_back("remote");

  // Calibration takes seconds per processor: say so on a terminal, and erase the note afterwards.
  const bool tty = isatty(STDERR_FILENO) == 1;
  std::string busy;  // a warning when a measurement ran on a busy machine
  json processors = json::array();
  std::ostringstream table, notes;
  // Remote names ("remote:host:port") are long: the name column fits the longest.
  int name_width = 12;
  for (const std::string& n : names) name_width = std::max<int>(name_width, static_cast<int>(n.size()) + 2);
  if (!args.remote_url.empty())
    name_width = std::max<int>(name_width, static_cast<int>(args.remote_url.size()) + 4);
  table << std::left << std::setw(name_width) << "name" << std::setw(7) << "kind" << std::right << std::setw(10)
        << "memory_MB" << std::setw(8) << "threads" << std::setw(9) << "GFLOP/s" << std::setw(8) << "GB/s"
        << std::setw(12) << "to_dev_GB/s" << std::setw(13) << "to_host_GB/s" << std::setw(12) << "latency_us"
        << "  calibrated\n";
  for (const std::string& requested : names) {
    const ProcessorDescription d = DescribeProcessor(requested, config);
    int64_t memory = d.memory_bytes;
    if (memory == 0 && d.kind == "cpu") memory = HostMemoryBytes();
    json p = {{"name", d.name},
              {"kind", d.kind.empty() ? json(nullptr) : json(d.kind)},
              {"memory_mb", d.error.empty() ? json(memory / (1 << 20)) : json(nullptr)},
              {"threads", d.error.empty() ? json(d.threads) : json(nullptr)},
              {"cores", d.cores},
              {"emulated", d.emulated},
              {"note", d.note},
              {"power_profile", d.power_profile.empty() ? json(nullptr) : json(d.power_profile)},
              {"gflops", nullptr},
              {"gbps", nullptr},
              {"to_device_gbps", nullptr},
              {"to_host_gbps", nullptr},
              {"transfer_latency_us", nullptr},
              {"calibrated_at", nullptr},
              {"measured_now", false}};
    std::string status, error = d.error;
    const Calibration* c = nullptr;
    Calibration got_now;
    bool measured = false;
    if (error.empty()) {
      if (args.cached_only) {
        c = cache.Find(requested == "remote" ? "remote:" + config.remote_url : requested, std::max(1, d.threads),
                       CpuModelName());
        if (c == nullptr) status = "not calibrated";
      } else {
        if (tty) std::cerr << "\r\033[Kdeepx devices: calibrating '" << d.name << "' (unless cached)..." << std::flush;
        auto got = GetOrCalibrate(requested, config, cache_path, args.calibrate, options, &measured);
        if (got.ok()) {
          if (measured) busy = BusyMachineWarning();
          got_now = std::move(got).value();
          c = &got_now;
        } else {
          error = "calibration failed: " + got.status().ToString();
        }
      }
    }
    if (c != nullptr) {
      status = measured ? "measured" : "cached";
      p["gflops"] = c->gflops;
      p["gbps"] = c->gbps > 0 ? json(c->gbps) : json(nullptr);
      p["bandwidth_method"] = c->bandwidth_method;
      p["host_memory"] = c->host_memory;
      // Host-memory processors move nothing: latency 0, bandwidth null (unbounded).
      p["to_device_gbps"] = c->to_device_gbps > 0 ? json(c->to_device_gbps) : json(nullptr);
      p["to_host_gbps"] = c->to_host_gbps > 0 ? json(c->to_host_gbps) : json(nullptr);
      p["to_device_latency_us"] = c->to_device_latency_us;
      p["to_host_latency_us"] = c->to_host_latency_us;
      p["transfer_latency_us"] = (c->to_device_latency_us + c->to_host_latency_us) / 2;
      if (c->rtt_ms > 0) p["rtt_ms"] = c->rtt_ms;
      p["calibrated_at"] = c->calibrated_at;
      p["cpu_model"] = c->cpu_model;
      p["gemm_size"] = c->gemm_size;
      p["measured_now"] = measured;
      p["calibration_notes"] = c->notes;
    }
    if (!error.empty()) status = "unavailable";
    p["status"] = status;
    if (!error.empty()) p["error"] = error;
    processors.push_back(p);

    table << std::left << std::setw(name_width) << d.name << std::setw(7) << (d.kind.empty() ? "-" : d.kind) << std::right
          << std::setw(10) << (error.empty() && memory > 0 ? std::to_string(memory / (1 << 20)) : "-") << std::setw(8)
          << (error.empty() ? std::to_string(d.threads) : "-");
    auto num = [](double v, int precision) { return v > 0 ? Fixed(v, precision) : std::string("-"); };
    if (c != nullptr) {
      const bool free_moves = c->host_memory;
      table << std::setw(9) << num(c->gflops, 1) << std::setw(8) << num(c->gbps, 1) << std::setw(12)
            << (free_moves ? "host" : num(c->to_device_gbps, 2)) << std::setw(13)
            << (free_moves ? "host" : num(c->to_host_gbps, 2)) << std::setw(12)
            << (free_moves ? "0" : Fixed((c->to_device_latency_us + c->to_host_latency_us) / 2, 1)) << "  "
            << c->calibrated_at << (measured ? " (measured now)" : " (cached)") << "\n";
    } else {
      table << std::setw(9) << "-" << std::setw(8) << "-" << std::setw(12) << "-" << std::setw(13) << "-"
            << std::setw(12) << "-" << "  " << status << "\n";
    }
    if (!d.note.empty()) notes << "  " << d.name << ": " << d.note << "\n";
    if (!error.empty()) notes << "  " << d.name << ": " << error << "\n";
    if (c != nullptr && c->rtt_ms > 0) notes << "  " << d.name << ": round trip " << Fixed(c->rtt_ms, 3) << " ms\n";
    if (c != nullptr && !c->notes.empty()) notes << "  " << d.name << ": " << c->notes << "\n";
  }
  json unavailable = json::array();
  for (const auto& [family, reason] : MissingFamilies(names)) {
    unavailable.push_back({{"name", family}, {"reason", reason}});
    notes << "  " << family << ": " << reason << "\n";
  }
  if (tty) std::cerr << "\r\033[K" << std::flush;
  if (!busy.empty()) std::cerr << "deepx devices: warning: " << busy << "\n";
  if (args.json) {
    std::cout << json{{"processors", processors},
                      {"unavailable", unavailable},
                      {"cpu_model", CpuModelName()},
                      {"cache", cache_path}}
                     .dump(2)
              << "\n";
  } else {
    std::cout << "CPU: " << CpuModelName() << "\n" << table.str();
    if (!notes.str().empty()) std::cout << "notes:\n" << notes.str();
    if (!cache_path.empty()) std::cout << "calibration cache: " << cache_path << "\n";
  }
  return Status::Ok();
}

}  // namespace

void AddDevicesCommand(CLI::App& app) {
  auto args = std::make_shared<DevicesArgs>();
  auto* cmd = app.add_subcommand("devices", "List the processors DeepX can use, with calibrated speeds and transfer costs");
  cmd->footer(
      "GFLOP/s is the best fp32 GEMM rate measured through the backend itself. GB/s is the memory bandwidth: a\n"
      "multi-threaded streaming read on CPU processors, an Add of two resident tensors on devices (not measurable on\n"
      "a remote). to_dev/to_host GB/s and latency_us are host<->processor transfer costs fitted from a 4 KiB and a\n"
      "large tensor (remote: requests, up and down together); 'host' means the processor computes on host memory and\n"
      "transfers are free. cpu-big/cpu-little are the fast and slow core clusters; on a symmetric CPU they are an\n"
      "emulated split (all cores but the last / the last core), marked in the notes. Numbers are measured on first\n"
      "use and cached (keyed by processor, threads and CPU model) in $XDG_CACHE_HOME/deepx/calibration.json or\n"
      "~/.cache/deepx/calibration.json. A processor that fails is listed with the reason.\n"
      "Exit codes: 0 success, 1 error, 2 usage error.");
  cmd->add_flag("--json", args->json, "Print one JSON object instead of a table");
  cmd->add_flag("--calibrate", args->calibrate, "Measure again even when the cache has results");
  cmd->add_flag("--cached-only", args->cached_only, "Never measure: show only cached results")->excludes("--calibrate");
  cmd->add_option("--cache", args->cache, "Calibration cache file")->type_name("FILE");
  cmd->add_option("--threads", args->threads, "Threads per CPU processor (0: its default)")->check(CLI::Range(0, 4096));
  cmd->add_option("--calibration-gemm-size", args->gemm_size,
                  "Largest GEMM side measured (default 1024 on CPUs, 4096 on devices)")
      ->check(CLI::Range(1, 8192));
  cmd->add_option("--calibration-buffer-mb", args->buffer_mb,
                  "Bandwidth buffer and large transfer in MiB (default 256 host read, 64 device)")
      ->check(CLI::Range(1, 1 << 16));
  cmd->add_option("--remote", args->remote_url, "Also list a KServe v2 server (http://host:port) as a processor");
  cmd->add_option("--token-file", args->token_file, "File holding the remote server's bearer token");
  cmd->callback([args] {
    Status s = Devices(*args);
    if (!s.ok()) {
      std::cerr << "deepx devices: error: " << s.ToString() << "\n";
      SetExitCode(1);
      return;
    }
    SetExitCode(0);
  });
}

}  // namespace deepx::cli
