#include "ops/tensor/tensor_util.h"

#include <cmath>
#include <cstring>
#include <limits>

namespace deepx::tensor_ops {

OpCost DataMovementCost(const CostContext& ctx) { return ElementwiseCost(ctx, 0.0); }

Result<int64_t> NormalizeAxis(int64_t axis, int64_t rank, const std::string& what) {
  if (axis < -rank || axis >= rank) {
    return InvalidArgument(what + " " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank) +
                           " (valid: " + std::to_string(-rank) + ".." + std::to_string(rank - 1) + ")");
  }
  return axis < 0 ? axis + rank : axis;
}

Result<std::vector<int64_t>> NormalizeAxes(const std::vector<int64_t>& axes, int64_t rank, const std::string& what) {
  std::vector<int64_t> out;
  std::vector<bool> seen(static_cast<size_t>(rank), false);
  for (size_t i = 0; i < axes.size(); ++i) {
    DX_ASSIGN_OR_RETURN(int64_t a, NormalizeAxis(axes[i], rank, what + "[" + std::to_string(i) + "]"));
    if (seen[static_cast<size_t>(a)]) {
      return InvalidArgument(what + " contains axis " + std::to_string(a) + " more than once");
    }
    seen[static_cast<size_t>(a)] = true;
    out.push_back(a);
  }
  return out;
}

Result<std::vector<int64_t>> ReadIntTensor(const Tensor& t, const std::string& what) {
  if (t.dtype() != DataType::kInt64 && t.dtype() != DataType::kInt32) {
    return InvalidArgument(what + " must be int64 or int32, got " + DataTypeName(t.dtype()));
  }
  if (t.rank() > 1) {
    return InvalidArgument(what + " must be a 1-D tensor, got shape " + ShapeToString(t.shape()));
  }
  return t.ToInt64Vector();
}

Result<std::vector<int64_t>> ConstantIntInput(const InferContext& ctx, size_t i, const std::string& what) {
  const Tensor* t = ctx.input_constant(i);
  if (!t) {
    return Unimplemented(what + " input '" + ctx.input_name(i) +
                         "' must be a constant (values computed at run time are not supported)");
  }
  return ReadIntTensor(*t, what);
}

Status CheckKnownDtype(DataType dtype, const std::string& what) {
  if (DataTypeSize(dtype) == 0) return Unimplemented(what + " has unsupported element type " + DataTypeName(dtype));
  return Status::Ok();
}

std::vector<int64_t> RowMajorStrides(const Shape& shape) {
  std::vector<int64_t> strides(shape.size(), 1);
  for (size_t i = shape.size(); i-- > 1;) strides[i - 1] = strides[i] * shape[i];
  return strides;
}

bool NextIndex(std::vector<int64_t>& index, const Shape& shape) {
  for (size_t i = shape.size(); i-- > 0;) {
    if (++index[i] < shape[i]) return true;
    index[i] = 0;
  }
  return false;
}

int64_t DimProduct(const Shape& shape, size_t begin, size_t end) {
  int64_t p = 1;
  for (size_t i = begin; i < end && i < shape.size(); ++i) p *= shape[i];
  return p;
}

namespace {

// Float -> integer conversion of an out-of-range or NaN value is undefined behaviour; clamp instead.
template <typename T>
T ClampTo(double value) {
  if (std::isnan(value)) return T{0};
  if (value <= static_cast<double>(std::numeric_limits<T>::lowest())) return std::numeric_limits<T>::lowest();
  if (value >= static_cast<double>(std::numeric_limits<T>::max())) return std::numeric_limits<T>::max();
  return static_cast<T>(value);
}

template <typename T>
void Store(T v, void* dst) {
  std::memcpy(dst, &v, sizeof v);
}

}  // namespace

void StoreAsDtype(double value, DataType dtype, void* dst) {
  switch (dtype) {
    case DataType::kFloat32: Store(static_cast<float>(value), dst); return;
    case DataType::kFloat64: Store(value, dst); return;
    case DataType::kUInt8: Store(ClampTo<uint8_t>(value), dst); return;
    case DataType::kInt8: Store(ClampTo<int8_t>(value), dst); return;
    case DataType::kBool: Store(static_cast<uint8_t>(value != 0 ? 1 : 0), dst); return;
    case DataType::kInt32: Store(ClampTo<int32_t>(value), dst); return;
    case DataType::kInt64: Store(ClampTo<int64_t>(value), dst); return;
    case DataType::kUndefined: return;
  }
}

}  // namespace deepx::tensor_ops
