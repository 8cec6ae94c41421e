// `deepx devices`: every processor DeepX can use now, with its memory, threads and calibrated fp32 GEMM peak and
// memory read bandwidth (measured once, then read from the calibration cache).
#include <unistd.h>

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

Status Devices(const DevicesArgs& args) {
  CalibrationOptions options;
  if (args.gemm_size > 0) options.gemm_max_size = args.gemm_size;
  if (args.buffer_mb > 0) options.bandwidth_bytes = int64_t{args.buffer_mb} << 20;
  const std::string cache_path = args.cache.empty() ? DefaultCalibrationCachePath() : args.cache;
  CalibrationCache cache;
  if (args.cached_only && !cache_path.empty()) {
    auto loaded = CalibrationCache::Load(cache_path);
    if (!loaded.ok()) return loaded.status();
    cache = std::move(loaded).value();
  }

  // Calibration takes seconds: say so on a terminal, and erase the note afterwards.
  const bool tty = isatty(STDERR_FILENO) == 1;
  std::string busy;  // a warning when a measurement ran on a busy machine
  json processors = json::array();
  std::ostringstream text;
  text << std::left << std::setw(12) << "name" << std::setw(6) << "kind" << std::right << std::setw(10) << "memory_MB"
       << std::setw(9) << "threads" << std::setw(10) << "GFLOP/s" << std::setw(8) << "GB/s"
       << "  calibrated\n";
  for (const std::string& name : AvailableBackends()) {
    DX_ASSIGN_OR_RETURN(std::shared_ptr<Backend> backend, CreateBackend(name, args.threads));
    const ProcessorInfo& info = backend->info();
    int64_t memory = info.memory_bytes;
    if (memory == 0 && info.kind == "cpu") memory = HostMemoryBytes();
    json p = {{"name", info.name}, {"kind", info.kind}, {"memory_mb", memory / (1 << 20)}, {"threads", info.threads},
              {"gflops", nullptr}, {"gbps", nullptr},   {"calibrated_at", nullptr}};
    const Calibration* c = nullptr;
    Calibration measured_now;
    bool measured = false;
    if (args.cached_only) {
      c = cache.Find(name, info.threads, CpuModelName());
    } else {
      if (tty) std::cerr << "\r\033[Kdeepx devices: calibrating '" << name << "' (unless cached)..." << std::flush;
      auto got = GetOrCalibrate(name, args.threads, cache_path, args.calibrate, options, &measured);
      if (!got.ok()) return got.status().WithContext("calibrating '" + name + "'");
      if (measured) busy = BusyMachineWarning();
      measured_now = std::move(got).value();
      c = &measured_now;
    }
    if (c != nullptr) {
      p["gflops"] = c->gflops;
      p["gbps"] = c->gbps;
      p["calibrated_at"] = c->calibrated_at;
      p["cpu_model"] = c->cpu_model;
      p["gemm_size"] = c->gemm_size;
      p["measured_now"] = measured;
    }
    processors.push_back(p);
    text << std::left << std::setw(12) << info.name << std::setw(6) << info.kind << std::right << std::setw(10)
         << memory / (1 << 20) << std::setw(9) << info.threads << std::fixed << std::setprecision(1);
    if (c != nullptr) {
      text << std::setw(10) << c->gflops << std::setw(8) << c->gbps << "  " << c->calibrated_at
           << (measured ? " (now)" : " (cached)") << "\n";
    } else {
      text << std::setw(10) << "-" << std::setw(8) << "-"
           << "  never\n";
    }
  }
  if (tty) std::cerr << "\r\033[K" << std::flush;
  if (!busy.empty()) std::cerr << "deepx devices: warning: " << busy << "\n";
  if (args.json) {
    std::cout << json{{"processors", processors}, {"cpu_model", CpuModelName()}, {"cache", cache_path}}.dump(2) << "\n";
  } else {
    std::cout << "CPU: " << CpuModelName() << "\n" << text.str();
    if (!cache_path.empty()) std::cout << "calibration cache: " << cache_path << "\n";
  }
  return Status::Ok();
}

}  // namespace

void AddDevicesCommand(CLI::App& app) {
  auto args = std::make_shared<DevicesArgs>();
  auto* cmd = app.add_subcommand("devices", "List the processors DeepX can use, with calibrated GFLOP/s and GB/s");
  cmd->footer(
      "GFLOP/s is the best fp32 GEMM rate measured through the backend itself; GB/s the memory read bandwidth of a\n"
      "multi-threaded streaming sum. Both are measured on first use and cached (keyed by backend, threads and CPU\n"
      "model) in $XDG_CACHE_HOME/deepx/calibration.json or ~/.cache/deepx/calibration.json.\n"
      "Exit codes: 0 success, 1 error, 2 usage error.");
  cmd->add_flag("--json", args->json, "Print one JSON object instead of a table");
  cmd->add_flag("--calibrate", args->calibrate, "Measure again even when the cache has results");
  cmd->add_flag("--cached-only", args->cached_only, "Never measure: show only cached results")->excludes("--calibrate");
  cmd->add_option("--cache", args->cache, "Calibration cache file")->type_name("FILE");
  cmd->add_option("--threads", args->threads, "Threads per backend (0: backend default)")->check(CLI::Range(0, 4096));
  cmd->add_option("--calibration-gemm-size", args->gemm_size, "Largest GEMM side measured (default 1024)")
      ->check(CLI::Range(1, 8192));
  cmd->add_option("--calibration-buffer-mb", args->buffer_mb, "Bandwidth test buffer in MiB (default 256)")
      ->check(CLI::Range(1, 1 << 16));
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
