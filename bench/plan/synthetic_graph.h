// A synthetic ResNet-like graph of about `target_nodes` nodes for planner benchmarks: a stem conv, residual blocks
// (conv, relu, conv, add, relu) with an Inception-like two-branch block (two convs + concat + 1x1 conv) every
// fourth block, then global pooling and a classifier. Weights are zero tensors (the planner reads only shapes).
#pragma once

#include <string>

#include "core/graph.h"

namespace deepx::bench {

inline Graph SyntheticResNet(int target_nodes, int channels = 32, int size = 28) {
  Graph g;
  g.name = "synthetic_resnet";
  g.opset = 13;
  int counter = 0;
  auto value = [&](const std::string& name, Shape shape, bool constant = false) {
    Value v;
    v.name = name + "_" + std::to_string(counter++);
    v.dtype = DataType::kFloat32;
    v.shape = shape;
    v.has_shape = true;
    if (constant) v.constant = Tensor::Zeros(DataType::kFloat32, shape);
    return g.AddValue(std::move(v));
  };
  auto node = [&](const std::string& op, std::vector<ValueId> in, ValueId out) {
    Node n;
    n.name = op + "_" + std::to_string(g.nodes.size());
    n.op_type = op;
    n.opset = 13;
    n.inputs = std::move(in);
    n.outputs = {out};
    if (op == "Conv") {
      const int64_t k = g.value(n.inputs[1]).shape[2];
      n.attrs.set("kernel_shape", std::vector<int64_t>{k, k});
      n.attrs.set("pads", std::vector<int64_t>{k / 2, k / 2, k / 2, k / 2});
    }
    if (op == "Concat") n.attrs.set("axis", int64_t{1});
    g.nodes.push_back(std::move(n));
    return out;
  };
  const Shape act{1, channels, size, size};
  auto conv = [&](ValueId x, int64_t cin, int64_t cout, int64_t k) {
    const ValueId w = value("w", {cout, cin, k, k}, true);
    const ValueId b = value("b", {cout}, true);
    return node("Conv", {x, w, b}, value("conv", {1, cout, size, size}));
  };
  const ValueId input = value("input", {1, 3, size, size});
  g.inputs.push_back(input);
  ValueId x = conv(input, 3, channels, 3);
  for (int block = 0; static_cast<int>(g.nodes.size()) + 8 < target_nodes; ++block) {
    if (block % 4 == 3) {
      const ValueId a = conv(x, channels, channels / 2, 1);
      const ValueId b = conv(x, channels, channels / 2, 3);
      const ValueId cat = node("Concat", {a, b}, value("cat", act));
      x = conv(cat, channels, channels, 1);
      continue;
    }
    const ValueId c1 = conv(x, channels, channels, 3);
    const ValueId r1 = node("Relu", {c1}, value("relu", act));
    const ValueId c2 = conv(r1, channels, channels, 3);
    const ValueId sum = node("Add", {x, c2}, value("add", act));
    x = node("Relu", {sum}, value("relu", act));
  }
  const ValueId pooled = node("GlobalAveragePool", {x}, value("pool", {1, channels, 1, 1}));
  const ValueId flat = node("Flatten", {pooled}, value("flat", {1, channels}));
  const ValueId w = value("fc_w", {10, channels}, true);
  const ValueId b = value("fc_b", {10}, true);
  Node gemm;
  gemm.name = "classifier";
  gemm.op_type = "Gemm";
  gemm.opset = 13;
  gemm.inputs = {flat, w, b};
  gemm.outputs = {value("logits", {1, 10})};
  gemm.attrs.set("transB", int64_t{1});
  g.nodes.push_back(std::move(gemm));
  g.outputs.push_back(g.nodes.back().outputs[0]);
  return g;
}

}  // namespace deepx::bench
