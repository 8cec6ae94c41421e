// Truncated SVD of a weight matrix for run-time layer compression (RLC).
//
// Small matrices go through LAPACK's divide-and-conquer SVD (LAPACKE_sgesdd). Large ones use a randomized SVD
// (Halko, Martinsson, Tropp 2011): a Gaussian sketch Y = W·Ω with oversampling, power iterations re-orthonormalised
// by QR, Q = qr(Y), B = QᵀW, and the small SVD of B. The BLAS work is cblas_sgemm (OpenBLAS).
//
// Error accounting is exact for the factors returned: the rank-k truncation W_k = U_k Σ_k V_kᵀ is the orthogonal
// projection of W onto span(U_k), so ‖W − W_k‖_F² = ‖W‖_F² − Σ_{i≤k} σ_i² with ‖W‖_F² summed from W itself. A
// randomized sketch that misses some of the spectrum only makes these errors larger (never under-reported).
#pragma once

#include <cstdint>
#include <vector>

#include "deepx/status.h"

namespace deepx::compress {

struct SvdOptions {
  // BLAS threads (openblas_set_num_threads); 0 leaves OpenBLAS's setting alone.
  int threads = 0;
  // Extra sketch columns beyond the wanted rank (at least this many, or a tenth of the rank).
  int oversample = 10;
  // Power iterations of the randomized range finder (each re-orthonormalised).
  int power_iterations = 1;
  // Matrices with min(m, n) up to this, or sketches wider than `exact_fraction` of min(m, n), use LAPACK's full SVD.
  int64_t exact_below = 256;
  double exact_fraction = 0.4;
  uint64_t seed = 0x5eed;
};

// W ≈ U diag(s) Vt for the `rank` leading singular triplets computed so far.
struct SvdFactors {
  int64_t rows = 0, cols = 0;
  int64_t rank = 0;        // triplets held
  std::vector<float> u;    // rows × rank, row-major
  std::vector<float> s;    // rank, descending
  std::vector<float> vt;   // rank × cols, row-major
  double frob2 = 0;        // ‖W‖_F², exact
  bool exact = false;      // from the full LAPACK SVD (rank == min(rows, cols))
  std::vector<double> energy;  // energy[k] = Σ_{i<k} s_i², size rank + 1

  int64_t max_rank() const { return rows < cols ? rows : cols; }
  // ‖W − W_k‖_F / ‖W‖_F for 0 <= k <= rank (0 for an all-zero W).
  double RelativeError(int64_t k) const;
  // The smallest k <= rank with RelativeError(k) <= max_error, or -1 when the computed triplets do not reach it.
  int64_t SmallestRankFor(double max_error) const;
};

// The leading `rank` triplets (or more: a randomized SVD keeps its whole sketch) of the row-major m×n matrix `w`.
Result<SvdFactors> TruncatedSvd(const float* w, int64_t m, int64_t n, int64_t rank, const SvdOptions& options = {});

// Enough triplets for a relative error <= max_error (or all of them): starts from a sketch of `initial_rank`
// and doubles it until the error is met, switching to the full SVD when the sketch grows past exact_fraction.
// `rank_cap` (> 0) stops the growth there (the caller has no use for ranks above it, e.g. break-even).
Result<SvdFactors> TruncatedSvdForError(const float* w, int64_t m, int64_t n, double max_error, int64_t initial_rank,
                                        int64_t rank_cap, const SvdOptions& options = {});

// Grows `f` (of matrix `w`) to at least `rank` triplets.
Status GrowSvd(const float* w, SvdFactors& f, int64_t rank, const SvdOptions& options = {});

// Sets OpenBLAS's thread count for the calling process (0: leave it).
void SetBlasThreads(int threads);

}  // namespace deepx::compress
