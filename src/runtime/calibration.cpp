#include "runtime/calibration.h"

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <thread>
#include <vector>

#include "ops/op.h"
#include "passes/shape_inference.h"
#include "plan/plan.h"
#include "runtime/processors.h"

namespace deepx {
namespace {

using Clock = std::chrono::steady_clock;
using json = nlohmann::json;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// Smallest GEMM used to estimate a backend's speed before choosing the measured size.
constexpr int kProbeSize = 256;
// A measured GEMM should take about this long per run: long enough to hide timer and dispatch overhead, short
// enough to repeat within the budget.
constexpr double kTargetRunSeconds = 0.15;
// A timed batch on a device (runs, then one read-back as the sync point) lasts at least this long, so launch
// overhead and the clock's resolution vanish in it.
constexpr double kTargetBatchSeconds = 0.02;
constexpr int kMaxBatches = 10;
constexpr int kMaxBandwidthPasses = 10;
constexpr int kMaxTransferReps = 5;

// ---- Graphs built by code: one node over float values, shapes inferred (no file, no passes). ----

ValueId AddFloatValue(Graph& g, const std::string& name, const Shape& shape, Tensor constant = {}) {
  Value v;
  v.name = name;
  v.dtype = DataType::kFloat32;
  v.shape = shape;
  v.has_shape = true;
  v.constant = std::move(constant);
  return g.AddValue(v);
}

// Built piecewise: GCC 12 warns falsely (-Wrestrict) about "literal" + std::string.
std::string IndexedName(const char* prefix, size_t i) {
  std::string name(prefix);
  name += std::to_string(i);
  return name;
}

Result<std::shared_ptr<const Graph>> OneNodeGraph(const std::string& op, const std::vector<Shape>& inputs,
                                                  const std::vector<Tensor>& constants) {
  Graph g;
  g.name = "calibration_" + op;
  g.opset = 13;
  Node n;
  n.name = "calibration_" + op;
  n.op_type = op;
  n.opset = g.opset;
  for (size_t i = 0; i < inputs.size(); ++i) {
    n.inputs.push_back(AddFloatValue(g, IndexedName("in", i), inputs[i]));
    g.inputs.push_back(n.inputs.back());
  }
  for (size_t i = 0; i < constants.size(); ++i)
    n.inputs.push_back(AddFloatValue(g, IndexedName("w", i), constants[i].shape(), constants[i]));
  Value out;
  out.name = "out";
  n.outputs.push_back(g.AddValue(out));
  g.outputs = n.outputs;
  g.nodes.push_back(std::move(n));
  DX_RETURN_IF_ERROR(g.TopologicalSort());
  InferOptions options;
  options.fold_constants = false;
  DX_RETURN_IF_ERROR(InferShapes(g, OpRegistry::Default(), options));
  return std::shared_ptr<const Graph>(std::make_shared<Graph>(std::move(g)));
}

// Deterministic values in [-scale, scale): outputs stay O(1), so no denormals or infinities slow any kernel down.
Tensor FilledTensor(const Shape& shape, float scale) {
  Tensor t = Tensor::Zeros(DataType::kFloat32, shape);
  float* p = t.data<float>();
  for (int64_t i = 0; i < t.num_elements(); ++i) p[i] = (static_cast<float>(i % 17) / 8.5f - 1.0f) * scale;
  return t;
}

// A graph prepared on a backend, its inputs resident there, run once (lazy compilation, first touch).
struct Prepared {
  std::shared_ptr<const Graph> graph;
  std::unique_ptr<Executable> exe;
  std::vector<Tensor> inputs;  // on the backend
  std::vector<Tensor> outputs;
};

Result<Prepared> PrepareOn(Backend& b, std::shared_ptr<const Graph> graph, const std::vector<Tensor>& host_inputs) {
  for (const Node& n : graph->nodes) {
    Status s = b.Supports(*graph, n);
    if (!s.ok()) return s.WithContext(b.info().name + " cannot run " + n.op_type);
  }
  Prepared p;
  p.graph = std::move(graph);
  const Plan plan = SingleBackendPlan(*p.graph);
  DX_ASSIGN_OR_RETURN(p.exe, b.Prepare(p.graph, plan.blocks.at(0)));
  for (const Tensor& t : host_inputs) {
    DX_ASSIGN_OR_RETURN(Tensor d, b.ToDevice(t));
    p.inputs.push_back(std::move(d));
  }
  DX_RETURN_IF_ERROR(p.exe->Run(p.inputs, p.outputs));
  if (p.outputs.empty()) return Internal(b.info().name + ": calibration graph produced no output");
  DX_RETURN_IF_ERROR(b.ToHost(p.outputs[0]).status());
  return p;
}

// Seconds to read `t` back to the host from an idle backend: the cost of the sync point ending each batch.
Result<double> ReadBackSeconds(Backend& b, const Tensor& t) {
  double best = std::numeric_limits<double>::infinity();
  for (int i = 0; i < 3; ++i) {
    const auto t0 = Clock::now();
    DX_RETURN_IF_ERROR(b.ToHost(t).status());
    best = std::min(best, Seconds(Clock::now() - t0));
  }
  return best;
}

// Seconds per run of a batch of `batch` runs ended by reading the output back, the read-back (`sync_s`) excluded.
Result<double> TimeBatch(Backend& b, Prepared& p, int batch, double sync_s) {
  const auto t0 = Clock::now();
  for (int i = 0; i < batch; ++i) DX_RETURN_IF_ERROR(p.exe->Run(p.inputs, p.outputs));
  DX_RETURN_IF_ERROR(b.ToHost(p.outputs[0]).status());
  return std::max(Seconds(Clock::now() - t0) - sync_s, 1e-9) / batch;
}

// The best seconds per run within `budget_s`. Host backends run synchronously and are timed run by run; device
// backends in batches of at least kTargetBatchSeconds.
Result<double> BestRunSeconds(Backend& b, Prepared& p, double budget_s, bool host) {
  double sync_s = 0;
  if (!host) {
    DX_ASSIGN_OR_RETURN(sync_s, ReadBackSeconds(b, p.outputs[0]));
  }
  DX_ASSIGN_OR_RETURN(double best, TimeBatch(b, p, 1, sync_s));
  const int batch = host ? 1 : static_cast<int>(std::clamp(kTargetBatchSeconds / best, 1.0, 10000.0));
  const auto start = Clock::now();
  for (int i = 0; i < kMaxBatches && Seconds(Clock::now() - start) < budget_s; ++i) {
    DX_ASSIGN_OR_RETURN(double s, TimeBatch(b, p, batch, sync_s));
    best = std::min(best, s);
  }
  return best;
}

// Whether a backend computes on host memory: its ToDevice hands back the host tensor itself. Its kind does not
// tell: an OpenCL CPU device (PoCL) is kind "cpu" but keeps its own buffers.
bool UsesHostMemory(Backend& b) {
  const Tensor probe = Tensor::Zeros(DataType::kFloat32, {16});
  auto d = b.ToDevice(probe);
  return d.ok() && d->is_host() && d->raw_data() == probe.raw_data();
}

double GemmFlops(int n) { return 2.0 * n * static_cast<double>(n) * n; }

Result<Prepared> PrepareGemm(Backend& b, int n) {
  // Y = X[n, n] x W[n, n] with W a constant: the path of a model's fully-connected layer (Prepare packs W).
  const Tensor w = FilledTensor({n, n}, 1.0f / static_cast<float>(n));
  DX_ASSIGN_OR_RETURN(auto graph, OneNodeGraph("MatMul", {{n, n}}, {w}));
  return PrepareOn(b, std::move(graph), {FilledTensor({n, n}, 0.5f)});
}

struct GemmTiming {
  int n = 0;
  double run_s = 0;  // best seconds per run
};

// Probes with a small GEMM to learn the backend's speed, then sizes the measured GEMM to about kTargetRunSeconds
// per run: the optimised backend reaches the full size, the reference one stays small.
Result<GemmTiming> TimeGemm(Backend& b, const CalibrationOptions& options) {
  const bool host = UsesHostMemory(b);
  const int max_n =
      host || options.device_gemm_max_size <= 0 ? options.gemm_max_size : options.device_gemm_max_size;
  if (max_n < 1) return InvalidArgument("GEMM calibration size must be positive");
  GemmTiming t;
  t.n = std::min(kProbeSize, max_n);
  {
    DX_ASSIGN_OR_RETURN(Prepared probe, PrepareGemm(b, t.n));
    double sync_s = 0;
    if (!host) {
      DX_ASSIGN_OR_RETURN(sync_s, ReadBackSeconds(b, probe.outputs[0]));
    }
    DX_ASSIGN_OR_RETURN(t.run_s, TimeBatch(b, probe, 1, sync_s));
    if (max_n > t.n) {
      const double rate = GemmFlops(t.n) / t.run_s;
      const int chosen = std::min(max_n, static_cast<int>(std::cbrt(rate * kTargetRunSeconds / 2.0)) / 64 * 64);
      if (chosen <= t.n) {
        DX_ASSIGN_OR_RETURN(t.run_s, BestRunSeconds(b, probe, options.gemm_budget_s, host));
        return t;
      }
      t.n = chosen;
    } else {
      DX_ASSIGN_OR_RETURN(t.run_s, BestRunSeconds(b, probe, options.gemm_budget_s, host));
      return t;
    }
  }  // the probe's memory is released before the measured GEMM allocates
  DX_ASSIGN_OR_RETURN(Prepared gemm, PrepareGemm(b, t.n));
  DX_ASSIGN_OR_RETURN(t.run_s, BestRunSeconds(b, gemm, options.gemm_budget_s, host));
  return t;
}

std::string UtcNow() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// The name a processor's calibration is stored under: a remote is one per server.
std::string CalibrationName(const std::string& name, const BackendConfig& config) {
  return name == "remote" ? "remote:" + config.remote_url : name;
}

void AddNote(Calibration& c, const std::string& note) { c.notes += (c.notes.empty() ? "" : "; ") + note; }

// A line through two (bytes, seconds) points: seconds = latency + bytes / bandwidth. False when the larger
// transfer was not slower (no bandwidth can be read from the points).
bool FitLine(double small_bytes, double small_s, double large_bytes, double large_s, double* gbps, double* latency_us) {
  if (!(large_s > small_s) || !(large_bytes > small_bytes)) return false;
  const double bytes_per_s = (large_bytes - small_bytes) / (large_s - small_s);
  *gbps = bytes_per_s / 1e9;
  *latency_us = std::max(0.0, small_s - small_bytes / bytes_per_s) * 1e6;
  return true;
}

// Minimum seconds of `op` over up to kMaxTransferReps repetitions (at least 2) within `budget_s`.
template <typename Op>
Result<double> MinSeconds(double budget_s, Op&& op) {
  double best = std::numeric_limits<double>::infinity();
  const auto start = Clock::now();
  for (int i = 0; i < kMaxTransferReps; ++i) {
    const auto t0 = Clock::now();
    DX_RETURN_IF_ERROR(op());
    best = std::min(best, Seconds(Clock::now() - t0));
    if (i >= 1 && Seconds(Clock::now() - start) >= budget_s) break;
  }
  return best;
}

Tensor FloatsOfBytes(int64_t bytes) {
  return FilledTensor({std::max<int64_t>(1, bytes / static_cast<int64_t>(sizeof(float)))}, 1.0f);
}

// Remote processors: every run is a request, so the network is measured with requests of a Relu model (the
// server's compute for it is negligible) and subtracted from the GEMM's requests.
Status CalibrateRemote(Backend& b, const CalibrationOptions& options, Calibration& c) {
  c.host_memory = false;
  const double budget = options.transfer_budget_s / 3;
  auto time_relu = [&](int64_t bytes) -> Result<double> {
    const Tensor x = FloatsOfBytes(bytes);
    DX_ASSIGN_OR_RETURN(auto graph, OneNodeGraph("Relu", {x.shape()}, {}));
    DX_ASSIGN_OR_RETURN(Prepared p, PrepareOn(b, std::move(graph), {x}));
    return MinSeconds(budget, [&] { return p.exe->Run(p.inputs, p.outputs); });
  };
  const int64_t small = FloatsOfBytes(options.small_transfer_bytes).num_elements() * 4;
  DX_ASSIGN_OR_RETURN(double small_s, time_relu(small));
  c.rtt_ms = small_s * 1e3;
  // The large payload: 1 MiB first, then scaled so a request takes about 0.1 s on a slow network.
  int64_t large = std::min<int64_t>(options.large_transfer_bytes, int64_t{1} << 20);
  DX_ASSIGN_OR_RETURN(double large_s, time_relu(large));
  if (large_s - small_s < 0.1 && large < options.large_transfer_bytes) {
    const double scale = 0.1 / std::max(large_s - small_s, 1e-4);
    large = std::min<int64_t>(options.large_transfer_bytes, static_cast<int64_t>(static_cast<double>(large) * scale));
    DX_ASSIGN_OR_RETURN(large_s, time_relu(large));
  }
  double gbps = 0, latency_us = 0;
  // A request carries the payload both ways: 2 x bytes per request.
  if (FitLine(2.0 * static_cast<double>(small), small_s, 2.0 * static_cast<double>(large), large_s, &gbps,
              &latency_us)) {
    c.to_device_gbps = c.to_host_gbps = gbps;
    c.to_device_latency_us = c.to_host_latency_us = c.rtt_ms * 1e3 / 2;
    AddNote(c, "remote: upload and download measured together (Relu requests of " + std::to_string(small) +
                   " and " + std::to_string(large) + " bytes); latency is half the round trip");
  } else {
    AddNote(c, "remote: network bandwidth not measurable (a larger request was not slower)");
  }
  DX_ASSIGN_OR_RETURN(GemmTiming g, TimeGemm(b, options));
  c.gemm_size = g.n;
  const double transfer_s = c.rtt_ms / 1e3 + (gbps > 0 ? 8.0 * g.n * static_cast<double>(g.n) / (gbps * 1e9) : 0);
  const double compute_s = g.run_s - transfer_s;
  if (compute_s > 0.2 * g.run_s) {
    c.gflops = GemmFlops(g.n) / compute_s / 1e9;
  } else {
    c.gflops = GemmFlops(g.n) / g.run_s / 1e9;
    AddNote(c, "remote: GEMM requests are dominated by the network; gflops is a lower bound (request time)");
  }
  AddNote(c, "remote: memory bandwidth of the server is not separable from the network transfer");
  return Status::Ok();
}

json ToJson(const Calibration& c) {
  return {{"backend", c.backend},
          {"threads", c.threads},
          {"cpu_model", c.cpu_model},
          {"kind", c.kind},
          {"gflops", c.gflops},
          {"gbps", c.gbps},
          {"bandwidth_method", c.bandwidth_method},
          {"gemm_size", c.gemm_size},
          {"bandwidth_bytes", c.bandwidth_bytes},
          {"host_memory", c.host_memory},
          {"to_device_gbps", c.to_device_gbps},
          {"to_host_gbps", c.to_host_gbps},
          {"to_device_latency_us", c.to_device_latency_us},
          {"to_host_latency_us", c.to_host_latency_us},
          {"rtt_ms", c.rtt_ms},
          {"notes", c.notes},
          {"calibrated_at", c.calibrated_at}};
}

Result<Calibration> FromJson(const json& j) {
  if (!j.is_object()) return InvalidArgument("calibration entry is not an object");
  auto need = [&](const char* key, bool (json::*is)() const noexcept) -> Status {
    if (!j.contains(key) || !(j[key].*is)())
      return InvalidArgument(std::string("calibration entry lacks a valid \"") + key + "\"");
    return Status::Ok();
  };
  DX_RETURN_IF_ERROR(need("backend", &json::is_string));
  DX_RETURN_IF_ERROR(need("threads", &json::is_number_integer));
  DX_RETURN_IF_ERROR(need("cpu_model", &json::is_string));
  DX_RETURN_IF_ERROR(need("gflops", &json::is_number));
  DX_RETURN_IF_ERROR(need("gbps", &json::is_number));
  Calibration c;
  c.backend = j["backend"].get<std::string>();
  c.threads = j["threads"].get<int>();
  c.cpu_model = j["cpu_model"].get<std::string>();
  c.gflops = j["gflops"].get<double>();
  c.gbps = j["gbps"].get<double>();
  // gbps may be 0 (not measurable, e.g. a remote server's); a GEMM rate is always measured.
  if (!(c.gflops > 0) || !(c.gbps >= 0) || !std::isfinite(c.gflops) || !std::isfinite(c.gbps))
    return InvalidArgument("calibration entry has non-positive gflops or negative gbps");
  auto get_string = [&](const char* key, std::string& out) {
    if (j.contains(key) && j[key].is_string()) out = j[key].get<std::string>();
  };
  auto get_number = [&](const char* key, double& out) {
    if (j.contains(key) && j[key].is_number() && std::isfinite(j[key].get<double>()) && j[key].get<double>() >= 0)
      out = j[key].get<double>();
  };
  if (j.contains("gemm_size") && j["gemm_size"].is_number_integer()) c.gemm_size = j["gemm_size"].get<int>();
  if (j.contains("bandwidth_bytes") && j["bandwidth_bytes"].is_number_integer())
    c.bandwidth_bytes = j["bandwidth_bytes"].get<int64_t>();
  get_string("kind", c.kind);
  get_string("bandwidth_method", c.bandwidth_method);
  get_string("notes", c.notes);
  get_string("calibrated_at", c.calibrated_at);
  if (j.contains("host_memory") && j["host_memory"].is_boolean()) c.host_memory = j["host_memory"].get<bool>();
  get_number("to_device_gbps", c.to_device_gbps);
  get_number("to_host_gbps", c.to_host_gbps);
  get_number("to_device_latency_us", c.to_device_latency_us);
  get_number("to_host_latency_us", c.to_host_latency_us);
  get_number("rtt_ms", c.rtt_ms);
  return c;
}

}  // namespace

Result<double> MeasureGemmGflops(Backend& backend, const CalibrationOptions& options, int* size_used) {
  DX_ASSIGN_OR_RETURN(GemmTiming t, TimeGemm(backend, options));
  if (size_used) *size_used = t.n;
  return GemmFlops(t.n) / t.run_s / 1e9;
}

Result<double> MeasureGemmGflops(const std::string& backend, int threads, const CalibrationOptions& options,
                                 int* size_used) {
  if (options.gemm_max_size < 1) return InvalidArgument("GEMM calibration size must be positive");
  DX_ASSIGN_OR_RETURN(std::shared_ptr<Backend> b, CreateBackend(backend, threads));
  return MeasureGemmGflops(*b, options, size_used);
}

Result<double> MeasureReadBandwidthGbps(int threads, const CalibrationOptions& options, const std::vector<int>& cores) {
  threads = std::max(1, threads);
  const size_t words = static_cast<size_t>(std::max<int64_t>(options.bandwidth_bytes, 4096)) / sizeof(uint64_t);
  std::unique_ptr<uint64_t[]> buffer(new (std::nothrow) uint64_t[words]);
  if (!buffer) return ResourceExhausted("cannot allocate the bandwidth test buffer");
  const size_t chunk = (words + static_cast<size_t>(threads) - 1) / static_cast<size_t>(threads);
  // Thread t runs on cores[t % size] (a little-core processor streams from its own cores); the calling thread's
  // mask is restored afterwards.
  cpu_set_t caller_mask;
  const bool restore = !cores.empty() && sched_getaffinity(0, sizeof(caller_mask), &caller_mask) == 0;
  auto pin = [&](size_t t) {
    if (cores.empty()) return;
    cpu_set_t m;
    CPU_ZERO(&m);
    CPU_SET(cores[t % cores.size()], &m);
    (void)sched_setaffinity(0, sizeof(m), &m);  // best effort: an unpinned measurement is still a measurement
  };
  // Each thread sums its own contiguous slice; integer sums vectorise without reassociation concerns.
  auto for_each_slice = [&](auto&& body) {
    auto pinned = [&](size_t t) {
      pin(t);
      body(t);
    };
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; ++t) pool.emplace_back(pinned, static_cast<size_t>(t));
    pinned(size_t{0});
    for (std::thread& th : pool) th.join();
  };
  // First touch by the threads that will read, so pages land near them on NUMA machines.
  for_each_slice([&](size_t t) {
    const size_t lo = std::min(words, t * chunk), hi = std::min(words, lo + chunk);
    for (size_t i = lo; i < hi; ++i) buffer[i] = i * 0x9E3779B97F4A7C15ull;
  });
  std::vector<uint64_t> sums(static_cast<size_t>(threads) * 8);  // 64 bytes apart: no false sharing
  double best = 0;
  const auto start = Clock::now();
  for (int pass = 0; pass < kMaxBandwidthPasses; ++pass) {
    const auto t0 = Clock::now();
    for_each_slice([&](size_t t) {
      const size_t lo = std::min(words, t * chunk), hi = std::min(words, lo + chunk);
      const uint64_t* p = buffer.get();
      uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      size_t i = lo;
      for (; i + 4 <= hi; i += 4) {
        s0 += p[i];
        s1 += p[i + 1];
        s2 += p[i + 2];
        s3 += p[i + 3];
      }
      for (; i < hi; ++i) s0 += p[i];
      sums[t * 8] = s0 + s1 + s2 + s3;
    });
    const double s = Seconds(Clock::now() - t0);
    best = std::max(best, static_cast<double>(words * sizeof(uint64_t)) / std::max(s, 1e-9));
    if (Seconds(Clock::now() - start) >= options.bandwidth_budget_s && pass >= 1) break;
  }
  if (restore) (void)sched_setaffinity(0, sizeof(caller_mask), &caller_mask);
  // Use the sums so the compiler cannot drop the reads.
  static volatile uint64_t sink;
  uint64_t total = 0;
  for (uint64_t v : sums) total += v;
  sink = total;
  (void)sink;
  return best / 1e9;
}

Result<double> MeasureDeviceBandwidthGbps(Backend& backend, const CalibrationOptions& options) {
  const bool host = UsesHostMemory(backend);
  // [rows, 1024] operands: a shape every elementwise kernel handles, however it tiles.
  auto prepare_add = [&](int64_t bytes) -> Result<Prepared> {
    const Tensor a = FilledTensor({std::max<int64_t>(1, bytes / (1024 * 4)), 1024}, 1.0f);
    DX_ASSIGN_OR_RETURN(auto graph, OneNodeGraph("Add", {a.shape(), a.shape()}, {}));
    return PrepareOn(backend, std::move(graph), {a, a});
  };
  auto moved_bytes = [](const Prepared& p) { return 3.0 * static_cast<double>(p.inputs[0].num_elements()) * 4; };
  // Probe with 1 MiB operands, then size the measured Add to about kTargetRunSeconds / 3 per run: a slow device
  // (PoCL under load) stays within the budget, a fast one gets the full size.
  const int64_t probe_bytes = std::min<int64_t>(options.device_bandwidth_bytes, int64_t{1} << 20);
  std::optional<Prepared> p;
  int64_t chosen = probe_bytes;
  {
    DX_ASSIGN_OR_RETURN(Prepared probe, prepare_add(probe_bytes));
    double sync_s = 0;
    if (!host) {
      DX_ASSIGN_OR_RETURN(sync_s, ReadBackSeconds(backend, probe.outputs[0]));
    }
    DX_ASSIGN_OR_RETURN(double probe_s, TimeBatch(backend, probe, 1, sync_s));
    const double wanted = moved_bytes(probe) / probe_s * (kTargetRunSeconds / 3) / 3;
    chosen = std::min<int64_t>(options.device_bandwidth_bytes, static_cast<int64_t>(wanted) / (1 << 20) * (1 << 20));
    if (chosen <= 2 * probe_bytes) p = std::move(probe);
  }
  if (!p) {
    // Sized from the probe; the probe's buffers are released first.
    DX_ASSIGN_OR_RETURN(Prepared measured, prepare_add(chosen));
    p = std::move(measured);
  }
  DX_ASSIGN_OR_RETURN(double run_s, BestRunSeconds(backend, *p, options.bandwidth_budget_s, host));
  return moved_bytes(*p) / run_s / 1e9;  // read A, read B, write C
}

Status MeasureTransfers(Backend& backend, const CalibrationOptions& options, Calibration& c) {
  const Tensor small = FloatsOfBytes(options.small_transfer_bytes);
  int64_t large_bytes = std::max(options.large_transfer_bytes, 2 * options.small_transfer_bytes);
  DX_ASSIGN_OR_RETURN(Tensor small_dev, backend.ToDevice(small));
  // A backend whose ToDevice hands back the host tensor itself computes on host memory: transfers are free.
  if (small_dev.is_host() && small_dev.raw_data() == small.raw_data()) {
    c.host_memory = true;
    c.to_device_gbps = c.to_host_gbps = c.to_device_latency_us = c.to_host_latency_us = 0;
    return Status::Ok();
  }
  c.host_memory = false;
  const double budget = options.transfer_budget_s / 4;
  // Size the large tensor from a 1 MiB read-back so one transfer takes about 25 ms: a slow link stays within the
  // budget, a fast one (PCIe) gets the full size.
  const int64_t probe_bytes = std::min<int64_t>(large_bytes, int64_t{1} << 20);
  if (probe_bytes < large_bytes) {
    const Tensor probe = FloatsOfBytes(probe_bytes);
    DX_ASSIGN_OR_RETURN(Tensor probe_dev, backend.ToDevice(probe));
    DX_RETURN_IF_ERROR(backend.ToHost(probe_dev).status());  // the write has finished
    const auto t0 = Clock::now();
    DX_RETURN_IF_ERROR(backend.ToHost(probe_dev).status());
    const double wanted = static_cast<double>(probe_bytes) / std::max(Seconds(Clock::now() - t0), 1e-9) * 0.025;
    large_bytes = std::clamp<int64_t>(static_cast<int64_t>(wanted), probe_bytes, large_bytes);
  }
  const Tensor large = FloatsOfBytes(large_bytes);
  DX_ASSIGN_OR_RETURN(Tensor large_dev, backend.ToDevice(large));
  // ToHost returns host data, so it is complete when it returns. ToDevice may only enqueue the copy: it is timed
  // together with reading the result back, and the read-back time is subtracted.
  auto to_host = [&](const Tensor& d) { return [&] { return backend.ToHost(d).status(); }; };
  auto round_trip = [&](const Tensor& h) {
    return [&] {
      DX_ASSIGN_OR_RETURN(Tensor d, backend.ToDevice(h));
      return backend.ToHost(d).status();
    };
  };
  DX_ASSIGN_OR_RETURN(double host_small, MinSeconds(budget, to_host(small_dev)));
  DX_ASSIGN_OR_RETURN(double host_large, MinSeconds(budget, to_host(large_dev)));
  DX_ASSIGN_OR_RETURN(double trip_small, MinSeconds(budget, round_trip(small)));
  DX_ASSIGN_OR_RETURN(double trip_large, MinSeconds(budget, round_trip(large)));
  const double sb = static_cast<double>(small.num_elements()) * 4, lb = static_cast<double>(large.num_elements()) * 4;
  if (!FitLine(sb, host_small, lb, host_large, &c.to_host_gbps, &c.to_host_latency_us))
    AddNote(c, "device->host bandwidth not measurable (the large read was not slower)");
  if (!FitLine(sb, std::max(trip_small - host_small, 0.0), lb, std::max(trip_large - host_large, 0.0),
               &c.to_device_gbps, &c.to_device_latency_us))
    AddNote(c, "host->device bandwidth not measurable (the large write was not slower)");
  return Status::Ok();
}

Result<Calibration> CalibrateBackend(Backend& backend, const std::string& name, const CalibrationOptions& options) {
  const ProcessorInfo& info = backend.info();
  Calibration c;
  c.backend = name;
  c.threads = std::max(1, info.threads);
  c.cpu_model = CpuModelName();
  c.kind = info.kind;
  if (info.kind == "remote") {
    DX_RETURN_IF_ERROR(CalibrateRemote(backend, options, c).WithContext("calibrating '" + name + "'"));
    c.calibrated_at = UtcNow();
    return c;
  }
  {
    auto gflops = MeasureGemmGflops(backend, options, &c.gemm_size);
    if (!gflops.ok()) return gflops.status().WithContext("calibrating '" + name + "' (GEMM)");
    c.gflops = *gflops;
  }
  if (UsesHostMemory(backend)) {
    // CPU backends read host memory: stream it with their threads on their cores.
    std::vector<int> cores;
    if (auto split = SplitCpu(HostCpuTopology(), info.name); split.ok()) cores = split->cores;
    DX_ASSIGN_OR_RETURN(c.gbps, MeasureReadBandwidthGbps(c.threads, options, cores));
    c.bandwidth_method = "host-read";
    c.bandwidth_bytes = options.bandwidth_bytes;
    c.host_memory = true;
  } else {
    auto gbps = MeasureDeviceBandwidthGbps(backend, options);
    if (gbps.ok()) {
      c.gbps = *gbps;
      c.bandwidth_method = "device-add";
      c.bandwidth_bytes = options.device_bandwidth_bytes;
    } else {
      AddNote(c, "memory bandwidth not measured: " + gbps.status().ToString());
    }
    Status s = MeasureTransfers(backend, options, c);
    if (!s.ok()) AddNote(c, "transfers not measured: " + s.ToString());
  }
  c.calibrated_at = UtcNow();
  return c;
}

Result<Calibration> Calibrate(const std::string& name, const BackendConfig& config, const CalibrationOptions& options) {
  DX_ASSIGN_OR_RETURN(std::shared_ptr<Backend> backend, CreateBackend(name, config));
  return CalibrateBackend(*backend, CalibrationName(name, config), options);
}

Result<Calibration> Calibrate(const std::string& backend, int threads, const CalibrationOptions& options) {
  BackendConfig config;
  config.num_threads = threads;
  return Calibrate(backend, config, options);
}

std::string BusyMachineWarning() {
  std::ifstream in("/proc/loadavg");
  double load = 0;
  if (!(in >> load)) return "";
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  // The calibrating process itself counts about one; more than the cores means others are competing.
  if (load <= static_cast<double>(cores)) return "";
  std::ostringstream msg;
  msg << "the machine is busy (load average " << load << " on " << cores
      << " cores): calibrated numbers may be too low; re-run with --calibrate when it is idle";
  return msg.str();
}

std::string CpuModelName() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    // x86 says "model name", some ARM kernels "Processor" or "Hardware".
    for (const char* key : {"model name", "Processor", "Hardware"}) {
      if (line.compare(0, std::strlen(key), key) != 0) continue;
      const size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      const size_t begin = line.find_first_not_of(" \t", colon + 1);
      if (begin == std::string::npos) continue;
      const size_t end = line.find_last_not_of(" \t\r");
      return line.substr(begin, end - begin + 1);
    }
  }
  return "unknown-cpu";
}

std::string DefaultCalibrationCachePath() {
  namespace fs = std::filesystem;
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  // The XDG spec says relative paths are invalid and must be ignored.
  if (xdg != nullptr && xdg[0] == '/') return (fs::path(xdg) / "deepx" / "calibration.json").string();
  const char* home = std::getenv("HOME");
  if (home != nullptr && home[0] != '\0') return (fs::path(home) / ".cache" / "deepx" / "calibration.json").string();
  return "";
}

std::string CalibrationKey(const std::string& backend, int threads, const std::string& cpu_model) {
  return backend + "|" + std::to_string(threads) + "|" + cpu_model;
}

Result<CalibrationCache> CalibrationCache::Load(const std::string& path) {
  CalibrationCache cache;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return cache;
  std::ifstream in(path);
  if (!in) return IoError("cannot read calibration cache '" + path + "'");
  std::stringstream text;
  text << in.rdbuf();
  const json doc = json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("entries") || !doc["entries"].is_array())
    return InvalidArgument("calibration cache '" + path + "' is not a DeepX calibration file");
  for (const json& e : doc["entries"]) {
    auto c = FromJson(e);
    if (!c.ok()) return c.status().WithContext("calibration cache '" + path + "'");
    cache.Put(*c);
  }
  return cache;
}

Status CalibrationCache::Save(const std::string& path) const {
  namespace fs = std::filesystem;
  json doc = {{"version", 1}, {"entries", json::array()}};
  for (const auto& [key, c] : entries_) doc["entries"].push_back(ToJson(c));
  std::error_code ec;
  const fs::path parent = fs::path(path).parent_path();
  if (!parent.empty()) fs::create_directories(parent, ec);
  if (ec) return IoError("cannot create directory '" + parent.string() + "': " + ec.message());
  const std::string tmp = path + ".tmp." + std::to_string(getpid());
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << doc.dump(2) << "\n";
    if (!out) return IoError("cannot write calibration cache '" + tmp + "'");
  }
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    return IoError("cannot write calibration cache '" + path + "'");
  }
  return Status::Ok();
}

const Calibration* CalibrationCache::Find(const std::string& backend, int threads, const std::string& cpu_model) const {
  auto it = entries_.find(CalibrationKey(backend, threads, cpu_model));
  return it == entries_.end() ? nullptr : &it->second;
}

void CalibrationCache::Put(const Calibration& c) { entries_[CalibrationKey(c.backend, c.threads, c.cpu_model)] = c; }

Result<Calibration> GetOrCalibrate(const std::string& name, const BackendConfig& config, const std::string& cache_path,
                                   bool force, const CalibrationOptions& options, bool* measured) {
  const std::string path = cache_path.empty() ? DefaultCalibrationCachePath() : cache_path;
  int resolved = 1;
  {
    DX_ASSIGN_OR_RETURN(std::shared_ptr<Backend> b, CreateBackend(name, config));
    resolved = std::max(1, b->info().threads);
  }
  const std::string key_name = CalibrationName(name, config);
  const std::string cpu = CpuModelName();
  CalibrationCache cache;
  if (!path.empty()) {
    auto loaded = CalibrationCache::Load(path);
    // A corrupt cache is re-measured and overwritten rather than failing every command that needs it.
    if (loaded.ok()) cache = std::move(loaded).value();
  }
  if (!force) {
    if (const Calibration* c = cache.Find(key_name, resolved, cpu)) {
      if (measured) *measured = false;
      return *c;
    }
  }
  DX_ASSIGN_OR_RETURN(Calibration c, Calibrate(name, config, options));
  if (measured) *measured = true;
  if (!path.empty()) {
    cache.Put(c);
    (void)cache.Save(path);  // best effort: a read-only home directory must not stop profiling
  }
  return c;
}

Result<Calibration> GetOrCalibrate(const std::string& backend, int threads, const std::string& cache_path, bool force,
                                   const CalibrationOptions& options, bool* measured) {
  BackendConfig config;
  config.num_threads = threads;
  return GetOrCalibrate(backend, config, cache_path, force, options, measured);
}

}  // namespace deepx
