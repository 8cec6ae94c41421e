// Process resource usage and timing statistics, for `deepx bench`, `deepx profile` and the benchmark scripts.
//
// Memory figures come from /proc/self/status (Linux). They are resident set sizes: pages of this process in RAM,
// which is what a memory-constrained device runs out of (virtual size counts reservations that cost nothing).
#pragma once

#include <cstdint>
#include <vector>

#include "deepx/status.h"

namespace deepx {

// Peak resident set size of this process since it started (VmHWM), in bytes.
Result<int64_t> PeakResidentBytes();
// Current resident set size (VmRSS), in bytes.
Result<int64_t> CurrentResidentBytes();

// The p-th percentile (p in [0, 100]) of `samples` with linear interpolation between the two nearest ranks
// (numpy's default "linear" method): p = 0 is the minimum, p = 100 the maximum, p = 50 the median.
// `samples` need not be sorted. Empty input or p outside [0, 100] gives InvalidArgument.
Result<double> Percentile(std::vector<double> samples, double p);

// Summary of a set of latencies (any unit; the caller's).
struct LatencyStats {
  int64_t count = 0;
  double min = 0, mean = 0, p50 = 0, p90 = 0, p99 = 0, max = 0;
};
// InvalidArgument for an empty set.
Result<LatencyStats> ComputeLatencyStats(const std::vector<double>& samples);

}  // namespace deepx
