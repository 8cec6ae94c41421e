// Slice: takes elements start, start+step, ... (stopping before end) on chosen axes. starts/ends/axes are
// attributes before opset 10; from 10 they are inputs (plus optional steps), which must be constants. Out-of-range
// starts and ends are clamped as the spec says; negative values count from the back; negative steps walk
// backwards.
#include <algorithm>
#include <cstring>
#include <limits>

#include "ops/tensor/tensor_ops.h"
#include "ops/tensor/tensor_util.h"

namespace deepx::tensor_ops {
namespace {

// Per input axis: first element, step and element count of the slice.
struct SliceParams {
  std::vector<int64_t> start;
  std::vector<int64_t> step;
  Shape out;
};

// `inputs[i]` is the value of node input i (starts=1, ends=2, axes=3, steps=4) or nullptr; shared by infer and
// the kernel.
Result<SliceParams> ParseSlice(const Attributes& attrs, int opset, const Shape& shape,
                               const std::vector<const Tensor*>& inputs) {
  std::vector<int64_t> starts, ends, axes, steps;
  bool has_axes = false, has_steps = false;
  auto input = [&](size_t i) { return i < inputs.size() ? inputs[i] : nullptr; };
  if (opset < 10) {
    if (!attrs.has("starts") || !attrs.has("ends")) {
      return InvalidArgument("attributes 'starts' and 'ends' are required before opset 10");
    }
    DX_ASSIGN_OR_RETURN(starts, attrs.GetInts("starts"));
    DX_ASSIGN_OR_RETURN(ends, attrs.GetInts("ends"));
    has_axes = attrs.has("axes");
    DX_ASSIGN_OR_RETURN(axes, attrs.GetInts("axes"));
  } else {
    if (attrs.has("starts") || attrs.has("ends") || attrs.has("axes")) {
      return InvalidArgument("starts, ends and axes are inputs from opset 10, not attributes");
    }
    if (!input(1) || !input(2)) return InvalidArgument("inputs 'starts' and 'ends' are required from opset 10");
    DX_ASSIGN_OR_RETURN(starts, ReadIntTensor(*input(1), "starts"));
    DX_ASSIGN_OR_RETURN(ends, ReadIntTensor(*input(2), "ends"));
    if (input(3)) {
      has_axes = true;
      DX_ASSIGN_OR_RETURN(axes, ReadIntTensor(*input(3), "axes"));
    }
    if (input(4)) {
      has_steps = true;
      DX_ASSIGN_OR_RETURN(steps, ReadIntTensor(*input(4), "steps"));
    }
  }
  if (starts.size() != ends.size()) {
    return InvalidArgument("starts has " + std::to_string(starts.size()) + " values but ends has " +
                           std::to_string(ends.size()));
  }
  if (!has_axes) {
    for (size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<int64_t>(i));
  }
  if (!has_steps) steps.assign(starts.size(), 1);
  if (axes.size() != starts.size() || steps.size() != starts.size()) {
    return InvalidArgument("starts, ends, axes and steps must have the same length, got " +
                           std::to_string(starts.size()) + ", " + std::to_string(ends.size()) + ", " +
                           std::to_string(axes.size()) + ", " + std::to_string(steps.size()));
  }
  const int64_t rank = static_cast<int64_t>(shape.size());
  DX_ASSIGN_OR_RETURN(std::vector<int64_t> norm_axes, NormalizeAxes(axes, rank, "axes"));

  SliceParams p;
  p.start.assign(shape.size(), 0);
  p.step.assign(shape.size(), 1);
  p.out = shape;
  for (size_t i = 0; i < norm_axes.size(); ++i) {
    const size_t a = static_cast<size_t>(norm_axes[i]);
    const int64_t dim = shape[a];
    // A step this large selects at most one element; capping it keeps -step below representable.
    const int64_t step = std::max(steps[i], -std::numeric_limits<int64_t>::max());
    if (step == 0) return InvalidArgument("steps[" + std::to_string(i) + "] is 0");
    int64_t start = starts[i] < 0 ? starts[i] + dim : starts[i];
    int64_t end = ends[i] < 0 ? ends[i] + dim : ends[i];
    int64_t count = 0;
    if (step > 0) {
      start = std::clamp<int64_t>(start, 0, dim);
      end = std::clamp<int64_t>(end, 0, dim);
      if (end > start) count = (end - start - 1) / step + 1;
    } else if (dim > 0) {  // an empty axis stays empty (and would make the clamp bounds cross)
      start = std::clamp<int64_t>(start, 0, dim - 1);
      end = std::clamp<int64_t>(end, -1, dim - 1);
      if (start > end) count = (start - end - 1) / -step + 1;
    }
    p.start[a] = count > 0 ? start : 0;
    p.step[a] = step;
    p.out[a] = count;
  }
  return p;
}

Status InferSlice(InferContext& ctx) {
  DX_RETURN_IF_ERROR(CheckKnownDtype(ctx.input_dtype(0), "data"));
  std::vector<const Tensor*> inputs(ctx.num_inputs(), nullptr);
  static const char* kNames[] = {"data", "starts", "ends", "axes", "steps"};
  for (size_t i = 1; i < ctx.num_inputs(); ++i) {
    if (!ctx.has_input(i)) continue;
    if (ctx.opset() < 10) return InvalidArgument("Slice takes one input before opset 10");
    inputs[i] = ctx.input_constant(i);
    if (!inputs[i]) {
      return Unimplemented(std::string(kNames[i]) + " input '" + ctx.input_name(i) +
                           "' must be a constant (values computed at run time are not supported)");
    }
  }
  DX_ASSIGN_OR_RETURN(SliceParams p, ParseSlice(ctx.attrs(), ctx.opset(), ctx.input_shape(0), inputs));
  ctx.SetOutput(0, ctx.input_dtype(0), p.out);
  return Status::Ok();
}

Status SliceKernel(KernelContext& ctx) {
  const Tensor& in = ctx.input(0);
  DX_ASSIGN_OR_RETURN(SliceParams p, ParseSlice(ctx.attrs(), ctx.opset(), in.shape(), ctx.inputs));
  const std::vector<int64_t> strides = RowMajorStrides(in.shape());
  const size_t es = DataTypeSize(in.dtype());
  const auto* src = static_cast<const uint8_t*>(in.raw_data());
  auto* dst = static_cast<uint8_t*>(ctx.output(0).raw_data());

  std::vector<int64_t> index(p.out.size(), 0);
  const int64_t n = NumElements(p.out);
  for (int64_t o = 0; o < n; ++o) {
    int64_t offset = 0;
    for (size_t d = 0; d < index.size(); ++d) offset += (p.start[d] + index[d] * p.step[d]) * strides[d];
    std::memcpy(dst + o * es, src + offset * es, es);
    NextIndex(index, p.out);
  }
  return Status::Ok();
}

}  // namespace

OpSchema SliceSchema() {
  return {.name = "Slice", .min_inputs = 1, .max_inputs = 5, .attributes = {"starts", "ends", "axes"},
          .infer = InferSlice, .reference = SliceKernel, .cost = DataMovementCost};
}

}  // namespace deepx::tensor_ops
