#include "plan/unit_blocks.h"

#include <algorithm>
#include <map>

namespace deepx {

double ValueBytes(const Graph& g, ValueId v) {
  const Value& value = g.value(v);
  if (!value.has_shape) return 0;
  for (int64_t d : value.shape)
    if (d < 0) return 0;
  return static_cast<double>(NumElements(value.shape)) * static_cast<double>(DataTypeSize(value.dtype));
}

SegmentChain CutIntoSegments(const Graph& g, int max_cut_values) {
  const int n = static_cast<int>(g.nodes.size());
  SegmentChain chain;
  if (n == 0) return chain;
  // Each run-time value is live from just after its producer (graph inputs: from the start) up to its last reader
  // (graph outputs: to the end). Count values and bytes live across each cut k (between node k-1 and node k).
  std::vector<int> def(g.values.size(), -2), last(g.values.size(), -2);
  for (ValueId v : g.inputs) def[static_cast<size_t>(v)] = -1;
  for (int k = 0; k < n; ++k) {
    for (ValueId v : g.node(k).outputs)
      if (v != kNoValue) def[static_cast<size_t>(v)] = k;
    for (ValueId v : g.node(k).inputs)
      if (v != kNoValue && !g.value(v).is_constant()) last[static_cast<size_t>(v)] = std::max(last[static_cast<size_t>(v)], k);
  }
  for (ValueId v : g.outputs) last[static_cast<size_t>(v)] = n;
  std::vector<int> count(static_cast<size_t>(n) + 2, 0);
  std::vector<double> bytes(static_cast<size_t>(n) + 2, 0);
  for (size_t v = 0; v < g.values.size(); ++v) {
    if (def[v] < -1 || last[v] <= def[v] || g.values[v].is_constant()) continue;
    // Live across cuts def+1 .. last.
    const double b = ValueBytes(g, static_cast<ValueId>(v));
    count[static_cast<size_t>(def[v] + 1)] += 1;
    count[static_cast<size_t>(last[v] + 1)] -= 1;
    bytes[static_cast<size_t>(def[v] + 1)] += b;
    bytes[static_cast<size_t>(last[v] + 1)] -= b;
  }
  int live = 0;
  double live_bytes = 0;
  std::vector<int> live_at(static_cast<size_t>(n) + 1);
  std::vector<double> bytes_at(static_cast<size_t>(n) + 1);
  for (int k = 0; k <= n; ++k) {
    live += count[static_cast<size_t>(k)];
    live_bytes += bytes[static_cast<size_t>(k)];
    live_at[static_cast<size_t>(k)] = live;
    bytes_at[static_cast<size_t>(k)] = live_bytes;
  }
  std::vector<int> cut_at = {0};  // node position of each cut
  chain.segments.push_back({0});
  for (int k = 1; k < n; ++k) {
    if (live_at[static_cast<size_t>(k)] <= max_cut_values) {
      cut_at.push_back(k);
      chain.segments.push_back({});
    }
    chain.segments.back().push_back(k);
  }
  cut_at.push_back(n);
  for (int k : cut_at) chain.cut_bytes.push_back(bytes_at[static_cast<size_t>(k)]);
  // The values behind those bytes: v crosses the cuts at positions def+1 .. last.
  chain.cut_values.resize(cut_at.size());
  for (size_t v = 0; v < g.values.size(); ++v) {
    if (def[v] < -1 || last[v] <= def[v] || g.values[v].is_constant()) continue;
    auto c = std::lower_bound(cut_at.begin(), cut_at.end(), def[v] + 1);
    for (; c != cut_at.end() && *c <= last[v]; ++c)
      chain.cut_values[static_cast<size_t>(c - cut_at.begin())].push_back(static_cast<ValueId>(v));
  }
  return chain;
}

RunDag SplitIntoRuns(const Graph& g) {
  RunDag dag;
  const auto producers = g.Producers();
  const auto consumers = g.Consumers();
  std::vector<int> run_of(g.nodes.size(), -1);
  for (size_t k = 0; k < g.nodes.size(); ++k) {
    const Node& node = g.nodes[k];
    // The single producing node of k's run-time inputs, if exactly one and nothing else reads from it.
    NodeId single = -1;
    bool ok = true;
    for (ValueId v : node.inputs) {
      if (v == kNoValue || g.value(v).is_constant()) continue;
      const NodeId p = producers[static_cast<size_t>(v)];
      if (p < 0 || (single >= 0 && single != p)) ok = false;
      single = p;
    }
    if (ok && single >= 0) {
      for (ValueId v : g.node(single).outputs) {
        if (v == kNoValue) continue;
        if (g.IsGraphOutput(v)) ok = false;
        for (NodeId c : consumers[static_cast<size_t>(v)])
          if (c != static_cast<NodeId>(k)) ok = false;
      }
      const int r = run_of[static_cast<size_t>(single)];
      if (ok && dag.runs[static_cast<size_t>(r)].back() == single) {
        dag.runs[static_cast<size_t>(r)].push_back(static_cast<NodeId>(k));
        run_of[k] = r;
        continue;
      }
    }
    run_of[k] = static_cast<int>(dag.runs.size());
    dag.runs.push_back({static_cast<NodeId>(k)});
  }
  const int sink = static_cast<int>(dag.runs.size());
  std::map<std::pair<int, int>, RunDag::Link> links;
  for (size_t v = 0; v < g.values.size(); ++v) {
    if (g.values[v].is_constant()) continue;
    const NodeId p = producers[v];
    const bool is_input = std::find(g.inputs.begin(), g.inputs.end(), static_cast<ValueId>(v)) != g.inputs.end();
    if (p < 0 && !is_input) continue;
    const int from = p < 0 ? -1 : run_of[static_cast<size_t>(p)];
    std::vector<int> to;
    for (NodeId c : consumers[v]) to.push_back(run_of[static_cast<size_t>(c)]);
    if (g.IsGraphOutput(static_cast<ValueId>(v))) to.push_back(sink);
    std::sort(to.begin(), to.end());
    to.erase(std::unique(to.begin(), to.end()), to.end());
    for (int t : to) {
      if (t == from) continue;
      RunDag::Link& link = links[{from, t}];
      link.bytes += ValueBytes(g, static_cast<ValueId>(v));
      link.values.push_back(static_cast<ValueId>(v));
    }
  }
  for (auto& [key, link] : links) {
    link.from = key.first;
    link.to = key.second;
    dag.links.push_back(std::move(link));
  }
  return dag;
}

}  // namespace deepx
