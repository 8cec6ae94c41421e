#include "plan/cost_model.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "ops/op.h"

namespace deepx {
namespace {

bool IsSplittable(const Graph& g, const Node& n) {
  if (n.op_type != "Conv" && n.op_type != "Gemm" && n.op_type != "MatMul") return false;
  if (n.inputs.size() < 2 || n.inputs[1] == kNoValue || !g.value(n.inputs[1]).is_constant()) return false;
  if (n.op_type == "Conv" && n.attrs.Int("group", 1) != 1) return false;
  if (n.op_type != "Conv" && g.value(n.inputs[1]).shape.size() != 2) return false;
  if (n.op_type == "Gemm" && n.inputs.size() > 2 && n.inputs[2] != kNoValue && !g.value(n.inputs[2]).is_constant())
    return false;
  return n.outputs.size() == 1;
}

// A -> B transfer cost through home.
TransferCost LinkCost(const std::vector<ProcessorSpec>& procs, int home, int from, int to) {
  TransferCost c;
  if (from == to) return c;
  auto leg = [&](int x, bool into) {
    const ProcessorSpec& p = procs[static_cast<size_t>(x)];
    if (x == home || p.link_gbps <= 0) return;
    c.fixed_s += p.link_latency_ms / 1e3;
    c.s_per_byte += 1.0 / (p.link_gbps * 1e9);
    c.j_per_byte += p.link_j_per_byte;
    if (into) c.fixed_j += p.link_fixed_j;
  };
  leg(from, false);
  leg(to, true);
  return c;
}

}  // namespace

double LoadOn(const PlannerInputs& in, size_t p) {
  return p < in.conditions.load.size() ? in.conditions.load[p] : 0.0;
}

double BlockSeconds(const PlannerInputs& in, size_t p) {
  return p < in.boundaries.size() ? in.boundaries[p].block_ms / 1e3 / (1 - LoadOn(in, p)) : 0.0;
}

double BoundarySeconds(const PlannerInputs& in, size_t p, const std::map<ValueId, double>& ms, ValueId v) {
  auto it = ms.find(v);
  return it == ms.end() ? 0.0 : it->second / 1e3 / (1 - LoadOn(in, p));
}

double RooflineSeconds(const ProcessorSpec& p, double flops, double bytes, int kernels) {
  const double compute = flops > 0 ? flops / (p.gflops * p.efficiency * 1e9) : 0;
  const double memory = bytes > 0 ? bytes / (p.gbps * 1e9) : 0;
  return std::max(compute, memory) + kernels * p.launch_overhead_us * 1e-6;
}

Result<std::vector<ProcessorSpec>> EffectiveProcessors(const PlannerInputs& in) {
  std::vector<ProcessorSpec> procs = in.processors;
  if (procs.empty()) return InvalidArgument("planner: no processors");
  std::set<std::string> names;
  for (size_t i = 0; i < procs.size(); ++i) {
    ProcessorSpec& p = procs[i];
    if (p.name.empty() || !names.insert(p.name).second)
      return InvalidArgument("planner: processor names must be unique and non-empty ('" + p.name + "')");
    if (!(p.gflops > 0) || !(p.gbps > 0) || !(p.efficiency > 0) || p.efficiency > 1)
      return InvalidArgument("planner: processor '" + p.name + "' needs gflops > 0, gbps > 0, 0 < efficiency <= 1");
    if (!(p.handoff_ms >= 0)) return InvalidArgument("planner: processor '" + p.name + "' has a negative handoff");
    if (!(p.contention >= 1) || !(p.contention_memory >= 1))
      return InvalidArgument("planner: processor '" + p.name + "' needs contention >= 1");
    if (p.active_w < 0 || p.idle_w < 0 || p.launch_overhead_us < 0 || p.link_gbps < 0 || p.link_latency_ms < 0 ||
        p.link_j_per_byte < 0 || p.link_fixed_j < 0 || p.memory_bytes < 0)
      return InvalidArgument("planner: processor '" + p.name + "' has a negative figure");
    if (p.kind == "remote") {
      if (in.conditions.network_mbps >= 0) {
        if (in.conditions.network_mbps == 0) return InvalidArgument("planner: network bandwidth 0 Mbps");
        p.link_gbps = in.conditions.network_mbps / 8e3;
      }
      if (in.conditions.network_rtt_ms >= 0) p.link_latency_ms = in.conditions.network_rtt_ms / 2;
    }
    if (i < in.conditions.free_memory.size() && in.conditions.free_memory[i] > 0)
      p.memory_bytes = p.memory_bytes > 0 ? std::min(p.memory_bytes, in.conditions.free_memory[i])
                                          : in.conditions.free_memory[i];
  }
  for (double l : in.conditions.load)
    if (!(l >= 0 && l < 1)) return InvalidArgument("planner: processor load must be in [0, 1)");
  if (!in.measured.empty() && in.measured.size() != procs.size())
    return InvalidArgument("planner: measured times given for " + std::to_string(in.measured.size()) +
                           " processors, expected " + std::to_string(procs.size()));
  if (!in.boundaries.empty() && in.boundaries.size() != procs.size())
    return InvalidArgument("planner: boundary costs given for " + std::to_string(in.boundaries.size()) +
                           " processors, expected " + std::to_string(procs.size()));
  for (const BoundaryCosts& b : in.boundaries) {
    bool ok = b.block_ms >= 0;
    for (const auto& [v, ms] : b.enter_ms) ok &= ms >= 0;
    for (const auto& [v, ms] : b.leave_ms) ok &= ms >= 0;
    if (!ok) return InvalidArgument("planner: negative boundary cost");
  }
  return procs;
}

Result<CostTables> BuildCostTables(const Graph& g, const PlannerInputs& in) {
  DX_ASSIGN_OR_RETURN(std::vector<ProcessorSpec> procs, EffectiveProcessors(in));
  const size_t nn = g.nodes.size(), np = procs.size();
  CostTables t;
  t.home = 0;
  for (size_t p = 0; p < np; ++p)
    if (procs[p].home) {
      t.home = static_cast<int>(p);
      break;
    }
  const OpRegistry& registry = OpRegistry::Default();
  t.nodes.resize(nn);
  for (size_t k = 0; k < nn; ++k) {
    const Node& n = g.nodes[k];
    NodeCost& c = t.nodes[k];
    CostContext ctx{n, {}, {}};
    for (ValueId v : n.inputs) {
      ctx.inputs.push_back(v == kNoValue ? nullptr : &g.value(v));
      if (v == kNoValue) continue;
      if (!g.value(v).has_shape) return InvalidArgument("planner: graph is not specialised (" + g.NodeLabel(n) + ")");
      if (g.value(v).is_constant())
        c.weight_bytes += ValueBytes(g, v);
      else
        c.activation_bytes += ValueBytes(g, v);
    }
    for (ValueId v : n.outputs) {
      ctx.outputs.push_back(v == kNoValue ? nullptr : &g.value(v));
      if (v != kNoValue) c.activation_bytes += ValueBytes(g, v);
    }
    const OpSchema* schema = registry.Find(n.op_type);
    if (schema) {
      const OpCost oc = ComputeCost(*schema, ctx);
      c.flops = oc.flops;
      c.bytes = oc.bytes_read + oc.bytes_written;
    } else {
      c.bytes = c.weight_bytes + c.activation_bytes;
    }
    c.splittable = IsSplittable(g, n);
  }
  // RLC levels.
  size_t max_variants = 0;
  for (const auto& [node, variants] : in.rank_variants) {
    if (node < 0 || static_cast<size_t>(node) >= nn)
      return InvalidArgument("planner: rank variants name node " + std::to_string(node) + " of " + std::to_string(nn));
    for (const RankVariant& v : variants)
      if (v.rank <= 0 || v.accuracy_loss < 0 || v.flops < 0 || v.weight_bytes < 0)
        return InvalidArgument("planner: bad rank variant of " + g.NodeLabel(node));
    if (!variants.empty()) t.nodes[static_cast<size_t>(node)].compressible = true;
    max_variants = std::max(max_variants, variants.size());
  }
  t.levels = 1 + static_cast<int>(std::min<size_t>(max_variants, 8));
  const size_t levels = static_cast<size_t>(t.levels);
  t.seconds.assign(levels, std::vector<std::vector<double>>(nn, std::vector<double>(np, 0)));
  t.weight_bytes.assign(levels, std::vector<double>(nn, 0));
  t.accuracy_loss.assign(levels, std::vector<double>(nn, 0));
  t.rank.assign(levels, std::vector<int64_t>(nn, 0));
  t.measured.assign(nn, std::vector<bool>(np, false));
  for (size_t k = 0; k < nn; ++k) {
    const Node& n = g.nodes[k];
    const NodeCost& c = t.nodes[k];
    std::vector<RankVariant> variants;
    if (auto it = in.rank_variants.find(static_cast<NodeId>(k)); it != in.rank_variants.end()) variants = it->second;
    std::stable_sort(variants.begin(), variants.end(),
                     [](const RankVariant& a, const RankVariant& b) { return a.accuracy_loss < b.accuracy_loss; });
    for (size_t p = 0; p < np; ++p) {
      const ProcessorSpec& proc = procs[p];
      const bool unsupported =
          std::find(proc.unsupported_ops.begin(), proc.unsupported_ops.end(), n.op_type) != proc.unsupported_ops.end();
      const double load = LoadOn(in, p);
      const double measured = p < in.measured.size() && k < in.measured[p].size() ? in.measured[p][k] : -1.0;
      const double dense_roof = RooflineSeconds(proc, c.flops, c.bytes, 1);
      const double dense = measured >= 0 ? measured / 1e3 : dense_roof;
      t.measured[k][p] = measured >= 0;
      for (size_t j = 0; j < levels; ++j) {
        double s = dense;
        if (j > 0 && !variants.empty()) {
          const RankVariant& v = variants[std::min(j - 1, variants.size() - 1)];
          const double roof = RooflineSeconds(proc, v.flops, c.bytes - c.weight_bytes + v.weight_bytes, 2);
          s = measured >= 0 && dense_roof > 0 ? dense * roof / dense_roof : roof;
        }
        t.seconds[j][k][p] = unsupported ? kInfinity : s / (1 - load);
      }
    }
    for (size_t j = 0; j < levels; ++j) {
      t.weight_bytes[j][k] = c.weight_bytes;
      if (j > 0 && !variants.empty()) {
        const RankVariant& v = variants[std::min(j - 1, variants.size() - 1)];
        // The bias (and any other constant input) stays; only the weight matrix is factorised.
        const double w = n.inputs.size() > 1 && n.inputs[1] != kNoValue ? ValueBytes(g, n.inputs[1]) : 0;
        t.weight_bytes[j][k] = c.weight_bytes - w + v.weight_bytes;
        t.accuracy_loss[j][k] = v.accuracy_loss;
        t.rank[j][k] = v.rank;
      }
    }
  }
  t.link.assign(np, std::vector<TransferCost>(np));
  for (size_t a = 0; a < np; ++a)
    for (size_t b = 0; b < np; ++b) t.link[a][b] = LinkCost(procs, t.home, static_cast<int>(a), static_cast<int>(b));
  return t;
}

namespace {

PlanProblem BaseProblem(const CostTables& costs, const PlannerInputs& in) {
  PlanProblem pb;
  auto procs = EffectiveProcessors(in);  // already validated by BuildCostTables
  for (size_t i = 0; i < procs->size(); ++i) {
    const ProcessorSpec& p = (*procs)[i];
    pb.procs.push_back({.name = p.name,
                        .active_w = p.active_w,
                        .idle_w = p.idle_w,
                        .power_gated = p.power_gated,
                        .memory_limit_bytes = static_cast<double>(p.memory_bytes),
                        .can_split = p.kind != "remote",
                        .block_s = BlockSeconds(in, i),
                        .contention = p.contention,
                        .contention_memory = p.contention_memory,
                        .ridge = p.gflops * p.efficiency / p.gbps,
                        .handoff_s = p.handoff_ms / 1e3});
  }
  pb.link = costs.link;
  pb.home = costs.home;
  pb.latency_limit_s = in.limits.latency_ms / 1e3;
  pb.accuracy_limit = in.limits.max_accuracy_drop;
  pb.objective = in.objective;
  pb.split_min_gain = in.options.split_min_gain;
  return pb;
}

Task EndpointTask(const PlanProblem& pb, const std::string& label) {
  Task t;
  t.label = label;
  t.pinned = pb.home;
  t.variants.push_back({.latency_s = std::vector<double>(pb.procs.size(), 0.0)});
  return t;
}

// One task over `nodes`, with a variant per RLC level that changes something.
Task GroupTask(const Graph& g, const std::vector<NodeId>& nodes, const CostTables& costs, const PlannerInputs& in,
               size_t np, std::vector<int>* levels) {
  Task task;
  task.label = g.node(nodes.front()).name + (nodes.size() > 1 ? " .. " + g.node(nodes.back()).name : "");
  bool compressible = false;
  for (NodeId n : nodes) compressible |= costs.nodes[static_cast<size_t>(n)].compressible;
  for (int j = 0; j < (compressible ? costs.levels : 1); ++j) {
    TaskVariant v;
    v.latency_s.assign(np, 0);
    for (NodeId n : nodes) {
      const size_t k = static_cast<size_t>(n);
      for (size_t p = 0; p < np; ++p) v.latency_s[p] += costs.seconds[static_cast<size_t>(j)][k][p];
      v.weight_bytes += costs.weight_bytes[static_cast<size_t>(j)][k];
      v.accuracy_loss += costs.accuracy_loss[static_cast<size_t>(j)][k];
      v.activation_bytes = std::max(v.activation_bytes, costs.nodes[k].activation_bytes);
    }
    task.variants.push_back(std::move(v));
    levels->push_back(j);
  }
  if (nodes.size() == 1 && costs.nodes[static_cast<size_t>(nodes[0])].splittable) {
    const Node& n = g.node(nodes[0]);
    task.splittable = true;
    task.split_in_bytes = ValueBytes(g, n.inputs[0]);
    task.split_out_bytes = ValueBytes(g, n.outputs[0]);
    const NodeCost& nc = costs.nodes[static_cast<size_t>(nodes[0])];
    task.split_intensity = nc.bytes > 0 ? nc.flops / nc.bytes : 0;
    for (size_t p = 0; p < in.boundaries.size(); ++p) {
      const BoundaryCosts& b = in.boundaries[p];
      task.split_in_leave_s.push_back(BoundarySeconds(in, p, b.leave_ms, n.inputs[0]));
      task.split_in_enter_s.push_back(BoundarySeconds(in, p, b.enter_ms, n.inputs[0]));
      task.split_out_leave_s.push_back(BoundarySeconds(in, p, b.leave_ms, n.outputs[0]));
      task.split_out_enter_s.push_back(BoundarySeconds(in, p, b.enter_ms, n.outputs[0]));
      task.split_recombine_s.push_back(BoundarySeconds(in, p, b.recombine_ms, n.outputs[0]));
    }
  }
  return task;
}

// An edge carrying `values`, with their measured boundary costs (scaled by each processor's load like its nodes).
Edge MakeEdge(int from, int to, double bytes, const std::vector<ValueId>& values, const PlannerInputs& in) {
  Edge e{.from = from, .to = to, .bytes = bytes};
  if (in.boundaries.empty()) return e;
  const size_t np = in.boundaries.size();
  e.leave_s.assign(np, 0);
  e.enter_s.assign(np, 0);
  for (size_t p = 0; p < np; ++p) {
    for (ValueId v : values) {
      e.leave_s[p] += BoundarySeconds(in, p, in.boundaries[p].leave_ms, v);
      e.enter_s[p] += BoundarySeconds(in, p, in.boundaries[p].enter_ms, v);
    }
  }
  return e;
}

}  // namespace

PlanProblem BuildChainProblem(const Graph& g, const SegmentChain& chain, const CostTables& costs,
                              const PlannerInputs& in, std::vector<std::vector<int>>* task_level) {
  PlanProblem pb = BaseProblem(costs, in);
  task_level->clear();
  pb.tasks.push_back(EndpointTask(pb, "inputs"));
  task_level->push_back({0});
  for (const auto& seg : chain.segments) {
    task_level->emplace_back();
    pb.tasks.push_back(GroupTask(g, seg, costs, in, pb.procs.size(), &task_level->back()));
  }
  pb.tasks.push_back(EndpointTask(pb, "outputs"));
  task_level->push_back({0});
  for (size_t i = 0; i + 1 < pb.tasks.size(); ++i) {
    Edge e = MakeEdge(static_cast<int>(i), static_cast<int>(i) + 1, chain.cut_bytes[i], chain.cut_values[i], in);
    e.from_inputs = i == 0;
    e.to_outputs = i + 2 == pb.tasks.size();
    pb.edges.push_back(std::move(e));
  }
  return pb;
}

PlanProblem BuildDagProblem(const Graph& g, const RunDag& dag, const CostTables& costs, const PlannerInputs& in,
                            std::vector<std::vector<int>>* task_level) {
  PlanProblem pb = BaseProblem(costs, in);
  task_level->clear();
  pb.tasks.push_back(EndpointTask(pb, "inputs"));
  task_level->push_back({0});
  for (const auto& run : dag.runs) {
    task_level->emplace_back();
    Task t = GroupTask(g, run, costs, in, pb.procs.size(), &task_level->back());
    t.splittable = false;
    pb.tasks.push_back(std::move(t));
  }
  pb.tasks.push_back(EndpointTask(pb, "outputs"));
  task_level->push_back({0});
  const int sink = static_cast<int>(dag.runs.size());
  for (const RunDag::Link& l : dag.links) {
    Edge e = MakeEdge(l.from + 1, l.to + 1, l.bytes, l.values, in);
    e.from_inputs = l.from < 0;
    e.to_outputs = l.to == sink;
    pb.edges.push_back(std::move(e));
  }
  // A run that reads no graph input still starts a block: charge its start where nothing else does.
  std::vector<bool> entered(pb.tasks.size(), false);
  for (const Edge& e : pb.edges) entered[static_cast<size_t>(e.to)] = true;
  for (size_t t = 1; t + 1 < pb.tasks.size(); ++t)
    if (!entered[t]) pb.edges.push_back({.from = 0, .to = static_cast<int>(t), .from_inputs = true});
  return pb;
}

}  // namespace deepx
