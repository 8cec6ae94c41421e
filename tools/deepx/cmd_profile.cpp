// `deepx profile MODEL`: per-layer median kernel time joined with each layer's FLOPs and bytes, the GFLOP/s and
// GB/s it achieves, and its distance to the roofline bound of this machine (calibrated GEMM peak and read
// bandwidth). `--trace` writes one run in Chrome trace event format for Perfetto / chrome://tracing.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "commands.h"
#include "deepx/deepx.hpp"
#include "input_feeds.h"
#include "runtime/backend.h"
#include "runtime/calibration.h"
#include "runtime/model_impl.h"
#include "runtime/resource_usage.h"

namespace deepx::cli {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

struct ProfileArgs : ModelRunArgs {
  int warmup = 2;
  int iterations = 10;
  std::string trace;
  bool json = false;
  std::string cache;       // calibration cache ("" = default)
  bool calibrate = false;  // re-measure the machine first
  int gemm_size = 0;       // calibration GEMM size (0 = default)
  int buffer_mb = 0;       // calibration buffer (0 = default)
};

// One row of the report: a node the backend timed, plus the nodes it ran fused with it (the backend reports a
// fused group once, under its first node).
struct Row {
  std::string name;
  std::vector<std::string> ops;    // first node's op, then the fused ones'
  std::vector<std::string> nodes;  // the group's node names
  std::vector<double> samples_ms;  // one per profiled run
  double time_ms = 0;              // median
  double flops = 0;
  double bytes = 0;
  bool has_cost = false;
};

double Median(const std::vector<double>& v) {
  auto p = Percentile(v, 50);
  return p.ok() ? *p : 0.0;
}

// Bytes of every value of `g` read by the `members` from outside the group, and of those they produce that are
// read outside it or are graph outputs: the minimum memory traffic of the fused group.
double GroupBytes(const Graph& g, const std::set<NodeId>& members) {
  std::set<ValueId> produced, read;
  for (NodeId n : members)
    for (ValueId v : g.node(n).outputs)
      if (v != kNoValue) produced.insert(v);
  double bytes = 0;
  auto size_of = [&](ValueId v) {
    const Value& value = g.value(v);
    return static_cast<double>(NumElements(value.shape)) * static_cast<double>(DataTypeSize(value.dtype));
  };
  for (NodeId n : members)
    for (ValueId v : g.node(n).inputs)
      if (v != kNoValue && !produced.count(v) && read.insert(v).second) bytes += size_of(v);
  const auto consumers = g.Consumers();
  for (ValueId v : produced) {
    bool escapes = g.IsGraphOutput(v);
    for (NodeId c : consumers[static_cast<size_t>(v)]) escapes |= !members.count(c);
    if (escapes) bytes += size_of(v);
  }
  return bytes;
}

// Groups the timed nodes with the untimed nodes that consume their results (fused into them by the backend) and
// attaches the model summary's FLOPs and bytes. Untimed nodes fed by no timed node did not run (folded).
std::vector<Row> BuildRows(const std::vector<LayerTiming>& first_run, const Graph* graph, const ModelSummary* summary) {
  std::vector<Row> rows;
  std::map<std::string, size_t> row_of;  // node name -> row
  for (const LayerTiming& t : first_run) {
    if (row_of.count(t.name)) continue;
    row_of[t.name] = rows.size();
    Row r;
    r.name = t.name;
    r.ops = {t.op_type};
    r.nodes = {t.name};
    rows.push_back(std::move(r));
  }
  std::map<std::string, const LayerInfo*> info;
  if (summary)
    for (const LayerInfo& l : summary->layers) info[l.name] = &l;

  std::vector<std::set<NodeId>> members(rows.size());
  if (graph) {
    const auto producers = graph->Producers();
    for (NodeId id = 0; id < static_cast<NodeId>(graph->nodes.size()); ++id) {
      const Node& n = graph->node(id);
      auto it = row_of.find(n.name);
      if (it != row_of.end()) {
        members[it->second].insert(id);
        continue;
      }
      // A node the backend did not time: fused into the group that produced one of its inputs.
      for (ValueId v : n.inputs) {
        if (v == kNoValue) continue;
        const NodeId p = producers[static_cast<size_t>(v)];
        if (p < 0) continue;
        auto owner = row_of.find(graph->node(p).name);
        if (owner == row_of.end()) continue;
        Row& r = rows[owner->second];
        r.ops.push_back(n.op_type);
        r.nodes.push_back(n.name);
        members[owner->second].insert(id);
        row_of[n.name] = owner->second;
        break;
      }
    }
  }
  for (size_t i = 0; i < rows.size(); ++i) {
    Row& r = rows[i];
    bool all_known = summary != nullptr;
    for (const std::string& name : r.nodes) {
      auto it = info.find(name);
      if (it == info.end()) {
        all_known = false;
        continue;
      }
      r.flops += it->second->flops;
      r.bytes += it->second->bytes_read + it->second->bytes_written;
    }
    r.has_cost = all_known;
    // A fused group keeps its intermediates in cache or registers: count only the traffic crossing its boundary.
    if (graph && r.nodes.size() > 1) r.bytes = GroupBytes(*graph, members[i]);
  }
  return rows;
}

json TraceJson(const std::vector<LayerTiming>& run, const std::map<std::string, const Row*>& row_by_node) {
  json events = json::array();
  std::map<std::string, int> tid_of;  // one track per processor
  for (const LayerTiming& t : run)
    if (!tid_of.count(t.processor)) tid_of[t.processor] = static_cast<int>(tid_of.size()) + 1;
  events.push_back({{"name", "process_name"}, {"ph", "M"}, {"pid", 1}, {"args", {{"name", "deepx"}}}});
  for (const auto& [processor, tid] : tid_of)
    events.push_back({{"name", "thread_name"}, {"ph", "M"}, {"pid", 1}, {"tid", tid}, {"args", {{"name", processor}}}});
  for (const LayerTiming& t : run) {
    json args = {{"op", t.op_type}, {"processor", t.processor}};
    auto it = row_by_node.find(t.name);
    if (it != row_by_node.end() && it->second->has_cost) {
      args["flops"] = it->second->flops;
      args["bytes"] = it->second->bytes;
      if (it->second->nodes.size() > 1) args["fused"] = it->second->nodes;
    }
    events.push_back({{"name", t.name},
                      {"cat", t.op_type},
                      {"ph", "X"},
                      {"ts", t.start_ms * 1000.0},
                      {"dur", t.duration_ms * 1000.0},
                      {"pid", 1},
                      {"tid", tid_of[t.processor]},
                      {"args", args}});
  }
  return {{"traceEvents", events}, {"displayTimeUnit", "ms"}};
}

std::string Shorten(const std::string& s, size_t width) {
  return s.size() <= width ? s : s.substr(0, width - 3) + "...";
}

std::string Join(const std::vector<std::string>& v, const char* sep) {
  std::string s;
  for (const std::string& x : v) s += (s.empty() ? "" : sep) + x;
  return s;
}

json Number(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

Status Profile(const ProfileArgs& args) {
  const std::string backend = SessionOptionsFor(args).backend;
  DX_ASSIGN_OR_RETURN(std::shared_ptr<const Model> model, LoadModelForRun(args));
  SessionOptions options = SessionOptionsFor(args);
  DX_ASSIGN_OR_RETURN(std::unique_ptr<Session> session, Session::Create(model, options));
  DX_ASSIGN_OR_RETURN(std::vector<Feed> feeds, LoadFeeds(*model, args.inputs, args.input_shapes, args.seed));
  const auto named = NamedFeeds(feeds);

  // Calibrate before running the model (measurement would otherwise compete with nothing, but its 256 MiB buffer
  // is better freed before the model's working set warms up).
  CalibrationOptions calibration_options;
  if (args.gemm_size > 0) calibration_options.gemm_max_size = args.gemm_size;
  if (args.buffer_mb > 0) calibration_options.bandwidth_bytes = int64_t{args.buffer_mb} << 20;
  bool measured = false;
  auto calibration = GetOrCalibrate(backend, args.threads, args.cache, args.calibrate, calibration_options, &measured);
  if (!calibration.ok())
    std::cerr << "deepx profile: warning: no roofline (calibration failed: " << calibration.status().ToString()
              << ")\n";
  if (calibration.ok() && measured) {
    if (!args.json)
      std::cerr << "deepx profile: calibrated '" << backend << "': " << std::fixed << std::setprecision(1)
                << calibration->gflops << " GFLOP/s, " << calibration->gbps << " GB/s (cached for next time)\n";
    if (std::string busy = BusyMachineWarning(); !busy.empty()) std::cerr << "deepx profile: warning: " << busy << "\n";
  }

  std::vector<LayerTiming> timings;
  for (int i = 0; i < args.warmup + 1; ++i)  // +1: the first run prepares the session
    DX_RETURN_IF_ERROR_CTX(session->Run(named, &timings).status(), "warm-up run");
  std::vector<std::vector<LayerTiming>> runs;
  std::vector<double> run_ms;
  for (int i = 0; i < args.iterations; ++i) {
    const auto t0 = Clock::now();
    DX_RETURN_IF_ERROR_CTX(session->Run(named, &timings).status(), "profiled run " + std::to_string(i + 1));
    run_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    runs.push_back(timings);
  }

  // FLOPs and bytes of the graph as the session runs it: Summarize specialises exactly as the session does.
  std::map<std::string, Shape> shapes;
  for (const Feed& f : feeds) shapes[f.name] = f.tensor.shape();
  auto summary = model->Summarize(shapes);
  if (!summary.ok()) std::cerr << "deepx profile: warning: no FLOPs/bytes (" << summary.status().ToString() << ")\n";
  auto graph = SpecializeModel(*model, shapes);

  std::vector<Row> rows = BuildRows(runs.front(), graph.ok() ? &*graph : nullptr, summary.ok() ? &*summary : nullptr);
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < rows.size(); ++i) index[rows[i].name] = i;
  for (const auto& run : runs)
    for (const LayerTiming& t : run) {
      auto it = index.find(t.name);
      if (it != index.end()) rows[it->second].samples_ms.push_back(t.duration_ms);
    }
  double total_ms = 0, total_flops = 0, total_bytes = 0;
  for (Row& r : rows) {
    r.time_ms = Median(r.samples_ms);
    total_ms += r.time_ms;
    total_flops += r.flops;
    total_bytes += r.bytes;
  }
  const double median_run_ms = Median(run_ms);

  const double peak = calibration.ok() ? calibration->gflops * 1e9 : 0;     // FLOP/s
  const double bandwidth = calibration.ok() ? calibration->gbps * 1e9 : 0;  // B/s
  json layers = json::array();
  std::ostringstream text;
  text << std::fixed;
  text << std::left << std::setw(32) << "layer" << std::setw(18) << "op" << std::right << std::setw(9) << "ms"
       << std::setw(7) << "%" << std::setw(9) << "GFLOP/s" << std::setw(8) << "GB/s" << std::setw(10) << "bound_ms"
       << std::setw(8) << "x bound"
       << "  limit\n";
  for (const Row& r : rows) {
    const double s = r.time_ms / 1e3;
    const double gflops = s > 0 ? r.flops / s / 1e9 : NAN;
    const double gbps = s > 0 ? r.bytes / s / 1e9 : NAN;
    const double compute_s = peak > 0 ? r.flops / peak : NAN;
    const double memory_s = bandwidth > 0 ? r.bytes / bandwidth : NAN;
    const double bound_s = std::max(compute_s, memory_s);
    const bool have_bound = r.has_cost && calibration.ok() && bound_s > 0;
    const std::string limit = !have_bound ? "" : compute_s >= memory_s ? "compute" : "memory";
    const double ratio = have_bound ? s / bound_s : NAN;
    const double percent = total_ms > 0 ? 100.0 * r.time_ms / total_ms : 0;
    json layer = {{"name", r.name},
                  {"op", Join(r.ops, "+")},
                  {"nodes", r.nodes},
                  {"time_ms", r.time_ms},
                  {"percent", percent},
                  {"flops", r.has_cost ? json(r.flops) : json(nullptr)},
                  {"bytes", r.has_cost ? json(r.bytes) : json(nullptr)},
                  {"gflops", r.has_cost ? Number(gflops) : json(nullptr)},
                  {"gbps", r.has_cost ? Number(gbps) : json(nullptr)},
                  {"bound_ms", have_bound ? json(bound_s * 1e3) : json(nullptr)},
                  {"limit", have_bound ? json(limit) : json(nullptr)},
                  {"roofline_ratio", have_bound ? Number(ratio) : json(nullptr)}};
    layers.push_back(layer);
    text << std::left << std::setw(32) << Shorten(r.name, 31) << std::setw(18) << Shorten(Join(r.ops, "+"), 17)
         << std::right << std::setprecision(3) << std::setw(9) << r.time_ms << std::setprecision(1) << std::setw(7)
         << percent;
    if (r.has_cost)
      text << std::setw(9) << gflops << std::setprecision(2) << std::setw(8) << gbps;
    else
      text << std::setw(9) << "-" << std::setw(8) << "-";
    if (have_bound)
      text << std::setprecision(3) << std::setw(10) << bound_s * 1e3 << std::setprecision(1) << std::setw(8) << ratio
           << "  " << limit << "\n";
    else
      text << std::setw(10) << "-" << std::setw(8) << "-"
           << "\n";
  }

  std::map<std::string, const Row*> row_by_node;
  for (const Row& r : rows) row_by_node[r.name] = &r;
  if (!args.trace.empty()) {
    // The run of median wall time stands for all of them.
    std::vector<size_t> order(run_ms.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return run_ms[a] < run_ms[b]; });
    const auto& chosen = runs[order[order.size() / 2]];
    std::ofstream out(args.trace, std::ios::trunc);
    out << TraceJson(chosen, row_by_node).dump() << "\n";
    if (!out) return IoError("cannot write trace '" + args.trace + "'");
  }

  int threads = args.threads;
  if (auto b = CreateBackend(backend, args.threads); b.ok()) threads = (*b)->info().threads;
  if (args.json) {
    json doc = {{"model", args.model},
                {"backend", backend},
                {"threads", threads},
                {"warmup", args.warmup},
                {"iterations", args.iterations},
                {"run_ms", {{"p50", median_run_ms}}},
                {"layers_total_ms", total_ms},
                {"total_flops", total_flops},
                {"total_bytes", total_bytes},
                {"layers", layers}};
    if (calibration.ok())
      doc["calibration"] = {{"gflops", calibration->gflops},
                            {"gbps", calibration->gbps},
                            {"calibrated_at", calibration->calibrated_at},
                            {"measured_now", measured}};
    else
      doc["calibration"] = nullptr;
    if (!args.trace.empty()) doc["trace"] = args.trace;
    std::cout << doc.dump(2) << "\n";
    return Status::Ok();
  }
  std::cout << "model: " << args.model << "\nbackend: " << backend << " (" << threads
            << (threads == 1 ? " thread" : " threads") << "), median of " << args.iterations << " runs after "
            << args.warmup << " warm-up\n";
  if (calibration.ok())
    std::cout << std::fixed << std::setprecision(1) << "roofline: " << calibration->gflops << " GFLOP/s peak, "
              << calibration->gbps << " GB/s read (calibrated " << calibration->calibrated_at << ")\n";
  std::cout << text.str() << std::fixed << std::setprecision(3) << "total: " << total_ms << " ms in layers, run p50 "
            << median_run_ms << " ms; " << std::setprecision(3) << total_flops / 1e9 << " GFLOP, " << total_bytes / 1e6
            << " MB";
  if (total_ms > 0) std::cout << std::setprecision(2) << " (" << total_flops / (total_ms / 1e3) / 1e9 << " GFLOP/s)";
  std::cout << "\n";
  if (!args.trace.empty()) std::cout << "trace: " << args.trace << "\n";
  return Status::Ok();
}

}  // namespace

void AddProfileCommand(CLI::App& app) {
  auto args = std::make_shared<ProfileArgs>();
  auto* cmd = app.add_subcommand("profile", "Per-layer time, FLOPs, bytes and distance to the roofline bound");
  cmd->footer(
      "Times every node over --iterations runs (after --warmup) and reports its median. GFLOP/s and GB/s are the\n"
      "layer's FLOPs and minimum bytes over its time; the bound is max(FLOPs / peak, bytes / bandwidth) with this\n"
      "machine's calibrated fp32 GEMM peak and read bandwidth (measured on first use, see `deepx devices`), and\n"
      "'x bound' is time / bound. Nodes a backend fuses are reported with the node they run in.\n"
      "Exit codes: 0 success, 1 model/input/runtime error, 2 usage error.");
  AddModelRunOptions(cmd, args.get());
  cmd->add_option("--warmup", args->warmup, "Untimed runs before profiling")
      ->check(CLI::Range(0, 1000000))
      ->capture_default_str();
  cmd->add_option("--iterations", args->iterations, "Profiled runs")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  cmd->add_option("--trace", args->trace, "Write one run as Chrome trace JSON (Perfetto, chrome://tracing)")
      ->type_name("FILE");
  cmd->add_flag("--json", args->json, "Print one JSON object instead of a table");
  cmd->add_option("--cache", args->cache, "Calibration cache file (default: see `deepx devices`)")->type_name("FILE");
  cmd->add_flag("--calibrate", args->calibrate, "Measure the machine again even when cached");
  cmd->add_option("--calibration-gemm-size", args->gemm_size, "Largest GEMM side calibrated (default 1024)")
      ->check(CLI::Range(1, 8192));
  cmd->add_option("--calibration-buffer-mb", args->buffer_mb, "Bandwidth test buffer in MiB (default 256)")
      ->check(CLI::Range(1, 1 << 16));
  cmd->callback([args] {
    Status s = Profile(*args);
    if (!s.ok()) {
      std::cerr << "deepx profile: error: " << s.ToString() << "\n";
      SetExitCode(1);
      return;
    }
    SetExitCode(0);
  });
}

}  // namespace deepx::cli
