#include <gtest/gtest.h>

#include <cmath>

#include "ew_test_util.h"

namespace deepx {
namespace {

using ew_test::Bool;
using ew_test::Contains;
using ew_test::F32;
using ew_test::I32;
using ew_test::I64;
using ew_test::Make;
using ew_test::Run1;
using ew_test::RunError;
using ew_test::Values;
using V = std::vector<double>;

Attributes To(DataType t) {
  Attributes a;
  a.set("to", static_cast<int64_t>(t));
  return a;
}

TEST(Cast, FloatToIntegersTruncatesTowardZero) {
  auto x = F32({4}, {1.9f, -1.9f, 0.5f, -0.5f});
  Tensor y = Run1("Cast", {{"x", x}}, To(DataType::kInt64));
  EXPECT_EQ(y.dtype(), DataType::kInt64);
  EXPECT_EQ(Values(y), (V{1, -1, 0, 0}));
  EXPECT_EQ(Values(Run1("Cast", {{"x", x}}, To(DataType::kInt32))), (V{1, -1, 0, 0}));
  EXPECT_EQ(Values(Run1("Cast", {{"x", x}}, To(DataType::kInt8))), (V{1, -1, 0, 0}));
  // Out-of-range and NaN are deterministic (saturate, 0) rather than undefined.
  Tensor sat = Run1("Cast", {{"x", F32({3}, {1e20f, -1e20f, NAN})}}, To(DataType::kInt32));
  EXPECT_EQ(Values(sat), (V{2147483647.0, -2147483648.0, 0}));
}

TEST(Cast, ToAndFromBool) {
  Tensor b = Run1("Cast", {{"x", F32({3}, {0, -2.5f, 1})}}, To(DataType::kBool));
  EXPECT_EQ(b.dtype(), DataType::kBool);
  EXPECT_EQ(Values(b), (V{0, 1, 1}));
  Tensor f = Run1("Cast", {{"x", Bool({2}, {1, 0})}}, To(DataType::kFloat32));
  EXPECT_EQ(Values(f), (V{1, 0}));
  EXPECT_EQ(Values(Run1("Cast", {{"x", Bool({2}, {0, 1})}}, To(DataType::kInt64))), (V{0, 1}));
}

TEST(Cast, IntegerWidthsAndFloat64) {
  Tensor d = Run1("Cast", {{"x", I64({2}, {3, -4})}}, To(DataType::kFloat64));
  EXPECT_EQ(d.dtype(), DataType::kFloat64);
  EXPECT_EQ(Values(d), (V{3, -4}));
  // int32 -> uint8 wraps modulo 256.
  EXPECT_EQ(Values(Run1("Cast", {{"x", I32({2}, {257, -1})}}, To(DataType::kUInt8))), (V{1, 255}));
  Tensor u = Run1("Cast", {{"x", Make<uint8_t>(DataType::kUInt8, {1}, {200})}}, To(DataType::kFloat32));
  EXPECT_EQ(Values(u), (V{200}));
}

TEST(Cast, UnsupportedOrMissingTarget) {
  Status s = RunError("Cast", {{"x", F32({1}, {1})}}, [] {
    Attributes a;
    a.set("to", int64_t{10});
    return a;
  }());
  EXPECT_EQ(s.code(), StatusCode::kUnimplemented);
  EXPECT_TRUE(Contains(s.message(), "FLOAT16")) << s.message();
  s = RunError("Cast", {{"x", F32({1}, {1})}});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(s.message(), "'to'")) << s.message();
}

TEST(CastLike, TakesTheSecondInputsDtype) {
  Tensor y = Run1("CastLike", {{"x", F32({2}, {2.7f, -2.7f})}, {"like", I32({1}, {0})}});
  EXPECT_EQ(y.dtype(), DataType::kInt32);
  EXPECT_EQ(y.shape(), (Shape{2}));
  EXPECT_EQ(Values(y), (V{2, -2}));
}

}  // namespace
}  // namespace deepx
