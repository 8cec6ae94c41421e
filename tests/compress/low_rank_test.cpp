// Low-rank transforms (compress/low_rank.h) on the reference backend: full rank reproduces the layer, rank k
// computes exactly W_k, and the rewritten graph passes shape inference.
#include "compress/low_rank.h"

#include <gtest/gtest.h>

#include "deepx/deepx.hpp"
#include "onnx/model_writer.h"
#include "ops/op.h"
#include "passes/shape_inference.h"
#include "runtime/model_impl.h"
#include "test_util.h"

namespace deepx::compress {
namespace {

struct LayerCase {
  std::string op;
  Shape x_shape;
  Tensor w;
  Tensor bias;  // Gemm C / Conv B; empty for none
  Attributes attrs;
  bool relu = false;
};

// x -> layer [-> Relu] -> y, with float32 outputs declared.
Graph OneLayerGraph(const LayerCase& c) {
  Graph g;
  g.opset = 17;
  auto add = [&g](const std::string& name, const Tensor& t, bool constant) {
    Value v;
    v.name = name;
    v.dtype = DataType::kFloat32;
    v.shape = t.shape();
    v.has_shape = true;
    if (constant) v.constant = t;
    return g.AddValue(v);
  };
  const ValueId x = add("x", Tensor::Zeros(DataType::kFloat32, c.x_shape), false);
  g.inputs.push_back(x);
  Node n;
  n.name = "layer";
  n.op_type = c.op;
  n.opset = 17;
  n.attrs = c.attrs;
  n.inputs = {x, add("w", c.w, true)};
  if (!c.bias.empty()) n.inputs.push_back(add("b", c.bias, true));
  Value out;
  out.name = c.relu ? "pre" : "y";
  out.dtype = DataType::kFloat32;
  n.outputs = {g.AddValue(out)};
  g.nodes.push_back(n);
  if (c.relu) {
    Node r;
    r.name = "relu";
    r.op_type = "Relu";
    r.opset = 17;
    r.inputs = {n.outputs[0]};
    Value y;
    y.name = "y";
    y.dtype = DataType::kFloat32;
    r.outputs = {g.AddValue(y)};
    g.nodes.push_back(r);
  }
  g.outputs = {g.nodes.back().outputs[0]};
  return g;
}

std::shared_ptr<const Model> Load(const Graph& g) {
  auto bytes = SerializeOnnx(g);
  EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
  auto m = Model::LoadFromBytes(bytes->data(), bytes->size());
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return m.ok() ? *m : nullptr;
}

Tensor Run(const std::shared_ptr<const Model>& m, const Tensor& x) {
  auto s = Session::Create(m, {});
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  auto out = (*s)->Run({{"x", x}});
  EXPECT_TRUE(out.ok()) << out.status().ToString();
  return out.ok() ? (*out)[0] : Tensor();
}

// M_k = U_k S_k V_kᵀ written back in the weight's own layout (the inverse of LayerMatrix).
Tensor WeightAtRank(const CompressibleLayer& l, const SvdFactors& f, int64_t k, const Node& node) {
  std::vector<float> m(static_cast<size_t>(l.rows * l.cols), 0.0f);
  for (int64_t i = 0; i < l.rows; ++i)
    for (int64_t j = 0; j < l.cols; ++j) {
      double v = 0;
      for (int64_t r = 0; r < k; ++r)
        v += static_cast<double>(f.u[static_cast<size_t>(i * f.rank + r)]) * f.s[static_cast<size_t>(r)] *
             f.vt[static_cast<size_t>(r * f.cols + j)];
      m[static_cast<size_t>(i * l.cols + j)] = static_cast<float>(v);
    }
  Tensor w = Tensor::Zeros(DataType::kFloat32, l.weight_shape);
  float* d = w.data<float>();
  if (l.op_type == "Conv" && l.conv_mode == ConvFactorization::kSpatial) {
    const int64_t cout = w.dim(0), cin = w.dim(1), kh = w.dim(2), kw = w.dim(3);
    for (int64_t co = 0; co < cout; ++co)
      for (int64_t ci = 0; ci < cin; ++ci)
        for (int64_t y = 0; y < kh; ++y)
          for (int64_t x = 0; x < kw; ++x)
            d[((co * cin + ci) * kh + y) * kw + x] = m[static_cast<size_t>((ci * kh + y) * l.cols + co * kw + x)];
  } else if (l.op_type == "Gemm" && node.attrs.Int("transB", 0) != 0) {
    for (int64_t i = 0; i < l.rows; ++i)
      for (int64_t j = 0; j < l.cols; ++j) d[j * l.rows + i] = m[static_cast<size_t>(i * l.cols + j)];
  } else {
    std::copy(m.begin(), m.end(), d);
  }
  return w;
}

void CheckTransform(const LayerCase& c, ConvFactorization mode, int64_t rank, ConvFactorization expect_mode) {
  const Graph g0 = OneLayerGraph(c);
  std::shared_ptr<const Model> dense = Load(g0);
  ASSERT_NE(dense, nullptr);
  auto shapes = SpecializeModel(*dense, {});
  ASSERT_TRUE(shapes.ok()) << shapes.status().ToString();
  auto layers = FindCompressibleLayers(dense->graph(), *shapes, mode);
  ASSERT_TRUE(layers.ok());
  ASSERT_EQ(layers->size(), 1u);
  const CompressibleLayer& l = (*layers)[0];
  EXPECT_EQ(l.conv_mode, expect_mode);
  auto m = LayerMatrix(dense->graph(), l);
  ASSERT_TRUE(m.ok());
  auto f = TruncatedSvd(m->data(), l.rows, l.cols, l.max_rank());
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  const Tensor x = testing::RandomTensor(c.x_shape, 42);
  const Tensor y_dense = Run(dense, x);

  // Full rank reproduces the layer; the rewritten graph has two nodes in place of one and specialises.
  Graph full = dense->graph();
  ASSERT_TRUE(ApplyLowRank(full, l, *f, l.max_rank()).ok());
  EXPECT_EQ(full.nodes.size(), dense->graph().nodes.size() + 1);
  ASSERT_TRUE(SpecializeGraph(full, {}, OpRegistry::Default()).ok());
  const Tensor y_full = Run(Load(full), x);
  EXPECT_LE(testing::MaxScaledError(y_full, y_dense, 1e-4, 1e-4), 1.0);

  // Rank k computes W_k: compare with the dense layer holding W_k.
  Graph low = dense->graph();
  ASSERT_TRUE(ApplyLowRank(low, l, *f, rank).ok());
  const Tensor y_low = Run(Load(low), x);
  Graph wk = dense->graph();
  const Node& node = wk.nodes[0];
  wk.value(node.inputs[1]).constant = WeightAtRank(l, *f, rank, node);
  const Tensor y_wk = Run(Load(wk), x);
  EXPECT_LE(testing::MaxScaledError(y_low, y_wk, 1e-4, 1e-4), 1.0);
  // And the truncation is visible (the case matrices have full rank).
  EXPECT_GT(testing::MaxScaledError(y_low, y_dense, 1e-4, 1e-4), 1.0);
  EXPECT_EQ(l.params_at(rank), rank * (l.rows + l.cols));
}

TEST(LowRank, GemmTransBAlphaBetaBiasRelu) {
  LayerCase c{"Gemm", {3, 12}, testing::RandomTensor({8, 12}, 1), testing::RandomTensor({8}, 2), {}, true};
  c.attrs.set("transB", int64_t{1});
  c.attrs.set("alpha", 0.5f);
  c.attrs.set("beta", 2.0f);
  CheckTransform(c, ConvFactorization::kChannel, 3, ConvFactorization::kChannel);
}

TEST(LowRank, GemmTransANoBias) {
  LayerCase c{"Gemm", {12, 3}, testing::RandomTensor({12, 7}, 3), Tensor(), {}, false};
  c.attrs.set("transA", int64_t{1});
  CheckTransform(c, ConvFactorization::kChannel, 2, ConvFactorization::kChannel);
}

TEST(LowRank, MatMulBatched) {
  LayerCase c{"MatMul", {2, 3, 10}, testing::RandomTensor({10, 9}, 4), Tensor(), {}, true};
  CheckTransform(c, ConvFactorization::kChannel, 4, ConvFactorization::kChannel);
}

TEST(LowRank, ConvRankKThenPointwise) {
  LayerCase c{"Conv", {1, 3, 9, 9}, testing::RandomTensor({6, 3, 3, 3}, 5), testing::RandomTensor({6}, 6), {}, true};
  c.attrs.set("strides", std::vector<int64_t>{2, 2});
  c.attrs.set("pads", std::vector<int64_t>{1, 0, 1, 2});
  CheckTransform(c, ConvFactorization::kChannel, 3, ConvFactorization::kChannel);
}

TEST(LowRank, ConvSameAutoPadKeepsChannelForm) {
  LayerCase c{"Conv", {1, 2, 7, 8}, testing::RandomTensor({5, 2, 3, 3}, 7), Tensor(), {}, false};
  c.attrs.set("auto_pad", std::string("SAME_UPPER"));
  c.attrs.set("strides", std::vector<int64_t>{2, 1});
  // SAME padding cannot be split between the two spatial passes: kSpatial falls back to kChannel.
  CheckTransform(c, ConvFactorization::kSpatial, 2, ConvFactorization::kChannel);
}

TEST(LowRank, ConvSpatiallySeparable) {
  LayerCase c{"Conv", {2, 3, 10, 11}, testing::RandomTensor({5, 3, 3, 2}, 8), testing::RandomTensor({5}, 9), {}, true};
  c.attrs.set("strides", std::vector<int64_t>{2, 1});
  c.attrs.set("pads", std::vector<int64_t>{1, 0, 1, 1});
  c.attrs.set("dilations", std::vector<int64_t>{1, 2});
  CheckTransform(c, ConvFactorization::kSpatial, 3, ConvFactorization::kSpatial);
}

TEST(LowRank, ReportsWhyALayerCannotBeFactored) {
  LayerCase c{"Conv", {1, 4, 6, 6}, testing::RandomTensor({4, 2, 3, 3}, 10), Tensor(), {}, false};
  c.attrs.set("group", int64_t{2});
  const Graph g = OneLayerGraph(c);
  EXPECT_NE(WhyNotCompressible(g, "layer").find("grouped"), std::string::npos) << WhyNotCompressible(g, "layer");
  EXPECT_NE(WhyNotCompressible(g, "nope").find("no node named 'nope'"), std::string::npos);
  auto shapes = SpecializeGraph(g, {}, OpRegistry::Default());
  ASSERT_TRUE(shapes.ok());
  auto layers = FindCompressibleLayers(g, *shapes);
  ASSERT_TRUE(layers.ok());
  EXPECT_TRUE(layers->empty());
}

TEST(LowRank, BreakEvenRank) {
  CompressibleLayer l;
  l.rows = 100;
  l.cols = 50;
  EXPECT_EQ(l.break_even_rank(), 33);  // 33·150 = 4950 < 5000 <= 34·150
  l.rows = 2;
  l.cols = 2;
  EXPECT_EQ(l.break_even_rank(), 0);  // 1·4 = 4: never smaller
}

}  // namespace
}  // namespace deepx::compress
