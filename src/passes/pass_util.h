// Small helpers shared by the graph passes.
#pragma once

#include <vector>

#include "core/graph.h"

namespace deepx::pass_util {

inline bool IsDefaultDomain(const Node& n) { return n.domain.empty() || n.domain == "ai.onnx"; }

// Whether position i of a node's inputs/outputs holds a value (not omitted).
inline bool IsPresent(const std::vector<ValueId>& ids, size_t i) { return i < ids.size() && ids[i] != kNoValue; }

// For each value, how many node inputs read it (a node reading it twice counts twice).
inline std::vector<int> CountReads(const Graph& g) {
  std::vector<int> reads(g.values.size(), 0);
  for (const Node& n : g.nodes)
    for (ValueId v : n.inputs)
      if (v != kNoValue) ++reads[static_cast<size_t>(v)];
  return reads;
}

// Drops the nodes marked in `removed`, keeping the order of the rest, then the values nobody references.
inline void EraseNodes(Graph& g, const std::vector<bool>& removed) {
  std::vector<Node> kept;
  kept.reserve(g.nodes.size());
  for (size_t i = 0; i < g.nodes.size(); ++i)
    if (!removed[i]) kept.push_back(std::move(g.nodes[i]));
  g.nodes = std::move(kept);
  g.RemoveDeadCode();
}

}  // namespace deepx::pass_util
