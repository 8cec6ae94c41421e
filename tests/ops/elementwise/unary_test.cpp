// Unary math and activations. Expected values are closed forms evaluated independently (by hand or with the
// standard library on the defining formula), not by calling the kernel.
#include <gtest/gtest.h>

#include <cmath>

#include "ew_test_util.h"

namespace deepx {
namespace {

using ew_test::Bool;
using ew_test::Contains;
using ew_test::ExpectNear;
using ew_test::F32;
using ew_test::I32;
using ew_test::I64;
using ew_test::Run1;
using ew_test::RunError;
using ew_test::Values;
using V = std::vector<double>;

std::vector<double> RunF(const std::string& op, const std::vector<float>& x, const Attributes& attrs = {}) {
  return Values(Run1(op, {{"x", F32({static_cast<int64_t>(x.size())}, x)}}, attrs));
}

Attributes Alpha(float a) {
  Attributes at;
  at.set("alpha", a);
  return at;
}

TEST(Unary, ExactMath) {
  EXPECT_EQ(RunF("Sqrt", {4, 9, 0}), (V{2, 3, 0}));
  EXPECT_EQ(RunF("Neg", {1, -2}), (V{-1, 2}));
  EXPECT_EQ(RunF("Abs", {-1.5, 2}), (V{1.5, 2}));
  EXPECT_EQ(RunF("Reciprocal", {4, -0.5}), (V{0.25, -2}));
  EXPECT_EQ(RunF("Floor", {1.5, -1.5}), (V{1, -2}));
  EXPECT_EQ(RunF("Ceil", {1.5, -1.5}), (V{2, -1}));
  // Halves round to even.
  EXPECT_EQ(RunF("Round", {0.5, 1.5, 2.5, -0.5, -1.5, 2.4}), (V{0, 2, 2, -0, -2, 2}));
  EXPECT_EQ(RunF("Sign", {-3, 0, 2}), (V{-1, 0, 1}));
  EXPECT_EQ(RunF("Relu", {-1, 0, 2}), (V{0, 0, 2}));
  EXPECT_EQ(RunF("Softsign", {1, -3}), (V{0.5, -0.75}));
  EXPECT_EQ(RunF("HardSwish", {-4, 0, 3, 4}), (V{0, 0, 3, 4}));
  EXPECT_EQ(RunF("HardSigmoid", {-5, 0, 1, 5}), (V{0, 0.5, 0.7f, 1}));
  EXPECT_EQ(RunF("LeakyRelu", {-2, 3}, Alpha(0.5f)), (V{-1, 3}));
  EXPECT_EQ(RunF("ThresholdedRelu", {0.5, 1, 2}), (V{0, 0, 2}));
}

TEST(Unary, TranscendentalMath) {
  ExpectNear(RunF("Exp", {0, 1}), {1, 2.718281828});
  ExpectNear(RunF("Log", {1, 2.718281828f}), {0, 1});
  ExpectNear(RunF("Erf", {0, 1}), {0, 0.8427007929});
  ExpectNear(RunF("Sin", {0, 1.5707963f}), {0, 1});
  ExpectNear(RunF("Cos", {0}), {1});
  ExpectNear(RunF("Tan", {0.7853982f}), {1});
  ExpectNear(RunF("Asin", {1}), {1.5707963});
  ExpectNear(RunF("Acos", {1}), {0});
  ExpectNear(RunF("Atan", {1}), {0.7853982});
  ExpectNear(RunF("Sinh", {1}), {(2.718281828 - 1 / 2.718281828) / 2});
  ExpectNear(RunF("Cosh", {1}), {(2.718281828 + 1 / 2.718281828) / 2});
  ExpectNear(RunF("Asinh", {0}), {0});
  ExpectNear(RunF("Acosh", {1}), {0});
  ExpectNear(RunF("Atanh", {0.5}), {0.5493061443});
  ExpectNear(RunF("Tanh", {0.5}), {0.4621171573});
  ExpectNear(RunF("Sigmoid", {0, 2}), {0.5, 0.8807970780});
  // Softplus must not overflow for large inputs: log(1 + e^100) = 100.
  ExpectNear(RunF("Softplus", {0, 100, -100}), {0.6931471806, 100, 0});
  ExpectNear(RunF("Elu", {-1, 2}, Alpha(2)), {2 * (1 / 2.718281828 - 1), 2});
  ExpectNear(RunF("Selu", {-1, 2}), {1.0507009873 * 1.6732632423 * (1 / 2.718281828 - 1), 2 * 1.0507009873});
  ExpectNear(RunF("Celu", {-1, 2}, Alpha(2)), {2 * (std::exp(-0.5) - 1), 2});
  // mish(1) = tanh(ln(1 + e)) = tanh(1.3132616875) = 0.8650983883.
  ExpectNear(RunF("Mish", {1, 0}), {0.8650983883, 0});
}

TEST(Unary, IntegerVariants) {
  Tensor y = Run1("Neg", {{"x", I64({2}, {5, -3})}});
  EXPECT_EQ(y.dtype(), DataType::kInt64);
  EXPECT_EQ(Values(y), (V{-5, 3}));
  EXPECT_EQ(Values(Run1("Abs", {{"x", I32({2}, {-7, 7})}})), (V{7, 7}));
  EXPECT_EQ(Values(Run1("Sign", {{"x", I32({3}, {-7, 0, 9})}})), (V{-1, 0, 1}));
  EXPECT_EQ(Values(Run1("Relu", {{"x", I64({2}, {-7, 9})}})), (V{0, 9}));
}

TEST(Unary, NotOnBool) {
  Tensor y = Run1("Not", {{"x", Bool({3}, {1, 0, 1})}});
  EXPECT_EQ(y.dtype(), DataType::kBool);
  EXPECT_EQ(Values(y), (V{0, 1, 0}));
}

TEST(Unary, UnsupportedDtypeAndBadAttributes) {
  Status s = RunError("Exp", {{"x", I64({1}, {1})}});
  EXPECT_EQ(s.code(), StatusCode::kUnimplemented);
  EXPECT_TRUE(Contains(s.message(), "int64")) << s.message();
  Attributes wrong_kind;
  wrong_kind.set("alpha", int64_t{2});
  s = RunError("LeakyRelu", {{"x", F32({1}, {1})}}, wrong_kind);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(s.message(), "alpha")) << s.message();
  s = RunError("Celu", {{"x", F32({1}, {1})}}, Alpha(0));
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  Attributes unknown;
  unknown.set("beta", 1.0f);
  s = RunError("Relu", {{"x", F32({1}, {1})}}, unknown);
  EXPECT_EQ(s.code(), StatusCode::kUnimplemented);
  EXPECT_TRUE(Contains(s.message(), "beta")) << s.message();
}

}  // namespace
}  // namespace deepx
