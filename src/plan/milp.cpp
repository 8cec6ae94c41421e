// DAD as a MILP for general DAGs of tasks, solved by GLPK (see solvers.h for the model in words).
//
//   x[t,o]  binary      task t runs option o = (processor, variant)         sum_o x[t,o] = 1
//   y[e,p,q] in [0,1]   edge e crosses from p to q: y >= X[i,p] + X[j,q] - 1 (minimisation keeps it at its floor)
//   s[t] >= 0           start time; d[t] = sum_o x[t,o] * latency(o)
//   s[j] >= s[i] + d[i] + sum_pq y[e,p,q] * transfer_s(p,q,e)                          (precedence + transfer)
//   o[i,j] binary for task pairs with no path between them; for every processor p both may use (big-M):
//     s[j] >= s[i] + d[i] - M(1 - o) - M(2 - X[i,p] - X[j,p]);  s[i] >= s[j] + d[j] - M o - M(2 - X[i,p] - X[j,p])
//   T >= s[t] + d[t];  T <= latency limit;  sum x * loss <= accuracy limit
//   memory: sum_{o on p} x * weights + A[p] <= limit[p], A[p] >= x[t,o] * activations(o)
//   gated processors: used[p] >= x[t,o on p]; z[p] >= T - M(1 - used[p])  (z = used * T)
//   energy = sum x (active - idle) latency + sum_{not gated} idle T + sum_{gated} idle z + sum y * transfer_j
// Objective: energy (+ 1e-6 T to prefer the faster of equal-energy plans) or latency (+ 1e-6 energy).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>

#include "plan/solvers.h"

#ifdef DEEPX_HAVE_GLPK
#include <glpk.h>
#endif

namespace deepx {

bool MilpAvailable() {
#ifdef DEEPX_HAVE_GLPK
  return true;
#else
  return false;
#endif
}

#ifndef DEEPX_HAVE_GLPK
Result<Solution> SolveMilp(const PlanProblem&, const MilpOptions&) {
  return Unimplemented("the MILP planner needs GLPK (glpk.h), which this build does not link");
}
#else
namespace {

struct Row {
  std::vector<std::pair<int, double>> terms;
  double lo = -kInfinity, hi = kInfinity;
};

struct Model {
  std::vector<int> kind;            // GLP_CV / GLP_BV
  std::vector<double> lo, hi, obj;  // per column
  std::vector<Row> rows;
  int Col(int k, double l, double h, double c = 0) {
    kind.push_back(k);
    lo.push_back(l);
    hi.push_back(h);
    obj.push_back(c);
    return static_cast<int>(kind.size()) - 1;
  }
};

struct Callback {
  double gap = 0;
};

void OnEvent(glp_tree* tree, void* info) {
  auto* cb = static_cast<Callback*>(info);
  if (glp_ios_reason(tree) == GLP_IBINGO || glp_ios_reason(tree) == GLP_ISELECT) cb->gap = glp_ios_mip_gap(tree);
}

struct Built {
  Model m;
  std::vector<std::vector<int>> x;  // [t][o] column
  std::vector<std::vector<TaskChoice>> opts;
  std::vector<int> s;
  int T = -1;
};

// Builds the model; `latency_limit` and `memory` may be relaxed to diagnose infeasibility.
Built Build(const PlanProblem& pb, PlanObjective objective, bool latency_limit, bool memory) {
  Built b;
  Model& m = b.m;
  const size_t n = pb.tasks.size(), np = pb.procs.size();
  b.opts.resize(n);
  b.x.resize(n);
  double big_m = 0;
  for (size_t t = 0; t < n; ++t) {
    b.opts[t] = TaskOptions(pb, static_cast<int>(t), /*splits=*/false);
    double worst = 0;
    for (const TaskChoice& c : b.opts[t])
      worst = std::max(worst, pb.tasks[t].variants[static_cast<size_t>(c.variant)].latency_s[static_cast<size_t>(c.proc)]);
    big_m += worst;
  }
  for (const Edge& e : pb.edges) {
    double worst = 0;
    for (size_t p = 0; p < np; ++p)
      for (size_t q = 0; q < np; ++q)
        worst = std::max(worst, ChargeEdge(pb, e, static_cast<int>(p), static_cast<int>(q)).seconds);
    big_m += worst;
  }
  big_m = big_m * 1.01 + 1e-6;
  const bool energy = objective == PlanObjective::kEnergy;
  const double w_energy = energy ? 1.0 : 1e-6, w_time = energy ? 1e-6 : 1.0;
  // Columns are scaled to milliseconds and millijoules to keep coefficients near 1.
  const double ms = 1e3, mj = 1e3;

  double idle_fixed = 0;
  for (size_t p = 0; p < np; ++p)
    if (!pb.procs[p].power_gated) idle_fixed += pb.procs[p].idle_w;
  b.T = m.Col(GLP_CV, 0, (latency_limit && std::isfinite(pb.latency_limit_s)) ? pb.latency_limit_s * ms : big_m * ms,
              w_time + w_energy * idle_fixed * mj / ms);
  for (size_t t = 0; t < n; ++t) {
    Row one{.lo = 1, .hi = 1};
    for (const TaskChoice& c : b.opts[t]) {
      const double lat = pb.tasks[t].variants[static_cast<size_t>(c.variant)].latency_s[static_cast<size_t>(c.proc)];
      const ProblemProcessor& p = pb.procs[static_cast<size_t>(c.proc)];
      const int col = m.Col(GLP_BV, 0, 1, w_energy * (p.active_w - p.idle_w) * lat * mj);
      b.x[t].push_back(col);
      one.terms.push_back({col, 1});
    }
    m.rows.push_back(one);
  }
  auto duration_terms = [&](size_t t, double sign, Row& r) {
    for (size_t o = 0; o < b.opts[t].size(); ++o) {
      const TaskChoice& c = b.opts[t][o];
      const double lat = pb.tasks[t].variants[static_cast<size_t>(c.variant)].latency_s[static_cast<size_t>(c.proc)];
      if (lat != 0) r.terms.push_back({b.x[t][o], sign * lat * ms});
    }
  };
  auto proc_terms = [&](size_t t, size_t p, double coef, Row& r) {
    for (size_t o = 0; o < b.opts[t].size(); ++o)
      if (static_cast<size_t>(b.opts[t][o].proc) == p) r.terms.push_back({b.x[t][o], coef});
  };
  auto can_use = [&](size_t t, size_t p) {
    for (const TaskChoice& c : b.opts[t])
      if (static_cast<size_t>(c.proc) == p) return true;
    return false;
  };
  for (size_t t = 0; t < n; ++t) b.s.push_back(m.Col(GLP_CV, 0, big_m * ms));
  // Makespan.
  for (size_t t = 0; t < n; ++t) {
    Row r{.lo = 0};
    r.terms.push_back({b.T, 1});
    r.terms.push_back({b.s[t], -1});
    duration_terms(t, -1, r);
    m.rows.push_back(r);
  }
  // Precedence with transfers.
  for (const Edge& e : pb.edges) {
    const size_t i = static_cast<size_t>(e.from), j = static_cast<size_t>(e.to);
    Row prec{.lo = 0};
    prec.terms.push_back({b.s[j], 1});
    prec.terms.push_back({b.s[i], -1});
    duration_terms(i, -1, prec);
    for (size_t p = 0; p < np; ++p)
      for (size_t q = 0; q < np; ++q) {
        if (!can_use(i, p) || !can_use(j, q)) continue;
        const EdgeCharge charge = ChargeEdge(pb, e, static_cast<int>(p), static_cast<int>(q));
        const double sec = charge.seconds, jl = charge.joules;
        if (sec == 0 && jl == 0) continue;
        const int y = m.Col(GLP_CV, 0, 1, w_energy * jl * mj);
        Row link{.lo = -1};
        link.terms.push_back({y, 1});
        proc_terms(i, p, -1, link);
        proc_terms(j, q, -1, link);
        m.rows.push_back(link);
        if (sec != 0) prec.terms.push_back({y, -sec * ms});
      }
    m.rows.push_back(prec);
  }
  // Pairs with no path between them may overlap in time unless they share a processor.
  std::vector<std::vector<bool>> reach(n, std::vector<bool>(n, false));
  for (const Edge& e : pb.edges) reach[static_cast<size_t>(e.from)][static_cast<size_t>(e.to)] = true;
  for (size_t k = 0; k < n; ++k)
    for (size_t i = 0; i < n; ++i)
      if (reach[i][k])
        for (size_t j = 0; j < n; ++j)
          if (reach[k][j]) reach[i][j] = true;
  const double bm = big_m * ms;
  for (size_t i = 0; i < n; ++i)
    for (size_t j = i + 1; j < n; ++j) {
      if (reach[i][j] || reach[j][i]) continue;
      int order = -1;
      for (size_t p = 0; p < np; ++p) {
        if (!can_use(i, p) || !can_use(j, p)) continue;
        if (order < 0) order = m.Col(GLP_BV, 0, 1);
        Row a{.lo = -3 * bm};  // s_j - s_i - d_i - M o - M X_ip - M X_jp >= -3M
        a.terms.push_back({b.s[j], 1});
        a.terms.push_back({b.s[i], -1});
        duration_terms(i, -1, a);
        a.terms.push_back({order, -bm});
        proc_terms(i, p, -bm, a);
        proc_terms(j, p, -bm, a);
        m.rows.push_back(a);
        Row c{.lo = -2 * bm};  // s_i - s_j - d_j + M o - M X_ip - M X_jp >= -2M
        c.terms.push_back({b.s[i], 1});
        c.terms.push_back({b.s[j], -1});
        duration_terms(j, -1, c);
        c.terms.push_back({order, bm});
        proc_terms(i, p, -bm, c);
        proc_terms(j, p, -bm, c);
        m.rows.push_back(c);
      }
    }
  // Accuracy.
  if (std::isfinite(pb.accuracy_limit)) {
    Row acc{.hi = pb.accuracy_limit};
    for (size_t t = 0; t < n; ++t)
      for (size_t o = 0; o < b.opts[t].size(); ++o) {
        const double loss = pb.tasks[t].variants[static_cast<size_t>(b.opts[t][o].variant)].accuracy_loss;
        if (loss != 0) acc.terms.push_back({b.x[t][o], loss});
      }
    if (!acc.terms.empty()) m.rows.push_back(acc);
  }
  // Memory (in MB).
  for (size_t p = 0; p < np && memory; ++p) {
    if (pb.procs[p].memory_limit_bytes <= 0) continue;
    const int a = m.Col(GLP_CV, 0, kInfinity);
    Row mem{.hi = pb.procs[p].memory_limit_bytes / 1e6};
    mem.terms.push_back({a, 1});
    for (size_t t = 0; t < n; ++t)
      for (size_t o = 0; o < b.opts[t].size(); ++o) {
        if (static_cast<size_t>(b.opts[t][o].proc) != p) continue;
        const TaskVariant& v = pb.tasks[t].variants[static_cast<size_t>(b.opts[t][o].variant)];
        if (v.weight_bytes != 0) mem.terms.push_back({b.x[t][o], v.weight_bytes / 1e6});
        if (v.activation_bytes != 0) {
          Row act{.lo = 0};
          act.terms.push_back({a, 1});
          act.terms.push_back({b.x[t][o], -v.activation_bytes / 1e6});
          m.rows.push_back(act);
        }
      }
    m.rows.push_back(mem);
  }
  // Idle power of gated processors, paid only when used: z = used * T.
  for (size_t p = 0; p < np; ++p) {
    if (!pb.procs[p].power_gated) continue;
    const int used = m.Col(GLP_BV, 0, 1);
    const int z = m.Col(GLP_CV, 0, kInfinity, w_energy * pb.procs[p].idle_w * mj / ms);
    for (size_t t = 0; t < n; ++t)
      for (size_t o = 0; o < b.opts[t].size(); ++o) {
        if (static_cast<size_t>(b.opts[t][o].proc) != p) continue;
        Row r{.lo = 0};
        r.terms.push_back({used, 1});
        r.terms.push_back({b.x[t][o], -1});
        m.rows.push_back(r);
      }
    Row r{.lo = -bm};  // z - T - M used >= -M
    r.terms.push_back({z, 1});
    r.terms.push_back({b.T, -1});
    r.terms.push_back({used, -bm});
    m.rows.push_back(r);
  }
  return b;
}

struct Solved {
  int status = GLP_UNDEF;
  std::vector<TaskChoice> choice;
  std::vector<int> order;
  double gap = 0;
};

Solved Solve(const PlanProblem& pb, const Built& b, double time_limit_s) {
  const Model& m = b.m;
  glp_prob* lp = glp_create_prob();
  glp_set_obj_dir(lp, GLP_MIN);
  glp_add_cols(lp, static_cast<int>(m.kind.size()));
  for (size_t c = 0; c < m.kind.size(); ++c) {
    const int col = static_cast<int>(c) + 1;
    glp_set_col_kind(lp, col, m.kind[c]);
    if (m.kind[c] != GLP_BV) {
      if (std::isfinite(m.hi[c]))
        glp_set_col_bnds(lp, col, m.lo[c] == m.hi[c] ? GLP_FX : GLP_DB, m.lo[c], m.hi[c]);
      else
        glp_set_col_bnds(lp, col, GLP_LO, m.lo[c], 0);
    }
    glp_set_obj_coef(lp, col, m.obj[c]);
  }
  glp_add_rows(lp, static_cast<int>(m.rows.size()));
  std::vector<int> ia{0}, ja{0};
  std::vector<double> ar{0};
  for (size_t r = 0; r < m.rows.size(); ++r) {
    const Row& row = m.rows[r];
    const bool lo = std::isfinite(row.lo), hi = std::isfinite(row.hi);
    const int type = lo && hi ? (row.lo == row.hi ? GLP_FX : GLP_DB) : lo ? GLP_LO : hi ? GLP_UP : GLP_FR;
    glp_set_row_bnds(lp, static_cast<int>(r) + 1, type, lo ? row.lo : 0, hi ? row.hi : 0);
    // GLPK rejects duplicate (row, column) entries: merge them.
    std::vector<std::pair<int, double>> terms = row.terms;
    std::sort(terms.begin(), terms.end());
    for (size_t k = 0; k < terms.size(); ++k) {
      if (k > 0 && terms[k].first == terms[k - 1].first) {
        ar.back() += terms[k].second;
        continue;
      }
      ia.push_back(static_cast<int>(r) + 1);
      ja.push_back(terms[k].first + 1);
      ar.push_back(terms[k].second);
    }
  }
  glp_load_matrix(lp, static_cast<int>(ia.size()) - 1, ia.data(), ja.data(), ar.data());
  glp_iocp parm;
  glp_init_iocp(&parm);
  parm.presolve = GLP_ON;
  parm.msg_lev = GLP_MSG_OFF;
  parm.tm_lim = static_cast<int>(std::max(1.0, time_limit_s * 1e3));
  Callback cb;
  parm.cb_func = OnEvent;
  parm.cb_info = &cb;
  const int rc = glp_intopt(lp, &parm);
  Solved out;
  out.status = rc == 0 || rc == GLP_ETMLIM ? glp_mip_status(lp) : GLP_UNDEF;
  if (rc == GLP_ENOPFS || rc == GLP_ENODFS) out.status = GLP_NOFEAS;
  if (out.status == GLP_OPT || out.status == GLP_FEAS) {
    const size_t n = pb.tasks.size();
    out.choice.resize(n);
    std::vector<double> start(n);
    for (size_t t = 0; t < n; ++t) {
      double best = -1;
      for (size_t o = 0; o < b.x[t].size(); ++o) {
        const double v = glp_mip_col_val(lp, b.x[t][o] + 1);
        if (v > best) {
          best = v;
          out.choice[t] = b.opts[t][o];
        }
      }
      start[t] = glp_mip_col_val(lp, b.s[t] + 1);
    }
    out.order.resize(n);
    std::iota(out.order.begin(), out.order.end(), 0);
    // Schedule in the solver's start order; ties keep topological (index) order.
    std::stable_sort(out.order.begin(), out.order.end(),
                     [&](int a, int c) { return start[static_cast<size_t>(a)] < start[static_cast<size_t>(c)] - 1e-9; });
    out.gap = out.status == GLP_OPT ? 0 : cb.gap;
  }
  glp_delete_prob(lp);
  return out;
}

}  // namespace

Result<Solution> SolveMilp(const PlanProblem& pb, const MilpOptions& options) {
  const size_t n = pb.tasks.size();
  if (n == 0) return InvalidArgument("no tasks to plan");
  for (size_t t = 0; t < n; ++t)
    if (TaskOptions(pb, static_cast<int>(t), false).empty())
      return FailedPrecondition("infeasible: no processor can run task " + std::to_string(t) + " (" +
                                pb.tasks[t].label + ")");
  glp_term_out(GLP_OFF);
  const Built b = Build(pb, pb.objective, true, true);
  Solved s = Solve(pb, b, options.time_limit_s);
  if (s.status == GLP_OPT || s.status == GLP_FEAS) {
    Solution sol;
    sol.choice = s.choice;
    sol.eval = Evaluate(pb, s.choice, s.order);
    sol.gap = s.gap;
    sol.frontier.push_back({sol.eval.latency_s * 1e3, sol.eval.energy_j * 1e3, sol.eval.accuracy_loss});
    return sol;
  }
  if (s.status != GLP_NOFEAS) return Internal("GLPK found no plan within its time limit");
  // Which limit? Least latency without the latency limit, then least latency without memory limits.
  Solved fastest = Solve(pb, Build(pb, PlanObjective::kLatency, false, true), options.time_limit_s);
  if (fastest.status == GLP_OPT || fastest.status == GLP_FEAS)
    return LatencyInfeasible(pb, Evaluate(pb, fastest.choice, fastest.order).latency_s);
  Solved unbounded = Solve(pb, Build(pb, PlanObjective::kLatency, false, false), options.time_limit_s);
  if (unbounded.status == GLP_OPT || unbounded.status == GLP_FEAS)
    return MemoryInfeasible(pb, Evaluate(pb, unbounded.choice, unbounded.order));
  return FailedPrecondition("infeasible: the accuracy-drop limit cannot be met");
}
#endif

}  // namespace deepx
