// Shape: the input's shape as a 1-D int64 tensor, optionally the slice [start, end) of it (opset 15). Shapes are
// concrete after specialisation, so the output is a constant and folds away whatever reads it.
#include <algorithm>
#include <cstring>

#include "ops/tensor/tensor_ops.h"
#include "ops/tensor/tensor_util.h"

namespace deepx::tensor_ops {
namespace {

// The [start, end) window of the input's dimensions, clamped as the spec says (negative counts from the back).
std::pair<int64_t, int64_t> Window(const Attributes& attrs, int64_t rank) {
  int64_t start = attrs.Int("start", 0);
  int64_t end = attrs.Int("end", rank);
  if (start < 0) start += rank;
  if (end < 0) end += rank;
  start = std::clamp<int64_t>(start, 0, rank);
  end = std::clamp<int64_t>(end, 0, rank);
  return {start, std::max(start, end)};
}

Tensor ShapeValue(const Shape& in, const Attributes& attrs) {
  auto [start, end] = Window(attrs, static_cast<int64_t>(in.size()));
  return Tensor::FromInt64s({end - start}, std::vector<int64_t>(in.begin() + start, in.begin() + end));
}

Status InferShape(InferContext& ctx) {
  if (ctx.opset() < 15 && (ctx.attrs().has("start") || ctx.attrs().has("end"))) {
    return InvalidArgument("attributes 'start' and 'end' exist only from opset 15");
  }
  DX_RETURN_IF_ERROR(ctx.attrs().GetInt("start", 0).status());
  DX_RETURN_IF_ERROR(ctx.attrs().GetInt("end", 0).status());
  ctx.SetOutputConstant(0, ShapeValue(ctx.input_shape(0), ctx.attrs()));
  return Status::Ok();
}

Status ShapeKernel(KernelContext& ctx) {
  Tensor value = ShapeValue(ctx.input(0).shape(), ctx.attrs());
  if (value.size_bytes()) std::memcpy(ctx.output(0).raw_data(), value.raw_data(), value.size_bytes());
  return Status::Ok();
}

// Only the output is written: the input's data is never read.
OpCost ShapeCost(const CostContext& ctx) {
  OpCost c;
  if (ctx.outputs[0]) c.bytes_written = 8.0 * static_cast<double>(NumElements(ctx.outputs[0]->shape));
  return c;
}

}  // namespace

OpSchema ShapeSchema() {
  return {.name = "Shape", .attributes = {"start", "end"}, .infer = InferShape, .reference = ShapeKernel,
          .cost = ShapeCost};
}

}  // namespace deepx::tensor_ops
