// Small builders and checks shared by the tensor-op tests.
#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <numeric>
#include <string>
#include <vector>

#include "deepx/tensor.h"
#include "test_util.h"

namespace deepx::testing {

inline Tensor F32(Shape s, std::vector<float> v) { return Tensor::FromFloats(std::move(s), v); }
inline Tensor I64(Shape s, std::vector<int64_t> v) { return Tensor::FromInt64s(std::move(s), v); }

inline Tensor I32(Shape s, const std::vector<int32_t>& v) {
  Tensor t = Tensor::Zeros(DataType::kInt32, std::move(s));
  std::memcpy(t.raw_data(), v.data(), t.size_bytes());
  return t;
}

inline Tensor U8(Shape s, const std::vector<uint8_t>& v) {
  Tensor t = Tensor::Zeros(DataType::kUInt8, std::move(s));
  std::memcpy(t.raw_data(), v.data(), t.size_bytes());
  return t;
}

// Float tensor holding 0, 1, 2, ... in row-major order.
inline Tensor Iota(Shape s) {
  Tensor t = Tensor::Zeros(DataType::kFloat32, std::move(s));
  for (int64_t i = 0; i < t.num_elements(); ++i) t.data<float>()[i] = static_cast<float>(i);
  return t;
}

inline std::vector<double> Values(const Tensor& t) {
  std::vector<double> v;
  for (int64_t i = 0; i < t.num_elements(); ++i) v.push_back(t.GetAsDouble(i));
  return v;
}

// Input helpers: a run-time input and a constant one.
inline InputSpec In(const std::string& name, Tensor t) { return {name, std::move(t), false}; }
inline InputSpec Const(const std::string& name, Tensor t) { return {name, std::move(t), true}; }
inline InputSpec Omitted() { return {"", Tensor(), false}; }

// Expects the op to fail with `code` and a message containing `needle`.
template <typename R>
void ExpectError(const R& result, StatusCode code, const std::string& needle) {
  ASSERT_FALSE(result.ok()) << "expected an error containing '" << needle << "'";
  EXPECT_EQ(result.status().code(), code) << result.status().ToString();
  EXPECT_NE(result.status().message().find(needle), std::string::npos) << result.status().ToString();
}

}  // namespace deepx::testing
