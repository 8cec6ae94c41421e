// Range: start, start+delta, ... stopping before limit; three constant scalars of one numeric type.
// Count = max(ceil((limit - start) / delta), 0).
#include <cmath>

#include "ops/tensor/tensor_ops.h"
#include "ops/tensor/tensor_util.h"

namespace deepx::tensor_ops {
namespace {

constexpr int64_t kMaxRangeCount = int64_t{1} << 40;

bool IsIntegral(DataType t) { return t == DataType::kInt32 || t == DataType::kInt64; }

Result<int64_t> RangeCount(const Tensor& start, const Tensor& limit, const Tensor& delta) {
  if (IsIntegral(start.dtype())) {
    // 128-bit so that limit - start cannot overflow for any int64 values.
    const __int128 s = start.GetAsInt64(0), l = limit.GetAsInt64(0), d = delta.GetAsInt64(0);
    if (d == 0) return InvalidArgument("delta must not be 0");
    const __int128 diff = l - s;
    if ((diff > 0) != (d > 0) || diff == 0) return int64_t{0};
    const __int128 count = (diff + d + (d > 0 ? -1 : 1)) / d;  // ceiling division, same signs
    if (count > kMaxRangeCount) return OutOfRange("range has more than 2^40 elements");
    return static_cast<int64_t>(count);
  }
  const double s = start.GetAsDouble(0), l = limit.GetAsDouble(0), d = delta.GetAsDouble(0);
  if (d == 0) return InvalidArgument("delta must not be 0");
  const double count = std::ceil((l - s) / d);
  if (std::isnan(count)) return InvalidArgument("start, limit and delta give no finite element count");
  if (count <= 0) return int64_t{0};
  if (count > static_cast<double>(kMaxRangeCount)) return OutOfRange("range has more than 2^40 elements");
  return static_cast<int64_t>(count);
}

Status InferRange(InferContext& ctx) {
  static const char* kNames[] = {"start", "limit", "delta"};
  const DataType dtype = ctx.input_dtype(0);
  if (!IsIntegral(dtype) && dtype != DataType::kFloat32 && dtype != DataType::kFloat64) {
    return Unimplemented(std::string("type ") + DataTypeName(dtype) + " is not supported");
  }
  const Tensor* values[3];
  for (size_t i = 0; i < 3; ++i) {
    if (ctx.input_dtype(i) != dtype) {
      return InvalidArgument(std::string(kNames[i]) + " has type " + DataTypeName(ctx.input_dtype(i)) +
                             ", expected " + DataTypeName(dtype) + " like start");
    }
    DX_ASSIGN_OR_RETURN(int64_t n, CheckedNumElements(ctx.input_shape(i)));
    if (n != 1) {
      return InvalidArgument(std::string(kNames[i]) + " must be a scalar, got shape " +
                             ShapeToString(ctx.input_shape(i)));
    }
    values[i] = ctx.input_constant(i);
    if (!values[i]) {
      return Unimplemented(std::string(kNames[i]) + " input '" + ctx.input_name(i) +
                           "' must be a constant (values computed at run time are not supported)");
    }
  }
  DX_ASSIGN_OR_RETURN(int64_t count, RangeCount(*values[0], *values[1], *values[2]));
  ctx.SetOutput(0, dtype, {count});
  return Status::Ok();
}

Status RangeKernel(KernelContext& ctx) {
  Tensor& out = ctx.output(0);
  const int64_t n = out.num_elements();
  if (IsIntegral(out.dtype())) {
    const int64_t start = ctx.input(0).GetAsInt64(0), delta = ctx.input(2).GetAsInt64(0);
    for (int64_t i = 0; i < n; ++i) {
      // The value lies in [start, limit) but i * delta alone may not fit in 64 bits.
      const int64_t v = static_cast<int64_t>(static_cast<__int128>(start) + static_cast<__int128>(i) * delta);
      if (out.dtype() == DataType::kInt64) {
        out.data<int64_t>()[i] = v;
      } else {
        out.data<int32_t>()[i] = static_cast<int32_t>(v);
      }
    }
    return Status::Ok();
  }
  const double start = ctx.input(0).GetAsDouble(0), delta = ctx.input(2).GetAsDouble(0);
  for (int64_t i = 0; i < n; ++i) {
    const double v = start + static_cast<double>(i) * delta;
    if (out.dtype() == DataType::kFloat64) {
      out.data<double>()[i] = v;
    } else {
      out.data<float>()[i] = static_cast<float>(v);
    }
  }
  return Status::Ok();
}

}  // namespace

OpSchema RangeSchema() {
  return {.name = "Range", .min_inputs = 3, .max_inputs = 3, .infer = InferRange, .reference = RangeKernel,
          .cost = DataMovementCost};
}

}  // namespace deepx::tensor_ops
