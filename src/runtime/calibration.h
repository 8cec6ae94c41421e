// Calibration: what a processor measurably does — fp32 GEMM peak, memory bandwidth, the cost of moving tensors
// between it and the host, and (remote) the round trip of a request — cached on disk.
//
// `deepx profile` compares every layer with its roofline bound, max(flops / peak, bytes / bandwidth), the planner
// weighs processors and transfers by these numbers, and `deepx devices` shows them. Datasheet peaks are
// meaningless on a shared or throttled device, so everything is measured through the Backend interface of the
// processor itself (any backend: cpu, cpu-big, cpu-little, reference, opencl:N, cuda:N, remote):
//   - GEMM peak: a single MatMul graph (square, weights constant so backends may pre-pack them) prepared on the
//     backend, its input moved to the device once; batches of runs ended by reading the output back (the sync
//     point of an asynchronous device), minus the measured cost of that read. The size adapts to the backend's
//     speed so a slow backend (the reference one, PoCL) still calibrates in about a second.
//   - memory bandwidth: on host-memory backends (ToDevice hands back the host tensor: the CPU ones) a streaming
//     sum over a large buffer (256 MiB by default, far beyond any cache) with as many threads as the backend,
//     pinned to its cores; on devices (an OpenCL CPU device included: it keeps its own buffers) an Add of two
//     large resident tensors (64 MiB each by default): 3 x bytes / time.
//   - transfers (devices only; free on host-memory backends): ToDevice and ToHost of a 4 KiB and a 64 MiB tensor;
//     a line through the two points gives the fixed latency and the bandwidth of each direction.
//   - remote: requests of a tiny and a large Relu model give the round-trip time and the network bandwidth (up and
//     down together); the GEMM time of a request minus its modelled transfer is the server's compute.
// Results are cached as JSON keyed by backend name + thread count + CPU model, so calibration runs once per
// machine and configuration; `deepx devices --calibrate` re-measures.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "deepx/status.h"
#include "runtime/backend.h"

namespace deepx {

struct CalibrationOptions {
  // Largest GEMM side measured (M = N = K) on host-memory backends. Smaller sizes are used when the backend is too
  // slow to run this one within `gemm_budget_s`.
  int gemm_max_size = 1024;
  // The same for devices and remotes, whose peak needs larger matrices to show (a GPU runs a 1024 GEMM in tens of
  // microseconds); 0: gemm_max_size.
  int device_gemm_max_size = 4096;
  // Seconds spent on timed GEMM runs (after one untimed run that prepares the session).
  double gemm_budget_s = 0.6;
  // Size of the buffer the bandwidth test streams through; must be far larger than the last-level cache.
  int64_t bandwidth_bytes = int64_t{256} << 20;
  // Seconds spent on timed bandwidth passes.
  double bandwidth_budget_s = 0.4;
  // Bytes of each operand of the device bandwidth Add (the output is as large again).
  int64_t device_bandwidth_bytes = int64_t{64} << 20;
  // The small and the large tensor of the transfer measurement (remote: the largest request payload; smaller when
  // the network is slow).
  int64_t small_transfer_bytes = 4096;
  int64_t large_transfer_bytes = int64_t{64} << 20;
  // Seconds spent on timed transfers (each size, each direction, gets a share).
  double transfer_budget_s = 0.4;
};

struct Calibration {
  std::string backend;    // the name calibrated ("remote": "remote:<url>", so each server has its own entry)
  int threads = 1;        // the backend's resolved thread count
  std::string cpu_model;  // /proc/cpuinfo "model name"
  std::string kind;       // ProcessorInfo::kind ("cpu", "gpu", "remote"; "" in caches written before it existed)
  double gflops = 0;      // fp32 GEMM, GFLOP/s (a multiply-add counts 2)
  double gbps = 0;        // memory bandwidth, GB/s (1e9 bytes); 0: not measured (see notes)
  std::string bandwidth_method;  // "host-read" (streaming sum) or "device-add" (3 x bytes of an Add per second)
  int gemm_size = 0;      // the GEMM side actually measured
  int64_t bandwidth_bytes = 0;
  // Transfers between the host and this processor. `host_memory`: it computes on host memory and moving a tensor
  // to or from it costs nothing (the four numbers below stay 0). Otherwise time(bytes) = latency + bytes / GB/s;
  // a 0 bandwidth means not measured (see notes).
  bool host_memory = true;
  double to_device_gbps = 0;
  double to_host_gbps = 0;
  double to_device_latency_us = 0;
  double to_host_latency_us = 0;
  double rtt_ms = 0;          // remote: round trip of a tiny request; 0 otherwise
  std::string notes;          // what was not measured, or measured with a caveat, and why; "" when nothing
  std::string calibrated_at;  // UTC, ISO 8601 ("2024-05-01T12:00:00Z")
};

// Measures fp32 GEMM GFLOP/s on `backend` with `threads` (0: the backend's default). `size_used` (optional)
// receives the measured size. (Host-memory backends; Calibrate() handles every kind.)
Result<double> MeasureGemmGflops(const std::string& backend, int threads, const CalibrationOptions& options,
                                 int* size_used = nullptr);
// The same on a backend instance: the GEMM time excludes moving the input in and reading the output back.
Result<double> MeasureGemmGflops(Backend& backend, const CalibrationOptions& options, int* size_used = nullptr);

// Measures memory read bandwidth (GB/s) with `threads` threads streaming through `options.bandwidth_bytes`;
// thread i runs on cores[i % size] when `cores` is not empty.
Result<double> MeasureReadBandwidthGbps(int threads, const CalibrationOptions& options,
                                        const std::vector<int>& cores = {});

// Device memory bandwidth (GB/s): an Add of two resident `options.device_bandwidth_bytes` tensors on `backend`.
Result<double> MeasureDeviceBandwidthGbps(Backend& backend, const CalibrationOptions& options);

// Host <-> device transfer costs of `backend`, fitted from a small and a large tensor each way. Fills the
// transfer fields of `c` (host_memory, to_*_gbps, to_*_latency_us) and appends to c.notes what failed.
Status MeasureTransfers(Backend& backend, const CalibrationOptions& options, Calibration& c);

// Measures everything that applies to processor `name` now, without the cache. Parts the processor cannot do
// (an op it does not support, a transfer it refuses) are left 0 and explained in notes; only a backend that
// cannot be created or cannot run the GEMM at all is an error.
Result<Calibration> Calibrate(const std::string& name, const BackendConfig& config,
                              const CalibrationOptions& options = {});
Result<Calibration> Calibrate(const std::string& backend, int threads, const CalibrationOptions& options = {});
// The same on a backend instance, stored under `name`. The path: kind "remote" (requests); a backend computing on
// host memory (streaming read, free transfers); anything else a device (an OpenCL CPU device included).
Result<Calibration> CalibrateBackend(Backend& backend, const std::string& name, const CalibrationOptions& options = {});

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
// The same for any processor, e.g. "remote" with its URL in `config` (config.num_threads plays `threads`).
Result<Calibration> GetOrCalibrate(const std::string& name, const BackendConfig& config, const std::string& cache_path,
                                   bool force, const CalibrationOptions& options = {}, bool* measured = nullptr);

}  // namespace deepx
