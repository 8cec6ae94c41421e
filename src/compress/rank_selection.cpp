#include "compress/rank_selection.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace deepx::compress {
namespace {

// Ranks 1..top are candidates: computed and below break-even.
int64_t TopCandidate(const LayerSpectrum& l) { return std::min(l.svd.rank, l.layer.break_even_rank()); }

double Evaluate(const std::vector<LayerSpectrum>& layers, const std::vector<int64_t>& ranks, BudgetKind kind,
                double* energy) {
  double cost = 0;
  *energy = 0;
  for (size_t i = 0; i < layers.size(); ++i) {
    cost += LayerCostF(layers[i], ranks[i], kind);
    *energy += LayerEnergyLoss(layers[i], ranks[i]);
  }
  return cost;
}

}  // namespace

double LayerCostF(const LayerSpectrum& l, int64_t rank, BudgetKind kind) {
  if (kind == BudgetKind::kParams)
    return static_cast<double>(rank == 0 ? l.layer.dense_params() : l.layer.params_at(rank));
  return rank == 0 ? l.layer.dense_flops : static_cast<double>(rank) * l.layer.flops_per_rank;
}

int64_t LayerCost(const LayerSpectrum& l, int64_t rank, BudgetKind kind) {
  return static_cast<int64_t>(std::llround(LayerCostF(l, rank, kind)));
}

double LayerEnergyLoss(const LayerSpectrum& l, int64_t rank) {
  if (rank == 0) return 0;
  const double e = l.svd.RelativeError(rank);
  return l.sensitivity * e * e;
}

int64_t RankForError(const LayerSpectrum& l, double max_error) {
  const int64_t k = l.svd.SmallestRankFor(max_error);
  if (k < 0 || k > l.layer.break_even_rank()) return 0;
  return std::max<int64_t>(k, 1);
}

std::vector<int64_t> AllocateForLambda(const std::vector<LayerSpectrum>& layers, double lambda, BudgetKind kind) {
  std::vector<int64_t> ranks(layers.size(), 0);
  for (size_t i = 0; i < layers.size(); ++i) {
    const LayerSpectrum& l = layers[i];
    double best = lambda * LayerCostF(l, 0, kind);
    const int64_t top = TopCandidate(l);
    for (int64_t k = 1; k <= top; ++k) {
      const double f = LayerEnergyLoss(l, k) + lambda * LayerCostF(l, k, kind);
      // Strictly better only: among ties the dense form (no approximation) or the higher rank wins.
      if (f < best) {
        best = f;
        ranks[i] = k;
      }
    }
  }
  return ranks;
}

double MinimumCost(const std::vector<LayerSpectrum>& layers, BudgetKind kind) {
  double cost = 0;
  for (const LayerSpectrum& l : layers)
    cost += TopCandidate(l) >= 1 ? std::min(LayerCostF(l, 1, kind), LayerCostF(l, 0, kind)) : LayerCostF(l, 0, kind);
  return cost;
}

double DenseCost(const std::vector<LayerSpectrum>& layers, BudgetKind kind) {
  double cost = 0;
  for (const LayerSpectrum& l : layers) cost += LayerCostF(l, 0, kind);
  return cost;
}

Allocation AllocateForBudget(const std::vector<LayerSpectrum>& layers, double budget, BudgetKind kind) {
  Allocation a;
  a.ranks.assign(layers.size(), 0);
  a.cost = Evaluate(layers, a.ranks, kind, &a.energy_loss);
  if (a.cost <= budget) return a;  // dense fits
  // λ large enough that every layer takes its cheapest candidate: energy losses are <= max sensitivity.
  double max_s = 0, min_step = std::numeric_limits<double>::max();
  for (const LayerSpectrum& l : layers) {
    max_s = std::max(max_s, l.sensitivity);
    if (TopCandidate(l) >= 1) min_step = std::min(min_step, LayerCostF(l, 1, kind) > 0 ? LayerCostF(l, 1, kind) : 1.0);
  }
  if (min_step == std::numeric_limits<double>::max()) min_step = 1;
  double hi = 2 * std::max(max_s, 1e-30) / std::max(min_step * 1e-6, 1e-30) + 1;
  double lo = 0;
  std::vector<int64_t> best = AllocateForLambda(layers, hi, kind);
  double energy = 0;
  const double cheapest = Evaluate(layers, best, kind, &energy);
  if (cheapest > budget) {
    a.ranks = best;
    a.cost = cheapest;
    a.energy_loss = energy;
    a.feasible = false;
    return a;
  }
  // Cost is nonincreasing in λ: bisect (geometrically once lo > 0) for the smallest λ that fits.
  for (int it = 0; it < 200 && hi > lo * (1 + 1e-9); ++it) {
    const double mid = lo > 0 ? std::sqrt(lo * hi) : hi * 1e-12;
    std::vector<int64_t> ranks = AllocateForLambda(layers, mid, kind);
    double e = 0;
    if (Evaluate(layers, ranks, kind, &e) <= budget) {
      hi = mid;
      best = std::move(ranks);
    } else {
      lo = mid;
    }
  }
  a.ranks = best;
  a.cost = Evaluate(layers, best, kind, &a.energy_loss);
  // The hull may leave budget unused (the problem is a knapsack): local search. A move changes one layer's
  // rank (dense included) and then spends what is left on the best single change of another layer; the best
  // move that lowers the loss is taken, until none does. Cheaper ranks tried per layer: the 32 just below its
  // rank and 64 spread over its range, which keeps a pass near O(layers · candidates).
  auto best_single = [&](const std::vector<int64_t>& ranks, double cost, size_t skip, double* gain_out,
                         size_t* i_out, int64_t* k_out) {
    *gain_out = 0;
    for (size_t i = 0; i < layers.size(); ++i) {
      if (i == skip) continue;
      const double here_cost = LayerCostF(layers[i], ranks[i], kind);
      const double here_loss = LayerEnergyLoss(layers[i], ranks[i]);
      for (int64_t k = 0; k <= TopCandidate(layers[i]); ++k) {
        if (cost - here_cost + LayerCostF(layers[i], k, kind) > budget) continue;
        const double gain = here_loss - LayerEnergyLoss(layers[i], k);
        if (gain > *gain_out) {
          *gain_out = gain;
          *i_out = i;
          *k_out = k;
        }
      }
    }
  };
  for (int pass = 0; pass < 16; ++pass) {
    double gain = 0;
    size_t gi = 0;
    int64_t gk = 0;
    best_single(a.ranks, a.cost, layers.size(), &gain, &gi, &gk);
    std::vector<int64_t> best_ranks = a.ranks;
    double best_loss = a.energy_loss;
    if (gain > 0) {
      best_ranks[gi] = gk;
      best_loss = a.energy_loss - gain;
    }
    for (size_t i = 0; i < layers.size(); ++i) {
      const int64_t top = TopCandidate(layers[i]);
      const int64_t cur = a.ranks[i] == 0 ? top + 1 : a.ranks[i];
      std::vector<int64_t> lower;
      for (int64_t k = std::max<int64_t>(1, cur - 32); k < cur && k <= top; ++k) lower.push_back(k);
      const int64_t step = std::max<int64_t>(1, top / 64);
      for (int64_t k = 1; k < cur - 32 && k <= top; k += step) lower.push_back(k);
      for (int64_t k : lower) {
        std::vector<int64_t> ranks = a.ranks;
        ranks[i] = k;
        double loss = 0;
        const double cost = Evaluate(layers, ranks, kind, &loss);
        if (cost > budget) continue;
        double g2 = 0;
        size_t j = 0;
        int64_t kj = 0;
        best_single(ranks, cost, i, &g2, &j, &kj);
        if (g2 > 0) ranks[j] = kj;
        if (loss - g2 < best_loss - 1e-15) {
          best_loss = loss - g2;
          best_ranks = ranks;
        }
      }
    }
    if (best_loss >= a.energy_loss - 1e-15) break;
    a.ranks = best_ranks;
    a.cost = Evaluate(layers, a.ranks, kind, &a.energy_loss);
  }
  return a;
}

bool NeedsMoreRanks(const LayerSpectrum& l, double lambda, BudgetKind kind) {
  if (l.svd.exact || l.svd.rank >= l.layer.break_even_rank()) return false;
  double best = lambda * LayerCostF(l, 0, kind);
  for (int64_t k = 1; k <= l.svd.rank; ++k) best = std::min(best, LayerEnergyLoss(l, k) + lambda * LayerCostF(l, k, kind));
  // Any uncomputed rank costs at least λ·cost(rank + 1) and loses energy >= 0.
  return lambda * LayerCostF(l, l.svd.rank + 1, kind) < best;
}

}  // namespace deepx::compress
