// Squeeze: removes size-1 dimensions, the listed `axes` (attribute before opset 13, optional constant input from
// 13) or every size-1 dimension when no axes are given.
#include <cstring>

#include "ops/tensor/tensor_ops.h"
#include "ops/tensor/tensor_util.h"

namespace deepx::tensor_ops {
namespace {

Status InferSqueeze(InferContext& ctx) {
  DX_RETURN_IF_ERROR(CheckKnownDtype(ctx.input_dtype(0), "data"));
  const Shape& in = ctx.input_shape(0);
  std::vector<int64_t> axes;
  bool has_axes = false;
  if (ctx.opset() < 13) {
    has_axes = ctx.attrs().has("axes");
    DX_ASSIGN_OR_RETURN(axes, ctx.attrs().GetInts("axes"));
    if (ctx.has_input(1)) return InvalidArgument("'axes' is an attribute before opset 13, not an input");
  } else {
    if (ctx.attrs().has("axes")) return InvalidArgument("'axes' is an input from opset 13, not an attribute");
    if (ctx.has_input(1)) {
      has_axes = true;
      DX_ASSIGN_OR_RETURN(axes, ConstantIntInput(ctx, 1, "axes"));
    }
  }
  std::vector<bool> drop(in.size(), false);
  if (has_axes) {
    DX_ASSIGN_OR_RETURN(std::vector<int64_t> normalized, NormalizeAxes(axes, ctx.input_rank(0), "axes"));
    for (int64_t a : normalized) {
      if (in[static_cast<size_t>(a)] != 1) {
        return InvalidArgument("cannot squeeze axis " + std::to_string(a) + " of shape " + ShapeToString(in) +
                               ": its size is not 1");
      }
      drop[static_cast<size_t>(a)] = true;
    }
  } else {
    for (size_t i = 0; i < in.size(); ++i) drop[i] = in[i] == 1;
  }
  Shape out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (!drop[i]) out.push_back(in[i]);
  }
  ctx.SetOutput(0, ctx.input_dtype(0), out);
  return Status::Ok();
}

Status SqueezeKernel(KernelContext& ctx) {
  const Tensor& in = ctx.input(0);
  if (in.size_bytes()) std::memcpy(ctx.output(0).raw_data(), in.raw_data(), in.size_bytes());
  return Status::Ok();
}

}  // namespace

OpSchema SqueezeSchema() {
  return {.name = "Squeeze", .min_inputs = 1, .max_inputs = 2, .attributes = {"axes"}, .infer = InferSqueeze,
          .reference = SqueezeKernel, .cost = DataMovementCost};
}

}  // namespace deepx::tensor_ops
