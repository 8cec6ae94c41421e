// Small helpers shared by the planner's measurements of processors present here (adaptive_planner.cpp,
// switch_costs.cpp): probe graphs built by hand, and medians of repeated timings.
#pragma once

#include <algorithm>
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

}  // namespace deepx::probe
