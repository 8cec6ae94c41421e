#include "backends/cuda/cuda_support.h"

#include <string>

#include "ops/fused_activation.h"

namespace deepx::cuda {
namespace {

bool IsOneOf(const std::string& op, std::initializer_list<const char*> names) {
  for (const char* n : names)
    if (op == n) return true;
  return false;
}

Status No(const Graph& g, const Node& n, const std::string& why) {
  return Unimplemented(g.NodeLabel(n) + ": not on the CUDA backend: " + why);
}

bool IsFloat(const Graph& g, ValueId v) { return g.value(v).dtype == DataType::kFloat32; }

}  // namespace

bool IsViewOp(const Node& n) {
  return n.domain.empty() && IsOneOf(n.op_type, {"Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity", "Dropout"});
}

Status SupportsNode(const Graph& g, const Node& n) {
  if (!n.domain.empty()) return No(g, n, "domain '" + n.domain + "'");
  const std::string& op = n.op_type;
  if (n.inputs.empty() || n.inputs[0] == kNoValue || n.outputs.empty() || n.outputs[0] == kNoValue)
    return No(g, n, "expects a first input and a first output");
  // Extra outputs (MaxPool Indices, Dropout mask, BatchNormalization training statistics) are not produced.
  for (size_t o = 1; o < n.outputs.size(); ++o)
    if (n.outputs[o] != kNoValue) return No(g, n, "optional output " + std::to_string(o) + " is not produced");
  const Value& x = g.value(n.inputs[0]);
  const Value& y = g.value(n.outputs[0]);
  if (IsViewOp(n)) {
    if (DataTypeSize(x.dtype) == 0 || x.dtype != y.dtype) return No(g, n, "element type");
    return Status::Ok();
  }
  if (op == "Concat") {
    for (ValueId v : n.inputs)
      if (v == kNoValue || g.value(v).dtype != y.dtype) return No(g, n, "mixed element types");
    return Status::Ok();
  }
  // Everything else computes in float32.
  for (ValueId v : n.inputs)
    if (v != kNoValue && !IsFloat(g, v)) return No(g, n, "input '" + g.value(v).name + "' is not float32");
  if (!IsFloat(g, n.outputs[0])) return No(g, n, "output is not float32");
  const FusedActivation act = GetFusedActivation(n.attrs);
  if (!act.none() && !IsFusableActivation(act.kind)) return No(g, n, "fused activation " + act.kind);
  if (op == "Conv") {
    if (x.shape.size() < 3 || x.shape.size() > 5) return No(g, n, "Conv of rank " + std::to_string(x.shape.size()));
    return Status::Ok();
  }
  if (op == "Gemm" || op == "MatMul" || op == "Softmax" || op == "LogSoftmax" || op == "LRN" ||
      op == "GlobalAveragePool" || op == "GlobalMaxPool")
    return Status::Ok();
  if (op == "MaxPool" || op == "AveragePool") {
    if (x.shape.size() < 3 || x.shape.size() > 5) return No(g, n, "pool of rank " + std::to_string(x.shape.size()));
    return Status::Ok();
  }
  if (IsOneOf(op, {"Add", "Sub", "Mul", "Div"})) {
    if (n.attrs.has("axis") || n.attrs.has("broadcast")) return No(g, n, "opset < 7 axis broadcasting");
    if (y.shape.size() > 6) return No(g, n, "rank above 6");
    return Status::Ok();
  }
  if (IsOneOf(op, {"Relu", "LeakyRelu", "Sigmoid", "Tanh", "Exp", "Abs", "Sqrt", "Elu", "HardSwish", "HardSigmoid",
                   "Neg", "Clip"}))
    return Status::Ok();
  if (op == "BatchNormalization") {
    if (x.shape.size() < 2) return No(g, n, "input of rank < 2");
    for (size_t i = 1; i < 5; ++i) {
      if (i >= n.inputs.size() || n.inputs[i] == kNoValue) return No(g, n, "missing statistics");
      const Value& s = g.value(n.inputs[i]);
      if (!s.is_constant() || s.shape != Shape{x.shape[1]})
        return No(g, n, "statistics must be constant per-channel vectors");
    }
    return Status::Ok();
  }
  if (op == "Transpose") {
    if (x.shape.size() > 6) return No(g, n, "rank above 6");
    return Status::Ok();
  }
  return No(g, n, "no CUDA kernel for " + op);
}

}  // namespace deepx::cuda
