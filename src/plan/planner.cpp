// PlanGraph: the numbered passes of planner.h.
#include "plan/planner.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <set>

#include "plan/cost_model.h"
#include "plan/solvers.h"
#include "plan/split_transform.h"
#include "plan/unit_blocks.h"

namespace deepx {
namespace {

using Clock = std::chrono::steady_clock;

// What the solution says about one node of the input graph.
struct NodeChoice {
  int proc = 0;
  int level = 0;
  int partner = -1;
  double fraction = 1;
};

PlanCost CostOf(const PlanProblem& pb, const Evaluation& e) {
  PlanCost c;
  c.latency_ms = e.latency_s * 1e3;
  c.energy_mj = e.energy_j * 1e3;
  c.accuracy_drop = e.accuracy_loss;
  for (size_t p = 0; p < pb.procs.size(); ++p) {
    const double mb = (e.weight_bytes[p] + e.activation_bytes[p]) / 1e6;
    c.memory_mb_per_processor.push_back(mb);
    c.memory_mb += mb;
  }
  c.feasible = e.feasible;
  c.violated = e.violated;
  return c;
}

// Every task (but the endpoints) on processor p, dense. Infeasible when p cannot run some task.
Evaluation SingleProcessor(const PlanProblem& pb, int p, std::string* why, std::vector<TaskChoice>* chosen = nullptr) {
  std::vector<TaskChoice> choice(pb.tasks.size());
  for (size_t t = 0; t < pb.tasks.size(); ++t) {
    choice[t] = {.proc = pb.tasks[t].pinned >= 0 ? pb.tasks[t].pinned : p, .variant = 0};
    if (!ChoiceAllowed(pb, static_cast<int>(t), choice[t])) {
      *why = pb.procs[static_cast<size_t>(p)].name + " cannot run " + pb.tasks[t].label;
      Evaluation e;
      e.feasible = false;
      e.latency_s = e.energy_j = kInfinity;
      e.weight_bytes.assign(pb.procs.size(), 0);
      e.activation_bytes.assign(pb.procs.size(), 0);
      return e;
    }
  }
  if (chosen) *chosen = choice;
  return Evaluate(pb, choice);
}

bool Better(const PlanProblem& pb, const Evaluation& a, const Evaluation& b) {
  if (a.feasible != b.feasible) return a.feasible;
  if (!a.feasible) return a.latency_s < b.latency_s;
  return ObjectiveValue(pb, a) < ObjectiveValue(pb, b) - 1e-15;
}

std::string Fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

// Baselines on the chain problem: each processor alone, and the best single split point (Neurosurgeon: the first
// segments on a local processor, the rest on a remote one, or on another local processor when there is no remote).
std::vector<BaselineReport> Baselines(const PlanProblem& pb, const std::vector<ProcessorSpec>& procs) {
  std::vector<BaselineReport> out;
  for (size_t p = 0; p < pb.procs.size(); ++p) {
    std::string why;
    Evaluation e = SingleProcessor(pb, static_cast<int>(p), &why);
    BaselineReport b{.name = pb.procs[p].name, .cost = CostOf(pb, e)};
    if (!why.empty()) b.cost.violated = why;
    out.push_back(std::move(b));
  }
  bool any_remote = false;
  for (const ProcessorSpec& p : procs) any_remote |= p.kind == "remote";
  const size_t n = pb.tasks.size();
  Evaluation best;
  bool have = false;
  int best_k = -1;
  std::string best_name;
  for (size_t l = 0; l < procs.size(); ++l) {
    if (procs[l].kind == "remote") continue;
    for (size_t r = 0; r < procs.size(); ++r) {
      if (r == l || (any_remote && procs[r].kind != "remote")) continue;
      for (size_t k = 1; k + 2 < n; ++k) {  // tasks 1..k local, k+1..n-2 on r
        std::vector<TaskChoice> choice(n);
        bool ok = true;
        for (size_t t = 0; t < n && ok; ++t) {
          const int proc = pb.tasks[t].pinned >= 0 ? pb.tasks[t].pinned : static_cast<int>(t <= k ? l : r);
          choice[t] = {.proc = proc, .variant = 0};
          ok = ChoiceAllowed(pb, static_cast<int>(t), choice[t]);
        }
        if (!ok) continue;
        Evaluation e = Evaluate(pb, choice);
        if (!have || Better(pb, e, best)) {
          best = std::move(e);
          have = true;
          best_k = static_cast<int>(k) - 1;  // segment index
          best_name = procs[l].name + " | " + procs[r].name;
        }
      }
    }
  }
  if (have) {
    // A split point at either end is a single-processor plan; report the split only when it beats both.
    out.push_back({.name = "neurosurgeon", .cost = CostOf(pb, best), .split_after_segment = best_k, .detail = best_name});
  }
  return out;
}

}  // namespace

Result<PlanCost> SingleProcessorCost(const Graph& g, const PlannerInputs& in, int p) {
  if (p < 0 || static_cast<size_t>(p) >= in.processors.size()) return InvalidArgument("no processor " + std::to_string(p));
  DX_ASSIGN_OR_RETURN(CostTables costs, BuildCostTables(g, in));
  const SegmentChain chain = CutIntoSegments(g);
  std::vector<std::vector<int>> levels;
  const PlanProblem pb = BuildChainProblem(g, chain, costs, in, &levels);
  std::string why;
  PlanCost c = CostOf(pb, SingleProcessor(pb, p, &why));
  if (!why.empty()) c.violated = why;
  return c;
}

Result<PlanReport> PlanGraph(const Graph& g, const PlannerInputs& in) {
  const auto t0 = Clock::now();
  if (g.nodes.empty()) return InvalidArgument("planner: the graph has no nodes");
  if (!(in.limits.latency_ms > 0)) return InvalidArgument("planner: the latency limit must be > 0 ms");
  if (!(in.limits.max_accuracy_drop >= 0)) return InvalidArgument("planner: the accuracy-drop limit must be >= 0");
  // Pass 2 first: it validates the processors and the graph.
  DX_ASSIGN_OR_RETURN(CostTables costs, BuildCostTables(g, in));
  DX_ASSIGN_OR_RETURN(std::vector<ProcessorSpec> procs, EffectiveProcessors(in));
  // Pass 1: unit-blocks.
  PlanReport report;
  const SegmentChain chain = CutIntoSegments(g);
  report.segments = chain.segments;
  std::vector<std::vector<int>> chain_levels;
  const PlanProblem chain_pb = BuildChainProblem(g, chain, costs, in, &chain_levels);

  // Pass 3: optimise.
  std::vector<NodeChoice> node_choice(g.nodes.size());
  Solution sol;
  const PlanProblem* solved = &chain_pb;
  PlanProblem dag_pb;
  RunDag dag;
  std::vector<std::vector<int>> dag_levels;
  bool use_dag = false;
  if (!in.options.fixed_segments.empty()) {
    if (in.options.fixed_segments.size() != chain.segments.size())
      return InvalidArgument("planner: the fixed placement names " + std::to_string(in.options.fixed_segments.size()) +
                             " segments, the graph has " + std::to_string(chain.segments.size()));
    sol.choice.assign(chain_pb.tasks.size(), TaskChoice{.proc = costs.home});
    for (size_t i = 0; i < chain.segments.size(); ++i) {
      const int p = in.options.fixed_segments[i];
      if (p < 0 || static_cast<size_t>(p) >= procs.size())
        return InvalidArgument("planner: the fixed placement names processor " + std::to_string(p));
      sol.choice[i + 1] = TaskChoice{.proc = p};
      if (!ChoiceAllowed(chain_pb, static_cast<int>(i) + 1, sol.choice[i + 1]))
        return InvalidArgument("planner: processor " + procs[static_cast<size_t>(p)].name + " cannot run segment " +
                               std::to_string(i) + " (" + chain_pb.tasks[i + 1].label + ")");
    }
    sol.eval = Evaluate(chain_pb, sol.choice);
    report.method = "fixed";
  } else switch (in.options.method) {
    case PlanMethod::kBruteForce: {
      DX_ASSIGN_OR_RETURN(sol, SolveBruteForce(chain_pb, {.splits = in.options.intra_layer_splits}));
      report.method = "brute-force";
      break;
    }
    case PlanMethod::kMilp: {
      dag = SplitIntoRuns(g);
      dag_pb = BuildDagProblem(g, dag, costs, in, &dag_levels);
      DX_ASSIGN_OR_RETURN(sol, SolveMilp(dag_pb, {.time_limit_s = in.options.milp_time_limit_s}));
      use_dag = true;
      report.method = "milp";
      break;
    }
    case PlanMethod::kDp:
    case PlanMethod::kAuto: {
      DX_ASSIGN_OR_RETURN(sol, SolveChainDp(chain_pb, {.splits = in.options.intra_layer_splits,
                                                        .max_labels_per_state = in.options.max_labels_per_state}));
      report.method = "dp";
      // The MILP's branch-level cuts fall inside segments, where no boundary cost was measured: with measured
      // boundaries it would see those cuts as free (SqueezeNet over cpu-big + cpu-little: every Fire module's
      // branches on two processors, 7.5 ms predicted, 10.6-12 ms measured), so the chain plan stands.
      if (in.options.method == PlanMethod::kAuto && MilpAvailable() && procs.size() > 1 && in.boundaries.empty()) {
        dag = SplitIntoRuns(g);
        if (dag.runs.size() + 2 <= static_cast<size_t>(in.options.milp_max_tasks) &&
            dag.runs.size() > chain.segments.size()) {
          dag_pb = BuildDagProblem(g, dag, costs, in, &dag_levels);
          auto milp = SolveMilp(dag_pb, {.time_limit_s = in.options.milp_time_limit_s});
          if (milp.ok() && milp->eval.feasible &&
              ObjectiveValue(dag_pb, milp->eval) < ObjectiveValue(chain_pb, sol.eval) * (1 - 1e-9)) {
            std::vector<FrontierPoint> frontier = std::move(sol.frontier);
            sol = std::move(*milp);
            sol.frontier = std::move(frontier);
            use_dag = true;
            report.method = "milp";
            report.notes.push_back("branches run concurrently: the MILP plan on the DAG of runs beats the chain DP");
          }
        }
      }
      break;
    }
  }
  // Pass 3b: a plan over several processors that gains less than options.switch_min_gain over the best feasible
  // single processor gives way to it (measured processors: within the noise, and below an idle processor's wake-up).
  if (in.options.switch_min_gain > 0 && in.options.fixed_segments.empty() && sol.eval.feasible) {
    const PlanProblem& pb = use_dag ? dag_pb : chain_pb;
    std::set<int> used;
    for (size_t t = 0; t < sol.choice.size(); ++t) {
      if (pb.tasks[t].pinned >= 0) continue;
      used.insert(sol.choice[t].proc);
      if (sol.choice[t].partner >= 0) used.insert(sol.choice[t].partner);
    }
    int best = -1;
    Evaluation best_eval;
    std::vector<TaskChoice> best_choice;
    for (size_t p = 0; used.size() > 1 && p < procs.size(); ++p) {
      std::string why;
      std::vector<TaskChoice> choice;
      Evaluation e = SingleProcessor(chain_pb, static_cast<int>(p), &why, &choice);
      if (!why.empty() || !e.feasible || (best >= 0 && !Better(chain_pb, e, best_eval))) continue;
      best = static_cast<int>(p);
      best_eval = std::move(e);
      best_choice = std::move(choice);
    }
    const double mine = ObjectiveValue(pb, sol.eval);
    const double alone = best >= 0 ? ObjectiveValue(chain_pb, best_eval) : 0;
    if (best >= 0 && mine > alone * (1 - in.options.switch_min_gain)) {
      report.notes.push_back(Fmt("the best plan over several processors gained %.1f %%", 100 * (1 - mine / alone)) +
                             " over " + procs[static_cast<size_t>(best)].name + " alone, less than the " +
                             Fmt("%.0f %%", 100 * in.options.switch_min_gain) + " a switch must gain: " +
                             procs[static_cast<size_t>(best)].name + " runs the whole graph");
      sol.choice = std::move(best_choice);
      sol.eval = std::move(best_eval);
      use_dag = false;
    }
  }
  if (use_dag) solved = &dag_pb;
  report.milp_gap = sol.gap;
  if (sol.thinned)
    report.notes.push_back("some DP states held more than " + std::to_string(in.options.max_labels_per_state) +
                           " Pareto labels and were thinned: the plan may be slightly suboptimal");
  const auto& groups = use_dag ? dag.runs : chain.segments;
  const auto& levels = use_dag ? dag_levels : chain_levels;
  for (size_t i = 0; i < groups.size(); ++i) {
    const TaskChoice& c = sol.choice[i + 1];
    for (NodeId n : groups[i])
      node_choice[static_cast<size_t>(n)] = {.proc = c.proc,
                                             .level = levels[i + 1][static_cast<size_t>(c.variant)],
                                             .partner = c.partner,
                                             .fraction = c.fraction};
  }

  // Pass 4: assemble. Splits applied from the last node back so earlier node ids stay valid.
  struct Info {
    NodeId orig = -1;  // node of the input graph (-1: a split's concat)
    int proc = 0;
    double share = 1;  // share of the original node's work
  };
  auto graph = std::make_shared<Graph>(g);
  std::vector<Info> info(g.nodes.size());
  for (size_t k = 0; k < g.nodes.size(); ++k) info[k] = {static_cast<NodeId>(k), node_choice[k].proc, 1};
  int groups_made = 0;
  for (size_t k = g.nodes.size(); k-- > 0;) {
    const NodeChoice& c = node_choice[k];
    if (c.partner < 0) continue;
    DX_ASSIGN_OR_RETURN(SplitNodes s, SplitOutputChannels(*graph, static_cast<NodeId>(k), c.fraction));
    const double f = static_cast<double>(s.channels_first) / static_cast<double>(s.channels);
    info[k].share = f;
    info.insert(info.begin() + static_cast<std::ptrdiff_t>(k) + 1,
                {Info{static_cast<NodeId>(k), c.partner, 1 - f}, Info{-1, c.proc, 0}});
    ++groups_made;
  }
  std::vector<int> node_backend(graph->nodes.size());
  for (size_t i = 0; i < info.size(); ++i) node_backend[i] = info[i].proc;
  DX_ASSIGN_OR_RETURN(report.plan, PlanFromAssignment(*graph, node_backend));
  DX_RETURN_IF_ERROR(ValidatePlan(*graph, report.plan, static_cast<int>(procs.size())));

  // Per-block predictions.
  const auto producers = graph->Producers();
  std::vector<int> block_of_node(graph->nodes.size(), -1);
  for (size_t b = 0; b < report.plan.blocks.size(); ++b)
    for (NodeId n : report.plan.blocks[b].nodes) block_of_node[static_cast<size_t>(n)] = static_cast<int>(b);
  int group_id = 0;
  for (size_t b = 0; b < report.plan.blocks.size(); ++b) {
    const Block& block = report.plan.blocks[b];
    BlockReport r;
    r.nodes = block.nodes;
    r.processor = block.backend;
    const ProcessorSpec& proc = procs[static_cast<size_t>(block.backend)];
    double weights = 0, act = 0;
    bool all_measured = true;
    for (NodeId n : block.nodes) {
      const Info& ni = info[static_cast<size_t>(n)];
      if (ni.orig < 0) {  // the concat of a split: measured here, else a copy of the output at memory speed
        const ValueId out = graph->node(n).outputs[0];
        const size_t pi = static_cast<size_t>(block.backend);
        if (pi < in.boundaries.size() && in.boundaries[pi].recombine_ms.count(out)) {
          r.latency_ms += BoundarySeconds(in, pi, in.boundaries[pi].recombine_ms, out) * 1e3;
          continue;
        }
        r.latency_ms += RooflineSeconds(proc, 0, 2 * ValueBytes(*graph, out), 1) * 1e3;
        all_measured = false;
        continue;
      }
      const size_t k = static_cast<size_t>(ni.orig);
      const int level = node_choice[k].level;
      // A split's shares run at the same time.
      const NodeCost& nc = costs.nodes[k];
      const double contention =
          ni.share < 1 ? ShareContention(solved->procs[static_cast<size_t>(block.backend)],
                                         nc.bytes > 0 ? nc.flops / nc.bytes : 0)
                       : 1.0;
      r.latency_ms +=
          costs.seconds[static_cast<size_t>(level)][k][static_cast<size_t>(block.backend)] * ni.share * contention * 1e3;
      weights += costs.weight_bytes[static_cast<size_t>(level)][k] * ni.share;
      act = std::max(act, costs.nodes[k].activation_bytes);
      all_measured &= costs.measured[k][static_cast<size_t>(block.backend)];
      if (costs.rank[static_cast<size_t>(level)][k] > 0) r.ranks.push_back({ni.orig, costs.rank[static_cast<size_t>(level)][k]});
      if (ni.share < 1) {
        r.split_fraction = ni.share;
        r.split_group = -2;  // set below
      }
    }
    if (static_cast<size_t>(block.backend) < in.boundaries.size()) {
      const size_t pi = static_cast<size_t>(block.backend);
      const BoundaryCosts& bc = in.boundaries[pi];
      // A split share's output is a new value: it costs its share of the whole layer output's boundary.
      auto cost = [&](const std::map<ValueId, double>& m, ValueId v) {
        double share = 1;
        const NodeId p = producers[static_cast<size_t>(v)];
        if (static_cast<size_t>(v) >= g.values.size() && p >= 0 && info[static_cast<size_t>(p)].orig >= 0) {
          share = info[static_cast<size_t>(p)].share;
          v = g.node(info[static_cast<size_t>(p)].orig).outputs[0];
        }
        return BoundarySeconds(in, pi, m, v) * 1e3 * share;
      };
      r.boundary_ms = BlockSeconds(in, pi) * 1e3;
      for (ValueId v : block.inputs) r.boundary_ms += cost(bc.enter_ms, v);
      for (ValueId v : block.outputs) r.boundary_ms += cost(bc.leave_ms, v);
      r.latency_ms += r.boundary_ms;
    }
    double transfer_j = 0;
    bool handed = false;
    for (ValueId v : block.inputs) {
      const NodeId p = producers[static_cast<size_t>(v)];
      const int from = p < 0 ? costs.home : report.plan.blocks[static_cast<size_t>(block_of_node[static_cast<size_t>(p)])].backend;
      handed |= p >= 0 && from != block.backend;
      const TransferCost& link = costs.link[static_cast<size_t>(from)][static_cast<size_t>(block.backend)];
      r.transfer_in_ms += link.Seconds(ValueBytes(*graph, v)) * 1e3;
      transfer_j += link.Joules(ValueBytes(*graph, v));
    }
    r.energy_mj = proc.active_w * r.latency_ms + transfer_j * 1e3;
    r.memory_mb = (weights + act) / 1e6;
    r.measured_latency = all_measured;
    report.blocks.push_back(std::move(r));
  }
  // Split groups: the two parts of one layer (consecutive blocks holding a share < 1 of the same node).
  for (size_t b = 0; b + 1 < report.blocks.size(); ++b) {
    if (report.blocks[b].split_group != -2 || report.blocks[b + 1].split_group != -2) continue;
    report.blocks[b].split_group = report.blocks[b + 1].split_group = group_id++;
    ++b;
  }
  for (BlockReport& r : report.blocks)
    if (r.split_group == -2) r.split_group = -1;
  if (groups_made > 0)
    report.notes.push_back(std::to_string(groups_made) + " layer(s) split across two processors (intra-layer)");

  report.graph = graph;
  report.predicted = CostOf(*solved, sol.eval);
  report.frontier = sol.frontier;
  report.baselines = Baselines(chain_pb, procs);
  bool all_measured_power = true;
  for (size_t p = 0; p < procs.size(); ++p)
    if (sol.eval.busy_s[p] > 0 || !procs[p].power_gated) all_measured_power &= procs[p].power_source == "measured";
  report.energy_source = all_measured_power ? "measured" : "modelled";
  for (size_t p = 0; p < procs.size(); ++p) {
    bool measured = false;
    for (size_t k = 0; k < g.nodes.size(); ++k) measured |= costs.measured[k][p];
    if (measured) report.notes.push_back("latencies on " + procs[p].name + " measured by profiling here");
  }
  if (report.predicted.latency_ms > in.limits.latency_ms * (1 + 1e-9))
    report.notes.push_back("predicted latency exceeds the limit by " +
                           Fmt("%.3f ms", report.predicted.latency_ms - in.limits.latency_ms));
  report.plan_time_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  return report;
}

}  // namespace deepx
