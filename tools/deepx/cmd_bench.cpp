// `deepx bench MODEL`: load time, session creation, first run, then warm-up and timed runs: latency percentiles,
// throughput and peak resident memory, as text or one JSON object (read by bench/compare.py).
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <iomanip>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "commands.h"
#include "deepx/deepx.hpp"
#include "input_feeds.h"
#include "runtime/backend.h"
#include "runtime/resource_usage.h"

namespace deepx::cli {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

struct BenchArgs : ModelRunArgs {
  int warmup = 3;
  int iterations = 20;
  bool json = false;
  bool progress = false;
};

double Milliseconds(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

constexpr double kBytesPerMb = 1024.0 * 1024.0;  // "MB" in DeepX's memory reports is MiB, as /proc counts it

// A progress line on stderr for runs long enough to make a user wonder: shown after the first second, redrawn
// in place on a terminal (at most 4 times a second) or printed once a second when forced onto a pipe/file.
class Progress {
 public:
  explicit Progress(bool forced) : tty_(isatty(STDERR_FILENO) == 1), enabled_(forced || tty_) {}

  void Update(const std::string& phase, int done, int total, double last_ms) {
    if (!enabled_) return;
    const auto now = Clock::now();
    if (now - start_ < std::chrono::seconds(1)) return;
    if (now - last_ < (tty_ ? std::chrono::milliseconds(250) : std::chrono::milliseconds(1000))) return;
    last_ = now;
    std::ostringstream line;
    line << "deepx bench: " << phase << " " << done << "/" << total << "  last " << std::fixed << std::setprecision(2)
         << last_ms << " ms";
    if (tty_) {
      std::cerr << "\r\033[K" << line.str() << std::flush;
      drawn_ = true;
    } else {
      std::cerr << line.str() << "\n";
    }
  }

  void Finish() {
    if (drawn_) std::cerr << "\r\033[K" << std::flush;
    drawn_ = false;
  }

 private:
  bool tty_;
  bool enabled_;
  bool drawn_ = false;
  Clock::time_point start_ = Clock::now();
  Clock::time_point last_{};
};

json ShapeJson(const Shape& s) { return json(std::vector<int64_t>(s.begin(), s.end())); }

Status Bench(const BenchArgs& args) {
  const std::string backend = SessionOptionsFor(args).backend;

  auto t0 = Clock::now();
  DX_ASSIGN_OR_RETURN(std::shared_ptr<const Model> model, LoadModelForRun(args));
  const double load_ms = Milliseconds(Clock::now() - t0);

  SessionOptions options = SessionOptionsFor(args);
  t0 = Clock::now();
  DX_ASSIGN_OR_RETURN(std::unique_ptr<Session> session, Session::Create(model, options));
  const double session_ms = Milliseconds(Clock::now() - t0);

  DX_ASSIGN_OR_RETURN(std::vector<Feed> feeds, LoadFeeds(*model, args.inputs, args.input_shapes, args.seed));
  const auto named = NamedFeeds(feeds);

  // The first run specialises the graph and prepares the backend's executables (weight packing): reported apart,
  // it is what a one-shot user waits for.
  t0 = Clock::now();
  DX_RETURN_IF_ERROR_CTX(session->Run(named).status(), "first run");
  const double first_run_ms = Milliseconds(Clock::now() - t0);

  Progress progress(args.progress);
  for (int i = 0; i < args.warmup; ++i) {
    t0 = Clock::now();
    DX_RETURN_IF_ERROR_CTX(session->Run(named).status(), "warm-up run " + std::to_string(i + 1));
    progress.Update("warm-up", i + 1, args.warmup, Milliseconds(Clock::now() - t0));
  }
  std::vector<double> samples;
  samples.reserve(static_cast<size_t>(args.iterations));
  const auto timed_start = Clock::now();
  for (int i = 0; i < args.iterations; ++i) {
    t0 = Clock::now();
    DX_RETURN_IF_ERROR_CTX(session->Run(named).status(), "timed run " + std::to_string(i + 1));
    samples.push_back(Milliseconds(Clock::now() - t0));
    progress.Update("run", i + 1, args.iterations, samples.back());
  }
  const double timed_s = std::chrono::duration<double>(Clock::now() - timed_start).count();
  progress.Finish();

  // Memory is read before anything else is created, so it is the model's and the session's alone.
  DX_ASSIGN_OR_RETURN(int64_t peak_rss, PeakResidentBytes());
  const SessionMemory memory = session->memory();
  DX_ASSIGN_OR_RETURN(int64_t current_rss, CurrentResidentBytes());
  DX_ASSIGN_OR_RETURN(LatencyStats stats, ComputeLatencyStats(samples));
  const double throughput = static_cast<double>(args.iterations) / std::max(timed_s, 1e-12);

  // The session does not expose its backend; a second instance tells the resolved thread count.
  int threads = args.threads;
  if (auto b = CreateBackend(backend, args.threads); b.ok()) threads = (*b)->info().threads;

  if (args.json) {
    json doc;
    doc["model"] = args.model;
    doc["backend"] = backend;
    doc["threads"] = threads;
    doc["warmup"] = args.warmup;
    doc["iterations"] = args.iterations;
    doc["inputs"] = json::array();
    for (const Feed& f : feeds)
      doc["inputs"].push_back({{"name", f.name},
                               {"dtype", DataTypeName(f.tensor.dtype())},
                               {"shape", ShapeJson(f.tensor.shape())},
                               {"source", f.source}});
    doc["load_ms"] = load_ms;
    doc["session_ms"] = session_ms;
    doc["first_run_ms"] = first_run_ms;
    doc["latency_ms"] = {{"min", stats.min}, {"mean", stats.mean}, {"p50", stats.p50},
                         {"p90", stats.p90}, {"p99", stats.p99},   {"max", stats.max}};
    doc["samples_ms"] = samples;
    doc["throughput_ips"] = throughput;
    doc["peak_rss_mb"] = static_cast<double>(peak_rss) / kBytesPerMb;
    doc["current_rss_mb"] = static_cast<double>(current_rss) / kBytesPerMb;
    doc["activation_mb"] = static_cast<double>(memory.activation_bytes) / kBytesPerMb;
    doc["prepared_mb"] = static_cast<double>(memory.resident_bytes) / kBytesPerMb;
    std::cout << doc.dump(2) << "\n";
    return Status::Ok();
  }
  std::ostringstream out;
  out << std::fixed << std::setprecision(3);
  out << "model: " << args.model << "\n"
      << "backend: " << backend << " (" << threads << (threads == 1 ? " thread" : " threads") << ")\n";
  for (const Feed& f : feeds)
    out << "input: " << f.name << " " << DataTypeName(f.tensor.dtype()) << " " << ShapeToString(f.tensor.shape()) << " "
        << (f.source == "random" ? "random (seed " + std::to_string(args.seed) + ")" : f.source) << "\n";
  out << "load: " << load_ms << " ms   session: " << session_ms << " ms   first run: " << first_run_ms << " ms\n"
      << "latency (ms, " << args.iterations << " runs after " << args.warmup << " warm-up):\n"
      << "  min " << stats.min << "   mean " << stats.mean << "   p50 " << stats.p50 << "   p90 " << stats.p90
      << "   p99 " << stats.p99 << "   max " << stats.max << "\n"
      << std::setprecision(1) << "throughput: " << throughput << " inferences/s\n"
      << "peak RSS: " << static_cast<double>(peak_rss) / kBytesPerMb << " MiB   (now "
      << static_cast<double>(current_rss) / kBytesPerMb << " MiB)\n"
      << "activations: " << static_cast<double>(memory.activation_bytes) / kBytesPerMb
      << " MiB peak (arena + scratch; 0 = not reported by the backend)   prepared: "
      << static_cast<double>(memory.resident_bytes) / kBytesPerMb << " MiB\n";
  std::cout << out.str();
  return Status::Ok();
}

}  // namespace

void AddBenchCommand(CLI::App& app) {
  auto args = std::make_shared<BenchArgs>();
  auto* cmd = app.add_subcommand("bench", "Measure load time, latency percentiles, throughput and peak memory");
  cmd->footer(
      "Runs the model once (timed apart: it prepares the session), then --warmup untimed and --iterations timed\n"
      "runs one after another. Inputs not given with --input are random (floats uniform in [0, 1) from --seed);\n"
      "dynamic dimensions are 1 unless --input-shape sets them. Memory is the peak resident set (VmHWM) in MiB.\n"
      "Exit codes: 0 success, 1 model/input/runtime error, 2 usage error.");
  AddModelRunOptions(cmd, args.get());
  cmd->add_option("--warmup", args->warmup, "Untimed runs before timing")
      ->check(CLI::Range(0, 1000000))
      ->capture_default_str();
  cmd->add_option("--iterations", args->iterations, "Timed runs")
      ->check(CLI::Range(1, 10000000))
      ->capture_default_str();
  cmd->add_flag("--json", args->json, "Print one JSON object instead of text");
  cmd->add_flag("--progress", args->progress, "Show the progress line even when stderr is not a terminal");
  cmd->callback([args] {
    Status s = Bench(*args);
    if (!s.ok()) {
      std::cerr << "deepx bench: error: " << s.ToString() << "\n";
      SetExitCode(1);
      return;
    }
    SetExitCode(0);
  });
}

}  // namespace deepx::cli
