// Clip: min/max attributes before opset 11, optional scalar inputs from 11 (which also added integer types).
#include <algorithm>
#include <limits>
#include <string>

#include "ops/elementwise/elementwise_util.h"
#include "ops/legacy.h"
#include "ops/op.h"

namespace deepx::elementwise {
namespace {

constexpr int kClipInputsOpset = 11;

Status ClipInfer(InferContext& ctx) {
  const DataType t = ctx.input_dtype(0);
  DX_RETURN_IF_ERROR(CheckConsumedInputs(ctx));
  if (ctx.opset() < kClipInputsOpset) {
    if (ctx.has_input(1) || ctx.has_input(2))
      return InvalidArgument("Clip before opset 11 takes min/max as attributes, not inputs");
    DX_RETURN_IF_ERROR(CheckDtype("Clip", "input '" + ctx.input_name(0) + "'", t, kFloatTypes));
    DX_ASSIGN_OR_RETURN(float lo, ctx.attrs().GetFloat("min", std::numeric_limits<float>::lowest()));
    DX_ASSIGN_OR_RETURN(float hi, ctx.attrs().GetFloat("max", std::numeric_limits<float>::max()));
    (void)lo;
    (void)hi;
  } else {
    if (ctx.attrs().has("min") || ctx.attrs().has("max"))
      return InvalidArgument("Clip from opset 11 takes min/max as inputs, not attributes");
    DX_RETURN_IF_ERROR(CheckDtype("Clip", "input '" + ctx.input_name(0) + "'", t, kNumericTypes));
    for (size_t i = 1; i <= 2; ++i) {
      if (!ctx.has_input(i)) continue;
      const char* what = i == 1 ? "min" : "max";
      if (ctx.input_dtype(i) != t)
        return InvalidArgument(std::string(what) + " must have the input's dtype " + DataTypeName(t) + ", got " +
                               DataTypeName(ctx.input_dtype(i)));
      // The spec asks for a scalar; a one-element tensor of any rank means the same and exporters emit [1].
      if (NumElements(ctx.input_shape(i)) != 1)
        return InvalidArgument(std::string(what) + " must be a scalar, got shape " +
                               ShapeToString(ctx.input_shape(i)));
    }
  }
  ctx.SetOutput(0, t, ctx.input_shape(0));
  return Status::Ok();
}

Status ClipKernel(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  Tensor& y = ctx.output(0);
  const bool legacy = ctx.opset() < kClipInputsOpset;
  VisitNumeric(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    T lo = std::numeric_limits<T>::lowest();
    T hi = std::numeric_limits<T>::max();
    if (legacy) {
      lo = static_cast<T>(ctx.attrs().Float("min", std::numeric_limits<float>::lowest()));
      hi = static_cast<T>(ctx.attrs().Float("max", std::numeric_limits<float>::max()));
    } else {
      if (ctx.has_input(1)) lo = ctx.input(1).data<T>()[0];
      if (ctx.has_input(2)) hi = ctx.input(2).data<T>()[0];
    }
    const T* px = x.data<T>();
    T* py = y.data<T>();
    // max-then-min: NaN stays NaN, and min > max yields max everywhere, as the spec requires.
    for (int64_t i = 0; i < x.num_elements(); ++i) py[i] = std::min(std::max(px[i], lo), hi);
  });
  return Status::Ok();
}

OpCost ClipCost(const CostContext& ctx) { return ElementwiseCost(ctx, 2.0); }

}  // namespace

void RegisterClipOp(OpRegistry& r) {
  r.Register(OpSchema{"Clip", 1, 3, 1, 1, {"consumed_inputs", "min", "max"}, ClipInfer, ClipKernel, ClipCost});
}

}  // namespace deepx::elementwise
