// The DAD solvers against brute force on random small problems, limits, and infeasibility errors.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "plan/solvers.h"

namespace deepx {
namespace {

struct RandomSpec {
  int internal_tasks = 3;
  int procs = 3;
  bool chain = true;
  int variants = 2;
  bool splittable = true;
  bool memory_limits = false;
};

// Source (pinned home) -> internal tasks -> sink (pinned home); random costs, unsupported entries, gated processors.
PlanProblem RandomProblem(std::mt19937& rng, const RandomSpec& spec) {
  std::uniform_real_distribution<double> u(0, 1);
  PlanProblem pb;
  const int np = spec.procs;
  for (int p = 0; p < np; ++p)
    pb.procs.push_back({.name = "p" + std::to_string(p),
                        .active_w = 0.5 + 3 * u(rng),
                        .idle_w = 0.05 + 0.4 * u(rng),
                        .power_gated = p > 0 && u(rng) < 0.5,
                        .memory_limit_bytes = spec.memory_limits ? 2e6 + 4e6 * u(rng) : 0});
  pb.link.assign(static_cast<size_t>(np), std::vector<TransferCost>(static_cast<size_t>(np)));
  for (int a = 0; a < np; ++a)
    for (int b = 0; b < np; ++b)
      if (a != b)
        pb.link[static_cast<size_t>(a)][static_cast<size_t>(b)] = {.fixed_s = 2e-3 * u(rng),
                                                                   .s_per_byte = 1e-9 + 1e-8 * u(rng),
                                                                   .fixed_j = 2e-3 * u(rng),
                                                                   .j_per_byte = 1e-9 * u(rng)};
  auto endpoint = [&](const std::string& label) {
    Task t;
    t.label = label;
    t.pinned = 0;
    t.variants.push_back({.latency_s = std::vector<double>(static_cast<size_t>(np), 0.0)});
    return t;
  };
  pb.split_fractions = {0.3, 0.5};
  pb.tasks.push_back(endpoint("in"));
  for (int i = 0; i < spec.internal_tasks; ++i) {
    Task t;
    t.label = "t" + std::to_string(i);
    const int nv = 1 + static_cast<int>(u(rng) * spec.variants);
    for (int k = 0; k < std::min(nv, spec.variants); ++k) {
      TaskVariant v;
      v.accuracy_loss = k == 0 ? 0 : 0.01 + 0.03 * u(rng);
      for (int p = 0; p < np; ++p) {
        const bool unsupported = p > 0 && u(rng) < 0.15;
        v.latency_s.push_back(unsupported ? kInfinity : (1e-3 + 1e-2 * u(rng)) / (k + 1));
      }
      v.weight_bytes = (0.5e6 + 2e6 * u(rng)) / (k + 1);
      v.activation_bytes = 0.2e6 + 1e6 * u(rng);
      t.variants.push_back(std::move(v));
    }
    t.splittable = spec.splittable && u(rng) < 0.5;
    t.split_in_bytes = 1e5 * u(rng);
    t.split_out_bytes = 1e5 * u(rng);
    pb.tasks.push_back(std::move(t));
  }
  pb.tasks.push_back(endpoint("out"));
  const int n = static_cast<int>(pb.tasks.size());
  if (spec.chain) {
    for (int i = 0; i + 1 < n; ++i) pb.edges.push_back({i, i + 1, 1e5 + 1e6 * u(rng)});
  } else {
    // Every internal task reads from an earlier task; tasks nobody reads feed the sink.
    std::vector<bool> read(static_cast<size_t>(n), false);
    for (int j = 1; j + 1 < n; ++j) {
      const int from = static_cast<int>(u(rng) * j);
      pb.edges.push_back({from, j, 1e5 + 1e6 * u(rng)});
      read[static_cast<size_t>(from)] = true;
      if (j > 1 && u(rng) < 0.3) {
        const int other = static_cast<int>(u(rng) * j);
        if (other != from) {
          pb.edges.push_back({other, j, 1e5 * u(rng)});
          read[static_cast<size_t>(other)] = true;
        }
      }
    }
    for (int j = 1; j + 1 < n; ++j)
      if (!read[static_cast<size_t>(j)]) pb.edges.push_back({j, n - 1, 1e5 + 1e6 * u(rng)});
  }
  return pb;
}

// What cutting blocks costs (measured on processors present here): per-block and hand-over times, per-edge
// leave/enter times, split extras and contention, a minimum split gain.
void AddBoundaryCosts(std::mt19937& rng, PlanProblem& pb) {
  std::uniform_real_distribution<double> u(0, 1);
  const size_t np = pb.procs.size();
  for (ProblemProcessor& p : pb.procs) {
    p.block_s = 1e-3 * u(rng);
    p.handoff_s = 1e-3 * u(rng);
    p.contention = 1 + 0.8 * u(rng);
    p.contention_memory = 1 + u(rng);
    p.ridge = 5 * u(rng);
  }
  const int n = static_cast<int>(pb.tasks.size());
  for (Edge& e : pb.edges) {
    e.from_inputs = e.from == 0;
    e.to_outputs = e.to == n - 1;
    for (size_t p = 0; p < np; ++p) {
      e.leave_s.push_back(2e-3 * u(rng));
      e.enter_s.push_back(2e-3 * u(rng));
    }
  }
  for (Task& t : pb.tasks) {
    if (!t.splittable) continue;
    t.split_intensity = 5 * u(rng);
    for (size_t p = 0; p < np; ++p) {
      t.split_in_leave_s.push_back(1e-3 * u(rng));
      t.split_in_enter_s.push_back(1e-3 * u(rng));
      t.split_out_leave_s.push_back(1e-3 * u(rng));
      t.split_out_enter_s.push_back(1e-3 * u(rng));
      t.split_recombine_s.push_back(1e-3 * u(rng));
    }
  }
  pb.split_min_gain = u(rng) < 0.5 ? 0.1 : 0;
}

// A latency limit between the fastest and slowest plans brute force finds, so that it sometimes binds.
void SetLimits(std::mt19937& rng, PlanProblem& pb, bool splits) {
  std::uniform_real_distribution<double> u(0, 1);
  PlanProblem unlimited = pb;
  unlimited.objective = PlanObjective::kLatency;
  // Chains: the DP (checked against brute force above) keeps big random chains fast.
  auto fastest = pb.IsChain() && pb.tasks.size() > 6 ? SolveChainDp(unlimited, {.splits = splits})
                                                      : SolveBruteForce(unlimited, {.splits = splits});
  if (fastest.ok()) pb.latency_limit_s = fastest->eval.latency_s * (1 + 0.6 * u(rng));
  pb.accuracy_limit = u(rng) < 0.5 ? 0.03 : 0.08;
}

double Rel(double a, double b) { return std::abs(a - b) / std::max({std::abs(a), std::abs(b), 1e-12}); }

// The chain DP against brute force on `trials` random chains (with measured-style boundary costs when asked):
// the same objective, the same infeasibility, a feasible unthinned plan and a Pareto frontier. Returns how many
// were compared; `infeasible` counts the rest.
int DpMatchesBruteForce(uint32_t seed, int trials, bool boundary_costs, int* infeasible) {
  std::mt19937 rng(seed);
  int compared = 0;
  for (int trial = 0; trial < trials; ++trial) {
    RandomSpec spec{.internal_tasks = 2 + trial % 3, .procs = 2 + trial % 2, .memory_limits = trial % 3 == 0};
    PlanProblem pb = RandomProblem(rng, spec);
    if (boundary_costs) AddBoundaryCosts(rng, pb);
    pb.objective = trial % 4 == 0 ? PlanObjective::kLatency : PlanObjective::kEnergy;
    SetLimits(rng, pb, true);
    auto brute = SolveBruteForce(pb);
    auto dp = SolveChainDp(pb);
    EXPECT_EQ(brute.ok(), dp.ok()) << "trial " << trial << ": brute " << brute.status().ToString() << " / dp "
                                   << dp.status().ToString();
    if (brute.ok() != dp.ok()) return compared;
    if (!brute.ok()) {
      ++*infeasible;
      EXPECT_EQ(brute.status().code(), StatusCode::kFailedPrecondition);
      EXPECT_EQ(dp.status().code(), StatusCode::kFailedPrecondition);
      continue;
    }
    ++compared;
    EXPECT_LT(Rel(ObjectiveValue(pb, brute->eval), ObjectiveValue(pb, dp->eval)), 1e-9)
        << "trial " << trial << " brute " << ObjectiveValue(pb, brute->eval) << " dp " << ObjectiveValue(pb, dp->eval);
    EXPECT_TRUE(dp->eval.feasible) << dp->eval.violated;
    EXPECT_FALSE(dp->thinned);
    // The frontier is Pareto: latency up, energy down.
    for (size_t i = 1; i < dp->frontier.size(); ++i) {
      EXPECT_GT(dp->frontier[i].latency_ms, dp->frontier[i - 1].latency_ms);
      EXPECT_LT(dp->frontier[i].energy_mj, dp->frontier[i - 1].energy_mj);
    }
  }
  return compared;
}

TEST(PlanSolvers, ChainDpEqualsBruteForceOnRandomChains) {
  int infeasible = 0;
  const int compared = DpMatchesBruteForce(7, 150, false, &infeasible);
  EXPECT_GT(compared, 100);
  std::cout << "compared " << compared << " chains, " << infeasible << " infeasible\n";
}

TEST(PlanSolvers, ChainDpEqualsBruteForceWithBoundaryCosts) {
  int infeasible = 0;
  EXPECT_GT(DpMatchesBruteForce(11, 120, true, &infeasible), 80);
}


TEST(PlanSolvers, BoundaryCostsChargeOnlyWhereBlocksChange) {
  PlanProblem pb;
  pb.procs = {{.name = "a", .block_s = 0.5, .handoff_s = 0.25}, {.name = "b", .block_s = 1, .handoff_s = 2}};
  pb.link.assign(2, std::vector<TransferCost>(2));
  pb.link[0][1] = pb.link[1][0] = {.fixed_s = 4};
  Edge e{.from = 0, .to = 1, .bytes = 10, .leave_s = {8, 16}, .enter_s = {32, 64}};
  EXPECT_EQ(ChargeEdge(pb, e, 0, 0).seconds, 0);                 // one block
  EXPECT_EQ(ChargeEdge(pb, e, 0, 1).seconds, 8 + 4 + 64 + 1 + 2);  // leave a, link, enter b, start b, wake b
  EXPECT_EQ(ChargeEdge(pb, e, 1, 0).seconds, 16 + 4 + 32 + 0.5 + 0.25);
  e.from_inputs = true;                                           // the first block starts on a: no wake
  EXPECT_EQ(ChargeEdge(pb, e, 0, 0).seconds, 8 + 32 + 0.5);
  e.from_inputs = false;
  e.to_outputs = true;                                            // nothing starts at the outputs
  EXPECT_EQ(ChargeEdge(pb, e, 1, 0).seconds, 16 + 4 + 0.25);
}

TEST(PlanSolvers, ChainDpFrontierEqualsBruteForceFrontier) {
  std::mt19937 rng(11);
  for (int trial = 0; trial < 40; ++trial) {
    PlanProblem pb = RandomProblem(rng, {.internal_tasks = 3, .procs = 3, .variants = 2});
    pb.accuracy_limit = 0.05;
    auto brute = SolveBruteForce(pb);
    auto dp = SolveChainDp(pb);
    ASSERT_TRUE(brute.ok() && dp.ok());
    ASSERT_EQ(brute->frontier.size(), dp->frontier.size()) << "trial " << trial;
    for (size_t i = 0; i < dp->frontier.size(); ++i) {
      EXPECT_LT(Rel(brute->frontier[i].latency_ms, dp->frontier[i].latency_ms), 1e-9);
      EXPECT_LT(Rel(brute->frontier[i].energy_mj, dp->frontier[i].energy_mj), 1e-9);
    }
  }
}

// The MILP against brute force on `trials` random DAGs (no splits; with measured-style boundary costs when asked):
// the same objective, no gap left, a feasible plan. Returns how many were compared.
int MilpMatchesBruteForce(uint32_t seed, int trials, bool boundary_costs) {
  std::mt19937 rng(seed);
  int compared = 0;
  for (int trial = 0; trial < trials; ++trial) {
    RandomSpec spec{.internal_tasks = 2 + trial % 3, .procs = 2 + trial % 2, .chain = false,
                    .variants = 2, .splittable = false, .memory_limits = trial % 3 == 0};
    PlanProblem pb = RandomProblem(rng, spec);
    if (boundary_costs) AddBoundaryCosts(rng, pb);
    pb.objective = trial % 4 == 0 ? PlanObjective::kLatency : PlanObjective::kEnergy;
    SetLimits(rng, pb, false);
    auto brute = SolveBruteForce(pb, {.splits = false});
    auto milp = SolveMilp(pb, {.time_limit_s = 20});
    EXPECT_EQ(brute.ok(), milp.ok()) << "trial " << trial << ": brute " << brute.status().ToString() << " / milp "
                                     << milp.status().ToString();
    if (brute.ok() != milp.ok()) return compared;
    if (!brute.ok()) continue;
    ++compared;
    EXPECT_EQ(milp->gap, 0);
    EXPECT_LT(Rel(ObjectiveValue(pb, brute->eval), ObjectiveValue(pb, milp->eval)), 1e-4)
        << "trial " << trial << " brute " << ObjectiveValue(pb, brute->eval) << " milp "
        << ObjectiveValue(pb, milp->eval);
    EXPECT_TRUE(milp->eval.feasible) << milp->eval.violated;
  }
  return compared;
}

TEST(PlanSolvers, MilpEqualsBruteForceOnRandomDags) {
  if (!MilpAvailable()) GTEST_SKIP() << "built without GLPK";
  EXPECT_GT(MilpMatchesBruteForce(3, 60, false), 40);
}

TEST(PlanSolvers, MilpEqualsBruteForceOnRandomDagsWithBoundaryCosts) {
  if (!MilpAvailable()) GTEST_SKIP() << "built without GLPK";
  EXPECT_GT(MilpMatchesBruteForce(13, 40, true), 25);
}

TEST(PlanSolvers, MilpOnAChainEqualsDpWithoutSplits) {
  if (!MilpAvailable()) GTEST_SKIP() << "built without GLPK";
  std::mt19937 rng(5);
  for (int trial = 0; trial < 20; ++trial) {
    PlanProblem pb = RandomProblem(rng, {.internal_tasks = 5, .procs = 3, .splittable = false});
    pb.accuracy_limit = 0.05;
    auto dp = SolveChainDp(pb, {.splits = false});
    auto milp = SolveMilp(pb, {.time_limit_s = 20});
    ASSERT_TRUE(dp.ok() && milp.ok());
    EXPECT_LT(Rel(ObjectiveValue(pb, dp->eval), ObjectiveValue(pb, milp->eval)), 1e-4) << "trial " << trial;
  }
}

TEST(PlanSolvers, PlansRespectEveryLimit) {
  std::mt19937 rng(19);
  for (int trial = 0; trial < 12; ++trial) {
    PlanProblem pb = RandomProblem(rng, {.internal_tasks = 5, .procs = 3, .variants = 3, .memory_limits = true});
    SetLimits(rng, pb, true);
    auto dp = SolveChainDp(pb);
    if (!dp.ok()) continue;
    const Evaluation& e = dp->eval;
    EXPECT_LE(e.latency_s, pb.latency_limit_s * (1 + 1e-9));
    EXPECT_LE(e.accuracy_loss, pb.accuracy_limit + 1e-12);
    for (size_t p = 0; p < pb.procs.size(); ++p)
      EXPECT_LE(e.weight_bytes[p] + e.activation_bytes[p], pb.procs[p].memory_limit_bytes * (1 + 1e-9));
  }
}

TEST(PlanSolvers, InfeasibleLatencyNamesTheLimitAndTheBestValue) {
  std::mt19937 rng(23);
  PlanProblem pb = RandomProblem(rng, {.internal_tasks = 3, .procs = 2});
  PlanProblem fastest = pb;
  fastest.objective = PlanObjective::kLatency;
  auto best = SolveBruteForce(fastest);
  ASSERT_TRUE(best.ok());
  pb.latency_limit_s = best->eval.latency_s * 0.5;
  for (int method = 0; method < 3; ++method) {
    if (method == 2 && !MilpAvailable()) continue;
    PlanProblem q = pb;
    if (method == 2) q.tasks[1].splittable = q.tasks[2].splittable = q.tasks[3].splittable = false;
    Result<Solution> r = method == 0 ? SolveChainDp(q) : method == 1 ? SolveBruteForce(q) : SolveMilp(q);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
    const std::string msg = r.status().message();
    EXPECT_NE(msg.find("latency limit"), std::string::npos) << msg;
    EXPECT_NE(msg.find("best achievable"), std::string::npos) << msg;
    if (method < 2) {
      char expect[64];
      std::snprintf(expect, sizeof expect, "best achievable %.3f ms", best->eval.latency_s * 1e3);
      EXPECT_NE(msg.find(expect), std::string::npos) << msg << " vs " << expect;
    }
  }
}

TEST(PlanSolvers, InfeasibleMemoryNamesTheProcessor) {
  std::mt19937 rng(29);
  PlanProblem pb = RandomProblem(rng, {.internal_tasks = 3, .procs = 2, .variants = 1});
  for (ProblemProcessor& p : pb.procs) p.memory_limit_bytes = 1e5;  // smaller than any task
  auto dp = SolveChainDp(pb);
  auto brute = SolveBruteForce(pb);
  ASSERT_FALSE(dp.ok());
  ASSERT_FALSE(brute.ok());
  EXPECT_NE(dp.status().message().find("memory limit of p"), std::string::npos) << dp.status().ToString();
  EXPECT_NE(brute.status().message().find("memory limit of p"), std::string::npos) << brute.status().ToString();
}

TEST(PlanSolvers, EvaluateChargesIdlePowerOnlyForUsedGatedProcessors) {
  PlanProblem pb;
  pb.procs = {{.name = "cpu", .active_w = 2, .idle_w = 0.5}, {.name = "gpu", .active_w = 4, .idle_w = 1, .power_gated = true}};
  pb.link.assign(2, std::vector<TransferCost>(2));
  Task t;
  t.variants.push_back({.latency_s = {0.010, 0.002}});
  pb.tasks = {t};
  const Evaluation on_cpu = Evaluate(pb, {{.proc = 0}});
  EXPECT_NEAR(on_cpu.energy_j, 2 * 0.010, 1e-12);  // busy at 2 W; gpu gated off
  const Evaluation on_gpu = Evaluate(pb, {{.proc = 1}});
  EXPECT_NEAR(on_gpu.energy_j, 4 * 0.002 + 0.5 * 0.002, 1e-12);  // gpu busy + cpu idle
}

}  // namespace
}  // namespace deepx
