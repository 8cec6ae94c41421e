// Calibration: the measured fp32 GEMM peak and memory read bandwidth of a processor, cached on disk.
//
// `deepx profile` compares every layer with its roofline bound, max(flops / peak, bytes / bandwidth), and the
// planner will weigh processors by the same two numbers; `deepx devices` shows them. Datasheet peaks are
// meaningless on a shared or throttled device, so both are measured:
//   - GEMM peak: a single MatMul graph (square, weights constant so backends may pre-pack them) run through a
//     Session on the backend itself; the best of several runs. The size adapts to the backend's speed so a slow
//     backend (the reference one) still calibrates in about a second.
//   - read bandwidth: a multi-threaded streaming sum over a large buffer (256 MiB by default, far beyond any
//     cache), as many threads as the backend uses; the best of several passes.
// Results are cached as JSON keyed by backend name + thread count + CPU model, so calibration runs once per
// machine and configuration; `deepx devices --calibrate` re-measures.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "deepx/status.h"

namespace deepx {

struct CalibrationOptions {
  // Largest GEMM side measured (M = N = K). Smaller sizes are used when the backend is too slow to run this one
  // within `gemm_budget_s`.
  int gemm_max_size = 1024;
  // Seconds spent on timed GEMM runs (after one untimed run that prepares the session).
  double gemm_budget_s = 0.6;
  // Size of the buffer the bandwidth test streams through; must be far larger than the last-level cache.
  int64_t bandwidth_bytes = int64_t{256} << 20;
  // Seconds spent on timed bandwidth passes.
  double bandwidth_budget_s = 0.4;
};

struct Calibration {
  std::string backend;
  int threads = 1;        // the backend's resolved thread count
  std::string cpu_model;  // /proc/cpuinfo "model name"
  double gflops = 0;      // fp32 GEMM, GFLOP/s (a multiply-add counts 2)
  double gbps = 0;        // memory read bandwidth, GB/s (1e9 bytes)
  int gemm_size = 0;      // the GEMM side actually measured
  int64_t bandwidth_bytes = 0;
  std::string calibrated_at;  // UTC, ISO 8601 ("2024-05-01T12:00:00Z")
};

// Measures fp32 GEMM GFLOP/s on `backend` with `threads` (0: the backend's default). `size_used` (optional)
// receives the measured size.
Result<double> MeasureGemmGflops(const std::string& backend, int threads, const CalibrationOptions& options,
                                 int* size_used = nullptr);

// Measures memory read bandwidth (GB/s) with `threads` threads streaming through `options.bandwidth_bytes`.
Result<double> MeasureReadBandwidthGbps(int threads, const CalibrationOptions& options);

// Measures both for `backend` (threads 0: default) now, without the cache.
Result<Calibration> Calibrate(const std::string& backend, int threads, const CalibrationOptions& options = {});

// "" when the machine looks idle enough to calibrate; otherwise a warning naming the 1-minute load average and
// the core count (other processes competing for the cores make the measured peak an underestimate).
std::string BusyMachineWarning();

// The CPU's model name from /proc/cpuinfo, or "unknown-cpu".
std::string CpuModelName();

// $XDG_CACHE_HOME/deepx/calibration.json, else $HOME/.cache/deepx/calibration.json; "" when neither is set.
std::string DefaultCalibrationCachePath();

// The cache key: "<backend>|<threads>|<cpu model>".
std::string CalibrationKey(const std::string& backend, int threads, const std::string& cpu_model);

// Calibrations on disk. A missing file is an empty cache; a corrupt one is an error (callers may re-measure and
// overwrite it).
class CalibrationCache {
 public:
  static Result<CalibrationCache> Load(const std::string& path);
  // Writes atomically (temporary file + rename), creating parent directories.
  Status Save(const std::string& path) const;

  const Calibration* Find(const std::string& backend, int threads, const std::string& cpu_model) const;
  void Put(const Calibration& c);
  const std::map<std::string, Calibration>& entries() const { return entries_; }

 private:
  std::map<std::string, Calibration> entries_;  // by CalibrationKey
};

// The cached calibration of `backend` with `threads` (0: default) on this CPU, measuring and saving it when it
// is missing or `force` is set. `cache_path` "" uses DefaultCalibrationCachePath() (and no cache when that is
// empty too). A cache that cannot be written is not an error: the measurement is still returned. `measured`
// (optional) says whether it was measured now.
Result<Calibration> GetOrCalibrate(const std::string& backend, int threads, const std::string& cache_path, bool force,
                                   const CalibrationOptions& options = {}, bool* measured = nullptr);

}  // namespace deepx
