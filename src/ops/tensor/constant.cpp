// Constant: a tensor given by exactly one attribute (value, value_float(s), value_int(s)). Sparse and string
// constants are not supported.
#include <cstring>

#include "ops/tensor/tensor_ops.h"
#include "ops/tensor/tensor_util.h"

namespace deepx::tensor_ops {
namespace {

Result<Tensor> ConstantValue(const Attributes& attrs) {
  static const char* kKinds[] = {"value", "value_float", "value_floats", "value_int", "value_ints",
                                 "value_string", "value_strings", "sparse_value"};
  int given = 0;
  for (const char* k : kKinds) given += attrs.has(k) ? 1 : 0;
  if (given != 1) {
    return InvalidArgument("exactly one of the value attributes must be set, got " + std::to_string(given));
  }
  if (attrs.has("sparse_value")) return Unimplemented("sparse constants are not supported");
  if (attrs.has("value_string") || attrs.has("value_strings")) {
    return Unimplemented("string constants are not supported");
  }
  if (attrs.has("value")) {
    DX_ASSIGN_OR_RETURN(Tensor t, attrs.GetTensor("value"));
    DX_RETURN_IF_ERROR(CheckKnownDtype(t.dtype(), "value"));
    if (!t.is_host() || t.size_bytes() > t.buffer()->size_bytes()) {
      return InvalidArgument("value tensor " + ShapeToString(t.shape()) + " has no matching host data");
    }
    return t;
  }
  if (attrs.has("value_float")) {
    DX_ASSIGN_OR_RETURN(float v, attrs.GetFloat("value_float", 0.0f));
    return Tensor::FromFloats({}, {v});
  }
  if (attrs.has("value_floats")) {
    DX_ASSIGN_OR_RETURN(std::vector<float> v, attrs.GetFloats("value_floats"));
    return Tensor::FromFloats({static_cast<int64_t>(v.size())}, v);
  }
  if (attrs.has("value_int")) {
    DX_ASSIGN_OR_RETURN(int64_t v, attrs.GetInt("value_int", 0));
    return Tensor::FromInt64s({}, {v});
  }
  DX_ASSIGN_OR_RETURN(std::vector<int64_t> v, attrs.GetInts("value_ints"));
  return Tensor::FromInt64s({static_cast<int64_t>(v.size())}, v);
}

Status InferConstant(InferContext& ctx) {
  DX_ASSIGN_OR_RETURN(Tensor value, ConstantValue(ctx.attrs()));
  ctx.SetOutputConstant(0, value);
  return Status::Ok();
}

Status ConstantKernel(KernelContext& ctx) {
  DX_ASSIGN_OR_RETURN(Tensor value, ConstantValue(ctx.attrs()));
  if (value.size_bytes()) std::memcpy(ctx.output(0).raw_data(), value.raw_data(), value.size_bytes());
  return Status::Ok();
}

}  // namespace

OpSchema ConstantSchema() {
  return {.name = "Constant", .min_inputs = 0, .max_inputs = 0,
          .attributes = {"value", "value_float", "value_floats", "value_int", "value_ints", "value_string",
                         "value_strings", "sparse_value"},
          .infer = InferConstant, .reference = ConstantKernel, .cost = DataMovementCost};
}

}  // namespace deepx::tensor_ops
