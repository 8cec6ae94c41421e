// Rank selection: which rank each compressible layer gets.
//
// Per layer, RankForError gives the smallest rank meeting a relative reconstruction-error budget. Across layers,
// Allocate distributes a global budget (weights or FLOPs) by Lagrangian relaxation of
//     minimise Σ_l s_l · e_l(k_l)²   subject to   Σ_l cost_l(k_l) <= budget
// where e_l(k)² = Σ_{i>k} σ_i² / ‖W_l‖² is the share of the layer's singular-value energy dropped, cost_l is its
// weight count (or FLOPs) at rank k (the dense cost when it stays dense) and s_l a per-layer sensitivity (1 by
// default). For a multiplier λ each layer independently takes argmin_k s_l e_l(k)² + λ·cost_l(k); raising λ
// moves along the lower convex hull of every layer's (cost, energy) curve, i.e. it is the greedy "least energy
// lost per byte saved" order without the greedy's trouble at the dense → factored step, whose first saving comes
// in one block of m·n − k(m+n). Only ranks below break-even (k(m+n) < mn) are candidates; dense is always one.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "compress/low_rank.h"
#include "compress/svd.h"

namespace deepx::compress {

struct LayerSpectrum {
  CompressibleLayer layer;
  SvdFactors svd;
  double sensitivity = 1.0;
};

enum class BudgetKind { kParams, kFlops };

// rank 0 means "dense" throughout.
int64_t LayerCost(const LayerSpectrum& l, int64_t rank, BudgetKind kind);  // params (FLOPs rounded for kFlops)
double LayerCostF(const LayerSpectrum& l, int64_t rank, BudgetKind kind);
double LayerEnergyLoss(const LayerSpectrum& l, int64_t rank);  // s · e(k)², 0 for dense

// The smallest rank with relative error <= max_error, or 0 (dense) when no rank below break-even meets it or
// the computed triplets do not reach it.
int64_t RankForError(const LayerSpectrum& l, double max_error);

// Ranks (0 = dense) minimising the weighted energy loss for multiplier `lambda` (per unit of cost).
std::vector<int64_t> AllocateForLambda(const std::vector<LayerSpectrum>& layers, double lambda, BudgetKind kind);

// The allocation with the least weighted energy loss whose total cost over the layers is <= budget (costs of
// other layers excluded). `feasible` is false when even the cheapest allocation (every layer at its cheapest
// candidate) exceeds the budget; that cheapest allocation is returned then.
struct Allocation {
  std::vector<int64_t> ranks;
  double cost = 0;
  double energy_loss = 0;
  bool feasible = true;
};
Allocation AllocateForBudget(const std::vector<LayerSpectrum>& layers, double budget, BudgetKind kind);
// Cost of the cheapest allocation (each layer at rank 1, or dense where nothing pays).
double MinimumCost(const std::vector<LayerSpectrum>& layers, BudgetKind kind);
double DenseCost(const std::vector<LayerSpectrum>& layers, BudgetKind kind);

// Whether ranks above a layer's computed triplets could matter for multiplier lambda: true when an uncomputed
// rank (between its SVD rank and break-even) might beat the best computed option. The caller then grows the SVD.
bool NeedsMoreRanks(const LayerSpectrum& l, double lambda, BudgetKind kind);

}  // namespace deepx::compress
