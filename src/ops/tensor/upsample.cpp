// Upsample (opsets 7..9, replaced by Resize in 10): nearest or linear resizing of a 4-D NCHW tensor by `scales`
// (an attribute before opset 9, a constant input from 9), with asymmetric coordinates. The experimental Upsample-1
// (opsets 1..6) gave the two spatial scales as `height_scale` and `width_scale`, which mean scales [1, 1, h, w].
#include "ops/tensor/resize_common.h"
#include "ops/tensor/tensor_ops.h"
#include "ops/tensor/tensor_util.h"

namespace deepx::tensor_ops {
namespace {

constexpr int kScalesAttributeOpset = 7;

// Before opset 9 the scales come from the attribute; `input` is the scales input's value otherwise.
Result<Tensor> UpsampleScales(const Attributes& attrs, int opset, const Tensor* input) {
  const bool has_hw = attrs.has("height_scale") || attrs.has("width_scale");
  if (opset < kScalesAttributeOpset) {
    if (input || attrs.has("scales")) {
      return InvalidArgument("Upsample before opset 7 takes 'height_scale' and 'width_scale', not 'scales'");
    }
    if (!attrs.has("height_scale") || !attrs.has("width_scale")) {
      return InvalidArgument("attributes 'height_scale' and 'width_scale' are required before opset 7");
    }
    DX_ASSIGN_OR_RETURN(float h, attrs.GetFloat("height_scale", 1.0f));
    DX_ASSIGN_OR_RETURN(float w, attrs.GetFloat("width_scale", 1.0f));
    return Tensor::FromFloats({4}, {1.0f, 1.0f, h, w});
  }
  if (has_hw) return InvalidArgument("'height_scale' and 'width_scale' exist only before opset 7; use 'scales'");
  if (opset < 9) {
    if (input) return InvalidArgument("'scales' is an attribute before opset 9, not an input");
    if (!attrs.has("scales")) return InvalidArgument("attribute 'scales' is required");
    DX_ASSIGN_OR_RETURN(std::vector<float> s, attrs.GetFloats("scales"));
    return Tensor::FromFloats({static_cast<int64_t>(s.size())}, s);
  }
  if (attrs.has("scales")) return InvalidArgument("'scales' is an input from opset 9, not an attribute");
  if (!input) return InvalidArgument("input 'scales' is required from opset 9");
  return *input;
}

Status InferUpsample(InferContext& ctx) {
  const DataType dtype = ctx.input_dtype(0);
  DX_RETURN_IF_ERROR(CheckKnownDtype(dtype, "X"));
  if (ctx.opset() < kScalesAttributeOpset && ctx.input_rank(0) != 4) {
    return InvalidArgument("Upsample before opset 7 needs a 4-D NCHW input, got " + ShapeToString(ctx.input_shape(0)));
  }
  if (ctx.has_input(1) && !ctx.input_constant(1)) {
    return Unimplemented("scales input '" + ctx.input_name(1) +
                         "' must be a constant (values computed at run time are not supported)");
  }
  DX_ASSIGN_OR_RETURN(Tensor scales, UpsampleScales(ctx.attrs(), ctx.opset(), ctx.input_constant(1)));
  DX_ASSIGN_OR_RETURN(ResizeParams p, ParseResize(ctx.attrs(), true, ctx.input_shape(0), &scales, nullptr));
  if (p.linear && dtype != DataType::kFloat32) {
    return Unimplemented(std::string("linear mode supports float32 only, got ") + DataTypeName(dtype));
  }
  ctx.SetOutput(0, dtype, p.out);
  return Status::Ok();
}

Status UpsampleKernel(KernelContext& ctx) {
  DX_ASSIGN_OR_RETURN(Tensor scales, UpsampleScales(ctx.attrs(), ctx.opset(),
                                                    ctx.has_input(1) ? &ctx.input(1) : nullptr));
  DX_ASSIGN_OR_RETURN(ResizeParams p, ParseResize(ctx.attrs(), true, ctx.input(0).shape(), &scales, nullptr));
  ResizeReference(p, ctx.input(0), ctx.output(0));
  return Status::Ok();
}

}  // namespace

OpSchema UpsampleSchema() {
  return {.name = "Upsample",
          .min_inputs = 1,
          .max_inputs = 2,
          .attributes = {"height_scale", "mode", "scales", "width_scale"},
          .infer = InferUpsample,
          .reference = UpsampleKernel,
          .cost = DataMovementCost};
}

}  // namespace deepx::tensor_ops
