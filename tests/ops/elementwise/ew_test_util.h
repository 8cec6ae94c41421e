// Small helpers for the elementwise op tests.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "core/attributes.h"
#include "deepx/status.h"
#include "deepx/tensor.h"
#include "test_util.h"

namespace deepx::ew_test {

// A tensor of `dtype` holding `values` (C++ type T must be the dtype's storage type; bool is uint8_t).
template <typename T>
Tensor Make(DataType dtype, const Shape& shape, const std::vector<T>& values) {
  Tensor t = Tensor::Zeros(dtype, shape);
  EXPECT_EQ(static_cast<int64_t>(values.size()), t.num_elements()) << "test tensor has the wrong value count";
  EXPECT_EQ(sizeof(T), DataTypeSize(dtype)) << "test tensor values have the wrong C++ type";
  // memcpy from an empty vector's data() (possibly null) is undefined even for 0 bytes.
  if (!values.empty()) std::memcpy(t.raw_data(), values.data(), std::min(values.size() * sizeof(T), t.size_bytes()));
  return t;
}

inline Tensor F32(const Shape& shape, const std::vector<float>& v) { return Make(DataType::kFloat32, shape, v); }
inline Tensor I64(const Shape& shape, const std::vector<int64_t>& v) { return Make(DataType::kInt64, shape, v); }
inline Tensor I32(const Shape& shape, const std::vector<int32_t>& v) { return Make(DataType::kInt32, shape, v); }
inline Tensor Bool(const Shape& shape, const std::vector<uint8_t>& v) { return Make(DataType::kBool, shape, v); }

// Every element as a double, for EXPECT_EQ / ElementsAre-style comparisons.
inline std::vector<double> Values(const Tensor& t) {
  std::vector<double> v;
  for (int64_t i = 0; i < t.num_elements(); ++i) v.push_back(t.GetAsDouble(i));
  return v;
}

// Runs a one-output op, failing the test (and returning an empty tensor) if it errors.
inline Tensor Run1(const std::string& op, const std::vector<testing::InputSpec>& inputs, const Attributes& attrs = {},
                   int opset = 17) {
  auto r = testing::RunReferenceOp(op, inputs, attrs, 1, opset);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (!r.ok()) return Tensor();
  return r.value()[0];
}

// Runs an op expected to fail and returns its status.
inline Status RunError(const std::string& op, const std::vector<testing::InputSpec>& inputs,
                       const Attributes& attrs = {}, int opset = 17, int num_outputs = 1) {
  auto r = testing::RunReferenceOp(op, inputs, attrs, num_outputs, opset);
  EXPECT_FALSE(r.ok()) << op << " unexpectedly succeeded";
  return r.ok() ? Status::Ok() : r.status();
}

inline bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// Element-wise closeness for float results computed by hand.
inline void ExpectNear(const std::vector<double>& got, const std::vector<double>& want, double tol = 1e-5) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << "element " << i;
}

}  // namespace deepx::ew_test
