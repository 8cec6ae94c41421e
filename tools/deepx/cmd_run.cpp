// `deepx run MODEL`: one inference with inputs from files or seeded random data; prints or saves the outputs.
#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "commands.h"
#include "deepx/deepx.hpp"
#include "input_feeds.h"
#include "io/tensor_file.h"
#include "plan/planner.h"
#include "plan/unit_blocks.h"
#include "runtime/adaptive_planner.h"
#include "runtime/adaptive_session.h"
#include "runtime/model_impl.h"
#include "runtime/monitor.h"
#include "runtime/probe_util.h"

namespace deepx::cli {
namespace {

using json = nlohmann::json;

struct RunArgs : ModelRunArgs {
  std::string output_dir;
  bool json = false;
  int top_k = 5;
  std::string labels_file;  // class names for top-k: JSON ("class_names" or "labels" list) or one per line
  // --plan auto: plan across the processors present (DAD) and report predicted vs measured per block.
  std::string plan;
  double latency_ms = 5000;
  std::string objective = "energy";
  int runs = 5;
  std::vector<std::string> processors;  // --processors: backends to plan over ("" : every one present)
  std::string placement;                // --placement: a fixed placement instead of DAD's (checks the cost model)
};

// The processor of each of `segments` unit-blocks for --placement: "alternate:K" (the next processor every K
// segments, cyclically), "halves" (the first half on processor 0, the rest on 1) or a comma list of indices.
Result<std::vector<int>> ParsePlacement(const std::string& spec, size_t segments, size_t processors) {
  std::vector<int> out;
  if (spec.rfind("alternate:", 0) == 0) {
    const int k = std::atoi(spec.c_str() + 10);
    if (k <= 0) return InvalidArgument("--placement alternate:K needs K >= 1");
    for (size_t i = 0; i < segments; ++i) out.push_back(static_cast<int>((i / static_cast<size_t>(k)) % processors));
  } else if (spec == "halves") {
    for (size_t i = 0; i < segments; ++i) out.push_back(processors > 1 && i >= segments / 2 ? 1 : 0);
  } else {
    std::stringstream list(spec);
    std::string item;
    while (std::getline(list, item, ',')) {
      char* end = nullptr;
      const long p = std::strtol(item.c_str(), &end, 10);
      if (item.empty() || *end != '\0' || p < 0 || static_cast<size_t>(p) >= processors)
        return InvalidArgument("--placement: '" + item + "' is not a processor index below " + std::to_string(processors));
      out.push_back(static_cast<int>(p));
    }
    if (out.size() != segments)
      return InvalidArgument("--placement lists " + std::to_string(out.size()) + " processors; the model has " +
                             std::to_string(segments) + " unit-blocks");
  }
  return out;
}

// Class names from a JSON file ({"class_names": [...]}, {"labels": [...]} or a bare list) or a text file with one
// name per line.
Result<std::vector<std::string>> LoadLabels(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFound("labels file '" + path + "' cannot be opened");
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  std::vector<std::string> labels;
  const size_t first = text.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && (text[first] == '{' || text[first] == '[')) {
    json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded()) return InvalidArgument("labels file '" + path + "' is not valid JSON");
    const json* list = &doc;
    if (doc.is_object()) {
      if (doc.contains("class_names")) list = &doc["class_names"];
      else if (doc.contains("labels")) list = &doc["labels"];
      else return InvalidArgument("labels file '" + path + "' has no \"class_names\" or \"labels\" list");
    }
    if (!list->is_array()) return InvalidArgument("labels in '" + path + "' must be a list of strings");
    for (const json& v : *list) {
      if (!v.is_string()) return InvalidArgument("labels in '" + path + "' must be a list of strings");
      labels.push_back(v.get<std::string>());
    }
  } else {
    std::string line;
    std::istringstream lines(text);
    while (std::getline(lines, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (!line.empty()) labels.push_back(line);
    }
  }
  if (labels.empty()) return InvalidArgument("labels file '" + path + "' lists no labels");
  return labels;
}

constexpr int kMaxFirstValues = 8;

std::string FormatValue(double v) {
  std::ostringstream os;
  os << std::setprecision(6) << v;
  return os.str();
}

double Milliseconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

bool IsFloat(DataType t) { return t == DataType::kFloat32 || t == DataType::kFloat64; }


struct Stats {
  double min = 0, max = 0, mean = 0;
  int64_t nan_count = 0;
};

Stats ComputeStats(const Tensor& t) {
  Stats s;
  const int64_t n = t.num_elements();
  double sum = 0;
  bool first = true;
  for (int64_t i = 0; i < n; ++i) {
    const double v = t.GetAsDouble(i);
    if (std::isnan(v)) {
      ++s.nan_count;
      continue;
    }
    s.min = first ? v : std::min(s.min, v);
    s.max = first ? v : std::max(s.max, v);
    first = false;
    sum += v;
  }
  const int64_t counted = n - s.nan_count;
  s.mean = counted ? sum / static_cast<double>(counted) : std::nan("");
  return s;
}

struct Ranked {
  int64_t index;
  double prob;
};

// Top-k classes of each row of a [N, C] float output. Rows that are already probability distributions are used
// as they are; others (logits) go through a softmax first.
std::vector<std::vector<Ranked>> TopK(const Tensor& t, int k, bool* applied_softmax) {
  const int64_t rows = t.dim(0), classes = t.dim(1);
  const int64_t keep = std::min<int64_t>(k, classes);
  std::vector<std::vector<Ranked>> result;
  *applied_softmax = false;
  for (int64_t r = 0; r < rows; ++r) {
    std::vector<double> p(static_cast<size_t>(classes));
    double sum = 0;
    bool in_unit = true;
    for (int64_t c = 0; c < classes; ++c) {
      p[c] = t.GetAsDouble(r * classes + c);
      sum += p[c];
      in_unit = in_unit && p[c] >= 0 && p[c] <= 1;
    }
    if (!in_unit || std::abs(sum - 1.0) > 1e-3) {
      *applied_softmax = true;
      const double mx = *std::max_element(p.begin(), p.end());
      double z = 0;
      for (double& v : p) z += (v = std::exp(v - mx));
      for (double& v : p) v /= z;
    }
    std::vector<Ranked> ranked;
    for (int64_t c = 0; c < classes; ++c) ranked.push_back({c, p[c]});
    std::partial_sort(ranked.begin(), ranked.begin() + keep, ranked.end(), [](const Ranked& a, const Ranked& b) {
      return a.prob > b.prob || (a.prob == b.prob && a.index < b.index);
    });
    ranked.resize(static_cast<size_t>(keep));
    result.push_back(std::move(ranked));
  }
  return result;
}

// An output name as a safe file name: no directory separators, no "..".
std::string FileNameFor(const std::string& name) {
  std::string s;
  for (char c : name) s += (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.') ? c : '_';
  if (s.empty() || s.find_first_not_of('.') == std::string::npos) s = "output_" + s;
  return s;
}

json ShapeJson(const Shape& s) { return json(std::vector<int64_t>(s.begin(), s.end())); }

json NumberJson(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

Status Run(const RunArgs& args) {
  using Clock = std::chrono::steady_clock;
  auto t0 = Clock::now();
  DX_ASSIGN_OR_RETURN(std::shared_ptr<const Model> model, LoadModelForRun(args));
  const double load_ms = Milliseconds(Clock::now() - t0);

  SessionOptions options = SessionOptionsFor(args);
  t0 = Clock::now();
  DX_ASSIGN_OR_RETURN(std::unique_ptr<Session> session, Session::Create(model, options));
  const double session_ms = Milliseconds(Clock::now() - t0);

  std::vector<std::string> labels;
  if (!args.labels_file.empty()) {
    DX_ASSIGN_OR_RETURN(labels, LoadLabels(args.labels_file));
  }
  DX_ASSIGN_OR_RETURN(std::vector<Feed> feeds, LoadFeeds(*model, args.inputs, args.input_shapes, args.seed));
  std::vector<std::pair<std::string, Tensor>> named;
  for (const Feed& f : feeds) named.emplace_back(f.name, f.tensor);
  t0 = Clock::now();
  DX_ASSIGN_OR_RETURN(std::vector<Tensor> outputs, session->Run(named));
  const double run_ms = Milliseconds(Clock::now() - t0);

  std::vector<std::string> written(outputs.size());
  if (!args.output_dir.empty()) {
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::create_directories(args.output_dir, ec);
    if (ec) return IoError("cannot create output directory '" + args.output_dir + "': " + ec.message());
    for (size_t i = 0; i < outputs.size(); ++i) {
      written[i] = (fs::path(args.output_dir) / (FileNameFor(model->outputs()[i].name) + ".npy")).string();
      DX_RETURN_IF_ERROR(SaveTensorFile(written[i], outputs[i]));
    }
  }

  json doc;
  std::ostringstream text;
  doc["model"] = args.model;
  doc["producer"] = model->producer();
  doc["opset"] = model->opset();
  doc["backend"] = options.backend;
  text << "model: " << args.model << " (producer '" << model->producer() << "', opset " << model->opset() << ")\n"
       << "backend: " << options.backend << "\n"
       << "inputs:\n";
  doc["inputs"] = json::array();
  for (const Feed& f : feeds) {
    doc["inputs"].push_back({{"name", f.name}, {"dtype", DataTypeName(f.tensor.dtype())},
                             {"shape", ShapeJson(f.tensor.shape())}, {"source", f.source}});
    text << "  " << f.name << ": " << DataTypeName(f.tensor.dtype()) << " " << ShapeToString(f.tensor.shape())
         << (f.source == "random"  ? " random (seed " + std::to_string(args.seed) + ")"
             : f.source == "zeros" ? " zeros"
                                   : " from '" + f.source + "'")
         << "\n";
  }
  text << "outputs:\n";
  doc["outputs"] = json::array();
  for (size_t i = 0; i < outputs.size(); ++i) {
    const Tensor& t = outputs[i];
    const std::string& name = model->outputs()[i].name;
    json out = {{"name", name}, {"dtype", DataTypeName(t.dtype())}, {"shape", ShapeJson(t.shape())}};
    text << "  " << name << ": " << DataTypeName(t.dtype()) << " " << ShapeToString(t.shape()) << "\n";
    const int64_t n = t.num_elements();
    if (n > 0) {
      const Stats s = ComputeStats(t);
      out["stats"] = {{"min", NumberJson(s.min)}, {"max", NumberJson(s.max)}, {"mean", NumberJson(s.mean)},
                      {"nan_count", s.nan_count}};
      text << "    min " << FormatValue(s.min) << "  max " << FormatValue(s.max) << "  mean " << FormatValue(s.mean)
           << (s.nan_count ? "  NaNs " + std::to_string(s.nan_count) : "") << "\n";
    }
    json first = json::array();
    text << "    values:";
    for (int64_t j = 0; j < std::min<int64_t>(n, kMaxFirstValues); ++j) {
      first.push_back(NumberJson(t.GetAsDouble(j)));
      text << (j ? ", " : " ") << FormatValue(t.GetAsDouble(j));
    }
    text << (n > kMaxFirstValues ? ", ... (" + std::to_string(n) + " values)" : "") << "\n";
    out["first_values"] = first;
    if (args.top_k > 0 && IsFloat(t.dtype()) && t.rank() == 2 && t.dim(1) > 1 && t.dim(0) > 0) {
      bool softmax = false;
      auto rows = TopK(t, args.top_k, &softmax);
      json topk = json::array();
      text << "    top-" << rows[0].size() << (softmax ? " (softmax of the values)" : " (values are probabilities)")
           << ":\n";
      for (size_t r = 0; r < rows.size(); ++r) {
        json row = json::array();
        text << "      row " << r << ":";
        for (size_t j = 0; j < rows[r].size(); ++j) {
          const int64_t index = rows[r][j].index;
          const bool named = index < static_cast<int64_t>(labels.size());
          json entry = {{"index", index}, {"prob", NumberJson(rows[r][j].prob)}};
          if (named) entry["label"] = labels[static_cast<size_t>(index)];
          row.push_back(entry);
          text << (j ? ", " : " ") << index;
          if (named) text << " " << labels[static_cast<size_t>(index)];
          text << " (" << std::fixed << std::setprecision(4) << rows[r][j].prob << std::defaultfloat << ")";
        }
        text << "\n";
        topk.push_back(row);
      }
      out["topk"] = topk;
      out["topk_softmax_applied"] = softmax;
    }
    if (!written[i].empty()) {
      out["file"] = written[i];
      text << "    saved to " << written[i] << "\n";
    }
    doc["outputs"].push_back(out);
  }
  doc["timing"] = {{"load_ms", load_ms}, {"session_ms", session_ms}, {"first_run_ms", run_ms}};
  text << "timing: load " << std::fixed << std::setprecision(2) << load_ms << " ms, session " << session_ms
       << " ms, first run " << run_ms << " ms\n";

  if (args.json) std::cout << doc.dump(2) << "\n";
  else std::cout << text.str();
  return Status::Ok();
}

// `deepx run MODEL --plan auto`: measures every node on each processor present (and the remote, with --remote),
// plans with DAD for the current conditions (resource monitor), runs the plan `runs` times through the adaptive
// session, and compares the planner's per-block latency with the measured one (from its last input being
// published to its own outputs being published: hand-over, transfers, the kernel call and reading results back;
// median over the runs after the first).
Status RunPlanAuto(const RunArgs& args) {
  using Clock = std::chrono::steady_clock;
  DX_ASSIGN_OR_RETURN(std::shared_ptr<const Model> model, LoadModelForRun(args));
  DX_ASSIGN_OR_RETURN(std::vector<Feed> feeds, LoadFeeds(*model, args.inputs, args.input_shapes, args.seed));
  std::map<std::string, Shape> shapes;
  for (const Feed& f : feeds) shapes[f.name] = f.tensor.shape();
  DX_ASSIGN_OR_RETURN(Graph specialised, SpecializeModel(*model, shapes));
  auto graph = std::make_shared<const Graph>(std::move(specialised));
  std::vector<Tensor> inputs;
  for (ValueId v : graph->inputs) {
    const std::string& name = graph->value(v).name;
    auto it = std::find_if(feeds.begin(), feeds.end(), [&](const Feed& f) { return f.name == name; });
    if (it == feeds.end()) return Internal("specialised graph input '" + name + "' has no feed");
    inputs.push_back(it->tensor);
  }

  // Processors: those named, else every one present (the reference backend only when nothing faster is built),
  // plus the remote server when given.
  std::vector<std::string> names = args.processors;
  if (names.empty()) {
    for (const std::string& n : AvailableBackends())
      if (n != "reference") names.push_back(n);
    if (names.empty()) names.push_back("reference");
    if (!args.remote_url.empty()) names.push_back("remote");
  }
  std::vector<std::shared_ptr<Backend>> backends;
  std::vector<std::string> skipped;
  for (const std::string& n : names) {
    BackendConfig config;
    config.num_threads = args.threads;
    config.remote_url = args.remote_url;
    config.token_file = args.token_file;
    auto b = CreateBackend(n, config);
    if (!b.ok()) {
      if (!args.processors.empty()) return b.status().WithContext("processor '" + n + "'");
      skipped.push_back(n + ": " + b.status().ToString());
      continue;
    }
    backends.push_back(*b);
  }
  if (backends.empty()) return Unavailable("no processor to plan on");
  std::vector<int> fixed_segments;  // --placement, checked before the profiling it would otherwise wait for
  if (!args.placement.empty()) {
    DX_ASSIGN_OR_RETURN(fixed_segments,
                        ParsePlacement(args.placement, CutIntoSegments(*graph).segments.size(), backends.size()));
  }

  auto health = std::make_shared<ProcessorHealth>();
  SystemMonitorOptions monitor_options;
  monitor_options.health = health;
  auto monitor = std::make_shared<SystemMonitor>(monitor_options);
  // The first sample reports the load since boot; the session's first sample is then the delta over profiling
  // (our own time excluded).
  DX_RETURN_IF_ERROR(monitor->Sample().status());
  auto t0 = Clock::now();
  // Seven timed runs per measurement: node times of tenths of a millisecond vary by ~10 % from run to run here.
  DX_ASSIGN_OR_RETURN(PlannerInputs base, LocalPlannerInputs(graph, backends, inputs, 7));
  const double profile_ms = Milliseconds(Clock::now() - t0);
  if (std::getenv("DX_DEBUG")) {
    for (size_t p = 0; p < base.measured.size(); ++p) {
      std::cerr << base.processors[p].name << " gflops " << base.processors[p].gflops << ":";
      for (double ms : base.measured[p]) std::cerr << " " << ms;
      std::cerr << "\n";
    }
    for (size_t p = 0; p < base.boundaries.size(); ++p) {
      const BoundaryCosts& b = base.boundaries[p];
      const ProcessorSpec& spec = base.processors[p];
      std::cerr << spec.name << " contention " << spec.contention << "/" << spec.contention_memory << " handoff "
                << spec.handoff_ms << " block " << b.block_ms << " ms, link " << spec.link_latency_ms
                << " ms; enter/leave ms:";
      for (const auto& [v, ms] : b.enter_ms) std::cerr << " " << graph->value(v).name << " in " << ms;
      for (const auto& [v, ms] : b.leave_ms) std::cerr << " " << graph->value(v).name << " out " << ms;
      std::cerr << "\n";
    }
  }
  base.options.fixed_segments = std::move(fixed_segments);
  base.limits.latency_ms = args.latency_ms;
  if (args.max_accuracy_drop >= 0) base.limits.max_accuracy_drop = args.max_accuracy_drop;
  if (args.objective == "latency") base.objective = PlanObjective::kLatency;
  else if (args.objective != "energy") return InvalidArgument("--objective must be energy or latency");
  // Processors measured here carry no power figures (no device profile is given), so every plan would cost the
  // same energy: plan for latency instead, and say so.
  std::string objective = args.objective;
  bool any_power = false;
  for (const ProcessorSpec& p : base.processors) any_power |= p.active_w > 0 || p.idle_w > 0;
  if (!any_power && base.objective == PlanObjective::kEnergy) {
    base.objective = PlanObjective::kLatency;
    objective = "latency (no power figures for the processors measured here)";
  }

  AdaptiveOptions options;
  options.executor.health = health;
  BackendConfig host;
  host.num_threads = args.threads;
  DX_ASSIGN_OR_RETURN(options.executor.fallback, CreateBackend(HostFallbackBackend(), host));
  // /proc/stat counts in 10 ms ticks: a load measured over a short profiling run (a small model profiles in
  // ~50 ms) is mostly rounding (it read 34 % on an idle machine). Let at least 250 ms pass since the first sample.
  if (profile_ms < 250) std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int>(250 - profile_ms)));
  DX_ASSIGN_OR_RETURN(auto session, AdaptiveSession::Create(graph, backends, MakeDadPlanner(base), monitor, options));

  const int runs = std::max(args.runs, 1);
  std::vector<Tensor> outputs;
  AdaptiveRunInfo info;
  std::vector<double> run_ms;
  std::vector<std::vector<double>> block_ms;  // [block][run]
  std::vector<std::array<std::vector<double>, 4>> block_parts;  // [block][wait, transfer in, call, publish][run]
  int counted = 0;
  double replan_ms = 0;
  for (int r = 0; r < runs; ++r) {
    t0 = Clock::now();
    DX_ASSIGN_OR_RETURN(outputs, session->Run(inputs, &info));
    run_ms.push_back(Milliseconds(Clock::now() - t0));
    if (info.replanned) replan_ms = info.replan_ms;
    if (r == 0 && runs > 1) continue;  // first run: caches warm up
    if (block_ms.size() != info.report.blocks.size()) {
      block_ms.assign(info.report.blocks.size(), {});
      block_parts.assign(info.report.blocks.size(), {});
      counted = 0;
    }
    for (size_t b = 0; b < info.report.blocks.size(); ++b) {
      const BlockRecord& rec = info.report.blocks[b];
      block_ms[b].push_back((rec.done_ns - rec.ready_ns) / 1e6);
      block_parts[b][0].push_back((rec.start_ns - rec.ready_ns - rec.transfer_ns) / 1e6);
      block_parts[b][1].push_back(rec.transfer_ns / 1e6);
      block_parts[b][2].push_back((rec.end_ns - rec.start_ns) / 1e6);
      block_parts[b][3].push_back((rec.done_ns - rec.end_ns) / 1e6);
    }
    ++counted;
  }
  const PlannedGraph& planned = *info.plan;
  double steady_ms = 0;
  for (size_t i = runs > 1 ? 1 : 0; i < run_ms.size(); ++i) steady_ms += run_ms[i];
  steady_ms /= static_cast<double>(run_ms.size() - (runs > 1 ? 1 : 0));

  json doc;
  std::ostringstream text;
  doc["model"] = args.model;
  doc["plan"] = "auto";
  doc["conditions_key"] = info.key;
  doc["objective"] = objective;
  doc["processors"] = json::array();
  for (const auto& b : backends) doc["processors"].push_back(b->info().name);
  doc["skipped_processors"] = skipped;
  doc["blocks"] = json::array();
  text << "model: " << args.model << "\nplan: auto (DAD) over";
  for (const auto& b : backends) text << " " << b->info().name;
  text << "; conditions " << info.key << "; objective " << objective << "\n";
  for (const std::string& s : skipped) text << "  skipped " << s << "\n";
  text << "profiling " << std::fixed << std::setprecision(1) << profile_ms << " ms, planning + prepare "
       << std::setprecision(2) << replan_ms << " ms\n";
  text << "block  processor          nodes  predicted ms  measured ms  error\n";
  for (size_t b = 0; b < planned.plan.blocks.size(); ++b) {
    const Block& block = planned.plan.blocks[b];
    const double predicted = b < planned.predicted_block_ms.size() ? planned.predicted_block_ms[b] : -1;
    // Medians over the runs: one preempted run on a shared machine does not decide it.
    using probe::Median;
    const bool have = counted && b < block_ms.size() && !block_ms[b].empty();
    const double measured = have ? Median(block_ms[b]) : -1;
    const std::string& ran = b < info.report.blocks.size() ? info.report.blocks[b].processor : "";
    json jb = {{"nodes", json::array()}, {"processor", planned.processors[static_cast<size_t>(block.backend)]},
               {"ran_on", ran}, {"predicted_ms", NumberJson(predicted)}, {"measured_ms", NumberJson(measured)}};
    // Where the measured time went (medians of each part, so they need not add up exactly): waiting for its
    // processor's lane after the last input arrived, moving inputs there, the block's call, publishing outputs
    // (reading device values back for other processors).
    if (have)
      jb["measured_parts_ms"] = {{"wait", Median(block_parts[b][0])}, {"transfer_in", Median(block_parts[b][1])},
                                 {"call", Median(block_parts[b][2])}, {"publish", Median(block_parts[b][3])}};
    for (NodeId n : block.nodes) jb["nodes"].push_back(planned.graph->node(n).name);
    doc["blocks"].push_back(jb);
    text << std::setw(5) << b << "  " << std::left << std::setw(18) << ran << std::right << std::setw(6)
         << block.nodes.size() << std::setw(14) << std::setprecision(3) << predicted << std::setw(13) << measured;
    if (predicted > 0 && measured >= 0) text << std::setw(6) << std::setprecision(0) << (measured - predicted) / predicted * 100 << " %";
    text << "\n";
  }
  doc["predicted"] = {{"latency_ms", NumberJson(planned.predicted_latency_ms)},
                      {"energy_mj", NumberJson(planned.predicted_energy_mj)},
                      {"energy_source", planned.energy_source}};
  doc["measured"] = {{"latency_ms", steady_ms}, {"runs", runs}, {"run_ms", run_ms}};
  doc["timing"] = {{"profile_ms", profile_ms}, {"replan_ms", replan_ms}};
  text << "predicted latency " << std::setprecision(3) << planned.predicted_latency_ms << " ms, energy "
       << planned.predicted_energy_mj << " mJ (" << planned.energy_source << "); measured latency " << steady_ms
       << " ms (mean of " << (runs > 1 ? runs - 1 : 1) << " run" << (runs > 2 ? "s" : "") << ")\n";
  doc["outputs"] = json::array();
  for (size_t i = 0; i < outputs.size(); ++i) {
    const Tensor& t = outputs[i];
    json out = {{"name", model->outputs()[i].name}, {"dtype", DataTypeName(t.dtype())}, {"shape", ShapeJson(t.shape())}};
    json first = json::array();
    for (int64_t j = 0; j < std::min<int64_t>(t.num_elements(), kMaxFirstValues); ++j)
      first.push_back(NumberJson(t.GetAsDouble(j)));
    out["first_values"] = first;
    doc["outputs"].push_back(out);
    text << "output " << model->outputs()[i].name << ": " << ShapeToString(t.shape()) << "\n";
  }
  if (args.json) std::cout << doc.dump(2) << "\n";
  else std::cout << text.str();
  return Status::Ok();
}

}  // namespace

void AddRunCommand(CLI::App& app) {
  auto args = std::make_shared<RunArgs>();
  auto* cmd = app.add_subcommand("run", "Run one inference and print (or save) the outputs");
  cmd->footer(
      "Inputs not given with --input get random data: floats uniform in [0, 1) from --seed, integers zero,\n"
      "dynamic dimensions 1. Outputs shaped [N, C] also show their top-k classes.\n"
      "Exit codes: 0 success, 1 model/input/runtime error, 2 usage error.");
  AddModelRunOptions(cmd, args.get());
  cmd->add_option("-o,--output", args->output_dir, "Write each output to DIR/<output name>.npy")->type_name("DIR");
  cmd->add_flag("--json", args->json, "Print one JSON object instead of text");
  cmd->add_option("--top-k", args->top_k, "Classes to show per row of [N, C] outputs (0: none)")
      ->check(CLI::Range(0, 1 << 20))
      ->capture_default_str();
  cmd->add_option("--labels", args->labels_file,
                  "Class names for top-k: JSON with a \"class_names\" or \"labels\" list, or one name per line")
      ->type_name("FILE");
  cmd->add_option("--plan", args->plan,
                  "auto: plan across the processors present (DAD) and report predicted vs measured latency per block")
      ->check(CLI::IsMember({"auto"}));
  cmd->add_option("--latency-ms", args->latency_ms, "With --plan auto: latency limit per inference")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--objective", args->objective, "With --plan auto: energy or latency")
      ->check(CLI::IsMember({"energy", "latency"}))
      ->capture_default_str();
  cmd->add_option("--runs", args->runs, "With --plan auto: inferences to run (the first warms up)")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  cmd->add_option("--placement", args->placement,
                  "With --plan auto: run this placement instead of DAD's, to check the cost model: alternate:K, "
                  "halves, or a processor index per unit-block (comma list)");
  cmd->add_option("--processors", args->processors, "With --plan auto: backends to plan over (default: all present)")
      ->delimiter(',');
  cmd->callback([args] {
    Status s = args->plan == "auto" ? RunPlanAuto(*args) : Run(*args);
    if (!s.ok()) {
      std::cerr << "deepx run: error: " << s.ToString() << "\n";
      SetExitCode(1);
      return;
    }
    SetExitCode(0);
  });
}

}  // namespace deepx::cli
