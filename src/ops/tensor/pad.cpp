// Pad: grows (or, with negative pads, crops) each axis by pads[begin] and pads[end]. Modes: constant (fill value),
// edge (repeat the border element) and reflect (mirror without repeating the border). Before opset 11 'pads' and
// 'value' are attributes; from 11 they are inputs (pads, constant_value), and opset 18 adds an optional 'axes'
// input naming which axes the pads refer to. Pad-1 (opset 1) called the attribute 'paddings' and allowed no
// negative values.
#include <cstring>

#include "ops/tensor/tensor_ops.h"
#include "ops/tensor/tensor_util.h"

namespace deepx::tensor_ops {
namespace {

enum class PadMode { kConstant, kEdge, kReflect };

struct PadParams {
  PadMode mode = PadMode::kConstant;
  std::vector<int64_t> begin;  // per input axis; negative crops
  std::vector<int64_t> end;
};

// `pads` and `axes` are the inputs' values (nullptr when absent); shared by infer (constants) and the kernel.
Result<PadParams> ParsePad(const Attributes& attrs, int opset, int64_t rank, const Tensor* pads_input,
                           const Tensor* axes_input) {
  PadParams p;
  DX_ASSIGN_OR_RETURN(std::string mode, attrs.GetString("mode", "constant"));
  if (mode == "constant") {
    p.mode = PadMode::kConstant;
  } else if (mode == "edge") {
    p.mode = PadMode::kEdge;
  } else if (mode == "reflect") {
    p.mode = PadMode::kReflect;
  } else if (mode == "wrap") {
    return Unimplemented("mode 'wrap' is not supported");
  } else {
    return InvalidArgument("mode must be constant, reflect or edge, got '" + mode + "'");
  }

  std::vector<int64_t> pads;
  std::vector<int64_t> axes;
  if (opset < 2) {
    if (attrs.has("pads")) return InvalidArgument("Pad in opset 1 takes 'paddings', not 'pads'");
    if (!attrs.has("paddings")) return InvalidArgument("attribute 'paddings' is required in opset 1");
    DX_ASSIGN_OR_RETURN(pads, attrs.GetInts("paddings"));
    for (int64_t v : pads) {
      if (v < 0) return InvalidArgument("paddings " + ShapeToString(pads) + " has a negative value (opset 1)");
    }
  } else if (opset < 11) {
    if (attrs.has("paddings")) return InvalidArgument("attribute 'paddings' was renamed 'pads' in opset 2");
    if (!attrs.has("pads")) return InvalidArgument("attribute 'pads' is required before opset 11");
    DX_ASSIGN_OR_RETURN(pads, attrs.GetInts("pads"));
  } else {
    if (attrs.has("pads") || attrs.has("paddings") || attrs.has("value")) {
      return InvalidArgument("'pads' and 'value' are inputs from opset 11, not attributes");
    }
    if (!pads_input) return InvalidArgument("input 'pads' is required from opset 11");
    DX_ASSIGN_OR_RETURN(pads, ReadIntTensor(*pads_input, "pads"));
  }
  if (axes_input) {
    if (opset < 18) return InvalidArgument("input 'axes' exists only from opset 18");
    DX_ASSIGN_OR_RETURN(std::vector<int64_t> raw_axes, ReadIntTensor(*axes_input, "axes"));
    DX_ASSIGN_OR_RETURN(axes, NormalizeAxes(raw_axes, rank, "axes"));
  } else {
    for (int64_t i = 0; i < rank; ++i) axes.push_back(i);
  }
  if (pads.size() != 2 * axes.size()) {
    return InvalidArgument("pads must have " + std::to_string(2 * axes.size()) + " values (begin and end for " +
                           std::to_string(axes.size()) + " axes), got " + std::to_string(pads.size()));
  }
  p.begin.assign(static_cast<size_t>(rank), 0);
  p.end.assign(static_cast<size_t>(rank), 0);
  for (size_t i = 0; i < axes.size(); ++i) {
    p.begin[static_cast<size_t>(axes[i])] = pads[i];
    p.end[static_cast<size_t>(axes[i])] = pads[i + axes.size()];
  }
  return p;
}

Status InferPad(InferContext& ctx) {
  const DataType dtype = ctx.input_dtype(0);
  DX_RETURN_IF_ERROR(CheckKnownDtype(dtype, "data"));
  const Shape& in = ctx.input_shape(0);
  for (size_t i : {size_t{1}, size_t{3}}) {
    if (ctx.has_input(i) && !ctx.input_constant(i)) {
      return Unimplemented(std::string(i == 1 ? "pads" : "axes") + " input '" + ctx.input_name(i) +
                           "' must be a constant (values computed at run time are not supported)");
    }
  }
  if (ctx.has_input(2)) {
    if (ctx.opset() < 11) return InvalidArgument("input 'constant_value' exists only from opset 11");
    if (ctx.input_dtype(2) != dtype) {
      return InvalidArgument(std::string("constant_value has type ") + DataTypeName(ctx.input_dtype(2)) +
                             " but data has type " + DataTypeName(dtype));
    }
    DX_ASSIGN_OR_RETURN(int64_t n, CheckedNumElements(ctx.input_shape(2)));
    if (n != 1) return InvalidArgument("constant_value must hold one value, got shape " +
                                       ShapeToString(ctx.input_shape(2)));
  }
  DX_ASSIGN_OR_RETURN(PadParams p, ParsePad(ctx.attrs(), ctx.opset(), ctx.input_rank(0), ctx.input_constant(1),
                                            ctx.input_constant(3)));
  if (ctx.opset() < 11) DX_RETURN_IF_ERROR(ctx.attrs().GetFloat("value", 0.0f).status());

  Shape out(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    const int64_t limit = int64_t{1} << 40;  // keeps the sum below from overflowing
    if (p.begin[i] < -limit || p.begin[i] > limit || p.end[i] < -limit || p.end[i] > limit) {
      return InvalidArgument("pads value too large on axis " + std::to_string(i));
    }
    out[i] = in[i] + p.begin[i] + p.end[i];
    if (out[i] < 0) {
      return InvalidArgument("pads " + std::to_string(p.begin[i]) + ", " + std::to_string(p.end[i]) +
                             " crop more than the " + std::to_string(in[i]) + " elements of axis " +
                             std::to_string(i));
    }
    if (p.mode != PadMode::kConstant && in[i] == 0 && out[i] > 0) {
      return InvalidArgument("edge and reflect padding need a non-empty axis " + std::to_string(i));
    }
  }
  ctx.SetOutput(0, dtype, out);
  return Status::Ok();
}

// Maps an out-of-range index of an axis of size n (n >= 1) back inside it.
int64_t SourceIndex(int64_t i, int64_t n, PadMode mode) {
  if (mode == PadMode::kEdge || n == 1) return i < 0 ? 0 : n - 1;
  // Reflect: the pattern 0 1 .. n-1 n-2 .. 1 repeats with period 2(n-1).
  const int64_t period = 2 * (n - 1);
  int64_t r = i % period;
  if (r < 0) r += period;
  return r < n ? r : period - r;
}

Status PadKernel(KernelContext& ctx) {
  const Tensor& in = ctx.input(0);
  Tensor& out = ctx.output(0);
  const Tensor* pads = ctx.has_input(1) ? &ctx.input(1) : nullptr;
  const Tensor* axes = ctx.has_input(3) ? &ctx.input(3) : nullptr;
  DX_ASSIGN_OR_RETURN(PadParams p, ParsePad(ctx.attrs(), ctx.opset(), in.rank(), pads, axes));

  const size_t es = DataTypeSize(in.dtype());
  std::vector<uint8_t> fill(es, 0);
  if (ctx.opset() < 11) {
    StoreAsDtype(ctx.attrs().Float("value", 0.0f), in.dtype(), fill.data());
  } else if (ctx.has_input(2)) {
    std::memcpy(fill.data(), ctx.input(2).raw_data(), es);
  }

  const std::vector<int64_t> in_strides = RowMajorStrides(in.shape());
  const auto* src = static_cast<const uint8_t*>(in.raw_data());
  auto* dst = static_cast<uint8_t*>(out.raw_data());
  std::vector<int64_t> index(out.shape().size(), 0);
  const int64_t n = out.num_elements();
  for (int64_t o = 0; o < n; ++o) {
    int64_t offset = 0;
    bool use_fill = false;
    for (size_t d = 0; d < index.size(); ++d) {
      int64_t i = index[d] - p.begin[d];
      if (i < 0 || i >= in.dim(static_cast<int64_t>(d))) {
        if (p.mode == PadMode::kConstant) {
          use_fill = true;
          break;
        }
        i = SourceIndex(i, in.dim(static_cast<int64_t>(d)), p.mode);
      }
      offset += i * in_strides[d];
    }
    std::memcpy(dst + o * es, use_fill ? fill.data() : src + offset * es, es);
    NextIndex(index, out.shape());
  }
  return Status::Ok();
}

}  // namespace

OpSchema PadSchema() {
  return {.name = "Pad", .min_inputs = 1, .max_inputs = 4, .attributes = {"mode", "paddings", "pads", "value"},
          .infer = InferPad, .reference = PadKernel, .cost = DataMovementCost};
}

}  // namespace deepx::tensor_ops
