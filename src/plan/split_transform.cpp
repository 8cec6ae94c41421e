#include "plan/split_transform.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace deepx {
namespace {

// t[..., begin:end, ...] along `axis` (a host copy).
Tensor SliceAxis(const Tensor& t, size_t axis, int64_t begin, int64_t end) {
  Shape shape = t.shape();
  int64_t outer = 1, inner = 1;
  for (size_t i = 0; i < axis; ++i) outer *= shape[i];
  for (size_t i = axis + 1; i < shape.size(); ++i) inner *= shape[i];
  const int64_t dim = shape[axis];
  shape[axis] = end - begin;
  Tensor out = Tensor::Zeros(t.dtype(), shape);
  const size_t es = DataTypeSize(t.dtype());
  const auto* src = static_cast<const char*>(t.raw_data());
  auto* dst = static_cast<char*>(out.raw_data());
  const size_t row = static_cast<size_t>((end - begin) * inner) * es;
  for (int64_t o = 0; o < outer; ++o)
    std::memcpy(dst + static_cast<size_t>(o) * row, src + static_cast<size_t>((o * dim + begin) * inner) * es, row);
  return out;
}

ValueId AddConstant(Graph& g, const std::string& name, Tensor t) {
  Value v;
  v.name = name;
  v.dtype = t.dtype();
  v.shape = t.shape();
  v.has_shape = true;
  v.constant = std::move(t);
  return g.AddValue(std::move(v));
}

std::string UniqueName(const Graph& g, const std::string& base) {
  std::string name = base;
  for (int i = 1; g.FindValue(name) != kNoValue; ++i) name = base + "_" + std::to_string(i);
  return name;
}

}  // namespace

Result<SplitNodes> SplitOutputChannels(Graph& g, NodeId node, double fraction) {
  if (node < 0 || static_cast<size_t>(node) >= g.nodes.size()) return InvalidArgument("split: no node " + std::to_string(node));
  if (!(fraction > 0 && fraction < 1)) return InvalidArgument("split: fraction must be in (0, 1)");
  const Node original = g.node(node);
  const std::string label = g.NodeLabel(original);
  const bool conv = original.op_type == "Conv", gemm = original.op_type == "Gemm",
             matmul = original.op_type == "MatMul";
  if (!conv && !gemm && !matmul) return Unimplemented("split: " + label + " is not a Conv, Gemm or MatMul");
  if (original.inputs.size() < 2 || original.inputs[1] == kNoValue || !g.value(original.inputs[1]).is_constant())
    return Unimplemented("split: " + label + " has no constant weights");
  if (original.outputs.size() != 1 || original.outputs[0] == kNoValue)
    return Unimplemented("split: " + label + " must have one output");
  const Value& w = g.value(original.inputs[1]);
  const Value& y = g.value(original.outputs[0]);
  if (w.dtype != DataType::kFloat32 || !y.has_shape) return Unimplemented("split: " + label + " needs float weights");
  if (conv && original.attrs.Int("group", 1) != 1) return Unimplemented("split: " + label + " is a grouped conv");
  if (!conv && w.shape.size() != 2) return Unimplemented("split: " + label + " needs 2-D weights");
  const bool trans_b = gemm && original.attrs.Int("transB", 0) != 0;
  // Axis of the weights holding output channels, and of the output.
  const size_t w_axis = conv || trans_b ? 0 : 1;
  const size_t y_axis = conv ? 1 : y.shape.size() - 1;
  const int64_t channels = w.shape[w_axis];
  if (channels < 2 || y.shape[y_axis] != channels)
    return Unimplemented("split: " + label + " has fewer than two output channels");
  const int64_t c = std::clamp<int64_t>(std::llround(fraction * static_cast<double>(channels)), 1, channels - 1);

  // Per-part constants: weights, and the bias when it runs along the output channels.
  auto part_inputs = [&](int64_t begin, int64_t end, const std::string& suffix) -> Result<std::vector<ValueId>> {
    std::vector<ValueId> inputs = original.inputs;
    const Value& wv = g.value(original.inputs[1]);
    inputs[1] = AddConstant(g, UniqueName(g, wv.name + suffix), SliceAxis(wv.constant, w_axis, begin, end));
    if (original.inputs.size() > 2 && original.inputs[2] != kNoValue) {
      const Value& b = g.value(original.inputs[2]);
      if (!b.is_constant()) return Unimplemented("split: " + label + " has a non-constant bias");
      if (!b.shape.empty() && b.shape.back() == channels && b.dtype == DataType::kFloat32) {
        const Tensor sliced = SliceAxis(b.constant, b.shape.size() - 1, begin, end);
        inputs[2] = AddConstant(g, UniqueName(g, b.name + suffix), sliced);
      } else if (!b.shape.empty() && b.shape.back() != 1) {
        return Unimplemented("split: " + label + " has a bias that does not run along the output channels");
      }
    }
    return inputs;
  };
  DX_ASSIGN_OR_RETURN(std::vector<ValueId> in_a, part_inputs(0, c, "/split0"));
  DX_ASSIGN_OR_RETURN(std::vector<ValueId> in_b, part_inputs(c, channels, "/split1"));
  const Value out = g.value(original.outputs[0]);
  auto part_output = [&](int64_t n, const std::string& suffix) {
    Value v;
    v.name = UniqueName(g, out.name + suffix);
    v.dtype = out.dtype;
    v.shape = out.shape;
    v.shape[y_axis] = n;
    v.has_shape = true;
    return g.AddValue(std::move(v));
  };
  const ValueId y_a = part_output(c, "/split0");
  const ValueId y_b = part_output(channels - c, "/split1");

  Node a = original, b = original, cat;
  a.name = original.name + "/split0";
  a.inputs = in_a;
  a.outputs = {y_a};
  b.name = original.name + "/split1";
  b.inputs = in_b;
  b.outputs = {y_b};
  cat.name = original.name + "/concat";
  cat.op_type = "Concat";
  cat.opset = g.opset > 0 ? g.opset : 13;
  cat.inputs = {y_a, y_b};
  cat.outputs = {original.outputs[0]};
  cat.attrs.set("axis", static_cast<int64_t>(y_axis));
  const size_t at = static_cast<size_t>(node);
  g.nodes[at] = std::move(a);
  g.nodes.insert(g.nodes.begin() + static_cast<std::ptrdiff_t>(at) + 1, std::move(b));
  g.nodes.insert(g.nodes.begin() + static_cast<std::ptrdiff_t>(at) + 2, std::move(cat));
  return SplitNodes{.first = node, .second = node + 1, .concat = node + 2, .channels_first = c, .channels = channels};
}

}  // namespace deepx
