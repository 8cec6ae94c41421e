// ConstantOfShape: a tensor of the shape given by a constant int64 input, filled with the one-element `value`
// attribute (float 0 by default); the output takes value's type.
#include <cstring>

#include "ops/tensor/tensor_ops.h"
#include "ops/tensor/tensor_util.h"

namespace deepx::tensor_ops {
namespace {

Result<Tensor> FillValue(const Attributes& attrs) {
  if (!attrs.has("value")) return Tensor::FromFloats({1}, {0.0f});
  DX_ASSIGN_OR_RETURN(Tensor t, attrs.GetTensor("value"));
  DX_RETURN_IF_ERROR(CheckKnownDtype(t.dtype(), "value"));
  if (t.num_elements() != 1 || !t.is_host() || t.buffer()->size_bytes() < t.size_bytes()) {
    return InvalidArgument("value must be a tensor of one element, got shape " + ShapeToString(t.shape()));
  }
  return t;
}

Status InferConstantOfShape(InferContext& ctx) {
  if (ctx.input_dtype(0) != DataType::kInt64) {
    return InvalidArgument(std::string("input must be int64, got ") + DataTypeName(ctx.input_dtype(0)));
  }
  DX_ASSIGN_OR_RETURN(std::vector<int64_t> shape, ConstantIntInput(ctx, 0, "shape"));
  for (int64_t d : shape) {
    if (d < 0) return InvalidArgument("shape " + ShapeToString(shape) + " has a negative dimension");
  }
  DX_ASSIGN_OR_RETURN(Tensor value, FillValue(ctx.attrs()));
  ctx.SetOutput(0, value.dtype(), shape);
  return Status::Ok();
}

Status ConstantOfShapeKernel(KernelContext& ctx) {
  DX_ASSIGN_OR_RETURN(Tensor value, FillValue(ctx.attrs()));
  Tensor& out = ctx.output(0);
  const size_t es = DataTypeSize(out.dtype());
  auto* dst = static_cast<uint8_t*>(out.raw_data());
  const int64_t n = out.num_elements();
  for (int64_t i = 0; i < n; ++i) std::memcpy(dst + i * es, value.raw_data(), es);
  return Status::Ok();
}

}  // namespace

OpSchema ConstantOfShapeSchema() {
  return {.name = "ConstantOfShape", .attributes = {"value"}, .infer = InferConstantOfShape,
          .reference = ConstantOfShapeKernel, .cost = DataMovementCost};
}

}  // namespace deepx::tensor_ops
