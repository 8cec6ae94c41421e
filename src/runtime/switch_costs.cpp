#include "runtime/switch_costs.h"

#include <algorithm>

#include "plan/unit_blocks.h"
#include "runtime/executor.h"
#include "runtime/probe_util.h"

namespace deepx {
namespace {

using probe::Median;

// One of the three measured plans: blocks of consecutive segments, and per repeat what each block adds to the run
// and the node times.
struct Layout {
  std::vector<std::pair<int, int>> spans;  // [first, last] segment of each block
  std::unique_ptr<Executor> executor;
  std::vector<std::vector<double>> block_ms;  // [block][repeat]
  std::vector<std::vector<double>> node_ms;   // [node][repeat]; fused nodes never appear (0)
};

Result<Layout> MakeLayout(const std::shared_ptr<const Graph>& graph, const std::shared_ptr<Backend>& backend,
                          const SegmentChain& chain, int first_pair_start) {
  Layout l;
  const int segments = static_cast<int>(chain.segments.size());
  if (first_pair_start < 0) {
    l.spans.push_back({0, segments - 1});
  } else {
    if (first_pair_start > 0) l.spans.push_back({0, 0});
    for (int s = first_pair_start; s < segments; s += 2) l.spans.push_back({s, std::min(s + 1, segments - 1)});
  }
  std::vector<Block> blocks;
  for (auto [a, b] : l.spans) {
    Block block{.backend = 0};
    for (int s = a; s <= b; ++s)
      block.nodes.insert(block.nodes.end(), chain.segments[static_cast<size_t>(s)].begin(),
                         chain.segments[static_cast<size_t>(s)].end());
    blocks.push_back(std::move(block));
  }
  DX_ASSIGN_OR_RETURN(Plan plan, PlanFromBlocks(*graph, std::move(blocks), 1));
  DX_ASSIGN_OR_RETURN(l.executor, Executor::Create(graph, std::move(plan), {backend}));
  l.block_ms.resize(l.spans.size());
  l.node_ms.resize(graph->nodes.size());
  return l;
}

Status RunOnce(Layout& l, const std::vector<Tensor>& inputs, bool record) {
  std::vector<NodeTiming> timings;
  RunOptions options;
  options.timings = &timings;
  RunReport report;
  DX_RETURN_IF_ERROR(l.executor->Run(inputs, options, &report).status());
  if (!record) return Status::Ok();
  // What a block adds to the run (its last input published -> its outputs published: hand-over, call, publishing),
  // which is what a plan's per-block latency is checked against (deepx run --plan auto), not the kernel call alone:
  // on Fashion CNN's 0.11 ms one-block plan the call missed 22 us of the block's 0.13 ms.
  for (size_t b = 0; b < report.blocks.size(); ++b) {
    const BlockRecord& r = report.blocks[b];
    const bool whole = r.ready_ns > 0 && r.done_ns >= r.ready_ns;
    l.block_ms[b].push_back((whole ? r.done_ns - r.ready_ns : r.end_ns - r.start_ns) / 1e6);
  }
  std::vector<double> sum(l.node_ms.size(), 0);
  for (const NodeTiming& t : timings)
    if (t.node >= 0 && static_cast<size_t>(t.node) < sum.size()) sum[static_cast<size_t>(t.node)] += (t.end_ns - t.start_ns) / 1e6;
  for (size_t n = 0; n < sum.size(); ++n) l.node_ms[n].push_back(sum[n]);
  return Status::Ok();
}

// Median milliseconds of concatenating two halves of `out` along `axis` on `backend` (a split layer's
// recombination).
Result<double> TimeRecombine(const std::shared_ptr<Backend>& backend, const Value& out, int64_t axis, int repeats) {
  auto g = std::make_shared<Graph>();
  g->opset = 13;
  Shape sa = out.shape, sb = out.shape;
  sa[static_cast<size_t>(axis)] = out.shape[static_cast<size_t>(axis)] / 2;
  sb[static_cast<size_t>(axis)] -= sa[static_cast<size_t>(axis)];
  auto add = [&](const std::string& name, const Shape& shape) { return probe::AddFloat(*g, name, shape); };
  const ValueId a = add("a", sa), b = add("b", sb), y = add("y", out.shape);
  Node cat{.name = "concat", .op_type = "Concat", .opset = 13, .inputs = {a, b}, .outputs = {y}};
  cat.attrs.set("axis", axis);
  g->nodes.push_back(std::move(cat));
  g->inputs = {a, b};
  g->outputs = {y};
  std::shared_ptr<const Graph> graph = g;
  DX_ASSIGN_OR_RETURN(auto executor, Executor::Create(graph, SingleBackendPlan(*graph, 0), {backend}));
  const std::vector<Tensor> inputs = {Tensor::Zeros(DataType::kFloat32, sa), Tensor::Zeros(DataType::kFloat32, sb)};
  std::vector<double> ms;
  for (int r = 0; r <= repeats; ++r) {
    RunReport report;
    DX_RETURN_IF_ERROR(executor->Run(inputs, {}, &report).status());
    if (r > 0) ms.push_back((report.blocks[0].end_ns - report.blocks[0].start_ns) / 1e6);
  }
  return Median(ms);
}

}  // namespace

Result<BoundaryCosts> MeasureBoundaryCosts(const std::shared_ptr<const Graph>& graph,
                                           const std::shared_ptr<Backend>& backend,
                                           const std::vector<Tensor>& inputs, int repeats) {
  const Graph& g = *graph;
  for (const Node& n : g.nodes)
    DX_RETURN_IF_ERROR(backend->Supports(g, n).WithContext("measuring block boundaries on '" + backend->info().name + "'"));
  const SegmentChain chain = CutIntoSegments(g);
  const int segments = static_cast<int>(chain.segments.size());
  std::vector<Layout> layouts;
  DX_ASSIGN_OR_RETURN(Layout whole, MakeLayout(graph, backend, chain, -1));
  layouts.push_back(std::move(whole));
  if (segments >= 2) {
    for (int start : {0, 1}) {
      DX_ASSIGN_OR_RETURN(Layout l, MakeLayout(graph, backend, chain, start));
      layouts.push_back(std::move(l));
    }
  }
  std::vector<double> timed, untimed;  // whole runs of the one-block plan with and without per-node timings
  int runs = std::max(repeats, 1);  // after the warm-up: probe::RepeatsFor the time of one round
  for (int r = 0; r <= runs; ++r) {
    const int64_t round_start = SteadyNowNs();
    for (Layout& l : layouts) DX_RETURN_IF_ERROR(RunOnce(l, inputs, r > 0).WithContext("measuring block boundaries"));
    RunReport with, without;
    std::vector<NodeTiming> timings;
    RunOptions options;
    options.timings = &timings;
    DX_RETURN_IF_ERROR(layouts[0].executor->Run(inputs, options, &with).status().WithContext("measuring block boundaries"));
    DX_RETURN_IF_ERROR(layouts[0].executor->Run(inputs, {}, &without).status().WithContext("measuring block boundaries"));
    if (r == 0) {
      runs = probe::RepeatsFor((SteadyNowNs() - round_start) / 1e6, runs);
      continue;
    }
    timed.push_back((with.end_ns - with.start_ns) / 1e6);
    untimed.push_back((without.end_ns - without.start_ns) / 1e6);
  }
  // Per-node timing can slow a backend down (the CUDA backend synchronises per node and does not replay a CUDA
  // graph): every measured time is scaled by untimed / timed whole runs (outputs read back included: an
  // asynchronous device returns from an untimed call before its work is done), as the node times are
  // (MeasureNodeTimes).
  const double scale = probe::TimingScale(timed, untimed);
  for (Layout& l : layouts) {
    for (auto& samples : l.block_ms)
      for (double& ms : samples) ms *= scale;
    for (auto& samples : l.node_ms)
      for (double& ms : samples) ms *= scale;
  }

  // Per layout: median node time summed per segment, median block time.
  auto segment_ms = [&](const Layout& l) {
    std::vector<double> out(static_cast<size_t>(segments), 0);
    for (int s = 0; s < segments; ++s)
      for (NodeId n : chain.segments[static_cast<size_t>(s)]) out[static_cast<size_t>(s)] += Median(l.node_ms[static_cast<size_t>(n)]);
    return out;
  };
  const std::vector<double> t0 = segment_ms(layouts[0]);
  double nodes0 = 0;
  for (double t : t0) nodes0 += t;
  BoundaryCosts costs;
  // Recombining each layer the planner may split (a one-node segment: Conv, Gemm or MatMul).
  for (const auto& seg : chain.segments) {
    if (seg.size() != 1) continue;
    const Node& n = g.node(seg[0]);
    if ((n.op_type != "Conv" && n.op_type != "Gemm" && n.op_type != "MatMul") || n.outputs.size() != 1) continue;
    const Value& out = g.value(n.outputs[0]);
    if (!out.has_shape || out.dtype != DataType::kFloat32 || out.shape.size() < 2) continue;
    const int64_t axis = n.op_type == "Conv" ? 1 : static_cast<int64_t>(out.shape.size()) - 1;
    if (out.shape[static_cast<size_t>(axis)] < 2) continue;
    DX_ASSIGN_OR_RETURN(costs.recombine_ms[n.outputs[0]], TimeRecombine(backend, out, axis, repeats));
  }
  const double whole_outside = std::max(Median(layouts[0].block_ms[0]) - nodes0, 0.0);
  costs.block_ms = whole_outside;
  if (segments < 2) return costs;

  // The fixed cost of a block: the least time outside nodes of any block measured (the whole graph's also holds
  // converting the graph inputs and outputs, which every plan pays once: charged to the graph inputs' entry).
  for (size_t li = 1; li < layouts.size(); ++li) {
    const std::vector<double> seg = segment_ms(layouts[li]);
    for (size_t b = 0; b < layouts[li].spans.size(); ++b) {
      double nodes = 0;
      for (int s = layouts[li].spans[b].first; s <= layouts[li].spans[b].second; ++s) nodes += seg[static_cast<size_t>(s)];
      costs.block_ms = std::min(costs.block_ms, std::max(Median(layouts[li].block_ms[b]) - nodes, 0.0));
    }
  }
  // Spreads `ms` over the values of cut `cut` in proportion to their bytes.
  auto charge = [&](std::map<ValueId, double>& to, int cut, double ms) {
    const double total = chain.cut_bytes[static_cast<size_t>(cut)];
    const auto& values = chain.cut_values[static_cast<size_t>(cut)];
    for (ValueId v : values) {
      const double share = total > 0 ? ValueBytes(g, v) / total : 1.0 / static_cast<double>(values.size());
      to[v] += std::max(ms, 0.0) * share;
    }
  };
  charge(costs.enter_ms, 0, whole_outside - costs.block_ms);
  for (size_t li = 1; li < layouts.size(); ++li) {
    const Layout& l = layouts[li];
    const std::vector<double> seg = segment_ms(l);
    for (size_t b = 0; b < l.spans.size(); ++b) {
      const auto [a, z] = l.spans[b];
      double nodes = 0, base = 0;
      for (int s = a; s <= z; ++s) {
        nodes += seg[static_cast<size_t>(s)];
        base += t0[static_cast<size_t>(s)];
      }
      const double outside = Median(l.block_ms[b]) - costs.block_ms - nodes;  // not inside any node
      const int in_cut = a > 0 ? a : -1, out_cut = z + 1 < segments ? z + 1 : -1;
      const double first_extra = seg[static_cast<size_t>(a)] - t0[static_cast<size_t>(a)];
      const double last_extra = seg[static_cast<size_t>(z)] - t0[static_cast<size_t>(z)];
      if (in_cut >= 0 && out_cut >= 0) {
        const double bin = chain.cut_bytes[static_cast<size_t>(in_cut)];
        const double bout = chain.cut_bytes[static_cast<size_t>(out_cut)];
        const double w_in = bin + bout > 0 ? bin / (bin + bout) : 0.5;
        if (a != z) {
          charge(costs.enter_ms, in_cut, first_extra + outside * w_in);
          charge(costs.leave_ms, out_cut, last_extra + outside * (1 - w_in));
        } else {
          charge(costs.enter_ms, in_cut, (first_extra + outside) * w_in);
          charge(costs.leave_ms, out_cut, (first_extra + outside) * (1 - w_in));
        }
      } else if (in_cut >= 0) {
        charge(costs.enter_ms, in_cut, nodes - base + outside);
      } else if (out_cut >= 0) {
        charge(costs.leave_ms, out_cut, nodes - base + outside);
      }
    }
  }
  return costs;
}

}  // namespace deepx
