// `deepx plan MODEL`: plan a model across processors (DAD) for least energy (or latency) under latency, accuracy
// and memory limits, and compare with single-processor baselines, full offload and a Neurosurgeon split.
//
// With --device PROFILE.json the processors are the profile's (virtual: roofline costs from its figures). Without
// it, the processors present here (cpu-big, cpu-little, OpenCL when found, the --remote server when given) are
// profiled node by node (cached in ~/.cache/deepx/plan-profiles.json) and their power comes from the host profile
// (profiles/host.json) — or from a power meter when one is readable (then energy says "measured").
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "commands.h"
#include "compress/accuracy_estimator.h"
#include "deepx/compress.hpp"
#include "deepx/deepx.hpp"
#include "input_feeds.h"
#include "plan/device_profile.h"
#include "plan/energy_meter.h"
#include "plan/plan_report.h"
#include "plan/planner.h"
#include "plan/profiling.h"
#include "runtime/backend.h"
#include "runtime/calibration.h"
#include "runtime/model_impl.h"
#include "runtime/processors.h"

namespace deepx::cli {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

struct PlanArgs {
  std::string model;
  std::string device;            // profile path ("" = processors present here)
  std::string network;           // profile network for remote processors
  double latency_ms = 5000;
  double max_accuracy_drop = 0.05;
  std::string objective = "energy";
  bool json = false;
  std::string html;
  std::string remote_url;
  std::string token_file;
  std::vector<std::string> processors;  // present processors to use
  std::string method = "auto";
  bool no_splits = false;
  bool rlc = false;
  int runs = 5;
  bool reprofile = false;
  std::vector<std::string> input_shapes;
  double bandwidth_mbps = -1;
  double rtt_ms = -1;
  std::vector<std::string> loads;        // NAME=FRACTION
  std::vector<std::string> free_memory;  // NAME=MB
  std::string host_profile;
  int max_labels = 0;  // DP Pareto labels per state (0: the planner's default)
};

// profiles/host.json: $DEEPX_PROFILES_DIR, ./profiles, or next to the source tree of this binary (build/*/bin).
std::string FindHostProfile(const std::string& given) {
  if (!given.empty()) return given;
  std::vector<fs::path> candidates;
  if (const char* dir = std::getenv("DEEPX_PROFILES_DIR")) candidates.push_back(fs::path(dir) / "host.json");
  candidates.push_back(fs::path("profiles") / "host.json");
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec)
    for (fs::path p = exe.parent_path(); !p.empty() && p != p.parent_path(); p = p.parent_path())
      candidates.push_back(p / "profiles" / "host.json");
  for (const fs::path& c : candidates)
    if (fs::exists(c, ec)) return c.string();
  return "";
}

std::string ProfileCachePath() {
  const std::string calib = DefaultCalibrationCachePath();
  if (calib.empty()) return "";
  return (fs::path(calib).parent_path() / "plan-profiles.json").string();
}

// Cache key: model file identity (path, size, mtime), processor, thread count, input shapes.
std::string ProfileKey(const std::string& model, const std::string& processor, const std::string& shapes) {
  struct stat st {};
  std::string id = model;
  if (::stat(model.c_str(), &st) == 0)
    id += "|" + std::to_string(st.st_size) + "|" + std::to_string(static_cast<long long>(st.st_mtime));
  return id + "|" + processor + "|" + shapes + "|" + CpuModelName();
}

struct Measured {
  std::vector<double> node_ms;
  std::vector<std::string> unsupported;
  double active_w = -1, idle_w = -1;  // from a meter, when present
  bool cached = false;
};

Result<Measured> MeasureProcessor(const std::shared_ptr<const Graph>& graph, const std::string& name,
                                  const BackendConfig& config, const PlanArgs& args, const std::string& key,
                                  EnergyMeter* meter) {
  Measured m;
  const std::string cache_path = ProfileCachePath();
  json cache = json::object();
  if (!cache_path.empty()) {
    std::ifstream in(cache_path);
    if (in) cache = json::parse(in, nullptr, false);
    if (cache.is_discarded() || !cache.is_object()) cache = json::object();
  }
  if (!args.reprofile && cache.contains(key) && cache[key].is_object()) {
    const json& e = cache[key];
    bool ok = e.contains("node_ms") && e["node_ms"].is_object();
    if (ok) {
      for (const Node& n : graph->nodes) {
        if (!e["node_ms"].contains(n.name) || !e["node_ms"][n.name].is_number()) {
          ok = false;
          break;
        }
        m.node_ms.push_back(e["node_ms"][n.name].get<double>());
      }
    }
    if (ok) {
      if (e.contains("unsupported")) m.unsupported = e["unsupported"].get<std::vector<std::string>>();
      if (e.contains("active_w")) m.active_w = e["active_w"].get<double>();
      if (e.contains("idle_w")) m.idle_w = e["idle_w"].get<double>();
      m.cached = true;
      return m;
    }
    m.node_ms.clear();
  }
  DX_ASSIGN_OR_RETURN(std::shared_ptr<Backend> backend, CreateBackend(name, config));
  NodeProfile prof;
  auto work = [&]() -> Status {
    DX_ASSIGN_OR_RETURN(prof, ProfileNodes(graph, backend, {.warmup = 1, .runs = args.runs}));
    return Status::Ok();
  };
  if (meter) {
    // Idle first (half a second), then the profiling runs: their average power is the processor's active power.
    auto idle = MeasureEnergy(*meter, [] {
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      return Status::Ok();
    });
    DX_ASSIGN_OR_RETURN(EnergyMeasurement busy, MeasureEnergy(*meter, work));
    if (idle.ok()) {
      m.idle_w = idle->watts();
      m.active_w = busy.watts();
    }
  } else {
    DX_RETURN_IF_ERROR(work());
  }
  m.node_ms = prof.node_ms;
  m.unsupported = prof.unsupported;
  if (!cache_path.empty()) {
    json e = {{"node_ms", json::object()}, {"unsupported", m.unsupported}, {"run_ms", prof.run_ms}};
    for (size_t k = 0; k < graph->nodes.size(); ++k) e["node_ms"][graph->nodes[k].name] = m.node_ms[k];
    if (m.active_w >= 0) {
      e["active_w"] = m.active_w;
      e["idle_w"] = m.idle_w;
    }
    cache[key] = e;
    std::error_code ec;
    fs::create_directories(fs::path(cache_path).parent_path(), ec);
    const std::string tmp = cache_path + ".tmp" + std::to_string(::getpid());
    std::ofstream out(tmp, std::ios::trunc);
    out << cache.dump() << "\n";
    out.close();
    if (out) fs::rename(tmp, cache_path, ec);
  }
  return m;
}

Result<std::vector<std::pair<std::string, double>>> ParseNamed(const std::vector<std::string>& items, const char* what) {
  std::vector<std::pair<std::string, double>> out;
  for (const std::string& s : items) {
    const size_t eq = s.find('=');
    char* end = nullptr;
    const double v = eq == std::string::npos ? 0 : std::strtod(s.c_str() + eq + 1, &end);
    if (eq == std::string::npos || eq == 0 || end == s.c_str() + eq + 1 || *end != '\0')
      return InvalidArgument(std::string(what) + " must be NAME=NUMBER, got '" + s + "'");
    out.push_back({s.substr(0, eq), v});
  }
  return out;
}

// RLC variants of every compressible layer (the RLC helper's rank choices) with an accuracy-loss estimate per
// variant: the label-free estimator's drop with that layer alone compressed (summed over layers by the planner).
Result<std::map<NodeId, std::vector<RankVariant>>> RankVariants(const std::shared_ptr<const Model>& model,
                                                                const Graph& g, const PlanArgs& args,
                                                                std::vector<std::string>* notes) {
  RankChoiceOptions ro;
  ro.relative_errors = {0.1, 0.2, 0.3};
  DX_ASSIGN_OR_RETURN(std::vector<LayerRankChoices> layers, EnumerateRankChoices(*model, ro));
  // Synthetic inputs: `deepx plan` has no calibration samples option yet (the estimate is the weaker for it).
  DX_ASSIGN_OR_RETURN(Tensor samples, compress::AccuracyEstimator::SyntheticInputs(*model, 64, 1));
  const std::string source = "synthetic Gaussian (64 samples)";
  DX_ASSIGN_OR_RETURN(auto estimator, compress::AccuracyEstimator::Create(model, samples, source, {}));
  std::map<NodeId, std::vector<RankVariant>> out;
  int evaluated = 0;
  for (const LayerRankChoices& layer : layers) {
    NodeId node = -1;
    for (size_t k = 0; k < g.nodes.size(); ++k)
      if (g.nodes[k].name == layer.name) node = static_cast<NodeId>(k);
    if (node < 0) continue;
    for (const RankChoice& c : layer.choices) {
      if (c.rank <= 0) continue;
      DX_ASSIGN_OR_RETURN(std::shared_ptr<const Model> candidate, ApplyRanks(*model, {{layer.name, c.rank}}, ro));
      DX_ASSIGN_OR_RETURN(compress::Estimate est, estimator->Evaluate(candidate));
      ++evaluated;
      out[node].push_back({.rank = c.rank,
                           .flops = c.flops,
                           .weight_bytes = static_cast<double>(c.params) * 4,
                           .relative_error = c.relative_error,
                           .accuracy_loss = std::max(0.0, est.drop)});
    }
  }
  notes->push_back("RLC variants: " + std::to_string(evaluated) + " (layer, rank) candidates, accuracy loss estimated "
                   "label-free on " + source + " per layer alone and summed (an additive estimate)");
  return out;
}

Status Plan(const PlanArgs& args) {
  DX_ASSIGN_OR_RETURN(std::shared_ptr<const Model> model, Model::Load(args.model));
  DX_ASSIGN_OR_RETURN(auto shapes, ParseInputShapes(*model, args.input_shapes));
  DX_ASSIGN_OR_RETURN(Graph specialised, SpecializeModel(*model, shapes));
  auto graph = std::make_shared<const Graph>(std::move(specialised));
  std::string shape_key;
  for (ValueId v : graph->inputs) {
    shape_key += graph->value(v).name + ":";
    for (int64_t d : graph->value(v).shape) shape_key += std::to_string(d) + ",";
  }

  PlannerInputs in;
  PlanReportContext ctx;
  ctx.model = args.model;
  in.limits.latency_ms = args.latency_ms;
  in.limits.max_accuracy_drop = args.max_accuracy_drop;
  in.objective = args.objective == "latency" ? PlanObjective::kLatency : PlanObjective::kEnergy;
  in.options.intra_layer_splits = !args.no_splits;
  if (args.max_labels > 0) in.options.max_labels_per_state = args.max_labels;
  in.options.method = args.method == "dp"      ? PlanMethod::kDp
                      : args.method == "milp"  ? PlanMethod::kMilp
                      : args.method == "brute" ? PlanMethod::kBruteForce
                                               : PlanMethod::kAuto;
  std::vector<std::string> notes;
  if (!args.device.empty()) {
    DX_ASSIGN_OR_RETURN(DeviceProfile profile, LoadDeviceProfile(args.device));
    if (!args.network.empty()) DX_RETURN_IF_ERROR(UseNetwork(profile, args.network));
    in.processors = profile.processors;
    ctx.device = profile.name;
    for (size_t i = 0; i < profile.processors.size(); ++i)
      if (!profile.processor_network[i].empty()) ctx.network = profile.processor_network[i];
    ctx.latency_source.assign(in.processors.size(), "roofline");
  } else {
    // Processors present here, power figures from the host profile.
    const std::string host_path = FindHostProfile(args.host_profile);
    if (host_path.empty())
      return NotFound("no host profile (profiles/host.json) found; pass --host-profile or --device");
    DX_ASSIGN_OR_RETURN(DeviceProfile host, LoadDeviceProfile(host_path));
    if (!args.network.empty()) DX_RETURN_IF_ERROR(UseNetwork(host, args.network));
    std::vector<std::string> names = args.processors;
    if (names.empty()) {
      const std::vector<std::string> present = ProcessorNames();
      for (const char* want : {"cpu-big", "cpu-little"})
        if (std::find(present.begin(), present.end(), want) != present.end()) names.push_back(want);
      for (const std::string& p : present)
        if (p.rfind("opencl", 0) == 0) {
          names.push_back(p);
          break;
        }
      if (!args.remote_url.empty()) names.push_back("remote");
    }
    if (names.empty()) return NotFound("no processors found to plan for");
    BackendConfig config;
    config.remote_url = args.remote_url;
    config.token_file = args.token_file;
    std::unique_ptr<EnergyMeter> meter;
    if (auto m = DetectEnergyMeter("/sys"); m.ok()) meter = std::move(*m);
    ctx.device = "this machine";
    for (const std::string& name : names) {
      // The host profile entry: same name, or same family ("opencl:0" -> "opencl").
      const ProcessorSpec* figures = nullptr;
      for (const ProcessorSpec& p : host.processors)
        if (p.name == name || name.rfind(p.name + ":", 0) == 0) figures = &p;
      if (!figures) return NotFound("host profile '" + host_path + "' has no figures for processor '" + name + "'");
      ProcessorSpec spec = *figures;
      spec.name = name;
      spec.backend = name;
      spec.home = in.processors.empty();
      std::cerr << "deepx plan: profiling " << name << "...\n";
      auto measured = MeasureProcessor(graph, name, config, args, ProfileKey(args.model, name, shape_key), meter.get());
      if (!measured.ok()) {
        notes.push_back("processor " + name + " skipped: " + measured.status().ToString());
        continue;
      }
      spec.unsupported_ops = measured->unsupported;
      if (measured->active_w >= 0 && meter) {
        spec.active_w = measured->active_w;
        spec.idle_w = measured->idle_w;
        spec.power_source = "measured";
        notes.push_back("power of " + name + " measured with " + meter->kind() + " (" + meter->source() + ")");
      }
      in.processors.push_back(spec);
      in.measured.push_back(measured->node_ms);
      ctx.latency_source.push_back("measured");
      if (spec.kind == "remote") ctx.network = host.processor_network.empty() ? "" : args.network.empty() ? "loopback" : args.network;
    }
    if (in.processors.empty()) return Unavailable("no processor could be profiled");
    if (!meter) notes.push_back("no power meter readable here (powercap RAPL, INA3221, battery): energy is modelled");
  }
  if (args.bandwidth_mbps >= 0) in.conditions.network_mbps = args.bandwidth_mbps;
  if (args.rtt_ms >= 0) in.conditions.network_rtt_ms = args.rtt_ms;
  auto index_of = [&](const std::string& name) -> Result<size_t> {
    for (size_t p = 0; p < in.processors.size(); ++p)
      if (in.processors[p].name == name) return p;
    return NotFound("no processor '" + name + "'");
  };
  DX_ASSIGN_OR_RETURN(auto loads, ParseNamed(args.loads, "--load"));
  for (const auto& [name, v] : loads) {
    DX_ASSIGN_OR_RETURN(size_t p, index_of(name));
    in.conditions.load.resize(in.processors.size(), 0);
    in.conditions.load[p] = v;
  }
  DX_ASSIGN_OR_RETURN(auto mems, ParseNamed(args.free_memory, "--free-memory-mb"));
  for (const auto& [name, v] : mems) {
    DX_ASSIGN_OR_RETURN(size_t p, index_of(name));
    in.conditions.free_memory.resize(in.processors.size(), 0);
    in.conditions.free_memory[p] = static_cast<int64_t>(v * 1e6);
  }
  if (args.rlc) {
    DX_ASSIGN_OR_RETURN(in.rank_variants, RankVariants(model, *graph, args, &notes));
  }
  ctx.processors = in.processors;
  ctx.limits = in.limits;
  ctx.objective = in.objective;

  DX_ASSIGN_OR_RETURN(PlanReport report, PlanGraph(*graph, in));
  report.notes.insert(report.notes.begin(), notes.begin(), notes.end());
  if (!args.html.empty()) {
    std::ofstream out(args.html, std::ios::trunc);
    out << PlanReportHtml(report, ctx);
    if (!out) return IoError("cannot write '" + args.html + "'");
  }
  if (args.json) {
    std::cout << PlanReportJson(report, ctx) << "\n";
    return Status::Ok();
  }
  // Text report.
  const Graph& g = *report.graph;
  std::cout << std::fixed << "model: " << args.model << "\ndevice: " << ctx.device
            << (ctx.network.empty() ? "" : " (network " + ctx.network + ")") << "\nobjective: " << args.objective
            << "; limits: latency " << std::setprecision(1) << args.latency_ms << " ms, accuracy drop "
            << std::setprecision(2) << args.max_accuracy_drop * 100 << " %\n"
            << "method: " << report.method << ", " << report.segments.size() << " segments, planned in "
            << std::setprecision(2) << report.plan_time_ms << " ms\n\n";
  std::cout << std::left << std::setw(4) << "#" << std::setw(14) << "processor" << std::right << std::setw(11)
            << "latency ms" << std::setw(12) << "transfer ms" << std::setw(11) << "energy mJ" << std::setw(10)
            << "mem MB" << "  nodes\n";
  for (size_t i = 0; i < report.blocks.size(); ++i) {
    const BlockReport& b = report.blocks[i];
    std::string nodes = g.node(b.nodes.front()).name;
    if (b.nodes.size() > 1) nodes += " .. " + g.node(b.nodes.back()).name + " (" + std::to_string(b.nodes.size()) + ")";
    for (const BlockRank& r : b.ranks) nodes += " [" + g.node(r.node).name + " rank " + std::to_string(r.rank) + "]";
    if (b.split_group >= 0) nodes += " {split " + std::to_string(static_cast<int>(std::lround(b.split_fraction * 100))) + "%}";
    std::cout << std::left << std::setw(4) << i << std::setw(14) << in.processors[static_cast<size_t>(b.processor)].name
              << std::right << std::setprecision(3) << std::setw(11) << b.latency_ms << std::setw(12) << b.transfer_in_ms
              << std::setw(11) << b.energy_mj << std::setprecision(1) << std::setw(10) << b.memory_mb << "  " << nodes
              << (b.measured_latency ? "" : " (roofline)") << "\n";
  }
  auto line = [&](const std::string& name, const PlanCost& c) {
    const bool ok = c.feasible && c.latency_ms <= args.latency_ms * (1 + 1e-9);
    std::cout << std::left << std::setw(44) << name << std::right << std::setprecision(3) << std::setw(12)
              << c.latency_ms << std::setw(14) << c.energy_mj << std::setprecision(1) << std::setw(10) << c.memory_mb
              << "  " << (ok ? "meets limits" : "misses: " + c.violated) << "\n";
  };
  std::cout << "\n" << std::left << std::setw(44) << "plan" << std::right << std::setw(12) << "latency ms"
            << std::setw(14) << "energy mJ" << std::setw(10) << "mem MB" << "\n";
  line("DeepX", report.predicted);
  for (const BaselineReport& b : report.baselines)
    line(b.detail.empty() ? b.name + " only" : b.name + " (" + b.detail + ")", b.cost);
  std::cout << "energy: " << report.energy_source << "; accuracy drop (estimated): " << std::setprecision(4)
            << report.predicted.accuracy_drop << "; frontier: " << report.frontier.size() << " Pareto plans\n";
  for (const std::string& n : report.notes) std::cout << "note: " << n << "\n";
  if (!args.html.empty()) std::cout << "report: " << args.html << "\n";
  return Status::Ok();
}

}  // namespace

void AddPlanCommand(CLI::App& app) {
  auto args = std::make_shared<PlanArgs>();
  CLI::App* cmd = app.add_subcommand(
      "plan", "Plan a model across processors (DAD) for minimum energy under latency/accuracy/memory limits");
  cmd->footer(
      "Cuts the model into unit-blocks, predicts each block's latency, energy and memory per processor (measured\n"
      "here, or the roofline of a --device profile), and picks placement (and RLC ranks with --rlc) by exact DP /\n"
      "MILP. Baselines: each processor alone, full offload, the best single split point (Neurosurgeon).\n"
      "Exit codes: 0 success, 1 error or infeasible limits (the message names the limit and the best value), 2 usage.");
  cmd->add_option("model", args->model, "ONNX model")->required();
  cmd->add_option("--device", args->device, "Device profile (profiles/*.json); default: processors present here")
      ->type_name("PROFILE.json");
  cmd->add_option("--network", args->network, "Network of remote processors in the profile (wifi, lte, 3g, ...)");
  cmd->add_option("--latency-ms", args->latency_ms, "Latency limit per inference")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--max-accuracy-drop", args->max_accuracy_drop, "Estimated top-1 drop allowed (fraction)")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  cmd->add_option("--objective", args->objective, "What to minimise")
      ->check(CLI::IsMember({"energy", "latency"}))
      ->capture_default_str();
  cmd->add_flag("--json", args->json, "Print one JSON object");
  cmd->add_option("--html", args->html, "Write an HTML report with the energy-latency frontier")->type_name("FILE");
  cmd->add_option("--remote", args->remote_url, "A remote processor (KServe v2 server URL)");
  cmd->add_option("--token-file", args->token_file, "Bearer token file for --remote");
  cmd->add_option("--processors", args->processors, "Processors present here to use (default: cpu-big, cpu-little, "
                                                     "opencl, remote)")
      ->delimiter(',');
  cmd->add_option("--method", args->method, "Optimiser")
      ->check(CLI::IsMember({"auto", "dp", "milp", "brute"}))
      ->capture_default_str();
  cmd->add_flag("--no-splits", args->no_splits, "Do not split layers across processors");
  cmd->add_flag("--rlc", args->rlc, "Choose RLC ranks jointly with placement (estimates each rank's accuracy loss)");
  cmd->add_option("--runs", args->runs, "Profiled runs per processor")->check(CLI::Range(1, 1000))->capture_default_str();
  cmd->add_flag("--reprofile", args->reprofile, "Profile again even when cached");
  cmd->add_option("--input-shape", args->input_shapes, "NAME=DIMS for dynamic inputs");
  cmd->add_option("--bandwidth-mbps", args->bandwidth_mbps, "Network bandwidth now (overrides the profile)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--rtt-ms", args->rtt_ms, "Network round trip now (overrides the profile)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--load", args->loads, "NAME=FRACTION: a processor busy with other work")->delimiter(',');
  cmd->add_option("--free-memory-mb", args->free_memory, "NAME=MB: memory free on a processor")->delimiter(',');
  cmd->add_option("--max-labels", args->max_labels, "DP Pareto labels kept per state (default 64; larger: exact on "
                                                   "more graphs, slower)")
      ->check(CLI::Range(2, 1 << 20));
  cmd->add_option("--host-profile", args->host_profile, "Power figures of this machine (default profiles/host.json)");
  cmd->callback([args] {
    Status s = Plan(*args);
    if (!s.ok()) {
      std::cerr << "deepx plan: error: " << s.ToString() << "\n";
      SetExitCode(1);
      return;
    }
    SetExitCode(0);
  });
}

}  // namespace deepx::cli
