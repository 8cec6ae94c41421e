#include <limits>
#include <string>
#include <vector>

#include "ops/fused_activation.h"
#include "passes/pass_util.h"
#include "passes/passes.h"

namespace deepx {
namespace {

using pass_util::CountReads;
using pass_util::EraseNodes;
using pass_util::IsDefaultDomain;

// Clip-11 moved min/max from attributes to optional inputs 1 and 2.
constexpr int kClipInputsOpset = 11;

bool IsFusionProducer(const Node& n) {
  return IsDefaultDomain(n) &&
         (n.op_type == "Conv" || n.op_type == "ConvTranspose" || n.op_type == "Gemm" || n.op_type == "MatMul");
}

// Only these attribute names are kept in the fused form; a node carrying anything else is left alone (the
// loader and shape inference decide whether it is valid).
bool OnlyAttributes(const Node& n, const std::vector<std::string>& allowed) {
  for (const auto& [name, value] : n.attrs.all()) {
    bool ok = false;
    for (const std::string& a : allowed) ok |= (a == name);
    if (!ok) return false;
  }
  return true;
}

// A constant one-element float32 bound of Clip-11+, or false when it is unknown at load time.
bool ConstantBound(const Graph& g, ValueId id, float* out) {
  const Value& v = g.value(id);
  if (!v.is_constant() || !v.constant.is_host() || v.constant.dtype() != DataType::kFloat32 ||
      v.constant.num_elements() != 1)
    return false;
  *out = v.constant.data<float>()[0];
  return true;
}

// The fused form of an activation node, or false when the node cannot be fused (non-constant Clip bound,
// attributes of the wrong kind, extra inputs).
bool ActivationOf(const Graph& g, const Node& n, FusedActivation* act) {
  if (!IsDefaultDomain(n) || !IsFusableActivation(n.op_type)) return false;
  if (n.outputs.size() != 1 || n.outputs[0] == kNoValue || n.inputs.empty() || n.inputs[0] == kNoValue)
    return false;
  act->kind = n.op_type;
  act->params.clear();
  if (n.op_type == "Clip") {
    float lo = std::numeric_limits<float>::lowest();
    float hi = std::numeric_limits<float>::max();
    if (n.opset < kClipInputsOpset) {
      if (n.inputs.size() != 1 || !OnlyAttributes(n, {"min", "max"})) return false;
      auto min_attr = n.attrs.GetFloat("min", lo);
      auto max_attr = n.attrs.GetFloat("max", hi);
      if (!min_attr.ok() || !max_attr.ok()) return false;
      lo = *min_attr;
      hi = *max_attr;
    } else {
      if (n.inputs.size() > 3 || !OnlyAttributes(n, {})) return false;
      if (n.inputs.size() > 1 && n.inputs[1] != kNoValue && !ConstantBound(g, n.inputs[1], &lo)) return false;
      if (n.inputs.size() > 2 && n.inputs[2] != kNoValue && !ConstantBound(g, n.inputs[2], &hi)) return false;
    }
    act->params = {lo, hi};
    return true;
  }
  if (n.inputs.size() != 1) return false;
  if (n.op_type == "LeakyRelu") {
    if (!OnlyAttributes(n, {"alpha"})) return false;
    auto alpha = n.attrs.GetFloat("alpha", 0.01f);
    if (!alpha.ok()) return false;
    act->params = {*alpha};
  } else if (n.op_type == "HardSigmoid") {
    if (!OnlyAttributes(n, {"alpha", "beta"})) return false;
    auto alpha = n.attrs.GetFloat("alpha", 0.2f);
    auto beta = n.attrs.GetFloat("beta", 0.5f);
    if (!alpha.ok() || !beta.ok()) return false;
    act->params = {*alpha, *beta};
  } else if (!OnlyAttributes(n, {})) {
    return false;
  }
  return true;
}

// Fused activations are applied by float kernels only. Before specialisation most dtypes are still unknown;
// any that is known must be float32 (MatMul and Gemm also accept integers).
bool KnownNonFloat(const Graph& g, const Node& producer, ValueId out) {
  auto bad = [&](ValueId v) {
    if (v == kNoValue) return false;
    DataType t = g.value(v).dtype;
    return t != DataType::kUndefined && t != DataType::kFloat32;
  };
  if (bad(out)) return true;
  for (ValueId v : producer.inputs)
    if (bad(v)) return true;
  return false;
}

}  // namespace

Status FuseActivations(Graph& g) {
  std::vector<int> reads = CountReads(g);
  const std::vector<NodeId> producer = g.Producers();

  std::vector<bool> removed(g.nodes.size(), false);
  bool changed = false;
  for (size_t ai = 0; ai < g.nodes.size(); ++ai) {
    const Node& act_node = g.nodes[ai];
    FusedActivation act;
    if (!ActivationOf(g, act_node, &act)) continue;
    const ValueId x = act_node.inputs[0];
    const NodeId pi = producer[static_cast<size_t>(x)];
    if (pi < 0 || removed[static_cast<size_t>(pi)]) continue;
    Node& p = g.node(pi);
    if (!IsFusionProducer(p) || p.outputs.size() != 1 || p.outputs[0] != x) continue;
    // The pre-activation tensor must not be observable anywhere else, and a producer carries one activation.
    if (reads[static_cast<size_t>(x)] != 1 || g.IsGraphOutput(x)) continue;
    if (p.attrs.has(kFusedActivationAttr) || p.attrs.has(kFusedActivationParamsAttr)) continue;
    if (KnownNonFloat(g, p, x) || KnownNonFloat(g, act_node, act_node.outputs[0])) continue;

    SetFusedActivation(p.attrs, act);
    p.outputs[0] = act_node.outputs[0];
    removed[ai] = true;
    changed = true;
  }
  if (!changed) return Status::Ok();

  EraseNodes(g, removed);  // drops the producers' pre-activation values
  return Status::Ok();
}

}  // namespace deepx
