// Rank selection (compress/rank_selection.h) on spectra with known singular values.
#include "compress/rank_selection.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <random>

namespace deepx::compress {
namespace {

LayerSpectrum Spectrum(const std::string& name, int64_t rows, int64_t cols, std::vector<float> s) {
  LayerSpectrum l;
  l.layer.name = name;
  l.layer.op_type = "Gemm";
  l.layer.rows = rows;
  l.layer.cols = cols;
  l.layer.dense_flops = 2.0 * static_cast<double>(rows * cols);
  l.layer.flops_per_rank = 2.0 * static_cast<double>(rows + cols);
  l.svd.rows = rows;
  l.svd.cols = cols;
  l.svd.rank = static_cast<int64_t>(s.size());
  l.svd.exact = l.svd.rank == std::min(rows, cols);
  l.svd.s = s;
  l.svd.energy.assign(s.size() + 1, 0.0);
  for (size_t i = 0; i < s.size(); ++i) l.svd.energy[i + 1] = l.svd.energy[i] + static_cast<double>(s[i]) * s[i];
  l.svd.frob2 = l.svd.energy.back();
  return l;
}

TEST(RankSelection, SmallestRankMeetingTheError) {
  // Energies 16, 9, 4, 1 (total 30).
  LayerSpectrum l = Spectrum("fc", 100, 80, {4, 3, 2, 1});
  l.svd.exact = true;
  EXPECT_EQ(RankForError(l, std::sqrt(5.0 / 30) + 1e-9), 2);
  EXPECT_EQ(RankForError(l, std::sqrt(14.0 / 30) + 1e-9), 1);
  EXPECT_EQ(RankForError(l, 0.0), 4);
  // Above break-even the layer stays dense: 3x3 pays only below k(6) < 9, i.e. k = 1.
  LayerSpectrum tiny = Spectrum("t", 3, 3, {3, 2, 1});
  EXPECT_EQ(RankForError(tiny, 0.1), 0);
  EXPECT_EQ(RankForError(tiny, 0.9), 1);
}

TEST(RankSelection, BudgetAllocationMatchesBruteForce) {
  std::mt19937 rng(5);
  for (int trial = 0; trial < 20; ++trial) {
    std::vector<LayerSpectrum> layers;
    const int64_t dims[3][2] = {{12, 10}, {16, 8}, {14, 14}};
    for (int i = 0; i < 3; ++i) {
      std::vector<float> s;
      float v = 1;
      const int64_t r = std::min(dims[i][0], dims[i][1]);
      std::uniform_real_distribution<float> decay(0.4f, 0.95f);
      const float d = decay(rng);
      for (int64_t k = 0; k < r; ++k, v *= d) s.push_back(v);
      layers.push_back(Spectrum("l" + std::to_string(i), dims[i][0], dims[i][1], s));
      layers.back().sensitivity = 0.5 + i;
    }
    const double budget = MinimumCost(layers, BudgetKind::kParams) +
                          (DenseCost(layers, BudgetKind::kParams) - MinimumCost(layers, BudgetKind::kParams)) *
                              (0.05 + 0.04 * trial);
    const Allocation a = AllocateForBudget(layers, budget, BudgetKind::kParams);
    ASSERT_TRUE(a.feasible);
    EXPECT_LE(a.cost, budget);
    // Brute force over every combination of {dense, 1..break-even}.
    double best = 1e300;
    std::vector<int64_t> ranks(3);
    std::function<void(size_t)> search = [&](size_t i) {
      if (i == layers.size()) {
        double cost = 0, loss = 0;
        for (size_t j = 0; j < layers.size(); ++j) {
          cost += LayerCostF(layers[j], ranks[j], BudgetKind::kParams);
          loss += LayerEnergyLoss(layers[j], ranks[j]);
        }
        if (cost <= budget) best = std::min(best, loss);
        return;
      }
      for (int64_t k = 0; k <= layers[i].layer.break_even_rank(); ++k) {
        ranks[i] = k;
        search(i + 1);
      }
    };
    search(0);
    // Lagrangian + greedy fill is optimal on the convex hull; local search closes most knapsack gaps.
    EXPECT_LE(a.energy_loss, best * 1.05 + 1e-9) << "trial " << trial;
  }
}

TEST(RankSelection, MoreBudgetNeverLosesMoreEnergy) {
  std::vector<LayerSpectrum> layers = {Spectrum("a", 64, 32, {8, 4, 2, 1, 0.5f, 0.25f, 0.1f}),
                                       Spectrum("b", 40, 40, {5, 4, 3, 2, 1, 0.5f})};
  double previous = 1e300;
  for (double budget = MinimumCost(layers, BudgetKind::kParams); budget <= DenseCost(layers, BudgetKind::kParams);
       budget *= 1.3) {
    const Allocation a = AllocateForBudget(layers, budget, BudgetKind::kParams);
    EXPECT_LE(a.energy_loss, previous + 1e-12);
    previous = a.energy_loss;
  }
}

TEST(RankSelection, InfeasibleBudgetIsReported) {
  std::vector<LayerSpectrum> layers = {Spectrum("a", 64, 32, {8, 4, 2})};
  const Allocation a = AllocateForBudget(layers, 10, BudgetKind::kParams);
  EXPECT_FALSE(a.feasible);
  EXPECT_EQ(a.ranks[0], 1);
  EXPECT_EQ(MinimumCost(layers, BudgetKind::kParams), 96);
}

TEST(RankSelection, AsksForMoreRanksOnlyWhenTheyCouldWin) {
  // Three computed triplets of a 64x32 layer whose tail energy is still large: for a small multiplier a higher
  // rank could beat both dense and rank 3.
  LayerSpectrum l = Spectrum("a", 64, 32, {8, 7, 6});
  l.svd.frob2 += 100;  // energy beyond the computed triplets
  l.svd.exact = false;
  EXPECT_TRUE(NeedsMoreRanks(l, 1e-3, BudgetKind::kParams));
  EXPECT_FALSE(NeedsMoreRanks(l, 10.0, BudgetKind::kParams));
}

}  // namespace
}  // namespace deepx::compress
