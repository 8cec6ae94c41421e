// Truncated SVD (compress/svd.h): LAPACK and randomized paths against each other and against the definition of
// the reported errors.
#include "compress/svd.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace deepx::compress {
namespace {

std::vector<float> RandomMatrix(int64_t m, int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0, 1);
  std::vector<float> w(static_cast<size_t>(m * n));
  for (float& v : w) v = d(rng);
  return w;
}

// Rank-r matrix with singular values 10, 10·0.7, 10·0.7², ... plus small Gaussian noise.
std::vector<float> LowRankMatrix(int64_t m, int64_t n, int64_t r, float noise, uint32_t seed) {
  std::vector<float> a = RandomMatrix(m, r, seed), b = RandomMatrix(r, n, seed + 1), e = RandomMatrix(m, n, seed + 2);
  std::vector<float> w(static_cast<size_t>(m * n), 0.0f);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t k = 0; k < r; ++k) {
      const float scale = 10.0f * std::pow(0.7f, static_cast<float>(k)) / std::sqrt(static_cast<float>(m * n));
      for (int64_t j = 0; j < n; ++j) w[static_cast<size_t>(i * n + j)] += scale * a[static_cast<size_t>(i * r + k)] * b[static_cast<size_t>(k * n + j)];
    }
  for (size_t i = 0; i < w.size(); ++i) w[i] += noise * e[i];
  return w;
}

// ‖W − U_k S_k V_kᵀ‖_F / ‖W‖_F computed directly.
double DirectError(const std::vector<float>& w, const SvdFactors& f, int64_t k) {
  double num = 0, den = 0;
  for (int64_t i = 0; i < f.rows; ++i)
    for (int64_t j = 0; j < f.cols; ++j) {
      double approx = 0;
      for (int64_t r = 0; r < k; ++r)
        approx += static_cast<double>(f.u[static_cast<size_t>(i * f.rank + r)]) * f.s[static_cast<size_t>(r)] *
                  f.vt[static_cast<size_t>(r * f.cols + j)];
      const double x = w[static_cast<size_t>(i * f.cols + j)];
      num += (x - approx) * (x - approx);
      den += x * x;
    }
  return std::sqrt(num / den);
}

TEST(TruncatedSvd, SmallMatrixIsLapackExact) {
  const std::vector<float> w = RandomMatrix(40, 25, 1);
  auto f = TruncatedSvd(w.data(), 40, 25, 5);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_TRUE(f->exact);
  EXPECT_EQ(f->rank, 25);
  EXPECT_NEAR(f->RelativeError(25), 0.0, 1e-3);
  for (int64_t k : {1, 5, 12, 24}) EXPECT_NEAR(f->RelativeError(k), DirectError(w, *f, k), 1e-4) << "rank " << k;
  for (int64_t i = 1; i < f->rank; ++i) EXPECT_GE(f->s[static_cast<size_t>(i - 1)], f->s[static_cast<size_t>(i)]);
}

TEST(TruncatedSvd, RandomizedMatchesLapackOnLowRankMatrix) {
  const int64_t m = 300, n = 200;
  const std::vector<float> w = LowRankMatrix(m, n, 20, 1e-3f, 7);
  SvdOptions randomized;
  randomized.exact_below = 0;
  randomized.exact_fraction = 1.0;
  auto r = TruncatedSvd(w.data(), m, n, 20, randomized);
  SvdOptions exact;
  exact.exact_below = 1 << 20;
  auto e = TruncatedSvd(w.data(), m, n, 20, exact);
  ASSERT_TRUE(r.ok() && e.ok());
  EXPECT_FALSE(r->exact);
  EXPECT_TRUE(e->exact);
  EXPECT_LT(r->rank, std::min(m, n));
  for (int64_t i = 0; i < 20; ++i)
    EXPECT_NEAR(r->s[static_cast<size_t>(i)], e->s[static_cast<size_t>(i)], 1e-3 * e->s[0]) << "sigma " << i;
  // The reported error is that of the factors returned, and no better than the optimum (Eckart–Young).
  for (int64_t k : {1, 5, 10, 20}) {
    EXPECT_NEAR(r->RelativeError(k), DirectError(w, *r, k), 1e-4) << "rank " << k;
    EXPECT_GE(r->RelativeError(k) + 1e-6, e->RelativeError(k)) << "rank " << k;
  }
}

TEST(TruncatedSvd, RandomizedOnFullRankGaussianIsNearOptimal) {
  const int64_t m = 400, n = 300;
  const std::vector<float> w = RandomMatrix(m, n, 3);
  SvdOptions randomized;
  randomized.exact_below = 0;
  randomized.exact_fraction = 1.0;
  randomized.power_iterations = 2;
  auto r = TruncatedSvd(w.data(), m, n, 50, randomized);
  auto e = TruncatedSvd(w.data(), m, n, 300);
  ASSERT_TRUE(r.ok() && e.ok());
  EXPECT_NEAR(r->RelativeError(50), DirectError(w, *r, 50), 1e-4);
  // A flat spectrum is the hard case for sketching (60 columns, 2 power iterations): within 3% of the optimum.
  EXPECT_LT(r->RelativeError(50), e->RelativeError(50) * 1.03);
}

TEST(TruncatedSvd, GrowsUntilTheErrorBudgetIsMet) {
  const int64_t m = 600, n = 500;
  const std::vector<float> w = LowRankMatrix(m, n, 120, 1e-4f, 11);
  SvdOptions o;
  o.exact_below = 0;
  o.exact_fraction = 0.9;
  auto f = TruncatedSvdForError(w.data(), m, n, 0.01, 8, 0, o);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  const int64_t k = f->SmallestRankFor(0.01);
  ASSERT_GT(k, 8);
  EXPECT_LE(f->RelativeError(k), 0.01);
  EXPECT_GT(f->RelativeError(k - 1), 0.01);
  // Growing an existing factorisation gives at least the asked rank.
  auto small = TruncatedSvd(w.data(), m, n, 10, o);
  ASSERT_TRUE(small.ok());
  SvdFactors grown = *small;
  ASSERT_TRUE(GrowSvd(w.data(), grown, 80, o).ok());
  EXPECT_GE(grown.rank, 80);
}

TEST(TruncatedSvd, RejectsBadRanks) {
  const std::vector<float> w = RandomMatrix(10, 6, 2);
  EXPECT_EQ(TruncatedSvd(w.data(), 10, 6, 0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(TruncatedSvd(w.data(), 10, 6, 7).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(TruncatedSvd(w.data(), 0, 6, 1).status().code(), StatusCode::kInvalidArgument);
}

TEST(TruncatedSvd, ZeroMatrixHasZeroError) {
  const std::vector<float> w(12, 0.0f);
  auto f = TruncatedSvd(w.data(), 4, 3, 1);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->RelativeError(1), 0.0);
  EXPECT_EQ(f->SmallestRankFor(0.1), 0);
}

}  // namespace
}  // namespace deepx::compress
