#include "runtime/calibration.h"

#include <onnx/onnx_pb.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <thread>
#include <vector>

#include "deepx/deepx.hpp"
#include "runtime/backend.h"

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
constexpr int kMaxGemmRuns = 10;
constexpr int kMaxBandwidthPasses = 10;

// Y = X[n, n] x W[n, n] with W a constant, serialised as an ONNX model, so the GEMM takes the exact path a
// model's fully-connected layer takes (loader, passes, backend Prepare with weight packing).
std::string MatMulModelBytes(int n) {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.set_producer_name("deepx-calibration");
  auto* opset = m.add_opset_import();
  opset->set_domain("");
  opset->set_version(13);
  auto* g = m.mutable_graph();
  g->set_name("calibration_gemm");
  auto add_value_info = [](onnx::ValueInfoProto* v, const std::string& name, int n) {
    v->set_name(name);
    auto* tt = v->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(onnx::TensorProto::FLOAT);
    tt->mutable_shape()->add_dim()->set_dim_value(n);
    tt->mutable_shape()->add_dim()->set_dim_value(n);
  };
  add_value_info(g->add_input(), "X", n);
  add_value_info(g->add_output(), "Y", n);
  auto* w = g->add_initializer();
  w->set_name("W");
  w->set_data_type(onnx::TensorProto::FLOAT);
  w->add_dims(n);
  w->add_dims(n);
  // Small values in [-1/n, 1/n): outputs stay O(1), so no denormals or infinities slow any kernel down.
  std::vector<float> values(static_cast<size_t>(n) * static_cast<size_t>(n));
  std::mt19937 rng(1234);
  std::uniform_real_distribution<float> dist(-1.0f / static_cast<float>(n), 1.0f / static_cast<float>(n));
  for (float& v : values) v = dist(rng);
  w->set_raw_data(values.data(), values.size() * sizeof(float));
  auto* node = g->add_node();
  node->set_name("gemm");
  node->set_op_type("MatMul");
  node->add_input("X");
  node->add_input("W");
  node->add_output("Y");
  return m.SerializeAsString();
}

struct GemmRunner {
  std::unique_ptr<Session> session;
  std::vector<std::pair<std::string, Tensor>> inputs;
  int n = 0;
};

// Loads the n x n MatMul model into a session and runs it once untimed (specialisation, Prepare, first touch).
Result<GemmRunner> MakeGemmRunner(const std::string& backend, int threads, int n) {
  const std::string bytes = MatMulModelBytes(n);
  DX_ASSIGN_OR_RETURN(std::shared_ptr<const Model> model, Model::LoadFromBytes(bytes.data(), bytes.size()));
  SessionOptions options;
  options.backend = backend;
  options.num_threads = threads;
  GemmRunner r;
  r.n = n;
  DX_ASSIGN_OR_RETURN(r.session, Session::Create(model, options));
  Tensor x = Tensor::Zeros(DataType::kFloat32, {n, n});
  float* p = x.data<float>();
  for (int64_t i = 0; i < x.num_elements(); ++i) p[i] = static_cast<float>(i % 17) * 0.0625f - 0.5f;
  r.inputs.emplace_back("X", x);
  DX_RETURN_IF_ERROR(r.session->Run(r.inputs).status());
  return r;
}

// Seconds of one timed run.
Result<double> TimeGemm(GemmRunner& r) {
  const auto t0 = Clock::now();
  DX_RETURN_IF_ERROR(r.session->Run(r.inputs).status());
  return Seconds(Clock::now() - t0);
}

double GemmFlops(int n) { return 2.0 * n * static_cast<double>(n) * n; }

std::string UtcNow() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Result<int> ResolveThreads(const std::string& backend, int threads) {
  DX_ASSIGN_OR_RETURN(std::shared_ptr<Backend> b, CreateBackend(backend, threads));
  return std::max(1, b->info().threads);
}

json ToJson(const Calibration& c) {
  return {{"backend", c.backend},
          {"threads", c.threads},
          {"cpu_model", c.cpu_model},
          {"gflops", c.gflops},
          {"gbps", c.gbps},
          {"gemm_size", c.gemm_size},
          {"bandwidth_bytes", c.bandwidth_bytes},
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
  if (!(c.gflops > 0) || !(c.gbps > 0) || !std::isfinite(c.gflops) || !std::isfinite(c.gbps))
    return InvalidArgument("calibration entry has non-positive gflops or gbps");
  if (j.contains("gemm_size") && j["gemm_size"].is_number_integer()) c.gemm_size = j["gemm_size"].get<int>();
  if (j.contains("bandwidth_bytes") && j["bandwidth_bytes"].is_number_integer())
    c.bandwidth_bytes = j["bandwidth_bytes"].get<int64_t>();
  if (j.contains("calibrated_at") && j["calibrated_at"].is_string())
    c.calibrated_at = j["calibrated_at"].get<std::string>();
  return c;
}

}  // namespace

Result<double> MeasureGemmGflops(const std::string& backend, int threads, const CalibrationOptions& options,
                                 int* size_used) {
  if (options.gemm_max_size < 1) return InvalidArgument("GEMM calibration size must be positive");
  // Probe with a small GEMM to learn the backend's speed, then size the measured GEMM to about
  // kTargetRunSeconds per run: the optimised backend reaches the full size, the reference one stays small.
  const int probe_n = std::min(kProbeSize, options.gemm_max_size);
  DX_ASSIGN_OR_RETURN(GemmRunner probe, MakeGemmRunner(backend, threads, probe_n));
  DX_ASSIGN_OR_RETURN(double probe_s, TimeGemm(probe));
  double best = GemmFlops(probe_n) / std::max(probe_s, 1e-9);
  int n = probe_n;
  if (options.gemm_max_size > probe_n) {
    const double wanted = std::cbrt(best * kTargetRunSeconds / 2.0);
    int chosen = std::min(options.gemm_max_size, static_cast<int>(wanted) / 64 * 64);
    if (chosen > probe_n) {
      probe = GemmRunner();  // release the probe's memory first
      DX_ASSIGN_OR_RETURN(probe, MakeGemmRunner(backend, threads, chosen));
      n = chosen;
      best = 0;
    }
  }
  const auto start = Clock::now();
  for (int run = 0; run < kMaxGemmRuns; ++run) {
    DX_ASSIGN_OR_RETURN(double s, TimeGemm(probe));
    best = std::max(best, GemmFlops(n) / std::max(s, 1e-9));
    if (Seconds(Clock::now() - start) >= options.gemm_budget_s) break;
  }
  if (size_used) *size_used = n;
  return best / 1e9;
}

Result<double> MeasureReadBandwidthGbps(int threads, const CalibrationOptions& options) {
  threads = std::max(1, threads);
  const size_t words = static_cast<size_t>(std::max<int64_t>(options.bandwidth_bytes, 4096)) / sizeof(uint64_t);
  std::unique_ptr<uint64_t[]> buffer(new (std::nothrow) uint64_t[words]);
  if (!buffer) return ResourceExhausted("cannot allocate the bandwidth test buffer");
  const size_t chunk = (words + static_cast<size_t>(threads) - 1) / static_cast<size_t>(threads);
  // Each thread sums its own contiguous slice; integer sums vectorise without reassociation concerns.
  auto for_each_slice = [&](auto&& body) {
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; ++t) pool.emplace_back(body, static_cast<size_t>(t));
    body(size_t{0});
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
  // Use the sums so the compiler cannot drop the reads.
  static volatile uint64_t sink;
  uint64_t total = 0;
  for (uint64_t v : sums) total += v;
  sink = total;
  (void)sink;
  return best / 1e9;
}

Result<Calibration> Calibrate(const std::string& backend, int threads, const CalibrationOptions& options) {
  Calibration c;
  c.backend = backend;
  DX_ASSIGN_OR_RETURN(c.threads, ResolveThreads(backend, threads));
  c.cpu_model = CpuModelName();
  DX_ASSIGN_OR_RETURN(c.gflops, MeasureGemmGflops(backend, threads, options, &c.gemm_size));
  DX_ASSIGN_OR_RETURN(c.gbps, MeasureReadBandwidthGbps(c.threads, options));
  c.bandwidth_bytes = options.bandwidth_bytes;
  c.calibrated_at = UtcNow();
  return c;
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

Result<Calibration> GetOrCalibrate(const std::string& backend, int threads, const std::string& cache_path, bool force,
                                   const CalibrationOptions& options, bool* measured) {
  const std::string path = cache_path.empty() ? DefaultCalibrationCachePath() : cache_path;
  DX_ASSIGN_OR_RETURN(int resolved, ResolveThreads(backend, threads));
  const std::string cpu = CpuModelName();
  CalibrationCache cache;
  if (!path.empty()) {
    auto loaded = CalibrationCache::Load(path);
    // A corrupt cache is re-measured and overwritten rather than failing every command that needs it.
    if (loaded.ok()) cache = std::move(loaded).value();
  }
  if (!force) {
    if (const Calibration* c = cache.Find(backend, resolved, cpu)) {
      if (measured) *measured = false;
      return *c;
    }
  }
  DX_ASSIGN_OR_RETURN(Calibration c, Calibrate(backend, resolved, options));
  if (measured) *measured = true;
  if (!path.empty()) {
    cache.Put(c);
    (void)cache.Save(path);  // best effort: a read-only home directory must not stop profiling
  }
  return c;
}

}  // namespace deepx
