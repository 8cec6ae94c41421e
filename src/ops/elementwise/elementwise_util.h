// Helpers shared by the elementwise op family: dtype sets and dispatch, checked numeric conversion, and the
// per-file registration functions that register.cpp calls.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>

#include "deepx/status.h"
#include "deepx/tensor.h"
#include "ops/op.h"

namespace deepx::elementwise {

// A set of dtypes as a bit mask over the ONNX type codes (all below 32).
using DtypeSet = uint32_t;
constexpr DtypeSet DtypeBit(DataType t) { return DtypeSet{1} << static_cast<int>(t); }

inline constexpr DtypeSet kFloatTypes = DtypeBit(DataType::kFloat32) | DtypeBit(DataType::kFloat64);
inline constexpr DtypeSet kSignedIntTypes =
    DtypeBit(DataType::kInt8) | DtypeBit(DataType::kInt32) | DtypeBit(DataType::kInt64);
inline constexpr DtypeSet kIntTypes = kSignedIntTypes | DtypeBit(DataType::kUInt8);
inline constexpr DtypeSet kNumericTypes = kFloatTypes | kIntTypes;
inline constexpr DtypeSet kBoolType = DtypeBit(DataType::kBool);
inline constexpr DtypeSet kAllTypes = kNumericTypes | kBoolType;

inline bool InDtypeSet(DataType t, DtypeSet set) {
  const int code = static_cast<int>(t);
  return code > 0 && code < 32 && (set & DtypeBit(t)) != 0;
}

// "float32, float64, int32" for messages.
std::string DtypeSetToString(DtypeSet set);

// Unimplemented("<what> has dtype int8; <op> supports float32, float64") unless `t` is in `allowed`.
Status CheckDtype(const std::string& op, const std::string& what, DataType t, DtypeSet allowed);

// Calls fn(T{}) with the C++ element type of a numeric dtype; returns false for bool and unknown dtypes (bool is
// stored as uint8_t 0/1 and handled explicitly by the ops that accept it).
template <typename Fn>
bool VisitNumeric(DataType t, Fn&& fn) {
  switch (t) {
    case DataType::kFloat32: fn(float{}); return true;
    case DataType::kFloat64: fn(double{}); return true;
    case DataType::kInt8: fn(int8_t{}); return true;
    case DataType::kUInt8: fn(uint8_t{}); return true;
    case DataType::kInt32: fn(int32_t{}); return true;
    case DataType::kInt64: fn(int64_t{}); return true;
    default: return false;
  }
}

// Converts a double to T: floats round, integers truncate toward zero and saturate, NaN becomes 0. Casting an
// out-of-range double to an integer is undefined behaviour in C++, and the values come from untrusted models.
template <typename T>
T SaturatingCast(double v) {
  if constexpr (std::is_floating_point_v<T>) {
    return static_cast<T>(v);
  } else {
    if (std::isnan(v)) return T{0};
    if (v <= static_cast<double>(std::numeric_limits<T>::min())) return std::numeric_limits<T>::min();
    if (v >= static_cast<double>(std::numeric_limits<T>::max())) return std::numeric_limits<T>::max();
    return static_cast<T>(v);
  }
}

// Integer arithmetic that wraps like two's complement hardware instead of being undefined on overflow.
template <typename T>
T WrapAdd(T a, T b) {
  using U = std::make_unsigned_t<T>;
  return static_cast<T>(static_cast<U>(static_cast<U>(a) + static_cast<U>(b)));
}
template <typename T>
T WrapSub(T a, T b) {
  using U = std::make_unsigned_t<T>;
  return static_cast<T>(static_cast<U>(static_cast<U>(a) - static_cast<U>(b)));
}
template <typename T>
T WrapMul(T a, T b) {
  using U = std::make_unsigned_t<T>;
  // uint8 * uint8 promotes to int; going through uint64 keeps every width well defined.
  return static_cast<T>(static_cast<U>(static_cast<uint64_t>(static_cast<U>(a)) * static_cast<U>(b)));
}

// Rank-normalises an axis in [-rank, rank) to [0, rank); InvalidArgument naming `what` otherwise.
Result<int64_t> NormalizeAxis(int64_t axis, int64_t rank, const std::string& what);

// Registration of each file's ops (called from register.cpp).
void RegisterBinaryOps(OpRegistry& r);
void RegisterVariadicOps(OpRegistry& r);
void RegisterUnaryOps(OpRegistry& r);
void RegisterClipOp(OpRegistry& r);
void RegisterReduceOps(OpRegistry& r);
void RegisterCastOps(OpRegistry& r);
void RegisterIdentityOps(OpRegistry& r);

}  // namespace deepx::elementwise
