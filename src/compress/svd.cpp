#include "compress/svd.h"

#include <cblas.h>
#include <lapacke.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>

namespace deepx::compress {
namespace {

void FillEnergy(SvdFactors& f) {
  f.energy.assign(static_cast<size_t>(f.rank) + 1, 0.0);
  for (int64_t i = 0; i < f.rank; ++i) {
    const double s = f.s[static_cast<size_t>(i)];
    f.energy[static_cast<size_t>(i) + 1] = f.energy[static_cast<size_t>(i)] + s * s;
  }
}

double FrobeniusSquared(const float* w, int64_t count) {
  double sum = 0;
  for (int64_t i = 0; i < count; ++i) sum += static_cast<double>(w[i]) * w[i];
  return sum;
}

std::string Dims(int64_t m, int64_t n) { return std::to_string(m) + "x" + std::to_string(n); }

// The full SVD by divide and conquer: min(m, n) triplets.
Result<SvdFactors> FullSvd(const float* w, int64_t m, int64_t n, double frob2) {
  SvdFactors f;
  f.rows = m;
  f.cols = n;
  f.rank = std::min(m, n);
  f.frob2 = frob2;
  f.exact = true;
  std::vector<float> a(w, w + m * n);  // sgesdd overwrites its input
  f.u.resize(static_cast<size_t>(m * f.rank));
  f.s.resize(static_cast<size_t>(f.rank));
  f.vt.resize(static_cast<size_t>(f.rank * n));
  const lapack_int info = LAPACKE_sgesdd(LAPACK_ROW_MAJOR, 'S', static_cast<lapack_int>(m), static_cast<lapack_int>(n),
                                         a.data(), static_cast<lapack_int>(n), f.s.data(), f.u.data(),
                                         static_cast<lapack_int>(f.rank), f.vt.data(), static_cast<lapack_int>(n));
  if (info != 0) return Internal("LAPACKE_sgesdd failed (info " + std::to_string(info) + ") on a " + Dims(m, n) + " matrix");
  FillEnergy(f);
  return f;
}

// Replaces the m×l row-major matrix `y` by an orthonormal basis of its columns (Householder QR).
Status Orthonormalize(std::vector<float>& y, int64_t m, int64_t l) {
  std::vector<float> tau(static_cast<size_t>(l));
  lapack_int info = LAPACKE_sgeqrf(LAPACK_ROW_MAJOR, static_cast<lapack_int>(m), static_cast<lapack_int>(l), y.data(),
                                   static_cast<lapack_int>(l), tau.data());
  if (info == 0)
    info = LAPACKE_sorgqr(LAPACK_ROW_MAJOR, static_cast<lapack_int>(m), static_cast<lapack_int>(l),
                          static_cast<lapack_int>(l), y.data(), static_cast<lapack_int>(l), tau.data());
  if (info != 0) return Internal("QR of a " + Dims(m, l) + " sketch failed (info " + std::to_string(info) + ")");
  return Status::Ok();
}

// Randomized SVD with a sketch of l columns (l < min(m, n)).
Result<SvdFactors> RandomizedSvd(const float* w, int64_t m, int64_t n, int64_t l, double frob2,
                                 const SvdOptions& options) {
  const int mi = static_cast<int>(m), ni = static_cast<int>(n), li = static_cast<int>(l);
  std::mt19937_64 rng(options.seed ^ static_cast<uint64_t>(m * 1000003 + n * 7919 + l));
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> omega(static_cast<size_t>(n * l));
  for (float& v : omega) v = normal(rng);

  std::vector<float> y(static_cast<size_t>(m * l));
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, mi, li, ni, 1.0f, w, ni, omega.data(), li, 0.0f, y.data(), li);
  DX_RETURN_IF_ERROR(Orthonormalize(y, m, l));
  // Power iterations sharpen the spectrum (σ_i^(2q+1)); re-orthonormalising after each product keeps the small
  // singular directions from drowning in float rounding.
  std::vector<float>& z = omega;  // n × l, reused
  for (int it = 0; it < options.power_iterations; ++it) {
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, ni, li, mi, 1.0f, w, ni, y.data(), li, 0.0f, z.data(), li);
    DX_RETURN_IF_ERROR(Orthonormalize(z, n, l));
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, mi, li, ni, 1.0f, w, ni, z.data(), li, 0.0f, y.data(), li);
    DX_RETURN_IF_ERROR(Orthonormalize(y, m, l));
  }
  // B = QᵀW (l × n), then its small SVD B = Ub S Vt, and U = Q Ub.
  std::vector<float> b(static_cast<size_t>(l * n));
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, li, ni, mi, 1.0f, y.data(), li, w, ni, 0.0f, b.data(), ni);
  SvdFactors f;
  f.rows = m;
  f.cols = n;
  f.rank = l;
  f.frob2 = frob2;
  std::vector<float> ub(static_cast<size_t>(l * l));
  f.s.resize(static_cast<size_t>(l));
  f.vt.resize(static_cast<size_t>(l * n));
  const lapack_int info = LAPACKE_sgesdd(LAPACK_ROW_MAJOR, 'S', li, ni, b.data(), ni, f.s.data(), ub.data(), li,
                                         f.vt.data(), ni);
  if (info != 0) return Internal("LAPACKE_sgesdd failed (info " + std::to_string(info) + ") on a " + Dims(l, n) + " sketch");
  f.u.resize(static_cast<size_t>(m * l));
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, mi, li, li, 1.0f, y.data(), li, ub.data(), li, 0.0f,
              f.u.data(), li);
  FillEnergy(f);
  return f;
}

Status CheckArgs(const float* w, int64_t m, int64_t n) {
  if (w == nullptr || m <= 0 || n <= 0) return InvalidArgument("SVD of an empty " + Dims(m, n) + " matrix");
  // LAPACK/BLAS take 32-bit ints here.
  if (m * n > (int64_t{1} << 31) - 1) return InvalidArgument("SVD of a " + Dims(m, n) + " matrix: too large");
  return Status::Ok();
}

Result<SvdFactors> SvdWithSketch(const float* w, int64_t m, int64_t n, int64_t wanted, double frob2,
                                 const SvdOptions& options) {
  const int64_t full = std::min(m, n);
  const int64_t extra = std::max<int64_t>(options.oversample, wanted / 10);
  const int64_t l = std::min(full, wanted + extra);
  if (full <= options.exact_below || static_cast<double>(l) >= options.exact_fraction * static_cast<double>(full))
    return FullSvd(w, m, n, frob2);
  return RandomizedSvd(w, m, n, l, frob2, options);
}

}  // namespace

double SvdFactors::RelativeError(int64_t k) const {
  if (frob2 <= 0) return 0;
  k = std::clamp<int64_t>(k, 0, rank);
  const double tail = std::max(0.0, frob2 - energy[static_cast<size_t>(k)]);
  return std::sqrt(tail / frob2);
}

int64_t SvdFactors::SmallestRankFor(double max_error) const {
  if (frob2 <= 0) return 0;
  // Energy is nondecreasing in k: binary search the first k whose tail fits.
  const double allowed_tail = max_error * max_error * frob2;
  int64_t lo = 0, hi = rank;
  if (frob2 - energy[static_cast<size_t>(hi)] > allowed_tail) return exact ? rank : -1;
  while (lo < hi) {
    const int64_t mid = (lo + hi) / 2;
    if (frob2 - energy[static_cast<size_t>(mid)] <= allowed_tail) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

void SetBlasThreads(int threads) {
  if (threads > 0) openblas_set_num_threads(threads);
}

Result<SvdFactors> TruncatedSvd(const float* w, int64_t m, int64_t n, int64_t rank, const SvdOptions& options) {
  DX_RETURN_IF_ERROR(CheckArgs(w, m, n));
  if (rank <= 0 || rank > std::min(m, n))
    return InvalidArgument("SVD rank " + std::to_string(rank) + " out of range [1, " + std::to_string(std::min(m, n)) +
                           "] for a " + Dims(m, n) + " matrix");
  SetBlasThreads(options.threads);
  return SvdWithSketch(w, m, n, rank, FrobeniusSquared(w, m * n), options);
}

Status GrowSvd(const float* w, SvdFactors& f, int64_t rank, const SvdOptions& options) {
  if (f.exact || f.rank >= rank) return Status::Ok();
  SetBlasThreads(options.threads);
  DX_ASSIGN_OR_RETURN(f, SvdWithSketch(w, f.rows, f.cols, std::min(rank, f.max_rank()), f.frob2, options));
  return Status::Ok();
}

Result<SvdFactors> TruncatedSvdForError(const float* w, int64_t m, int64_t n, double max_error, int64_t initial_rank,
                                        int64_t rank_cap, const SvdOptions& options) {
  DX_RETURN_IF_ERROR(CheckArgs(w, m, n));
  SetBlasThreads(options.threads);
  const int64_t full = std::min(m, n);
  const int64_t cap = rank_cap > 0 ? std::min(rank_cap, full) : full;
  int64_t wanted = std::clamp<int64_t>(initial_rank, 1, cap);
  DX_ASSIGN_OR_RETURN(SvdFactors f, SvdWithSketch(w, m, n, wanted, FrobeniusSquared(w, m * n), options));
  // Grow geometrically: the total work stays within about twice that of the final sketch.
  while (f.SmallestRankFor(max_error) < 0 && !f.exact && f.rank < cap) {
    wanted = std::min(cap, 2 * f.rank);
    DX_ASSIGN_OR_RETURN(f, SvdWithSketch(w, m, n, wanted, f.frob2, options));
  }
  return f;
}

}  // namespace deepx::compress
