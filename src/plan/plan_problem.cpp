#include "plan/plan_problem.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>

namespace deepx {

bool PlanProblem::IsChain() const {
  if (edges.size() + 1 != tasks.size()) return false;
  for (size_t i = 0; i < edges.size(); ++i)
    if (edges[i].from != static_cast<int>(i) || edges[i].to != static_cast<int>(i) + 1) return false;
  return true;
}

EdgeCharge ChargeEdge(const PlanProblem& pb, const Edge& e, int p, int q) {
  EdgeCharge c;
  if (p == q && !e.from_inputs) return c;
  const size_t ps = static_cast<size_t>(p), qs = static_cast<size_t>(q);
  const TransferCost& link = pb.link[ps][qs];
  const double leave = ps < e.leave_s.size() ? e.leave_s[ps] : 0.0;
  const double enter = e.to_outputs ? 0.0 : (qs < e.enter_s.size() ? e.enter_s[qs] : 0.0) + pb.procs[qs].block_s;
  const ProblemProcessor& from = pb.procs[ps];
  const ProblemProcessor& to = pb.procs[qs];
  c.seconds = link.Seconds(e.bytes) + leave + enter + (p != q ? to.handoff_s : 0.0);
  c.joules = link.Joules(e.bytes) + (from.active_w - from.idle_w) * leave + (to.active_w - to.idle_w) * enter;
  return c;
}

double ShareContention(const ProblemProcessor& p, double intensity) {
  return intensity < p.ridge ? p.contention_memory : p.contention;
}

double SplitContention(const PlanProblem& pb, int t, int p) {
  return ShareContention(pb.procs[static_cast<size_t>(p)], pb.tasks[static_cast<size_t>(t)].split_intensity);
}

double BalancedFraction(const PlanProblem& pb, int t, int variant, int p, int q) {
  // f * tp = tin + (1 - f) * (tq + out * spb) + fixed_out: linear in f.
  const Task& task = pb.tasks[static_cast<size_t>(t)];
  const TaskVariant& v = task.variants[static_cast<size_t>(variant)];
  const double tp = v.latency_s[static_cast<size_t>(p)] * SplitContention(pb, t, p);
  const double tq = v.latency_s[static_cast<size_t>(q)] * SplitContention(pb, t, q);
  const TransferCost& in = pb.link[static_cast<size_t>(p)][static_cast<size_t>(q)];
  const TransferCost& out = pb.link[static_cast<size_t>(q)][static_cast<size_t>(p)];
  const double tin = in.Seconds(task.split_in_bytes);
  const double b = tq + task.split_out_bytes * out.s_per_byte;  // per unit of (1 - f)
  const double f = (tin + out.fixed_s + b) / (tp + b);
  return std::clamp(std::isfinite(f) ? f : 0.5, 0.05, 0.95);
}

TaskTiming TimeTask(const PlanProblem& pb, int t, const TaskChoice& c) {
  const Task& task = pb.tasks[static_cast<size_t>(t)];
  const TaskVariant& v = task.variants[static_cast<size_t>(c.variant)];
  TaskTiming r;
  const double tp = v.latency_s[static_cast<size_t>(c.proc)];
  if (c.partner < 0) {
    r.duration_s = r.busy_proc_s = tp;
    return r;
  }
  const double f = c.fraction;
  const double tq = v.latency_s[static_cast<size_t>(c.partner)];
  const TransferCost& in = pb.link[static_cast<size_t>(c.proc)][static_cast<size_t>(c.partner)];
  const TransferCost& out = pb.link[static_cast<size_t>(c.partner)][static_cast<size_t>(c.proc)];
  const double out_bytes = (1 - f) * task.split_out_bytes;
  // Blocks: [... before] p, [share f] p and [share 1 - f] q concurrently, [recombine ...] p.
  auto at = [](const std::vector<double>& v, int p) { return static_cast<size_t>(p) < v.size() ? v[static_cast<size_t>(p)] : 0.0; };
  const double block_p = pb.procs[static_cast<size_t>(c.proc)].block_s;
  const double block_q = pb.procs[static_cast<size_t>(c.partner)].block_s;
  const double before = at(task.split_in_leave_s, c.proc);
  const double kp = SplitContention(pb, t, c.proc);
  const double kq = SplitContention(pb, t, c.partner);
  const double share_p = block_p + at(task.split_in_enter_s, c.proc) + f * (kp * tp + at(task.split_out_leave_s, c.proc));
  const double share_q =
      block_q + at(task.split_in_enter_s, c.partner) + (1 - f) * (kq * tq + at(task.split_out_leave_s, c.partner));
  const double recombine = block_p + at(task.split_out_enter_s, c.proc) + at(task.split_recombine_s, c.proc);
  r.busy_proc_s = before + share_p + recombine;
  r.busy_partner_s = share_q;
  // The partner is woken to start its share, and proc to take the result back.
  const double handoffs = pb.procs[static_cast<size_t>(c.partner)].handoff_s + pb.procs[static_cast<size_t>(c.proc)].handoff_s;
  r.duration_s =
      before + std::max(share_p, in.Seconds(task.split_in_bytes) + share_q + out.Seconds(out_bytes) + handoffs) + recombine;
  r.transfer_j = in.Joules(task.split_in_bytes) + out.Joules(out_bytes);
  return r;
}

bool ChoiceAllowed(const PlanProblem& pb, int t, const TaskChoice& c) {
  const Task& task = pb.tasks[static_cast<size_t>(t)];
  const int np = static_cast<int>(pb.procs.size());
  if (c.proc < 0 || c.proc >= np || c.variant < 0 || c.variant >= static_cast<int>(task.variants.size()))
    return false;
  if (task.pinned >= 0 && (c.proc != task.pinned || c.partner >= 0)) return false;
  const TaskVariant& v = task.variants[static_cast<size_t>(c.variant)];
  if (!std::isfinite(v.latency_s[static_cast<size_t>(c.proc)])) return false;
  if (c.partner >= 0) {
    if (!task.splittable || c.partner == c.proc || c.partner >= np) return false;
    if (!std::isfinite(v.latency_s[static_cast<size_t>(c.partner)])) return false;
    if (!(c.fraction > 0 && c.fraction < 1)) return false;
  }
  return true;
}

namespace {

std::string Format(const char* fmt, double a, double b) {
  char buf[160];
  std::snprintf(buf, sizeof buf, fmt, a, b);
  return buf;
}

}  // namespace

Evaluation Evaluate(const PlanProblem& pb, const std::vector<TaskChoice>& choice, const std::vector<int>& order_in) {
  const size_t n = pb.tasks.size(), np = pb.procs.size();
  Evaluation e;
  e.busy_s.assign(np, 0);
  e.weight_bytes.assign(np, 0);
  e.activation_bytes.assign(np, 0);
  e.start_s.assign(n, 0);
  e.finish_s.assign(n, 0);
  std::vector<int> order = order_in;
  if (order.empty())
    for (size_t i = 0; i < n; ++i) order.push_back(static_cast<int>(i));
  std::vector<std::vector<const Edge*>> in_edges(n);
  for (const Edge& ed : pb.edges) in_edges[static_cast<size_t>(ed.to)].push_back(&ed);

  std::vector<double> proc_free(np, 0);
  std::vector<bool> used(np, false);
  double transfer_j = 0;
  for (int t : order) {
    const TaskChoice& c = choice[static_cast<size_t>(t)];
    const TaskVariant& v = pb.tasks[static_cast<size_t>(t)].variants[static_cast<size_t>(c.variant)];
    double ready = 0;
    for (const Edge* ed : in_edges[static_cast<size_t>(t)]) {
      const int from = choice[static_cast<size_t>(ed->from)].proc;
      const EdgeCharge charge = ChargeEdge(pb, *ed, from, c.proc);
      ready = std::max(ready, e.finish_s[static_cast<size_t>(ed->from)] + charge.seconds);
      transfer_j += charge.joules;
    }
    ready = std::max(ready, proc_free[static_cast<size_t>(c.proc)]);
    if (c.partner >= 0) ready = std::max(ready, proc_free[static_cast<size_t>(c.partner)]);
    const TaskTiming tt = TimeTask(pb, t, c);
    e.start_s[static_cast<size_t>(t)] = ready;
    e.finish_s[static_cast<size_t>(t)] = ready + tt.duration_s;
    proc_free[static_cast<size_t>(c.proc)] = ready + tt.duration_s;
    e.busy_s[static_cast<size_t>(c.proc)] += tt.busy_proc_s;
    used[static_cast<size_t>(c.proc)] = true;
    transfer_j += tt.transfer_j;
    const double f = c.partner >= 0 ? c.fraction : 1.0;
    e.weight_bytes[static_cast<size_t>(c.proc)] += f * v.weight_bytes;
    e.activation_bytes[static_cast<size_t>(c.proc)] =
        std::max(e.activation_bytes[static_cast<size_t>(c.proc)], v.activation_bytes);
    if (c.partner >= 0) {
      proc_free[static_cast<size_t>(c.partner)] = ready + tt.duration_s;
      e.busy_s[static_cast<size_t>(c.partner)] += tt.busy_partner_s;
      used[static_cast<size_t>(c.partner)] = true;
      e.weight_bytes[static_cast<size_t>(c.partner)] += (1 - f) * v.weight_bytes;
      e.activation_bytes[static_cast<size_t>(c.partner)] =
          std::max(e.activation_bytes[static_cast<size_t>(c.partner)], v.activation_bytes);
    }
    e.accuracy_loss += v.accuracy_loss;
    e.latency_s = std::max(e.latency_s, e.finish_s[static_cast<size_t>(t)]);
  }
  e.energy_j = transfer_j;
  for (size_t p = 0; p < np; ++p) {
    const ProblemProcessor& proc = pb.procs[p];
    e.energy_j += (proc.active_w - proc.idle_w) * e.busy_s[p];
    if (!proc.power_gated || used[p]) e.energy_j += proc.idle_w * e.latency_s;
  }
  // Limits, in the order a user fixes them.
  for (size_t p = 0; p < np && e.feasible; ++p) {
    const double mem = e.weight_bytes[p] + e.activation_bytes[p];
    if (pb.procs[p].memory_limit_bytes > 0 && mem > pb.procs[p].memory_limit_bytes * (1 + 1e-12)) {
      e.feasible = false;
      e.violated = "memory on " + pb.procs[p].name +
                   Format(" %.1f MB > limit %.1f MB", mem / 1e6, pb.procs[p].memory_limit_bytes / 1e6);
    }
  }
  if (e.feasible && e.accuracy_loss > pb.accuracy_limit * (1 + 1e-12) + 1e-15) {
    e.feasible = false;
    e.violated = Format("accuracy drop %.4f > limit %.4f", e.accuracy_loss, pb.accuracy_limit);
  }
  if (e.feasible && e.latency_s > pb.latency_limit_s * (1 + 1e-12)) {
    e.feasible = false;
    e.violated = Format("latency %.3f ms > limit %.3f ms", e.latency_s * 1e3, pb.latency_limit_s * 1e3);
  }
  return e;
}

Evaluation OptimalEvaluate(const PlanProblem& pb, const std::vector<TaskChoice>& choice) {
  const size_t n = pb.tasks.size();
  std::vector<int> indegree(n, 0);
  std::vector<std::vector<int>> succ(n);
  for (const Edge& ed : pb.edges) {
    ++indegree[static_cast<size_t>(ed.to)];
    succ[static_cast<size_t>(ed.from)].push_back(ed.to);
  }
  Evaluation best;
  bool have = false;
  std::vector<int> order;
  // Every topological order: the best list schedule over them is the optimal semi-active schedule.
  std::function<void()> rec = [&] {
    if (order.size() == n) {
      Evaluation e = Evaluate(pb, choice, order);
      if (!have || e.latency_s < best.latency_s - 1e-15) {
        best = std::move(e);
        have = true;
      }
      return;
    }
    for (size_t t = 0; t < n; ++t) {
      if (indegree[t] != 0) continue;
      indegree[t] = -1;
      for (int s : succ[t]) --indegree[static_cast<size_t>(s)];
      order.push_back(static_cast<int>(t));
      rec();
      order.pop_back();
      for (int s : succ[t]) ++indegree[static_cast<size_t>(s)];
      indegree[t] = 0;
    }
  };
  rec();
  return best;
}

double ObjectiveValue(const PlanProblem& pb, const Evaluation& e) {
  return pb.objective == PlanObjective::kEnergy ? e.energy_j : e.latency_s;
}

}  // namespace deepx
