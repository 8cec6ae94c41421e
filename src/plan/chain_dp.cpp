// Label-setting DP over the chain of tasks (see solvers.h).
//
// State (i, p, mask): task i done, its output held on processor p, `mask` = the power-gated processors used so far
// (their idle power is paid for the whole inference once used). A label is a partial plan: latency so far T,
// "partial energy" E (active-minus-idle energy + transfers; idle power x T is added at the end, when T is known),
// accuracy loss, and the memory of processors whose limit can bind. Within a state, a label dominated in every
// coordinate can never complete into a better plan, so pruning by dominance keeps the DP exact.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "plan/solvers.h"

namespace deepx {
namespace {

struct Label {
  double t = 0, e = 0, acc = 0;
  int parent = -1;  // label id in the arena
  int option = -1;  // index into the options of its task
  int mem = -1;     // offset into the memory arena (2 doubles per tracked processor: weights, peak activations)
};

struct Dp {
  const PlanProblem& pb;
  DpOptions opt;
  bool track_memory_limits = true;
  std::vector<int> tracked;  // processors whose memory is tracked (limit may bind)
  std::vector<int> gated_bit;  // per processor: bit index in the mask, or -1
  std::vector<Label> arena;
  std::vector<double> mem_arena;
  bool track_acc = false;
  bool thinned = false;

  // Keeps the non-dominated candidates (sorted by latency on return). `mem` holds their tracked memory.
  void Prune(std::vector<Label>& cands, const std::vector<double>& mem) {
    std::sort(cands.begin(), cands.end(), [](const Label& x, const Label& y) {
      if (x.t != y.t) return x.t < y.t;
      if (x.e != y.e) return x.e < y.e;
      return x.acc < y.acc;
    });
    const bool simple = !track_acc && tracked.empty();
    const size_t dims = 2 * tracked.size();
    size_t kept = 0;
    double best_e = kInfinity;
    for (size_t i = 0; i < cands.size(); ++i) {
      const Label& l = cands[i];
      if (simple) {
        // Sorted by T: a label survives only if it has less energy than every faster one.
        if (l.e < best_e - 1e-15) {
          cands[kept++] = l;
          best_e = l.e;
        }
        continue;
      }
      bool dominated = false;
      for (size_t k = 0; k < kept && !dominated; ++k) {
        const Label& a = cands[k];
        if (a.t > l.t + 1e-15 || a.e > l.e + 1e-15 || a.acc > l.acc + 1e-15) continue;
        bool mem_le = true;
        for (size_t d = 0; d < dims && mem_le; ++d)
          mem_le = mem[static_cast<size_t>(a.mem) + d] <= mem[static_cast<size_t>(l.mem) + d] + 1e-9;
        dominated = mem_le;
      }
      if (!dominated) cands[kept++] = l;
    }
    cands.resize(kept);
    if (static_cast<int>(kept) > opt.max_labels_per_state) {
      // Thin evenly along latency, keeping both ends: the frontier stays covered, exactness is no longer promised.
      thinned = true;
      const size_t cap = static_cast<size_t>(std::max(2, opt.max_labels_per_state));
      std::vector<Label> thin;
      size_t last = SIZE_MAX;
      for (size_t i = 0; i < cap; ++i) {
        const size_t j = i * (kept - 1) / (cap - 1);
        if (j != last) thin.push_back(cands[j]);
        last = j;
      }
      cands = std::move(thin);
    }
  }
};

}  // namespace

Result<Solution> SolveChainDp(const PlanProblem& pb, const DpOptions& options) {
  if (!pb.IsChain()) return InvalidArgument("chain DP needs a chain of tasks (edges i -> i+1)");
  const size_t n = pb.tasks.size(), np = pb.procs.size();
  if (n == 0) return InvalidArgument("no tasks to plan");
  Dp dp{.pb = pb, .opt = options};
  dp.gated_bit.assign(np, -1);
  int bits = 0;
  for (size_t p = 0; p < np; ++p)
    if (pb.procs[p].power_gated) dp.gated_bit[p] = bits++;
  const int num_masks = 1 << bits;

  std::vector<std::vector<TaskChoice>> options_of(n);
  for (size_t t = 0; t < n; ++t) {
    options_of[t] = TaskOptions(pb, static_cast<int>(t), options.splits);
    if (options_of[t].empty())
      return FailedPrecondition("infeasible: no processor can run task " + std::to_string(t) + " (" +
                                pb.tasks[t].label + ")");
    for (const TaskChoice& c : options_of[t])
      if (pb.tasks[t].variants[static_cast<size_t>(c.variant)].accuracy_loss > 0) dp.track_acc = true;
  }
  // Memory limits bind only where the whole model's worst case could exceed them.
  for (size_t p = 0; p < np; ++p) {
    if (pb.procs[p].memory_limit_bytes <= 0) continue;
    double worst_w = 0, worst_a = 0;
    for (const Task& task : pb.tasks) {
      double w = 0, a = 0;
      for (const TaskVariant& v : task.variants) {
        w = std::max(w, v.weight_bytes);
        a = std::max(a, v.activation_bytes);
      }
      worst_w += w;
      worst_a = std::max(worst_a, a);
    }
    if (worst_w + worst_a > pb.procs[p].memory_limit_bytes) dp.tracked.push_back(static_cast<int>(p));
  }
  const size_t dims = 2 * dp.tracked.size();
  // Exact option pruning: an option that leaves the output on the same processor, takes no less time, energy and
  // accuracy, and powers a superset of gated processors can never beat another (splits with poor fractions,
  // variants slower than a cheaper one). Memory makes options incomparable, so only without tracked memory.
  if (dims == 0) {
    for (size_t t = 0; t < n; ++t) {
      struct Summary {
        double d, e, acc;
        int mask;
      };
      std::vector<Summary> s;
      for (const TaskChoice& c : options_of[t]) {
        const TaskTiming tt = TimeTask(pb, static_cast<int>(t), c);
        const ProblemProcessor& pp = pb.procs[static_cast<size_t>(c.proc)];
        double e = tt.transfer_j + (pp.active_w - pp.idle_w) * tt.busy_proc_s;
        int mask = dp.gated_bit[static_cast<size_t>(c.proc)] >= 0 ? 1 << dp.gated_bit[static_cast<size_t>(c.proc)] : 0;
        if (c.partner >= 0) {
          const ProblemProcessor& pq = pb.procs[static_cast<size_t>(c.partner)];
          e += (pq.active_w - pq.idle_w) * tt.busy_partner_s;
          if (dp.gated_bit[static_cast<size_t>(c.partner)] >= 0) mask |= 1 << dp.gated_bit[static_cast<size_t>(c.partner)];
        }
        s.push_back({tt.duration_s, e, pb.tasks[t].variants[static_cast<size_t>(c.variant)].accuracy_loss, mask});
      }
      std::vector<TaskChoice> kept;
      for (size_t i = 0; i < s.size(); ++i) {
        bool dominated = false;
        for (size_t j = 0; j < s.size() && !dominated; ++j) {
          if (i == j || options_of[t][i].proc != options_of[t][j].proc) continue;
          const bool le = s[j].d <= s[i].d && s[j].e <= s[i].e && s[j].acc <= s[i].acc && (s[j].mask & ~s[i].mask) == 0;
          const bool strict = s[j].d < s[i].d || s[j].e < s[i].e || s[j].acc < s[i].acc || s[j].mask != s[i].mask;
          dominated = le && (strict || j < i);  // equal options: keep the first
        }
        if (!dominated) kept.push_back(options_of[t][i]);
      }
      options_of[t] = std::move(kept);
    }
  }
  std::vector<int> tracked_index(np, -1);
  for (size_t i = 0; i < dp.tracked.size(); ++i) tracked_index[static_cast<size_t>(dp.tracked[i])] = static_cast<int>(i);

  auto state = [&](size_t p, int mask) { return p * static_cast<size_t>(num_masks) + static_cast<size_t>(mask); };
  std::vector<std::vector<int>> current(np * static_cast<size_t>(num_masks)), next(current.size());

  // Per task and option, what running it adds (independent of the label it extends).
  struct OptionCost {
    double duration = 0, energy = 0, acc = 0;
    int mask = 0;
  };
  std::vector<std::vector<OptionCost>> option_cost(n);
  for (size_t t = 0; t < n; ++t)
    for (const TaskChoice& c : options_of[t]) {
      const TaskTiming tt = TimeTask(pb, static_cast<int>(t), c);
      const ProblemProcessor& pp = pb.procs[static_cast<size_t>(c.proc)];
      OptionCost oc{tt.duration_s, tt.transfer_j + (pp.active_w - pp.idle_w) * tt.busy_proc_s,
                    pb.tasks[t].variants[static_cast<size_t>(c.variant)].accuracy_loss, 0};
      if (dp.gated_bit[static_cast<size_t>(c.proc)] >= 0) oc.mask |= 1 << dp.gated_bit[static_cast<size_t>(c.proc)];
      if (c.partner >= 0) {
        const ProblemProcessor& pq = pb.procs[static_cast<size_t>(c.partner)];
        oc.energy += (pq.active_w - pq.idle_w) * tt.busy_partner_s;
        if (dp.gated_bit[static_cast<size_t>(c.partner)] >= 0) oc.mask |= 1 << dp.gated_bit[static_cast<size_t>(c.partner)];
      }
      option_cost[t].push_back(oc);
    }

  // One DP pass. Candidates of a task are built in scratch vectors per target state, pruned there, and only the
  // survivors enter the arena (which would otherwise hold every candidate ever made).
  std::vector<std::vector<Label>> cands(current.size());
  std::vector<double> scratch_mem;
  std::vector<double> m(dims);
  auto run = [&]() {
    dp.arena.clear();
    dp.mem_arena.clear();
    for (auto& s : current) s.clear();
    for (size_t t = 0; t < n; ++t) {
      for (auto& c : cands) c.clear();
      scratch_mem.clear();
      std::vector<double> edge_s(np * np, 0), edge_j(np * np, 0);
      if (t > 0)
        for (size_t a = 0; a < np; ++a)
          for (size_t b = 0; b < np; ++b) {
            const EdgeCharge charge = ChargeEdge(pb, pb.edges[t - 1], static_cast<int>(a), static_cast<int>(b));
            edge_s[a * np + b] = charge.seconds;
            edge_j[a * np + b] = charge.joules;
          }
      auto expand = [&](int parent_id, size_t from, int mask) {
        const Label parent = parent_id >= 0 ? dp.arena[static_cast<size_t>(parent_id)] : Label{};
        for (size_t oi = 0; oi < options_of[t].size(); ++oi) {
          const TaskChoice& c = options_of[t][oi];
          const OptionCost& oc = option_cost[t][oi];
          const size_t to = static_cast<size_t>(c.proc);
          Label l;
          l.parent = parent_id;
          l.option = static_cast<int>(oi);
          const bool crossed = parent_id >= 0;  // ChargeEdge is 0 on one processor
          l.t = parent.t + oc.duration + (crossed ? edge_s[from * np + to] : 0);
          l.e = parent.e + oc.energy + (crossed ? edge_j[from * np + to] : 0);
          l.acc = parent.acc + oc.acc;
          if (l.acc > pb.accuracy_limit * (1 + 1e-12) + 1e-15) continue;
          if (dims > 0) {
            const TaskVariant& v = pb.tasks[t].variants[static_cast<size_t>(c.variant)];
            for (size_t d = 0; d < dims; ++d)
              m[d] = parent_id >= 0 ? dp.mem_arena[static_cast<size_t>(parent.mem) + d] : 0.0;
            const double f = c.partner >= 0 ? c.fraction : 1.0;
            auto account = [&](int proc, double share) {
              const int ti = tracked_index[static_cast<size_t>(proc)];
              if (ti < 0) return true;
              const size_t w = 2 * static_cast<size_t>(ti);
              m[w] += share * v.weight_bytes;
              m[w + 1] = std::max(m[w + 1], v.activation_bytes);
              return !dp.track_memory_limits ||
                     m[w] + m[w + 1] <= pb.procs[static_cast<size_t>(proc)].memory_limit_bytes * (1 + 1e-12);
            };
            bool ok = account(c.proc, f);
            if (c.partner >= 0) ok = account(c.partner, 1 - f) && ok;
            if (!ok) continue;
            l.mem = static_cast<int>(scratch_mem.size());
            scratch_mem.insert(scratch_mem.end(), m.begin(), m.end());
          }
          cands[state(to, mask | oc.mask)].push_back(l);
        }
      };
      if (t == 0) {
        expand(-1, 0, 0);
      } else {
        for (size_t p = 0; p < np; ++p)
          for (int mask = 0; mask < num_masks; ++mask)
            for (int id : current[state(p, mask)]) expand(id, p, mask);
      }
      for (size_t s = 0; s < cands.size(); ++s) {
        dp.Prune(cands[s], scratch_mem);
        next[s].clear();
        for (Label l : cands[s]) {
          if (dims > 0) {
            const size_t off = dp.mem_arena.size();
            dp.mem_arena.insert(dp.mem_arena.end(), scratch_mem.begin() + l.mem,
                                scratch_mem.begin() + l.mem + static_cast<std::ptrdiff_t>(dims));
            l.mem = static_cast<int>(off);
          }
          dp.arena.push_back(l);
          next[s].push_back(static_cast<int>(dp.arena.size()) - 1);
        }
      }
      std::swap(current, next);
    }
  };
  run();

  // Completes the labels of the last task: idle power x T of every powered processor.
  struct Final {
    int id;
    double t, e, acc;
  };
  std::vector<Final> finals;
  for (size_t p = 0; p < np; ++p)
    for (int mask = 0; mask < num_masks; ++mask)
      for (int id : current[state(p, mask)]) {
        const Label& l = dp.arena[static_cast<size_t>(id)];
        double idle = 0;
        for (size_t q = 0; q < np; ++q)
          if (dp.gated_bit[q] < 0 || (mask >> dp.gated_bit[q]) & 1) idle += pb.procs[q].idle_w;
        finals.push_back({id, l.t, l.e + idle * l.t, l.acc});
      }

  auto reconstruct = [&](int id) {
    std::vector<TaskChoice> choice(n);
    for (size_t t = n; t-- > 0;) {
      const Label& l = dp.arena[static_cast<size_t>(id)];
      choice[t] = options_of[t][static_cast<size_t>(l.option)];
      id = l.parent;
    }
    return choice;
  };

  if (finals.empty()) {
    // Accuracy or memory pruned everything. Accuracy cannot be the cause (the dense variants lose nothing), so
    // memory: find the plan that overruns least, by re-running without memory limits.
    dp.track_memory_limits = false;
    run();
    double best_ratio = kInfinity;
    Evaluation best;
    for (size_t s = 0; s < current.size(); ++s)
      for (int id : current[s]) {
        Evaluation e = Evaluate(pb, reconstruct(id));
        double ratio = 1;
        WorstMemoryProcessor(pb, e, &ratio);
        if (ratio < best_ratio) {
          best_ratio = ratio;
          best = std::move(e);
        }
      }
    if (!std::isfinite(best_ratio)) return FailedPrecondition("infeasible: the accuracy-drop limit cannot be met");
    return MemoryInfeasible(pb, best);
  }

  Solution sol;
  sol.thinned = dp.thinned;
  // Frontier over (T, E).
  std::sort(finals.begin(), finals.end(), [](const Final& a, const Final& b) {
    return a.t != b.t ? a.t < b.t : a.e < b.e;
  });
  double best_e = kInfinity;
  for (const Final& f : finals)
    if (f.e < best_e - 1e-15) {
      sol.frontier.push_back({f.t * 1e3, f.e * 1e3, f.acc});
      best_e = f.e;
    }
  const Final* chosen = nullptr;
  for (const Final& f : finals) {
    if (f.t > pb.latency_limit_s * (1 + 1e-12)) continue;
    if (!chosen) {
      chosen = &f;
      continue;
    }
    const bool better = pb.objective == PlanObjective::kEnergy
                            ? (f.e < chosen->e - 1e-15 || (f.e <= chosen->e + 1e-15 && f.t < chosen->t))
                            : (f.t < chosen->t - 1e-15 || (f.t <= chosen->t + 1e-15 && f.e < chosen->e));
    if (better) chosen = &f;
  }
  if (!chosen) return LatencyInfeasible(pb, finals.front().t);
  sol.choice = reconstruct(chosen->id);
  sol.eval = Evaluate(pb, sol.choice);
  return sol;
}

}  // namespace deepx
