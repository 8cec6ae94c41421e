#include "compress/low_rank.h"

#include <algorithm>
#include <cstring>

#include "ops/fused_activation.h"

namespace deepx::compress {
namespace {

NodeId FindNode(const Graph& g, const std::string& name) {
  for (size_t i = 0; i < g.nodes.size(); ++i)
    if (g.nodes[i].name == name) return static_cast<NodeId>(i);
  return -1;
}

bool IsDefaultDomain(const Node& n) { return n.domain.empty() || n.domain == "ai.onnx"; }

bool IsFloatConstant(const Graph& g, ValueId v) {
  return v != kNoValue && g.value(v).is_constant() && g.value(v).constant.dtype() == DataType::kFloat32 &&
         g.value(v).constant.is_host();
}

// Fills `layer` (rows, cols, weight shape) for a node that can be factored, else returns why not.
std::string Classify(const Graph& g, const Node& n, ConvFactorization conv_mode, CompressibleLayer* layer) {
  if (!IsDefaultDomain(n)) return "it is not a default-domain op";
  layer->name = n.name;
  layer->op_type = n.op_type;
  if (n.op_type == "Gemm" || n.op_type == "MatMul") {
    if (n.inputs.size() < 2 || n.inputs[0] == kNoValue) return "it has no A input";
    if (g.value(n.inputs[0]).is_constant()) return "its input A is a constant (only run-time A is factored)";
    if (!IsFloatConstant(g, n.inputs[1])) return "its weight B is not a constant float32 tensor";
    const Shape& b = g.value(n.inputs[1]).constant.shape();
    if (b.size() != 2) return "its weight B is not 2-D";
    bool trans_b = false;
    if (n.op_type == "Gemm") {
      trans_b = n.attrs.Int("transB", 0) != 0;
      if (n.attrs.Int("transA", 0) != 0 && n.opset < 7) return "transA before opset 7 (C required) is not handled";
    }
    layer->weight_shape = b;
    layer->rows = trans_b ? b[1] : b[0];
    layer->cols = trans_b ? b[0] : b[1];
    return "";
  }
  if (n.op_type == "Conv") {
    if (n.inputs.size() < 2 || n.inputs[0] == kNoValue) return "it has no X input";
    if (g.value(n.inputs[0]).is_constant()) return "its input X is a constant";
    if (!IsFloatConstant(g, n.inputs[1])) return "its weight is not a constant float32 tensor";
    if (n.attrs.Int("group", 1) != 1) return "it is a grouped convolution (group != 1)";
    const Shape& w = g.value(n.inputs[1]).constant.shape();
    if (w.size() < 3) return "its weight has fewer than 3 dims";
    int64_t kernel = 1;
    for (size_t i = 2; i < w.size(); ++i) kernel *= w[i];
    layer->weight_shape = w;
    const std::string auto_pad = n.attrs.String("auto_pad", "NOTSET");
    const bool spatial_ok = w.size() == 4 && (auto_pad == "NOTSET" || auto_pad == "VALID");
    layer->conv_mode = conv_mode == ConvFactorization::kSpatial && spatial_ok ? ConvFactorization::kSpatial
                                                                             : ConvFactorization::kChannel;
    if (layer->conv_mode == ConvFactorization::kSpatial) {
      layer->rows = w[1] * w[2];
      layer->cols = w[0] * w[3];
    } else {
      layer->rows = w[0];
      layer->cols = w[1] * kernel;
    }
    return "";
  }
  return "only Gemm, MatMul and Conv layers are factored";
}

const Shape* ShapeOf(const Graph& shapes, const std::string& value_name) {
  const ValueId v = shapes.FindValue(value_name);
  if (v == kNoValue || !shapes.value(v).has_shape) return nullptr;
  return &shapes.value(v).shape;
}

int64_t Elements(const Shape* s) {
  if (s == nullptr) return 1;
  int64_t n = 1;
  for (int64_t d : *s) n *= std::max<int64_t>(d, 1);
  return n;
}

// FLOPs of the dense layer and per unit of rank, from the specialised shapes.
void SetFlops(const Graph& g, const Node& n, const Graph& shapes, CompressibleLayer* layer) {
  const Shape* out = ShapeOf(shapes, g.value(n.outputs[0]).name);
  if (layer->op_type != "Conv") {
    const int64_t positions = std::max<int64_t>(1, Elements(out) / std::max<int64_t>(layer->cols, 1));
    layer->dense_flops = 2.0 * static_cast<double>(positions) * static_cast<double>(layer->rows * layer->cols);
    layer->flops_per_rank = 2.0 * static_cast<double>(positions) * static_cast<double>(layer->rows + layer->cols);
    return;
  }
  const Shape& w = layer->weight_shape;
  const int64_t cout = w[0];
  const int64_t positions = std::max<int64_t>(1, Elements(out) / cout);  // batch × output pixels
  layer->dense_flops = 2.0 * static_cast<double>(positions) * static_cast<double>(layer->rows * layer->cols);
  if (layer->conv_mode == ConvFactorization::kChannel) {
    layer->flops_per_rank = 2.0 * static_cast<double>(positions) * static_cast<double>(layer->rows + layer->cols);
    return;
  }
  // The vertical pass keeps the input's width: batch × out_height × in_width positions.
  const Shape* in = ShapeOf(shapes, g.value(n.inputs[0]).name);
  int64_t vertical_positions = positions;
  if (in != nullptr && out != nullptr && in->size() == 4 && out->size() == 4)
    vertical_positions = std::max<int64_t>(1, (*out)[0]) * (*out)[2] * (*in)[3];
  layer->flops_per_rank = 2.0 * static_cast<double>(vertical_positions) * static_cast<double>(w[1] * w[2]) +
                          2.0 * static_cast<double>(positions) * static_cast<double>(cout * w[3]);
}

std::string UniqueValueName(const Graph& g, const std::string& base) {
  std::string name = base;
  for (int i = 1; g.FindValue(name) != kNoValue; ++i) name = base + "_" + std::to_string(i);
  return name;
}

ValueId AddConstant(Graph& g, const std::string& base, Shape shape, std::vector<float> data) {
  Value v;
  v.name = UniqueValueName(g, base);
  v.dtype = DataType::kFloat32;
  v.has_shape = true;
  v.shape = shape;
  v.constant = Tensor::FromFloats(std::move(shape), data);
  return g.AddValue(std::move(v));
}

ValueId AddIntermediate(Graph& g, const std::string& base) {
  Value v;
  v.name = UniqueValueName(g, base);
  v.dtype = DataType::kFloat32;
  return g.AddValue(std::move(v));
}

Node NewNode(const Node& like, const std::string& suffix, const std::string& op_type) {
  Node n;
  n.name = like.name + suffix;
  n.op_type = op_type;
  n.domain = like.domain;
  n.opset = like.opset;
  return n;
}

// Left factor scaled by the singular values: (U_k Σ_k)[i][r] · scale, rows × k.
std::vector<float> ScaledU(const SvdFactors& f, int64_t k, float scale) {
  std::vector<float> out(static_cast<size_t>(f.rows * k));
  for (int64_t i = 0; i < f.rows; ++i)
    for (int64_t r = 0; r < k; ++r)
      out[static_cast<size_t>(i * k + r)] = f.u[static_cast<size_t>(i * f.rank + r)] * f.s[static_cast<size_t>(r)] * scale;
  return out;
}

std::vector<float> LeadingVt(const SvdFactors& f, int64_t k) {
  return std::vector<float>(f.vt.begin(), f.vt.begin() + k * f.cols);
}

}  // namespace

Result<std::vector<CompressibleLayer>> FindCompressibleLayers(const Graph& model_graph, const Graph& shapes,
                                                              ConvFactorization conv_mode) {
  std::vector<CompressibleLayer> layers;
  for (const Node& n : model_graph.nodes) {
    CompressibleLayer layer;
    if (!Classify(model_graph, n, conv_mode, &layer).empty()) continue;
    SetFlops(model_graph, n, shapes, &layer);
    layers.push_back(std::move(layer));
  }
  return layers;
}

std::string WhyNotCompressible(const Graph& g, const std::string& name) {
  const NodeId id = FindNode(g, name);
  if (id < 0) return "there is no node named '" + name + "'";
  CompressibleLayer layer;
  const std::string why = Classify(g, g.node(id), ConvFactorization::kChannel, &layer);
  return why.empty() ? "" : g.NodeLabel(id) + " cannot be factored: " + why;
}

Result<std::vector<float>> LayerMatrix(const Graph& g, const CompressibleLayer& layer) {
  const NodeId id = FindNode(g, layer.name);
  if (id < 0) return NotFound("no node named '" + layer.name + "' to compress");
  const Node& n = g.node(id);
  const Tensor& w = g.value(n.inputs[1]).constant;
  const float* src = w.data<float>();
  std::vector<float> m(static_cast<size_t>(layer.rows * layer.cols));
  if (layer.op_type == "Conv" && layer.conv_mode == ConvFactorization::kSpatial) {
    const int64_t cout = w.dim(0), cin = w.dim(1), kh = w.dim(2), kw = w.dim(3);
    for (int64_t co = 0; co < cout; ++co)
      for (int64_t ci = 0; ci < cin; ++ci)
        for (int64_t y = 0; y < kh; ++y)
          for (int64_t x = 0; x < kw; ++x)
            m[static_cast<size_t>((ci * kh + y) * layer.cols + co * kw + x)] = src[((co * cin + ci) * kh + y) * kw + x];
  } else if (layer.op_type == "Gemm" && n.attrs.Int("transB", 0) != 0) {
    for (int64_t i = 0; i < layer.rows; ++i)
      for (int64_t j = 0; j < layer.cols; ++j) m[static_cast<size_t>(i * layer.cols + j)] = src[j * layer.rows + i];
  } else {
    std::memcpy(m.data(), src, m.size() * sizeof(float));  // MatMul/Gemm B as stored; Conv Cout × (Cin·h·w)
  }
  return m;
}

Status ApplyLowRank(Graph& g, const CompressibleLayer& layer, const SvdFactors& f, int64_t rank) {
  const NodeId id = FindNode(g, layer.name);
  if (id < 0) return NotFound("no node named '" + layer.name + "' to compress");
  if (f.rows != layer.rows || f.cols != layer.cols)
    return InvalidArgument("SVD of a " + std::to_string(f.rows) + "x" + std::to_string(f.cols) + " matrix given for " +
                           g.NodeLabel(id) + ", whose matrix is " + std::to_string(layer.rows) + "x" +
                           std::to_string(layer.cols));
  if (rank < 1 || rank > f.rank)
    return InvalidArgument("rank " + std::to_string(rank) + " for " + g.NodeLabel(id) + " is outside the " +
                           std::to_string(f.rank) + " singular triplets computed");
  const Node old = g.node(id);
  const FusedActivation act = GetFusedActivation(old.attrs);
  const ValueId mid = AddIntermediate(g, layer.name + ".rlc_mid");
  Node first, second;
  const int64_t k = rank;

  if (layer.op_type == "Gemm" || layer.op_type == "MatMul") {
    const bool trans_a = layer.op_type == "Gemm" && old.attrs.Int("transA", 0) != 0;
    const float alpha = layer.op_type == "Gemm" ? old.attrs.Float("alpha", 1.0f) : 1.0f;
    const ValueId p = AddConstant(g, layer.name + ".rlc_w1", {layer.rows, k}, ScaledU(f, k, alpha));
    const ValueId q = AddConstant(g, layer.name + ".rlc_w2", {k, layer.cols}, LeadingVt(f, k));
    first = NewNode(old, ".rlc1", trans_a ? "Gemm" : "MatMul");
    if (trans_a) first.attrs.set("transA", int64_t{1});
    first.inputs = {old.inputs[0], p};
    const bool has_c = layer.op_type == "Gemm" && old.inputs.size() > 2 && old.inputs[2] != kNoValue;
    second = NewNode(old, ".rlc2", has_c ? "Gemm" : "MatMul");
    second.inputs = {mid, q};
    if (has_c) {
      second.inputs.push_back(old.inputs[2]);
      if (old.attrs.has("beta")) second.attrs.set("beta", old.attrs.Float("beta", 1.0f));
      if (old.attrs.has("broadcast")) second.attrs.set("broadcast", old.attrs.Int("broadcast", 0));
    }
  } else {  // Conv
    const Shape& w = layer.weight_shape;
    const size_t spatial = w.size() - 2;
    first = NewNode(old, ".rlc1", "Conv");
    second = NewNode(old, ".rlc2", "Conv");
    for (const auto& [name, value] : old.attrs.all())
      if (name.rfind("deepx.", 0) != 0 && name != "kernel_shape" && name != "group") first.attrs.set(name, value);
    if (layer.conv_mode == ConvFactorization::kChannel) {
      Shape w1 = {k, w[1]};
      std::vector<int64_t> kernel(w.begin() + 2, w.end());
      w1.insert(w1.end(), kernel.begin(), kernel.end());
      Shape w2 = {w[0], k};
      w2.insert(w2.end(), spatial, 1);
      const ValueId v1 = AddConstant(g, layer.name + ".rlc_w1", w1, LeadingVt(f, k));
      const ValueId v2 = AddConstant(g, layer.name + ".rlc_w2", w2, ScaledU(f, k, 1.0f));
      first.attrs.set("kernel_shape", kernel);
      first.inputs = {old.inputs[0], v1};
      second.attrs.set("kernel_shape", std::vector<int64_t>(spatial, 1));
      second.inputs = {mid, v2};
    } else {
      const int64_t cout = w[0], cin = w[1], kh = w[2], kw = w[3];
      // Vertical filters F1[r, ci, y, 0] = (U_k Σ_k)[(ci, y), r]; horizontal F2[co, r, 0, x] = V_kᵀ[r, (co, x)].
      const std::vector<float> us = ScaledU(f, k, 1.0f);
      std::vector<float> f1(static_cast<size_t>(k * cin * kh));
      for (int64_t r = 0; r < k; ++r)
        for (int64_t i = 0; i < cin * kh; ++i) f1[static_cast<size_t>(r * cin * kh + i)] = us[static_cast<size_t>(i * k + r)];
      std::vector<float> f2(static_cast<size_t>(cout * k * kw));
      for (int64_t co = 0; co < cout; ++co)
        for (int64_t r = 0; r < k; ++r)
          for (int64_t x = 0; x < kw; ++x)
            f2[static_cast<size_t>((co * k + r) * kw + x)] = f.vt[static_cast<size_t>(r * f.cols + co * kw + x)];
      const ValueId v1 = AddConstant(g, layer.name + ".rlc_w1", {k, cin, kh, 1}, std::move(f1));
      const ValueId v2 = AddConstant(g, layer.name + ".rlc_w2", {cout, k, 1, kw}, std::move(f2));
      const std::vector<int64_t> strides = old.attrs.Ints("strides", {1, 1});
      const std::vector<int64_t> dilations = old.attrs.Ints("dilations", {1, 1});
      const std::vector<int64_t> pads = old.attrs.Ints("pads", {0, 0, 0, 0});  // top, left, bottom, right
      first.attrs.erase("auto_pad");  // NOTSET or VALID: explicit pads say the same
      first.attrs.set("kernel_shape", std::vector<int64_t>{kh, 1});
      first.attrs.set("strides", std::vector<int64_t>{strides[0], 1});
      first.attrs.set("dilations", std::vector<int64_t>{dilations[0], 1});
      first.attrs.set("pads", std::vector<int64_t>{pads[0], 0, pads[2], 0});
      second.attrs.set("kernel_shape", std::vector<int64_t>{1, kw});
      second.attrs.set("strides", std::vector<int64_t>{1, strides[1]});
      second.attrs.set("dilations", std::vector<int64_t>{1, dilations[1]});
      second.attrs.set("pads", std::vector<int64_t>{0, pads[1], 0, pads[3]});
      first.inputs = {old.inputs[0], v1};
      second.inputs = {mid, v2};
    }
    if (old.inputs.size() > 2 && old.inputs[2] != kNoValue) second.inputs.push_back(old.inputs[2]);
  }
  first.outputs = {mid};
  second.outputs = {old.outputs[0]};
  if (!act.none()) SetFusedActivation(second.attrs, act);
  g.nodes[static_cast<size_t>(id)] = std::move(first);
  g.nodes.insert(g.nodes.begin() + id + 1, std::move(second));
  g.RemoveDeadCode();  // the dense weight, unless another node reads it
  return Status::Ok();
}

}  // namespace deepx::compress
