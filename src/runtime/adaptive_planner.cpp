#include "runtime/adaptive_planner.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "backends/reference/reference_backend.h"
#include "ops/op.h"
#include "runtime/executor.h"
#include "runtime/probe_util.h"
#include "runtime/switch_costs.h"

namespace deepx {

Result<MeasuredNodeTimes> MeasureNodeTimes(const std::shared_ptr<const Graph>& graph,
                                           const std::vector<std::shared_ptr<Backend>>& backends,
                                           const std::vector<Tensor>& inputs, int repeats) {
  const Graph& g = *graph;
  MeasuredNodeTimes measured;
  auto helper = std::make_shared<ReferenceBackend>("reference-helper");
  for (const auto& backend : backends) {
    std::vector<int> assignment(g.nodes.size(), 0);
    for (size_t n = 0; n < g.nodes.size(); ++n)
      if (!backend->Supports(g, g.nodes[n]).ok()) assignment[n] = 1;
    DX_ASSIGN_OR_RETURN(Plan plan, PlanFromAssignment(g, assignment));
    DX_ASSIGN_OR_RETURN(auto executor, Executor::Create(graph, std::move(plan), {backend, helper}));
    std::vector<std::vector<double>> samples(g.nodes.size());
    std::vector<double> timed_ms, untimed_ms;  // whole calls with and without per-node timings
    int runs = repeats;  // after the warm-up: probe::RepeatsFor its time
    for (int r = 0; r <= runs; ++r) {
      std::vector<NodeTiming> timings;
      RunOptions options;
      options.timings = &timings;
      RunReport report;
      auto out = executor->Run(inputs, options, &report);
      if (!out.ok()) return out.status().WithContext("measuring node times on '" + backend->info().name + "'");
      RunReport plain;
      DX_RETURN_IF_ERROR(executor->Run(inputs, {}, &plain).status().WithContext("measuring node times"));
      if (r == 0) {  // warm-up
        runs = probe::RepeatsFor((plain.end_ns - plain.start_ns) / 1e6, repeats);
        continue;
      }
      for (const NodeTiming& t : timings)
        if (assignment[static_cast<size_t>(t.node)] == 0)
          samples[static_cast<size_t>(t.node)].push_back((t.end_ns - t.start_ns) / 1e6);
      // Whole runs, outputs read back included: an asynchronous device (OpenCL) returns from an untimed call
      // before its work is done.
      timed_ms.push_back((report.end_ns - report.start_ns) / 1e6);
      untimed_ms.push_back((plain.end_ns - plain.start_ns) / 1e6);
    }
    // Timing each node can itself cost: the CUDA backend synchronises per node and gives up its CUDA-graph replay
    // (SqueezeNet's blocks on the H100 ran in ~45 % of their timed sum). Scale the node times down to what the
    // whole untimed call takes.
    const double scale = probe::TimingScale(timed_ms, untimed_ms);
    std::vector<double> row(g.nodes.size(), -1.0);
    for (size_t n = 0; n < g.nodes.size(); ++n) {
      if (assignment[n] != 0) continue;
      auto& s = samples[n];
      // Fused nodes report one entry for the group: the others ran inside it and cost nothing on their own.
      if (s.empty()) {
        row[n] = 0;
        continue;
      }
      row[n] = probe::Median(std::move(s)) * scale;
    }
    measured.push_back(std::move(row));
  }
  return measured;
}

ProcessorSpec LocalProcessorSpec(const Backend& backend, const Graph& graph, const std::vector<double>& node_ms) {
  ProcessorSpec spec;
  spec.name = backend.info().name;
  spec.backend = backend.info().name;
  spec.kind = backend.info().kind;
  spec.memory_bytes = backend.info().memory_bytes;
  double flops = 0, bytes = 0, seconds = 0;
  for (size_t n = 0; n < graph.nodes.size() && n < node_ms.size(); ++n) {
    if (node_ms[n] <= 0) continue;
    const Node& node = graph.nodes[n];
    const OpSchema* schema = OpRegistry::Default().Find(node.op_type);
    if (!schema) continue;
    CostContext ctx{node, {}, {}};
    for (ValueId v : node.inputs) ctx.inputs.push_back(v == kNoValue ? nullptr : &graph.value(v));
    for (ValueId v : node.outputs) ctx.outputs.push_back(v == kNoValue ? nullptr : &graph.value(v));
    const OpCost cost = ComputeCost(*schema, ctx);
    flops += cost.flops;
    bytes += cost.bytes_read + cost.bytes_written;
    seconds += node_ms[n] / 1e3;
  }
  // What the measured nodes achieved; the roofline then only scales variants (splits, ranks) of measured nodes.
  spec.gflops = seconds > 0 && flops > 0 ? flops / seconds / 1e9 : 1;
  spec.gbps = seconds > 0 && bytes > 0 ? bytes / seconds / 1e9 : 1;
  spec.efficiency = 1;
  return spec;
}

namespace {

// Median seconds of `repeats` runs (after one warm-up) of a one-node Relu graph of `elements` floats on `backend`.
Result<double> TimeRelu(const std::shared_ptr<Backend>& backend, int64_t elements, int repeats) {
  auto g = std::make_shared<Graph>();
  g->opset = 13;
  const ValueId xi = probe::AddFloat(*g, "x", {elements}), yi = probe::AddFloat(*g, "y", {elements});
  g->nodes.push_back(Node{.name = "relu", .op_type = "Relu", .opset = 13, .inputs = {xi}, .outputs = {yi}});
  g->inputs = {xi};
  g->outputs = {yi};
  std::shared_ptr<const Graph> graph = g;
  DX_ASSIGN_OR_RETURN(auto executor, Executor::Create(graph, SingleBackendPlan(*graph, 0), {backend}));
  Tensor input = Tensor::Zeros(DataType::kFloat32, {elements});
  std::vector<double> times;
  for (int r = 0; r <= repeats; ++r) {
    const int64_t t0 = SteadyNowNs();
    DX_RETURN_IF_ERROR(executor->Run({input}).status());
    if (r > 0) times.push_back((SteadyNowNs() - t0) / 1e9);
  }
  return probe::Median(times);
}

// Median seconds of moving `elements` floats to `backend` and back (ToDevice + ToHost), after one warm-up.
Result<double> TimeRoundTrip(Backend& backend, int64_t elements, int repeats) {
  Tensor t = Tensor::Zeros(DataType::kFloat32, {elements});
  std::vector<double> times;
  for (int r = 0; r <= repeats; ++r) {
    const int64_t t0 = SteadyNowNs();
    DX_ASSIGN_OR_RETURN(Tensor d, backend.ToDevice(t));
    DX_ASSIGN_OR_RETURN(Tensor h, backend.ToHost(d));
    if (r > 0) times.push_back((SteadyNowNs() - t0) / 1e9);
  }
  return probe::Median(times);
}

constexpr double kHandoffBytes = 32 * 56 * 56 * 4;  // the activation TimeHandoff hands over

// Median seconds one processor switch costs in the executor: a two-node chain run as two blocks (home, then
// `other`), timed from the first block's end to the second's start — publishing the value, queueing the block on
// the other processor's lane and waking that lane's thread. The first block computes for about a millisecond
// (a 3x3 convolution, ~60 MFLOP), as real blocks do: a thread (and a VM's virtual CPU) asleep that long wakes more
// slowly than one that just dozed off (measured here: ~0.02 ms after a tiny block, 0.04-0.1 ms in real plans).
// The second block's own entry and boundary costs are in its BoundaryCosts.
Result<double> TimeHandoff(const std::shared_ptr<Backend>& home, const std::shared_ptr<Backend>& other,
                           int repeats) {
  auto g = std::make_shared<Graph>();
  g->opset = 13;
  auto add = [&](const std::string& name, Shape shape, Tensor constant = {}) {
    return probe::AddFloat(*g, name, std::move(shape), std::move(constant));
  };
  const Shape act = {1, 32, 56, 56};
  const ValueId x = add("x", act), y = add("y", act), z = add("z", {1, 8, 56, 56});
  const ValueId w0 = add("w0", {32, 32, 3, 3}, Tensor::Zeros(DataType::kFloat32, {32, 32, 3, 3}));
  const ValueId w1 = add("w1", {8, 32, 1, 1}, Tensor::Zeros(DataType::kFloat32, {8, 32, 1, 1}));
  Attributes pads;
  pads.set("pads", std::vector<int64_t>{1, 1, 1, 1});
  g->nodes.push_back(Node{.name = "conv0", .op_type = "Conv", .opset = 13, .inputs = {x, w0}, .outputs = {y}, .attrs = pads});
  g->nodes.push_back(Node{.name = "conv1", .op_type = "Conv", .opset = 13, .inputs = {y, w1}, .outputs = {z}});
  g->inputs = {x};
  g->outputs = {z};
  std::shared_ptr<const Graph> graph = g;
  DX_ASSIGN_OR_RETURN(Plan split, PlanFromAssignment(*graph, {0, 1}));
  DX_ASSIGN_OR_RETURN(auto two, Executor::Create(graph, split, {home, other}));
  const Tensor input = Tensor::Zeros(DataType::kFloat32, act);
  std::vector<double> waits;
  for (int r = 0; r <= std::max(repeats, 5) * 2; ++r) {
    RunReport report;
    DX_RETURN_IF_ERROR(two->Run({input}, {}, &report).status());
    if (r > 0 && report.blocks.size() == 2) waits.push_back((report.blocks[1].start_ns - report.blocks[1].ready_ns) / 1e9);
  }
  return std::max(probe::Median(waits), 0.0);
}

// How much slower `a` and `b` each compute while the other computes too: two independent layers reading one
// input run as one block on each processor alone, and as two blocks, one per processor, at the same time; the
// ratio of medians, at least 1. `memory_bound`: fully connected layers of 2048 x 4096 (32 MB of weights each, read
// from memory), else 3x3 convolutions of 32 channels at 56 x 56 (~60 MFLOP each, cache-resident). Emulated
// big/little cores on a VM whose vCPUs may be hyperthreads of one core see 1.0-1.7 on the convolutions; memory-
// bound layers share the memory bandwidth wherever they run.
Result<std::pair<double, double>> TimeContention(const std::shared_ptr<Backend>& a, const std::shared_ptr<Backend>& b,
                                                 bool memory_bound, int repeats) {
  auto g = std::make_shared<Graph>();
  g->opset = 13;
  auto add = [&](const std::string& name, Shape shape, Tensor constant = {}) {
    return probe::AddFloat(*g, name, std::move(shape), std::move(constant));
  };
  const Shape act = memory_bound ? Shape{1, 4096} : Shape{1, 32, 56, 56};
  const Shape out = memory_bound ? Shape{1, 2048} : act;
  const Shape wshape = memory_bound ? Shape{2048, 4096} : Shape{32, 32, 3, 3};
  const ValueId x = add("x", act), y0 = add("y0", out), y1 = add("y1", out);
  const ValueId w0 = add("w0", wshape, Tensor::Zeros(DataType::kFloat32, wshape));
  const ValueId w1 = add("w1", wshape, Tensor::Zeros(DataType::kFloat32, wshape));
  Attributes attrs;
  if (memory_bound) attrs.set("transB", int64_t{1});
  else attrs.set("pads", std::vector<int64_t>{1, 1, 1, 1});
  const std::string op = memory_bound ? "Gemm" : "Conv";
  g->nodes.push_back(Node{.name = "layer0", .op_type = op, .opset = 13, .inputs = {x, w0}, .outputs = {y0}, .attrs = attrs});
  g->nodes.push_back(Node{.name = "layer1", .op_type = op, .opset = 13, .inputs = {x, w1}, .outputs = {y1}, .attrs = attrs});
  g->inputs = {x};
  g->outputs = {y0, y1};
  std::shared_ptr<const Graph> graph = g;
  DX_ASSIGN_OR_RETURN(Plan both, PlanFromAssignment(*graph, {0, 1}));
  DX_ASSIGN_OR_RETURN(auto alone_a, Executor::Create(graph, SingleBackendPlan(*graph, 0), {a}));
  DX_ASSIGN_OR_RETURN(auto alone_b, Executor::Create(graph, SingleBackendPlan(*graph, 0), {b}));
  DX_ASSIGN_OR_RETURN(auto together, Executor::Create(graph, both, {a, b}));
  const Tensor input = Tensor::Zeros(DataType::kFloat32, act);
  std::vector<double> sa, sb, ta, tb;
  for (int r = 0; r <= std::max(repeats, 5); ++r) {
    RunReport ra, rb, rt;
    DX_RETURN_IF_ERROR(alone_a->Run({input}, {}, &ra).status());
    DX_RETURN_IF_ERROR(together->Run({input}, {}, &rt).status());
    DX_RETURN_IF_ERROR(alone_b->Run({input}, {}, &rb).status());
    if (r == 0 || rt.blocks.size() != 2) continue;
    sa.push_back((ra.blocks[0].end_ns - ra.blocks[0].start_ns) / 2e6);  // two layers
    sb.push_back((rb.blocks[0].end_ns - rb.blocks[0].start_ns) / 2e6);
    ta.push_back((rt.blocks[0].end_ns - rt.blocks[0].start_ns) / 1e6);
    tb.push_back((rt.blocks[1].end_ns - rt.blocks[1].start_ns) / 1e6);
  }
  if (sa.empty()) return std::pair<double, double>{1.0, 1.0};
  using probe::Median;
  return std::pair<double, double>{std::max(Median(ta) / Median(sa), 1.0), std::max(Median(tb) / Median(sb), 1.0)};
}

}  // namespace

Result<PlannerInputs> LocalPlannerInputs(const std::shared_ptr<const Graph>& graph,
                                         const std::vector<std::shared_ptr<Backend>>& backends,
                                         const std::vector<Tensor>& inputs, int repeats) {
  if (backends.empty()) return InvalidArgument("no processors to plan on");
  const bool trace = std::getenv("DX_DEBUG") != nullptr;
  auto progress = [&](const std::string& what) {
    if (trace) std::fprintf(stderr, "profiling: %s\n", what.c_str());
  };
  PlannerInputs in;
  in.options.split_min_gain = 0.1;
  in.options.switch_min_gain = 0.05;
  progress("node times");
  DX_ASSIGN_OR_RETURN(in.measured, MeasureNodeTimes(graph, backends, inputs, repeats));
  int home = -1;
  for (size_t p = 0; p < backends.size(); ++p) {
    in.processors.push_back(LocalProcessorSpec(*backends[p], *graph, in.measured[p]));
    if (home < 0 && WorksOnHostMemory(*backends[p])) home = static_cast<int>(p);
  }
  if (home < 0) home = 0;
  in.processors[static_cast<size_t>(home)].home = true;
  // Block boundaries on every local processor that runs the whole graph (a remote's are in its round trip).
  in.boundaries.resize(backends.size());
  for (size_t p = 0; p < backends.size(); ++p) {
    if (backends[p]->info().kind == "remote") continue;
    bool all = true;
    for (double ms : in.measured[p]) all &= ms >= 0;
    if (!all) continue;
    progress("block boundaries on " + backends[p]->info().name);
    DX_ASSIGN_OR_RETURN(in.boundaries[p], MeasureBoundaryCosts(graph, backends[p], inputs, std::max(repeats, 5)));
  }
  const std::vector<double>& home_row = in.measured[static_cast<size_t>(home)];
  double home_total = 0;
  for (double ms : home_row) home_total += std::max(ms, 0.0);
  for (size_t p = 0; p < backends.size(); ++p) {
    // A device with its own memory (OpenCL, CUDA): its link is the measured host <-> device copy; each crossing
    // costs half a round trip.
    if (backends[p]->info().kind == "remote" || WorksOnHostMemory(*backends[p])) continue;
    ProcessorSpec& spec = in.processors[p];
    DX_ASSIGN_OR_RETURN(double small_s, TimeRoundTrip(*backends[p], 1, repeats));
    DX_ASSIGN_OR_RETURN(double big_s, TimeRoundTrip(*backends[p], int64_t{1} << 18, repeats));  // 1 MiB
    spec.link_latency_ms = small_s / 2 * 1e3;
    spec.link_gbps = 2.0 * (1 << 20) / std::max(big_s - small_s, 1e-6) / 1e9;
  }
  // Hand-overs between lanes (waking the worker of the processor a block is handed to), measured into every local
  // processor from home and into home from the first other one. Processors on host memory (cpu-big/cpu-little,
  // and CUDA, whose executables stage host tensors themselves) then need no link: bytes cost them nothing at the
  // executor level (their executables' staging and layout conversions at a block boundary are in BoundaryCosts).
  // A device processor's measured wait includes moving the 400 KB activation in: its link cost is taken off.
  bool home_handoff_measured = false;
  for (size_t p = 0; p < backends.size(); ++p) {
    if (static_cast<int>(p) == home || backends[p]->info().kind == "remote") continue;
    ProcessorSpec& spec = in.processors[p];
    progress("hand-over into " + backends[p]->info().name);
    DX_ASSIGN_OR_RETURN(double into_s, TimeHandoff(backends[static_cast<size_t>(home)], backends[p], repeats));
    if (WorksOnHostMemory(*backends[p])) {
      spec.link_latency_ms = 0;
      spec.link_gbps = 0;
    } else {
      into_s -= (spec.link_latency_ms + kHandoffBytes / (spec.link_gbps * 1e9) * 1e3) / 1e3;
    }
    spec.handoff_ms = std::max(into_s, 0.0) * 1e3;
    if (!home_handoff_measured) {
      progress("hand-over back from " + backends[p]->info().name);
      DX_ASSIGN_OR_RETURN(double back_s, TimeHandoff(backends[p], backends[static_cast<size_t>(home)], repeats));
      in.processors[static_cast<size_t>(home)].handoff_ms = back_s * 1e3;
      home_handoff_measured = true;
    }
  }
  // Host CPU processors share the machine: how much each slows down while another computes (split layers).
  for (size_t p = 0; p < backends.size(); ++p) {
    if (static_cast<int>(p) == home || backends[p]->info().kind != "cpu" ||
        backends[static_cast<size_t>(home)]->info().kind != "cpu")
      continue;
    ProcessorSpec& h = in.processors[static_cast<size_t>(home)];
    progress("contention with " + backends[p]->info().name);
    DX_ASSIGN_OR_RETURN(auto compute, TimeContention(backends[static_cast<size_t>(home)], backends[p], false, repeats));
    h.contention = std::max(h.contention, compute.first);
    in.processors[p].contention = compute.second;
    DX_ASSIGN_OR_RETURN(auto memory, TimeContention(backends[static_cast<size_t>(home)], backends[p], true, repeats));
    h.contention_memory = std::max(h.contention_memory, memory.first);
    in.processors[p].contention_memory = memory.second;
    // An OpenCL CPU device (PoCL) runs on the host's own cores with its own threads: two shares of a split layer
    // cannot both run at full speed there, whatever a short probe shows (AlexNet's FC layers split between the
    // CPU and PoCL took 2-2.7x their prediction with the probed 1.0-1.4).
    if (!WorksOnHostMemory(*backends[p])) {
      in.processors[p].contention = std::max(in.processors[p].contention, 2.0);
      in.processors[p].contention_memory = std::max(in.processors[p].contention_memory, 2.0);
    }
  }
  for (size_t p = 0; p < backends.size(); ++p) {
    if (backends[p]->info().kind != "remote") continue;
    ProcessorSpec& spec = in.processors[p];
    DX_ASSIGN_OR_RETURN(double rtt_s, TimeRelu(backends[p], 1, repeats));
    DX_ASSIGN_OR_RETURN(double big_s, TimeRelu(backends[p], int64_t{1} << 18, repeats));  // 1 MiB each way
    spec.link_latency_ms = rtt_s * 1e3;
    spec.link_gbps = 2.0 * (1 << 20) / std::max(big_s - rtt_s, 1e-6) / 1e9;
    double remote_total = 0;
    for (double ms : in.measured[p]) remote_total += std::max(ms, 0.0);
    double io_bytes = 0;
    for (ValueId v : graph->inputs) io_bytes += static_cast<double>(NumElements(graph->value(v).shape)) * 4;
    for (ValueId v : graph->outputs) io_bytes += static_cast<double>(NumElements(graph->value(v).shape)) * 4;
    const double compute_ms =
        std::max(remote_total - spec.link_latency_ms - io_bytes / (spec.link_gbps * 1e9) * 1e3, 0.0);
    for (size_t n = 0; n < home_row.size(); ++n)
      in.measured[p][n] = home_total > 0 ? std::max(home_row[n], 0.0) * compute_ms / home_total : 0;
    // The roofline (variants only) follows the derived times.
    spec.gflops = in.processors[static_cast<size_t>(home)].gflops * (compute_ms > 0 ? home_total / compute_ms : 1);
    spec.gbps = in.processors[static_cast<size_t>(home)].gbps * (compute_ms > 0 ? home_total / compute_ms : 1);
  }
  return in;
}

Result<PlannerInputs> InputsForConditions(const PlannerInputs& base, const Conditions& c, std::vector<int>* kept) {
  PlannerInputs in = base;
  in.processors.clear();
  in.measured.clear();
  in.conditions = PlanConditions();
  kept->clear();
  bool home_kept = false;
  for (size_t p = 0; p < base.processors.size(); ++p) {
    const ProcessorSpec& spec = base.processors[p];
    if (c.unhealthy.count(spec.name)) continue;
    kept->push_back(static_cast<int>(p));
    in.processors.push_back(spec);
    home_kept |= spec.home;
    if (p < base.measured.size()) in.measured.push_back(base.measured[p]);
    const bool host_cpu = spec.kind == "cpu";
    // Under fair scheduling a CPU-bound thread of ours shares a core with the other work: with other work keeping
    // a fraction u of every core busy it gets about 1 / (1 + u) of one, i.e. the planner's load is u / (1 + u).
    // A measured contention is that fraction directly.
    const double u = std::clamp(c.cpu_load, 0.0, 1.0);
    const double load = c.cpu_contention >= 0 ? std::clamp(c.cpu_contention, 0.0, 0.95) : u / (1 + u);
    in.conditions.load.push_back(host_cpu ? load : 0.0);
    const bool host_memory = spec.kind != "remote" && spec.link_gbps == 0;
    in.conditions.free_memory.push_back(host_memory && c.mem_available_bytes > 0 ? c.mem_available_bytes : 0);
    if (spec.kind == "remote" && in.conditions.network_mbps < 0) {
      auto link = c.links.find(spec.name);
      if (link != c.links.end()) {
        if (link->second.bandwidth_mbps >= 0) in.conditions.network_mbps = std::max(link->second.bandwidth_mbps, 1e-3);
        if (link->second.rtt_ms >= 0) in.conditions.network_rtt_ms = link->second.rtt_ms;
      }
    }
  }
  if (in.processors.empty()) return Unavailable("every processor is unhealthy: nothing to plan on");
  // The home processor went down: the first remaining one receives inputs and returns outputs.
  if (!home_kept) in.processors[0].home = true;
  if (!in.measured.empty() && in.measured.size() != in.processors.size()) in.measured.clear();
  return in;
}

PlannerFn MakeDadPlanner(PlannerInputs base) {
  return [base = std::move(base)](const std::shared_ptr<const Graph>& graph,
                                  const Conditions& c) -> Result<PlannedGraph> {
    std::vector<int> kept;
    DX_ASSIGN_OR_RETURN(PlannerInputs in, InputsForConditions(base, c, &kept));
    Result<PlanReport> planned = PlanGraph(*graph, in);
    bool relaxed = false;
    if (!planned.ok() && planned.status().code() == StatusCode::kFailedPrecondition) {
      // No plan meets the limits under these conditions: run the fastest plan rather than none (a request must
      // still be answered), and say so in the plan.
      PlannerInputs fastest = in;
      fastest.objective = PlanObjective::kLatency;
      fastest.limits.latency_ms = 1e12;
      planned = PlanGraph(*graph, fastest);
      relaxed = true;
    }
    if (!planned.ok()) return planned.status();
    PlanReport& report = *planned;
    PlannedGraph out;
    out.meets_limits = !relaxed;
    // Without intra-layer splits the report's graph is a copy of the input (same node ids): keep the input's, so
    // that plans for different conditions that run the same blocks are recognised as the same execution (the
    // adaptive session shares their executor).
    const bool split = report.graph && report.graph->nodes.size() != graph->nodes.size();
    out.graph = split ? std::shared_ptr<const Graph>(report.graph) : graph;
    out.plan = std::move(report.plan);
    for (const ProcessorSpec& p : in.processors) out.processors.push_back(p.name);
    for (const BlockReport& b : report.blocks) out.predicted_block_ms.push_back(b.latency_ms + b.transfer_in_ms);
    out.predicted_latency_ms = report.predicted.latency_ms;
    out.predicted_energy_mj = report.predicted.energy_mj;
    out.energy_source = report.energy_source;
    return out;
  };
}

}  // namespace deepx
