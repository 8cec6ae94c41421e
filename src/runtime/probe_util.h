// Small helpers shared by the planner's measurements of processors present here (adaptive_planner.cpp,
// switch_costs.cpp): probe graphs built by hand, and medians of repeated timings.
#pragma once

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "core/graph.h"

namespace deepx::probe {

// Adds a float32 value of `shape` to `g` (a constant when `constant` is not empty) and returns its id.
inline ValueId AddFloat(Graph& g, const std::string& name, Shape shape, Tensor constant = {}) {
  Value v;
  v.name = name;
  v.dtype = DataType::kFloat32;
  v.shape = std::move(shape);
  v.has_shape = true;
  v.constant = std::move(constant);
  return g.AddValue(v);
}

// The median (upper median for an even count) of `v`; 0 when empty.
inline double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
  return v[v.size() / 2];
}

// What per-node timing costs a backend, as a factor for the times it measured: median untimed / median timed
// whole runs, at most 1 (the CUDA backend synchronises per node and gives up its CUDA-graph replay when timed);
// 1 when nothing was timed.
inline double TimingScale(const std::vector<double>& timed_ms, const std::vector<double>& untimed_ms) {
  const double timed = Median(timed_ms), untimed = Median(untimed_ms);
  return timed > 0 && untimed < timed ? untimed / timed : 1.0;
}

// How many timed runs to take of something whose one run took `run_ms`: at least `repeats`, and enough for
// kSampleMs of runs, at most kMaxRepeats. A tiny model's median over 5 runs moves by tens of microseconds from one
// measurement to the next on a shared machine (Fashion CNN, 0.12 ms: predicted 0.118 and 0.183 ms in two runs of
// `deepx run --plan auto`), which is 20-50 % of its blocks.
constexpr double kSampleMs = 25;
constexpr int kMaxRepeats = 100;
inline int RepeatsFor(double run_ms, int repeats) {
  if (!(run_ms > 0)) return repeats;
  const double wanted = std::ceil(kSampleMs / run_ms);
  return std::max(repeats, static_cast<int>(std::min(wanted, static_cast<double>(kMaxRepeats))));
}

}  // namespace deepx::probe
