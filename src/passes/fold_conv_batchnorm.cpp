#include <cmath>
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
using pass_util::IsPresent;

// A constant float32 tensor, or nullptr.
const Tensor* ConstantFloat(const Graph& g, ValueId id) {
  if (id == kNoValue) return nullptr;
  const Value& v = g.value(id);
  if (!v.is_constant() || !v.constant.is_host() || v.constant.dtype() != DataType::kFloat32) return nullptr;
  return &v.constant;
}

// A constant float32 vector of exactly `n` elements (BatchNormalization parameters, conv bias), or nullptr.
const Tensor* ConstantVector(const Graph& g, ValueId id, int64_t n) {
  const Tensor* t = ConstantFloat(g, id);
  if (!t || t->rank() != 1 || t->dim(0) != n) return nullptr;
  return t;
}

// A value name not yet in the graph: `base`, else `base_1`, `base_2`, ...
std::string UniqueName(const Graph& g, const std::string& base) {
  if (g.FindValue(base) == kNoValue) return base;
  for (int i = 1;; ++i) {
    std::string name = base + "_" + std::to_string(i);
    if (g.FindValue(name) == kNoValue) return name;
  }
}

ValueId AddConstant(Graph& g, const std::string& base, Tensor t) {
  Value v;
  v.name = UniqueName(g, base);
  v.dtype = t.dtype();
  v.shape = t.shape();
  v.has_shape = true;
  v.constant = std::move(t);
  return g.AddValue(std::move(v));
}

// Whether a BatchNormalization node computes the plain per-channel affine map the fold reproduces.
bool IsInferenceBatchNorm(const Graph& g, const Node& bn, const std::vector<int>& reads) {
  if (bn.inputs.size() != 5) return false;
  for (size_t i = 0; i < 5; ++i)
    if (bn.inputs[i] == kNoValue) return false;
  if (!IsPresent(bn.outputs, 0)) return false;
  // Running/saved statistics outputs only exist in training; a node that has them is not ours to fold.
  for (size_t i = 1; i < bn.outputs.size(); ++i) {
    ValueId v = bn.outputs[i];
    if (v != kNoValue && (reads[static_cast<size_t>(v)] > 0 || g.IsGraphOutput(v))) return false;
  }
  // Attributes of the wrong kind make the node invalid; keep it so shape inference reports that.
  // Before opset 7, is_test=0 (its default) means training mode, which the op itself refuses; do not fold it away.
  auto is_test = bn.attrs.GetInt("is_test", 0);
  if (bn.opset < 7 && (!is_test.ok() || *is_test == 0)) return false;
  auto training = bn.attrs.GetInt("training_mode", 0);
  auto spatial = bn.attrs.GetInt("spatial", 1);
  auto eps = bn.attrs.GetFloat("epsilon", 1e-5f);
  return training.ok() && *training == 0 && spatial.ok() && *spatial == 1 && eps.ok() && *eps >= 0;
}

// Per output channel of the conv: multiplier scale/sqrt(var+eps) and the folded bias. `conv_bias` may be null.
struct ChannelAffine {
  std::vector<double> mul;
  std::vector<float> bias;
};

ChannelAffine BatchNormAffine(const Node& bn, const Tensor& scale, const Tensor& shift, const Tensor& mean,
                              const Tensor& var, const Tensor* conv_bias) {
  // Same arithmetic (in double) as the BatchNormalization reference kernel, so the fold stays within rounding.
  const double eps = bn.attrs.Float("epsilon", 1e-5f);
  const int64_t m = scale.dim(0);
  ChannelAffine a;
  a.mul.resize(static_cast<size_t>(m));
  a.bias.resize(static_cast<size_t>(m));
  for (int64_t c = 0; c < m; ++c) {
    const size_t k = static_cast<size_t>(c);
    const double mul = scale.data<float>()[c] / std::sqrt(static_cast<double>(var.data<float>()[c]) + eps);
    const double b = conv_bias ? conv_bias->data<float>()[c] : 0.0;
    a.mul[k] = mul;
    a.bias[k] = static_cast<float>((b - mean.data<float>()[c]) * mul + shift.data<float>()[c]);
  }
  return a;
}

// Output channels of a conv's weight and, for each weight element block, which output channel it feeds.
// Conv: W is [M, C/group, k...], channel = dim 0. ConvTranspose: W is [C, M/group, k...] and input channel c
// belongs to group c / (C/group), so W[c, j] feeds output channel group * (M/group) + j.
struct WeightLayout {
  int64_t out_channels = 0;
  bool transpose = false;
  int64_t group = 1;
};

bool GetWeightLayout(const Node& conv, const Tensor& w, WeightLayout* layout) {
  if (w.rank() < 3) return false;
  layout->transpose = conv.op_type == "ConvTranspose";
  if (!layout->transpose) {
    layout->out_channels = w.dim(0);
    return layout->out_channels > 0;
  }
  auto group = conv.attrs.GetInt("group", 1);
  if (!group.ok() || *group < 1 || w.dim(0) % *group != 0) return false;
  layout->group = *group;
  if (w.dim(1) < 1 || w.dim(1) > (int64_t{1} << 40) / *group) return false;
  layout->out_channels = w.dim(1) * *group;
  return true;
}

Tensor ScaleWeight(const Tensor& w, const WeightLayout& layout, const std::vector<double>& mul) {
  Tensor out = w.Clone();
  float* d = out.data<float>();
  int64_t inner = 1;
  for (int64_t i = 2; i < w.rank(); ++i) inner *= w.dim(i);
  const int64_t d0 = w.dim(0), d1 = w.dim(1);
  const int64_t in_per_group = d0 / layout.group;
  for (int64_t i = 0; i < d0; ++i) {
    for (int64_t j = 0; j < d1; ++j) {
      const int64_t channel = layout.transpose ? (i / in_per_group) * d1 + j : i;
      const double f = mul[static_cast<size_t>(channel)];
      float* block = d + (i * d1 + j) * inner;
      for (int64_t k = 0; k < inner; ++k) block[k] = static_cast<float>(block[k] * f);
    }
  }
  return out;
}

}  // namespace

Status FoldConvBatchNorm(Graph& g) {
  std::vector<int> reads = CountReads(g);
  const std::vector<NodeId> producer = g.Producers();

  std::vector<bool> removed(g.nodes.size(), false);
  bool changed = false;
  for (size_t bi = 0; bi < g.nodes.size(); ++bi) {
    const Node& bn = g.nodes[bi];
    if (bn.op_type != "BatchNormalization" || !IsDefaultDomain(bn) || !IsInferenceBatchNorm(g, bn, reads)) continue;
    const ValueId conv_out = bn.inputs[0];
    const NodeId ci = producer[static_cast<size_t>(conv_out)];
    if (ci < 0 || removed[static_cast<size_t>(ci)]) continue;
    Node& conv = g.node(ci);
    if ((conv.op_type != "Conv" && conv.op_type != "ConvTranspose") || !IsDefaultDomain(conv)) continue;
    // The conv's raw output must have no other observer, and an activation already applied to it would sit
    // between conv and BN, where the fold cannot go.
    if (conv.outputs.size() != 1 || conv.outputs[0] != conv_out) continue;
    if (reads[static_cast<size_t>(conv_out)] != 1 || g.IsGraphOutput(conv_out)) continue;
    if (!GetFusedActivation(conv.attrs).none()) continue;
    if (conv.inputs.size() < 2 || conv.inputs.size() > 3 || !IsPresent(conv.inputs, 0)) continue;

    const Tensor* w = ConstantFloat(g, conv.inputs[1]);
    WeightLayout layout;
    if (!w || !GetWeightLayout(conv, *w, &layout)) continue;
    const int64_t m = layout.out_channels;
    const Tensor* conv_bias = nullptr;
    if (IsPresent(conv.inputs, 2)) {
      conv_bias = ConstantVector(g, conv.inputs[2], m);
      if (!conv_bias) continue;
    }
    const Tensor* scale = ConstantVector(g, bn.inputs[1], m);
    const Tensor* shift = ConstantVector(g, bn.inputs[2], m);
    const Tensor* mean = ConstantVector(g, bn.inputs[3], m);
    const Tensor* var = ConstantVector(g, bn.inputs[4], m);
    if (!scale || !shift || !mean || !var) continue;

    ChannelAffine affine = BatchNormAffine(bn, *scale, *shift, *mean, *var, conv_bias);
    Tensor new_w = ScaleWeight(*w, layout, affine.mul);
    Tensor new_b = Tensor::FromFloats({m}, affine.bias);
    // New values rather than edits in place: the original weights may be shared with other nodes. (AddValue
    // may reallocate g.values, so the tensor pointers above are dead from here on.)
    const ValueId bn_out = bn.outputs[0];
    ValueId w_id = AddConstant(g, conv.name + ".folded_weight", std::move(new_w));
    ValueId b_id = AddConstant(g, conv.name + ".folded_bias", std::move(new_b));
    conv.inputs.resize(3);
    conv.inputs[1] = w_id;
    conv.inputs[2] = b_id;
    conv.outputs[0] = bn_out;
    removed[bi] = true;
    changed = true;
  }
  if (!changed) return Status::Ok();

  EraseNodes(g, removed);  // the old weights (when unshared), BN parameters and the conv's raw output
  return Status::Ok();
}

}  // namespace deepx
