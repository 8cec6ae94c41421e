#include "backends/backend_cases.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

#include "ops/fused_activation.h"
#include "ops/op.h"
#include "passes/shape_inference.h"
#include "test_util.h"

namespace deepx::testing {
namespace {

using Ints = std::vector<int64_t>;

// Builds one case's graph value by value.
class CaseBuilder {
 public:
  CaseBuilder(std::string name, std::string op, double max_error, int opset = 17) {
    c_.name = std::move(name);
    c_.op = std::move(op);
    c_.max_error = max_error;
    c_.graph.opset = opset;
    seed_ = static_cast<uint32_t>(std::hash<std::string>{}(c_.name));
  }
  // A run-time input with random values in [lo, hi).
  ValueId Input(const Shape& shape, float lo = -1.0f, float hi = 1.0f) {
    Tensor t = RandomTensor(shape, seed_++, lo, hi);
    ValueId id = AddValue("in" + std::to_string(c_.inputs.size()), t, false);
    c_.graph.inputs.push_back(id);
    c_.inputs.push_back(t);
    return id;
  }
  ValueId Const(const Shape& shape, float lo = -1.0f, float hi = 1.0f) {
    return AddValue("c" + std::to_string(next_++), RandomTensor(shape, seed_++, lo, hi), true);
  }
  ValueId ConstValue(Tensor t) { return AddValue("c" + std::to_string(next_++), std::move(t), true); }
  // Adds a node; returns its first output.
  ValueId Op(const std::string& op_type, std::vector<ValueId> inputs, Attributes attrs = {}, int outputs = 1) {
    Node n;
    n.name = op_type + "_" + std::to_string(c_.graph.nodes.size());
    n.op_type = op_type;
    n.opset = c_.graph.opset;
    n.inputs = std::move(inputs);
    n.attrs = std::move(attrs);
    for (int i = 0; i < outputs; ++i) {
      Value v;
      v.name = n.name + "_out" + std::to_string(i);
      n.outputs.push_back(c_.graph.AddValue(v));
    }
    c_.graph.nodes.push_back(n);
    return n.outputs[0];
  }
  BackendCase Finish(std::vector<ValueId> outputs) {
    c_.graph.outputs = std::move(outputs);
    Status s = c_.graph.TopologicalSort();
    InferOptions options;
    options.fold_constants = false;
    if (s.ok()) s = InferShapes(c_.graph, OpRegistry::Default(), options);
    if (!s.ok()) {
      // A broken case is a bug in this list: make it fail loudly rather than vanish.
      c_.name += "_INVALID";
      c_.max_error = -1;
    }
    return std::move(c_);
  }

 private:
  ValueId AddValue(const std::string& name, Tensor t, bool constant) {
    Value v;
    v.name = name;
    v.dtype = t.dtype();
    v.shape = t.shape();
    v.has_shape = true;
    if (constant) v.constant = t;
    return c_.graph.AddValue(v);
  }
  BackendCase c_;
  uint32_t seed_ = 0;
  int next_ = 0;
};

Attributes Act(Attributes a, const std::string& kind, std::vector<float> params = {}) {
  if (!kind.empty()) SetFusedActivation(a, FusedActivation{kind, std::move(params)});
  return a;
}

std::string Join(const Ints& v) {
  std::string s;
  for (int64_t x : v) s += (s.empty() ? "" : "x") + std::to_string(x);
  return s;
}

constexpr double kGemmBound = 1e-4;  // long dot products: different summation orders
constexpr double kPointBound = 1e-5;

// --- Conv -------------------------------------------------------------------------------------------------------
struct ConvSpec {
  Shape x;             // [N, C, spatial...]
  int64_t m;           // output channels
  Ints kernel;
  Ints strides, dilations, pads;  // empty: defaults
  int64_t group = 1;
  bool bias = true;
  std::string act;
  std::vector<float> act_params;
  std::string auto_pad;
};

void AddConvCases(std::vector<BackendCase>& out) {
  const std::vector<ConvSpec> specs = {
      {{1, 3, 17, 19}, 8, {3, 3}, {}, {}, {1, 1, 1, 1}},
      {{2, 4, 15, 13}, 6, {3, 3}, {2, 2}, {}, {}},
      {{1, 5, 7, 7}, 4, {1, 1}, {}, {}, {}, 1, false},
      {{1, 3, 10, 11}, 4, {3, 2}, {2, 1}, {}, {0, 1, 2, 0}},
      {{1, 6, 12, 12}, 9, {5, 5}, {}, {2, 2}, {2, 2, 2, 2}, 3},
      {{1, 8, 14, 14}, 8, {3, 3}, {}, {}, {1, 1, 1, 1}, 8},          // depthwise
      {{1, 16, 9, 9}, 32, {3, 3}, {2, 2}, {}, {1, 1, 1, 1}, 16},     // depthwise, multiplier 2
      {{1, 32, 8, 8}, 32, {3, 3}, {1, 1}, {}, {1, 1, 1, 1}, 32, true, "Relu"},
      {{1, 12, 13, 11}, 24, {3, 3}, {2, 2}, {3, 1}, {3, 1, 3, 1}, 4},
      {{1, 3, 9, 9}, 5, {3, 3}, {2, 2}, {}, {}, 1, true, "", {}, "SAME_UPPER"},
      {{1, 3, 8, 8}, 5, {4, 4}, {2, 2}, {}, {}, 1, true, "", {}, "SAME_LOWER"},
      {{3, 7, 23}, 5, {5}, {2}, {}, {2, 1}},                         // 1-D
      {{1, 2, 5, 6, 7}, 4, {3, 3, 3}, {}, {}, {1, 1, 1, 1, 1, 1}},   // 3-D
      {{1, 64, 28, 28}, 64, {3, 3}, {}, {}, {1, 1, 1, 1}},           // a ResNet-sized layer
      {{1, 3, 17, 17}, 8, {3, 3}, {}, {}, {}, 1, true, "Relu"},
      {{1, 3, 17, 17}, 8, {3, 3}, {}, {}, {}, 1, true, "LeakyRelu", {0.1f}},
      {{1, 3, 17, 17}, 8, {3, 3}, {}, {}, {}, 1, true, "Clip", {0.0f, 6.0f}},
      {{1, 3, 17, 17}, 8, {3, 3}, {}, {}, {}, 1, true, "Sigmoid"},
      {{1, 3, 17, 17}, 8, {3, 3}, {}, {}, {}, 1, true, "HardSigmoid", {0.2f, 0.5f}},
      {{1, 3, 17, 17}, 8, {3, 3}, {}, {}, {}, 1, false, "HardSwish"},
      {{1, 3, 17, 17}, 8, {3, 3}, {}, {}, {}, 1, true, "Tanh"},
      {{1, 4, 6, 6}, 4, {3, 3}, {}, {}, {3, 3, 3, 3}},               // padding as large as the window
  };
  for (const ConvSpec& s : specs) {
    std::string name = "Conv_x" + Join(s.x) + "_m" + std::to_string(s.m) + "_k" + Join(s.kernel);
    Attributes a;
    if (!s.strides.empty()) {
      a.set("strides", s.strides);
      name += "_s" + Join(s.strides);
    }
    if (!s.dilations.empty()) {
      a.set("dilations", s.dilations);
      name += "_d" + Join(s.dilations);
    }
    if (!s.pads.empty()) {
      a.set("pads", s.pads);
      name += "_p" + Join(s.pads);
    }
    if (!s.auto_pad.empty()) {
      a.set("auto_pad", s.auto_pad);
      name += "_" + s.auto_pad;
    }
    if (s.group > 1) {
      a.set("group", s.group);
      name += "_g" + std::to_string(s.group);
    }
    if (!s.bias) name += "_nobias";
    if (!s.act.empty()) name += "_" + s.act;
    CaseBuilder b(name, "Conv", kGemmBound);
    Shape w = {s.m, s.x[1] / s.group};
    w.insert(w.end(), s.kernel.begin(), s.kernel.end());
    std::vector<ValueId> in = {b.Input(s.x), b.Const(w)};
    if (s.bias) in.push_back(b.Const({s.m}));
    out.push_back(b.Finish({b.Op("Conv", in, Act(a, s.act, s.act_params))}));
  }
}

// --- Gemm / MatMul ----------------------------------------------------------------------------------------------
struct GemmSpec {
  int64_t m, k, n;
  bool ta = false, tb = false;
  float alpha = 1.0f, beta = 1.0f;
  Shape c;                 // empty: no C; {0}: C omitted entirely
  bool b_const = true, c_const = true;
  std::string act;
};

void AddGemmCases(std::vector<BackendCase>& out) {
  const std::vector<GemmSpec> specs = {
      {1, 64, 10, false, true, 1, 1, {10}},                      // FC layer, PyTorch export
      {1, 1024, 1000, false, true, 1, 1, {1000}},                // large batch-1 FC
      {3, 17, 5, true, false, 0.5f, 2.0f, {3, 5}},
      {4, 9, 7, true, true, 1, 1, {1}},
      {2, 33, 65, false, false, 1, 1, {2, 1}},
      {5, 8, 6, false, true, 1, 1, {}},
      {5, 8, 6, false, false, 1, 1, {6}, false, true},           // run-time B
      {5, 8, 6, false, false, 1, 1, {5, 6}, false, false},       // run-time B and C
      {5, 8, 6, false, false, 1.5f, 1, {6}, false, true},        // run-time B with alpha
      {5, 8, 6, false, true, 1, 0.5f, {1, 6}, true, false},      // run-time C with beta
      {2, 100, 300, false, true, 1, 1, {300}, true, true, "Relu"},
      {2, 31, 17, false, true, 1, 1, {17}, true, true, "Tanh"},
  };
  for (const GemmSpec& s : specs) {
    std::string name = "Gemm_m" + std::to_string(s.m) + "_k" + std::to_string(s.k) + "_n" + std::to_string(s.n) +
                       (s.ta ? "_tA" : "") + (s.tb ? "_tB" : "");
    if (s.alpha != 1.0f) name += "_alpha";
    if (s.beta != 1.0f) name += "_beta";
    name += s.c.empty() ? "_noC" : "_C" + Join(s.c);
    if (!s.b_const) name += "_rtB";
    if (!s.c.empty() && !s.c_const) name += "_rtC";
    if (!s.act.empty()) name += "_" + s.act;
    Attributes a;
    if (s.ta) a.set("transA", int64_t{1});
    if (s.tb) a.set("transB", int64_t{1});
    if (s.alpha != 1.0f) a.set("alpha", s.alpha);
    if (s.beta != 1.0f) a.set("beta", s.beta);
    CaseBuilder b(name, "Gemm", kGemmBound);
    const Shape as = s.ta ? Shape{s.k, s.m} : Shape{s.m, s.k};
    const Shape bs = s.tb ? Shape{s.n, s.k} : Shape{s.k, s.n};
    std::vector<ValueId> in = {b.Input(as), s.b_const ? b.Const(bs) : b.Input(bs)};
    if (!s.c.empty()) in.push_back(s.c_const ? b.Const(s.c) : b.Input(s.c));
    out.push_back(b.Finish({b.Op("Gemm", in, Act(a, s.act))}));
  }
  const std::vector<std::pair<Shape, Shape>> matmuls = {
      {{3, 5}, {5, 7}},     {{2, 3, 4, 5}, {5, 6}}, {{2, 1, 4, 5}, {3, 5, 2}}, {{7, 9, 33}, {7, 33, 12}},
      {{1, 128}, {128, 64}}, {{5}, {5, 3}},         {{4, 6}, {6}},
  };
  for (size_t i = 0; i < matmuls.size(); ++i) {
    for (bool b_const : {false, true}) {
      const auto& [as, bs] = matmuls[i];
      CaseBuilder b("MatMul_" + Join(as) + "_by_" + Join(bs) + (b_const ? "_constB" : ""), "MatMul", kGemmBound);
      ValueId x = b.Input(as);
      ValueId y = b_const ? b.Const(bs) : b.Input(bs);
      out.push_back(b.Finish({b.Op("MatMul", {x, y})}));
    }
  }
  CaseBuilder b("MatMul_8x16_by_16x4_constB_HardSwish", "MatMul", kGemmBound);
  ValueId x = b.Input({8, 16});
  out.push_back(b.Finish({b.Op("MatMul", {x, b.Const({16, 4})}, Act({}, "HardSwish"))}));
}

// --- Pools ------------------------------------------------------------------------------------------------------
struct PoolSpec {
  std::string op;
  Shape x;
  Ints kernel, strides, pads, dilations;
  bool ceil = false;
  int include_pad = -1;  // -1: attribute absent
};

void AddPoolCases(std::vector<BackendCase>& out) {
  const std::vector<PoolSpec> specs = {
      {"MaxPool", {1, 4, 16, 16}, {3, 3}, {2, 2}, {1, 1, 1, 1}},
      {"MaxPool", {2, 3, 12, 12}, {2, 2}, {2, 2}, {}},
      {"MaxPool", {1, 5, 14, 14}, {3, 3}, {2, 2}, {}, {}, true},  // SqueezeNet/GoogLeNet-style ceil_mode
      {"MaxPool", {1, 3, 13, 11}, {3, 3}, {1, 1}, {1, 1, 1, 1}},
      {"MaxPool", {1, 3, 10, 9}, {3, 2}, {2, 3}, {0, 1, 1, 0}, {}, true},
      {"MaxPool", {2, 3, 21}, {4}, {3}, {1, 2}},                  // 1-D
      {"MaxPool", {1, 2, 11, 11}, {3, 3}, {1, 1}, {}, {2, 2}},    // dilated
      {"AveragePool", {1, 4, 16, 16}, {3, 3}, {2, 2}, {1, 1, 1, 1}, {}, false, 0},
      {"AveragePool", {1, 4, 16, 16}, {3, 3}, {2, 2}, {1, 1, 1, 1}, {}, false, 1},
      {"AveragePool", {1, 3, 15, 15}, {3, 3}, {2, 2}, {}, {}, true, 0},
      {"AveragePool", {1, 3, 15, 14}, {3, 3}, {2, 2}, {1, 1, 1, 1}, {}, true, 1},  // ceil adds a partial window
      {"AveragePool", {1, 3, 15, 15}, {3, 3}, {2, 2}, {1, 1, 1, 1}, {}, true, 1},  // ceil changes nothing here
      {"AveragePool", {2, 6, 7, 7}, {7, 7}, {1, 1}, {}},
      {"AveragePool", {1, 2, 9, 8, 7}, {2, 2, 2}, {2, 2, 2}, {}},  // 3-D
  };
  for (const PoolSpec& s : specs) {
    std::string name = s.op + "_x" + Join(s.x) + "_k" + Join(s.kernel);
    Attributes a;
    a.set("kernel_shape", s.kernel);
    if (!s.strides.empty()) {
      a.set("strides", s.strides);
      name += "_s" + Join(s.strides);
    }
    if (!s.pads.empty()) {
      a.set("pads", s.pads);
      name += "_p" + Join(s.pads);
    }
    if (!s.dilations.empty()) {
      a.set("dilations", s.dilations);
      name += "_d" + Join(s.dilations);
    }
    if (s.ceil) {
      a.set("ceil_mode", int64_t{1});
      name += "_ceil";
    }
    if (s.include_pad >= 0) {
      a.set("count_include_pad", int64_t{s.include_pad});
      name += s.include_pad ? "_incpad" : "_excpad";
    }
    CaseBuilder b(name, s.op, kPointBound, 19);
    out.push_back(b.Finish({b.Op(s.op, {b.Input(s.x)}, a)}));
  }
  for (const std::string op : {"GlobalAveragePool", "GlobalMaxPool"}) {
    for (const Shape& x : {Shape{2, 7, 5, 3}, Shape{1, 512, 7, 7}, Shape{1, 3, 10}}) {
      CaseBuilder b(op + "_x" + Join(x), op, kPointBound);
      out.push_back(b.Finish({b.Op(op, {b.Input(x)})}));
    }
  }
}

// --- Normalisation, softmax -------------------------------------------------------------------------------------
void AddNormCases(std::vector<BackendCase>& out) {
  for (const Shape& x : {Shape{2, 5, 6, 7}, Shape{3, 4}, Shape{1, 8, 5}}) {
    CaseBuilder b("BatchNormalization_x" + Join(x), "BatchNormalization", kPointBound);
    const Shape c = {x[1]};
    ValueId in = b.Input(x, -2.0f, 2.0f);
    ValueId scale = b.Const(c), bias = b.Const(c), mean = b.Const(c), var = b.Const(c, 0.5f, 1.5f);
    Attributes a;
    a.set("epsilon", 1e-3f);
    out.push_back(b.Finish({b.Op("BatchNormalization", {in, scale, bias, mean, var}, a)}));
  }
  struct LrnSpec {
    Shape x;
    int64_t size;
  };
  for (const LrnSpec& s : {LrnSpec{{1, 16, 7, 7}, 5}, LrnSpec{{2, 7, 5, 4}, 3}, LrnSpec{{1, 9, 4, 4}, 4},
                           LrnSpec{{1, 6, 8}, 3}}) {
    CaseBuilder b("LRN_x" + Join(s.x) + "_size" + std::to_string(s.size), "LRN", kGemmBound);
    Attributes a;
    a.set("size", s.size);
    a.set("alpha", 1e-2f);
    a.set("beta", 0.75f);
    a.set("bias", 2.0f);
    out.push_back(b.Finish({b.Op("LRN", {b.Input(s.x, -3.0f, 3.0f)}, a)}));
  }
  struct SoftmaxSpec {
    std::string op;
    Shape x;
    int64_t axis;
    int opset;
  };
  for (const SoftmaxSpec& s : {SoftmaxSpec{"Softmax", {2, 1000}, -1, 13}, SoftmaxSpec{"Softmax", {2, 3, 4, 5}, 1, 13},
                               SoftmaxSpec{"Softmax", {2, 3, 4, 5}, 1, 11}, SoftmaxSpec{"Softmax", {3, 7}, 0, 13},
                               SoftmaxSpec{"LogSoftmax", {4, 10}, -1, 13},
                               SoftmaxSpec{"LogSoftmax", {2, 3, 4}, 1, 11}}) {
    CaseBuilder b(s.op + "_x" + Join(s.x) + "_axis" + std::to_string(s.axis + 10) + "_opset" +
                      std::to_string(s.opset),
                  s.op, kPointBound, s.opset);
    Attributes a;
    a.set("axis", s.axis);
    out.push_back(b.Finish({b.Op(s.op, {b.Input(s.x, -5.0f, 5.0f)}, a)}));
  }
}

// --- Elementwise ------------------------------------------------------------------------------------------------
void AddEltwiseCases(std::vector<BackendCase>& out) {
  const std::vector<std::pair<Shape, Shape>> shapes = {
      {{2, 3, 4, 5}, {2, 3, 4, 5}}, {{2, 3, 4, 5}, {5}}, {{1, 4, 1, 1}, {2, 4, 3, 3}}, {{3, 1, 5}, {2, 1, 4, 1}},
      {{7}, {}},
  };
  for (const std::string op : {"Add", "Sub", "Mul", "Div"}) {
    for (const auto& [as, bs] : shapes) {
      CaseBuilder b(op + "_" + Join(as) + "_and_" + Join(bs), op, kPointBound);
      ValueId x = b.Input(as);
      ValueId y = op == "Div" ? b.Input(bs, 0.5f, 1.5f) : b.Input(bs);
      out.push_back(b.Finish({b.Op(op, {x, y})}));
    }
  }
  {
    CaseBuilder b("Add_const_bias_1x8x5x5", "Add", kPointBound);
    ValueId x = b.Input({1, 8, 5, 5});
    out.push_back(b.Finish({b.Op("Add", {x, b.Const({8, 1, 1})})}));
  }
  struct UnarySpec {
    std::string op;
    Attributes attrs;
    float lo = -3.0f, hi = 3.0f;
  };
  Attributes leaky, elu, clip6;
  leaky.set("alpha", 0.2f);
  elu.set("alpha", 0.7f);
  clip6.set("min", -0.5f);
  clip6.set("max", 0.25f);
  const std::vector<UnarySpec> unary = {
      {"Relu", {}},          {"LeakyRelu", leaky}, {"Sigmoid", {}},  {"Tanh", {}},
      {"Exp", {}},           {"Abs", {}},          {"Sqrt", {}, 0.0f, 4.0f}, {"Elu", elu},
      {"HardSwish", {}},     {"HardSigmoid", {}},  {"Neg", {}},
  };
  for (const UnarySpec& u : unary) {
    for (const Shape& x : {Shape{2, 3, 7, 5}, Shape{13}}) {
      CaseBuilder b(u.op + "_x" + Join(x), u.op, kPointBound);
      out.push_back(b.Finish({b.Op(u.op, {b.Input(x, u.lo, u.hi)}, u.attrs)}));
    }
  }
  {
    CaseBuilder b("Clip_opset6_attrs", "Clip", kPointBound, 6);
    out.push_back(b.Finish({b.Op("Clip", {b.Input({4, 9})}, clip6)}));
  }
  {
    CaseBuilder b("Clip_opset13_const_bounds", "Clip", kPointBound, 13);
    ValueId x = b.Input({2, 8, 3, 3}, -8.0f, 8.0f);
    out.push_back(b.Finish({b.Op("Clip", {x, b.ConstValue(Tensor::Scalar(0.0f)), b.ConstValue(Tensor::Scalar(6.0f))})}));
  }
  {
    CaseBuilder b("Clip_opset13_runtime_bounds", "Clip", kPointBound, 13);
    ValueId x = b.Input({2, 8}, -2.0f, 2.0f);
    ValueId lo = b.Input({}, -1.0f, -0.5f), hi = b.Input({}, 0.5f, 1.0f);
    out.push_back(b.Finish({b.Op("Clip", {x, lo, hi})}));
  }
  {
    CaseBuilder b("Concat_axis1", "Concat", kPointBound);
    Attributes a;
    a.set("axis", int64_t{1});
    ValueId x = b.Input({1, 3, 4, 4}), y = b.Input({1, 5, 4, 4});
    out.push_back(b.Finish({b.Op("Concat", {x, y}, a)}));
  }
}

// --- Multi-node graphs ------------------------------------------------------------------------------------------
void AddChainCases(std::vector<BackendCase>& out) {
  {
    // A small residual CNN: conv-relu, depthwise, pointwise, residual add, pools, flatten, FC, softmax.
    CaseBuilder b("chain_residual_cnn", "chain", kGemmBound);
    Attributes p1, dw, pool, tb;
    p1.set("pads", Ints{1, 1, 1, 1});
    dw = p1;
    dw.set("group", int64_t{16});
    pool.set("kernel_shape", Ints{3, 3});
    pool.set("strides", Ints{2, 2});
    pool.set("ceil_mode", int64_t{1});
    tb.set("transB", int64_t{1});
    ValueId x = b.Input({1, 3, 24, 24});
    ValueId c1 = b.Op("Conv", {x, b.Const({16, 3, 3, 3}), b.Const({16})}, Act(p1, "Relu"));
    ValueId m1 = b.Op("MaxPool", {c1}, pool);
    ValueId d1 = b.Op("Conv", {m1, b.Const({16, 1, 3, 3}), b.Const({16})}, Act(dw, "Clip", {0.0f, 6.0f}));
    ValueId p2 = b.Op("Conv", {d1, b.Const({16, 16, 1, 1})});
    ValueId s = b.Op("Add", {p2, m1});
    ValueId r = b.Op("Relu", {s});
    ValueId g = b.Op("GlobalAveragePool", {r});
    ValueId f = b.Op("Flatten", {g});
    ValueId fc = b.Op("Gemm", {f, b.Const({10, 16}), b.Const({10})}, tb);
    ValueId sm = b.Op("Softmax", {fc});
    out.push_back(b.Finish({sm, r}));  // an intermediate that later nodes also read is an output too
  }
  {
    // Branches concatenated (GoogLeNet/SqueezeNet fire module), with LRN and an average pool.
    CaseBuilder b("chain_fire_module", "chain", kGemmBound);
    Attributes p1, cat, lrn, ap;
    p1.set("pads", Ints{1, 1, 1, 1});
    cat.set("axis", int64_t{1});
    lrn.set("size", int64_t{5});
    ap.set("kernel_shape", Ints{2, 2});
    ap.set("strides", Ints{2, 2});
    ValueId x = b.Input({2, 8, 10, 10});
    ValueId sq = b.Op("Conv", {x, b.Const({4, 8, 1, 1}), b.Const({4})}, Act({}, "Relu"));
    ValueId e1 = b.Op("Conv", {sq, b.Const({6, 4, 1, 1}), b.Const({6})}, Act({}, "Relu"));
    ValueId e3 = b.Op("Conv", {sq, b.Const({6, 4, 3, 3}), b.Const({6})}, Act(p1, "Relu"));
    ValueId c = b.Op("Concat", {e1, e3}, cat);
    ValueId l = b.Op("LRN", {c}, lrn);
    ValueId a = b.Op("AveragePool", {l}, ap);
    out.push_back(b.Finish({a}));
  }
  {
    // An MLP on a flattened input (DeepEar-style audio DNN).
    CaseBuilder b("chain_mlp", "chain", kGemmBound);
    Attributes tb;
    tb.set("transB", int64_t{1});
    ValueId x = b.Input({1, 11, 40});
    ValueId f = b.Op("Flatten", {x});
    ValueId h1 = b.Op("Gemm", {f, b.Const({256, 440}, -0.1f, 0.1f), b.Const({256})}, Act(tb, "Relu"));
    ValueId h2 = b.Op("Gemm", {h1, b.Const({256, 256}, -0.1f, 0.1f), b.Const({256})}, Act(tb, "Relu"));
    ValueId h3 = b.Op("MatMul", {h2, b.Const({256, 12}, -0.1f, 0.1f)});
    ValueId o = b.Op("Add", {h3, b.Const({12})});
    out.push_back(b.Finish({b.Op("LogSoftmax", {o})}));
  }
  // Layout boundaries of the CPU backend's layout pass (4-D activations stay NHWC between nodes that take it and
  // are reordered to NCHW where a value meets a node that needs NCHW).
  {
    // conv -> conv (NHWC between them) -> flatten (needs NCHW) -> gemm.
    CaseBuilder b("chain_layout_conv_conv_flatten_gemm", "chain", kGemmBound);
    Attributes p1, tb;
    p1.set("pads", Ints{1, 1, 1, 1});
    tb.set("transB", int64_t{1});
    ValueId x = b.Input({1, 5, 9, 7});
    ValueId c1 = b.Op("Conv", {x, b.Const({12, 5, 3, 3}), b.Const({12})}, Act(p1, "Relu"));
    ValueId c2 = b.Op("Conv", {c1, b.Const({7, 12, 3, 3}), b.Const({7})}, p1);
    ValueId f = b.Op("Flatten", {c2});
    out.push_back(b.Finish({b.Op("Gemm", {f, b.Const({10, 7 * 9 * 7}, -0.1f, 0.1f), b.Const({10})}, tb)}));
  }
  {
    // conv + batch norm + relu, a residual Add and a same-shape Mul of NHWC values, a pool, and an NHWC
    // intermediate that is also a block output.
    CaseBuilder b("chain_layout_residual_add", "chain", kGemmBound);
    Attributes p1, pool;
    p1.set("pads", Ints{1, 1, 1, 1});
    pool.set("kernel_shape", Ints{2, 2});
    pool.set("strides", Ints{2, 2});
    ValueId x = b.Input({2, 6, 8, 10});
    ValueId c1 = b.Op("Conv", {x, b.Const({8, 6, 3, 3}), b.Const({8})}, p1);
    ValueId bn = b.Op("BatchNormalization",
                      {c1, b.Const({8}), b.Const({8}), b.Const({8}), b.Const({8}, 0.5f, 1.5f)});
    ValueId r1 = b.Op("Relu", {bn});
    ValueId c2 = b.Op("Conv", {r1, b.Const({8, 8, 3, 3}), b.Const({8})}, p1);
    ValueId add = b.Op("Add", {c2, c1});
    ValueId r2 = b.Op("Relu", {add});
    ValueId mul = b.Op("Mul", {r2, c2});
    ValueId mp = b.Op("MaxPool", {mul}, pool);
    ValueId c3 = b.Op("Conv", {mp, b.Const({4, 8, 1, 1}), b.Const({4})});
    out.push_back(b.Finish({c3, r2}));
  }
  {
    // conv -> ops that run on reference kernels (Neg has no optimised kernel; a dilated MaxPool is a pool the
    // oneDNN path does not take) -> conv: NHWC must be reordered to NCHW before each.
    CaseBuilder b("chain_layout_reference_between_convs", "chain", kGemmBound);
    Attributes p1, dpool;
    p1.set("pads", Ints{1, 1, 1, 1});
    dpool.set("kernel_shape", Ints{2, 2});
    dpool.set("dilations", Ints{2, 2});
    ValueId x = b.Input({1, 4, 11, 11});
    ValueId c1 = b.Op("Conv", {x, b.Const({6, 4, 3, 3}), b.Const({6})}, Act(p1, "Relu"));
    ValueId ng = b.Op("Neg", {c1});
    ValueId c2 = b.Op("Conv", {ng, b.Const({6, 6, 3, 3}), b.Const({6})}, p1);
    ValueId mp = b.Op("MaxPool", {c2}, dpool);
    ValueId c3 = b.Op("Conv", {mp, b.Const({3, 6, 1, 1}), b.Const({3})});
    out.push_back(b.Finish({c3}));
  }
  {
    // Two convs concatenated on channels, then a conv reading the concat and one branch read twice.
    CaseBuilder b("chain_layout_concat_of_convs", "chain", kGemmBound);
    Attributes p1, cat;
    p1.set("pads", Ints{1, 1, 1, 1});
    cat.set("axis", int64_t{1});
    ValueId x = b.Input({1, 6, 9, 9});
    ValueId e1 = b.Op("Conv", {x, b.Const({5, 6, 1, 1}), b.Const({5})}, Act({}, "Relu"));
    ValueId e3 = b.Op("Conv", {x, b.Const({7, 6, 3, 3}), b.Const({7})}, Act(p1, "Relu"));
    ValueId c = b.Op("Concat", {e1, e3}, cat);
    ValueId c2 = b.Op("Conv", {c, b.Const({4, 12, 3, 3}), b.Const({4})}, p1);
    ValueId s = b.Op("Sigmoid", {e1});
    out.push_back(b.Finish({c2, s}));
  }
}

}  // namespace

const std::vector<BackendCase>& AllBackendCases() {
  static const std::vector<BackendCase> cases = [] {
    std::vector<BackendCase> all;
    AddConvCases(all);
    AddGemmCases(all);
    AddPoolCases(all);
    AddNormCases(all);
    AddEltwiseCases(all);
    AddChainCases(all);
    for (BackendCase& c : all)
      for (char& ch : c.name)
        if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '_') ch = '_';
    return all;
  }();
  return cases;
}

double NormalisedError(const Tensor& got, const Tensor& want) {
  if (got.shape() != want.shape() || got.dtype() != want.dtype()) return std::numeric_limits<double>::infinity();
  double max_diff = 0, max_ref = 0;
  for (int64_t i = 0; i < want.num_elements(); ++i) {
    const double a = got.GetAsDouble(i), b = want.GetAsDouble(i);
    if (std::isnan(a) || std::isnan(b)) {
      if (std::isnan(a) != std::isnan(b)) return std::numeric_limits<double>::infinity();
      continue;
    }
    max_diff = std::max(max_diff, std::abs(a - b));
    max_ref = std::max(max_ref, std::abs(b));
  }
  return max_diff / (max_ref + 1e-6);
}

std::set<std::string> UnsupportedCases(const std::string& backend) {
  // CPU backends run every case (configurations without an optimised kernel fall back to reference kernels).
  // Device backends keep their lists next to them, in <backend>_cases.cpp.
  if (backend == "opencl" || backend.rfind("opencl:", 0) == 0) return OpenClUnsupportedCases();
  if (backend == "cuda" || backend.rfind("cuda:", 0) == 0) return CudaUnsupportedCases();
  if (backend == "remote" || backend.rfind("remote:", 0) == 0) return RemoteUnsupportedCases();
  return {};
}

std::set<std::string> CpuFallbackCases() {
  return {
      // Ops without an optimised kernel.
      "Neg_x2x3x7x5", "Neg_x13", "HardSigmoid_x2x3x7x5", "HardSigmoid_x13",
      "Clip_opset13_runtime_bounds",
      // 1-D MatMul operands (promotion rules) stay on the reference kernel.
      "MatMul_5_by_5x3", "MatMul_5_by_5x3_constB", "MatMul_4x6_by_6", "MatMul_4x6_by_6_constB",
      // Gemm forms the matmul mapping does not take: alpha with a run-time B, beta with a run-time C.
      "Gemm_m5_k8_n6_alpha_C6_rtB", "Gemm_m5_k8_n6_tB_beta_C1x6_rtC",
      // Binary ops whose first operand broadcasts (oneDNN broadcasts only the second; Add/Mul swap).
      "Sub_1x4x1x1_and_2x4x3x3", "Div_1x4x1x1_and_2x4x3x3", "Add_3x1x5_and_2x1x4x1", "Sub_3x1x5_and_2x1x4x1",
      "Mul_3x1x5_and_2x1x4x1", "Div_3x1x5_and_2x1x4x1",
      // Pools: dilation, and count_include_pad with a ceil_mode partial window.
      "MaxPool_x1x2x11x11_k3x3_s1x1_d2x2", "AveragePool_x1x3x15x14_k3x3_s2x2_p1x1x1x1_ceil_incpad",
      // LRN with an even size: oneDNN centres the window differently from ONNX.
      "LRN_x1x9x4x4_size4",
  };
}

}  // namespace deepx::testing
