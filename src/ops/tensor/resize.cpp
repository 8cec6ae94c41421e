// Resize: nearest or linear resizing of a 4-D NCHW tensor's H and W, to `scales` or `sizes`. Opset 10 takes
// (X, scales) with asymmetric coordinates; from 11 the inputs are (X, roi, scales, sizes) and the coordinate
// transform and nearest rounding are attributes. Cubic mode, tf_* coordinate modes, antialias and axes are not
// supported.
#include "ops/tensor/resize_common.h"
#include "ops/tensor/tensor_ops.h"
#include "ops/tensor/tensor_util.h"

namespace deepx::tensor_ops {
namespace {

size_t ScalesIndex(int opset) { return opset < 11 ? 1 : 2; }

// A given but empty scales/sizes input (the ONNX way of skipping a position) counts as absent.
const Tensor* NonEmpty(const Tensor* t) { return t && t->num_elements() > 0 ? t : nullptr; }

Status InferResize(InferContext& ctx) {
  const DataType dtype = ctx.input_dtype(0);
  DX_RETURN_IF_ERROR(CheckKnownDtype(dtype, "X"));
  if (ctx.opset() < 11 && ctx.num_inputs() != 2) {
    return InvalidArgument("Resize takes inputs (X, scales) before opset 11");
  }
  const Tensor* found[4] = {nullptr, nullptr, nullptr, nullptr};
  for (size_t i : {ScalesIndex(ctx.opset()), size_t{3}}) {
    if (!ctx.has_input(i) || NumElements(ctx.input_shape(i)) == 0) continue;
    found[i] = ctx.input_constant(i);
    if (!found[i]) {
      return Unimplemented(std::string(i == 3 ? "sizes" : "scales") + " input '" + ctx.input_name(i) +
                           "' must be a constant (values computed at run time are not supported)");
    }
  }
  DX_ASSIGN_OR_RETURN(ResizeParams p, ParseResize(ctx.attrs(), ctx.opset() < 11, ctx.input_shape(0),
                                                  found[ScalesIndex(ctx.opset())], found[3]));
  if (p.linear && dtype != DataType::kFloat32) {
    return Unimplemented(std::string("linear mode supports float32 only, got ") + DataTypeName(dtype));
  }
  ctx.SetOutput(0, dtype, p.out);
  return Status::Ok();
}

Status ResizeKernel(KernelContext& ctx) {
  const size_t si = ScalesIndex(ctx.opset());
  const Tensor* scales = ctx.has_input(si) ? NonEmpty(&ctx.input(si)) : nullptr;
  const Tensor* sizes = ctx.opset() >= 11 && ctx.has_input(3) ? NonEmpty(&ctx.input(3)) : nullptr;
  DX_ASSIGN_OR_RETURN(ResizeParams p, ParseResize(ctx.attrs(), ctx.opset() < 11, ctx.input(0).shape(), scales,
                                                  sizes));
  ResizeReference(p, ctx.input(0), ctx.output(0));
  return Status::Ok();
}

}  // namespace

OpSchema ResizeSchema() {
  return {.name = "Resize", .min_inputs = 1, .max_inputs = 4,
          .attributes = {"mode", "coordinate_transformation_mode", "nearest_mode", "cubic_coeff_a", "exclude_outside",
                         "extrapolation_value", "antialias", "axes", "keep_aspect_ratio_policy"},
          .infer = InferResize, .reference = ResizeKernel, .cost = DataMovementCost};
}

}  // namespace deepx::tensor_ops
