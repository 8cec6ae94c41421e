#include "runtime/resource_usage.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <numeric>
#include <string>

namespace deepx {
namespace {

// Reads a "Key:   1234 kB" line of /proc/self/status.
Result<int64_t> StatusFieldBytes(const std::string& key) {
  std::ifstream in("/proc/self/status");
  if (!in) return Unavailable("/proc/self/status cannot be read (not Linux?)");
  std::string line;
  const std::string prefix = key + ":";
  while (std::getline(in, line)) {
    if (line.compare(0, prefix.size(), prefix) != 0) continue;
    const char* p = line.c_str() + prefix.size();
    char* end = nullptr;
    const long long kb = std::strtoll(p, &end, 10);
    if (end == p || kb < 0) return Internal("cannot parse '" + line + "' in /proc/self/status");
    return static_cast<int64_t>(kb) * 1024;  // the kernel reports kB (KiB)
  }
  return Unavailable(key + " is not in /proc/self/status");
}

}  // namespace

Result<int64_t> PeakResidentBytes() { return StatusFieldBytes("VmHWM"); }
Result<int64_t> CurrentResidentBytes() { return StatusFieldBytes("VmRSS"); }

Result<double> Percentile(std::vector<double> samples, double p) {
  if (samples.empty()) return InvalidArgument("percentile of an empty set");
  if (!(p >= 0 && p <= 100)) return InvalidArgument("percentile " + std::to_string(p) + " is outside [0, 100]");
  std::sort(samples.begin(), samples.end());
  const double rank = p / 100.0 * static_cast<double>(samples.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(rank));
  const size_t hi = std::min(lo + 1, samples.size() - 1);
  const double frac = rank - static_cast<double>(lo);
  return samples[lo] + (samples[hi] - samples[lo]) * frac;
}

Result<LatencyStats> ComputeLatencyStats(const std::vector<double>& samples) {
  if (samples.empty()) return InvalidArgument("no latency samples");
  LatencyStats s;
  s.count = static_cast<int64_t>(samples.size());
  s.min = *std::min_element(samples.begin(), samples.end());
  s.max = *std::max_element(samples.begin(), samples.end());
  s.mean = std::accumulate(samples.begin(), samples.end(), 0.0) / static_cast<double>(samples.size());
  DX_ASSIGN_OR_RETURN(s.p50, Percentile(samples, 50));
  DX_ASSIGN_OR_RETURN(s.p90, Percentile(samples, 90));
  DX_ASSIGN_OR_RETURN(s.p99, Percentile(samples, 99));
  return s;
}

}  // namespace deepx
