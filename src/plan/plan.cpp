#include "plan/plan.h"

#include <algorithm>

namespace deepx {
namespace {

// Fills in inputs/outputs of every block from its nodes.
void ComputeBlockInterfaces(const Graph& g, Plan& plan) {
  std::vector<int> producer_block(g.values.size(), -1);
  for (size_t b = 0; b < plan.blocks.size(); ++b)
    for (NodeId n : plan.blocks[b].nodes)
      for (ValueId v : g.node(n).outputs)
        if (v != kNoValue) producer_block[static_cast<size_t>(v)] = static_cast<int>(b);

  std::vector<std::vector<bool>> exported(plan.blocks.size(), std::vector<bool>(g.values.size(), false));
  for (size_t b = 0; b < plan.blocks.size(); ++b) {
    Block& block = plan.blocks[b];
    block.inputs.clear();
    for (NodeId n : block.nodes) {
      for (ValueId v : g.node(n).inputs) {
        if (v == kNoValue || g.value(v).is_constant()) continue;
        int p = producer_block[static_cast<size_t>(v)];
        if (p == static_cast<int>(b)) continue;
        if (std::find(block.inputs.begin(), block.inputs.end(), v) == block.inputs.end()) block.inputs.push_back(v);
        if (p >= 0) exported[static_cast<size_t>(p)][static_cast<size_t>(v)] = true;
      }
    }
  }
  for (ValueId v : g.outputs) {
    int p = producer_block[static_cast<size_t>(v)];
    if (p >= 0) exported[static_cast<size_t>(p)][static_cast<size_t>(v)] = true;
  }
  for (size_t b = 0; b < plan.blocks.size(); ++b) {
    Block& block = plan.blocks[b];
    block.outputs.clear();
    for (NodeId n : block.nodes)
      for (ValueId v : g.node(n).outputs)
        if (v != kNoValue && exported[b][static_cast<size_t>(v)]) block.outputs.push_back(v);
  }
}

}  // namespace

Result<Plan> PlanFromAssignment(const Graph& g, const std::vector<int>& node_backend) {
  if (node_backend.size() != g.nodes.size())
    return InvalidArgument("plan assigns " + std::to_string(node_backend.size()) + " nodes, graph has " +
                           std::to_string(g.nodes.size()));
  // A block starts once all its inputs have arrived and publishes its outputs when it ends, so a block must not
  // wait mid-way for another processor, nor hold back a value another processor waits for: a new block also
  // starts at a node that reads a value from a block on another backend that the current block did not already
  // wait for, and after a node whose output another backend reads. Otherwise the two shares of a split layer, or
  // two branches placed on two processors, would run one after the other.
  const auto producers = g.Producers();
  const auto consumers = g.Consumers();
  Plan plan;
  std::vector<int> block_of(g.nodes.size(), -1);
  std::vector<int> waits_for;  // blocks the current block reads from
  bool close = false;
  for (size_t n = 0; n < g.nodes.size(); ++n) {
    const int backend = node_backend[n];
    bool start = plan.blocks.empty() || plan.blocks.back().backend != backend || close;
    std::vector<int> reads;
    for (ValueId v : g.nodes[n].inputs) {
      if (v == kNoValue) continue;
      const NodeId p = producers[static_cast<size_t>(v)];
      if (p < 0 || block_of[static_cast<size_t>(p)] == static_cast<int>(plan.blocks.size()) - 1) continue;
      reads.push_back(block_of[static_cast<size_t>(p)]);
      if (!start && node_backend[static_cast<size_t>(p)] != backend &&
          std::find(waits_for.begin(), waits_for.end(), block_of[static_cast<size_t>(p)]) == waits_for.end())
        start = true;
    }
    if (start) {
      plan.blocks.push_back(Block{.backend = backend});
      waits_for.clear();
    }
    waits_for.insert(waits_for.end(), reads.begin(), reads.end());
    block_of[n] = static_cast<int>(plan.blocks.size()) - 1;
    plan.blocks.back().nodes.push_back(static_cast<NodeId>(n));
    close = false;
    for (ValueId v : g.nodes[n].outputs) {
      if (v == kNoValue) continue;
      for (NodeId c : consumers[static_cast<size_t>(v)]) close |= node_backend[static_cast<size_t>(c)] != backend;
    }
  }
  ComputeBlockInterfaces(g, plan);
  return plan;
}

Result<Plan> PlanFromBlocks(const Graph& g, std::vector<Block> blocks, int num_backends) {
  Plan plan;
  plan.blocks = std::move(blocks);
  ComputeBlockInterfaces(g, plan);
  DX_RETURN_IF_ERROR(ValidatePlan(g, plan, num_backends));
  return plan;
}

Plan SingleBackendPlan(const Graph& g, int backend) {
  Plan plan;
  if (!g.nodes.empty()) {
    Block block{.backend = backend};
    for (size_t n = 0; n < g.nodes.size(); ++n) block.nodes.push_back(static_cast<NodeId>(n));
    plan.blocks.push_back(std::move(block));
  }
  ComputeBlockInterfaces(g, plan);
  return plan;
}

Status ValidatePlan(const Graph& g, const Plan& plan, int num_backends) {
  std::vector<int> seen(g.nodes.size(), 0);
  std::vector<bool> available(g.values.size(), false);
  for (ValueId v : g.inputs) available[static_cast<size_t>(v)] = true;
  for (size_t v = 0; v < g.values.size(); ++v)
    if (g.values[v].is_constant()) available[v] = true;
  for (size_t b = 0; b < plan.blocks.size(); ++b) {
    const Block& block = plan.blocks[b];
    if (block.backend < 0 || block.backend >= num_backends)
      return InvalidArgument("plan block " + std::to_string(b) + " names backend " + std::to_string(block.backend) +
                             " of " + std::to_string(num_backends));
    for (NodeId n : block.nodes) {
      if (n < 0 || static_cast<size_t>(n) >= g.nodes.size())
        return InvalidArgument("plan block " + std::to_string(b) + " names a node that does not exist");
      if (seen[static_cast<size_t>(n)]++)
        return InvalidArgument("plan runs " + g.NodeLabel(n) + " more than once");
      for (ValueId v : g.node(n).inputs)
        if (v != kNoValue && !available[static_cast<size_t>(v)])
          return InvalidArgument("plan runs " + g.NodeLabel(n) + " before its input '" + g.value(v).name +
                                 "' is computed");
      for (ValueId v : g.node(n).outputs)
        if (v != kNoValue) available[static_cast<size_t>(v)] = true;
    }
  }
  for (size_t n = 0; n < g.nodes.size(); ++n)
    if (!seen[n]) return InvalidArgument("plan does not run " + g.NodeLabel(static_cast<NodeId>(n)));
  return Status::Ok();
}

}  // namespace deepx
