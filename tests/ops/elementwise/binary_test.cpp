// Add/Sub/Mul/Div/Pow/Mod, comparisons, logic, PRelu and Where. Expected values are worked out by hand.
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
using ew_test::Run1;
using ew_test::RunError;
using ew_test::Values;
using V = std::vector<double>;

TEST(Binary, AddBroadcastsRowAgainstColumn) {
  Tensor y = Run1("Add", {{"a", F32({2, 1}, {10, 20})}, {"b", F32({3}, {1, 2, 3})}});
  EXPECT_EQ(y.shape(), (Shape{2, 3}));
  EXPECT_EQ(Values(y), (V{11, 12, 13, 21, 22, 23}));
}

TEST(Binary, SubMulDivFloat) {
  auto a = F32({3}, {6, -3, 1});
  auto b = F32({3}, {2, 4, -8});
  EXPECT_EQ(Values(Run1("Sub", {{"a", a}, {"b", b}})), (V{4, -7, 9}));
  EXPECT_EQ(Values(Run1("Mul", {{"a", a}, {"b", b}})), (V{12, -12, -8}));
  EXPECT_EQ(Values(Run1("Div", {{"a", a}, {"b", b}})), (V{3, -0.75, -0.125}));
}

TEST(Binary, IntegerArithmetic) {
  auto a = I64({4}, {7, -7, 7, -7});
  auto b = I64({4}, {2, 2, -2, -2});
  // Integer division truncates toward zero.
  EXPECT_EQ(Values(Run1("Div", {{"a", a}, {"b", b}})), (V{3, -3, -3, 3}));
  EXPECT_EQ(Values(Run1("Add", {{"a", a}, {"b", b}})), (V{9, -5, 5, -9}));
  Tensor y = Run1("Mul", {{"a", I32({2}, {3, -4})}, {"b", I32({}, {5})}});
  EXPECT_EQ(y.dtype(), DataType::kInt32);
  EXPECT_EQ(Values(y), (V{15, -20}));
  // uint8 wraps around.
  Tensor u = Run1("Add", {{"a", ew_test::Make<uint8_t>(DataType::kUInt8, {1}, {250})},
                          {"b", ew_test::Make<uint8_t>(DataType::kUInt8, {1}, {10})}});
  EXPECT_EQ(Values(u), (V{4}));
}

TEST(Binary, IntegerDivisionByZeroIsAnError) {
  Status s = RunError("Div", {{"a", I64({2}, {1, 2})}, {"b", I64({2}, {1, 0})}});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(s.message(), "division by zero")) << s.message();
}

TEST(Binary, MismatchedDtypesAreRejected) {
  Status s = RunError("Add", {{"a", F32({2}, {1, 2})}, {"b", I64({2}, {1, 2})}});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(s.message(), "float32")) << s.message();
  EXPECT_TRUE(Contains(s.message(), "int64")) << s.message();
}

TEST(Binary, NonBroadcastableShapesAreRejected) {
  Status s = RunError("Mul", {{"a", F32({2, 3}, {1, 2, 3, 4, 5, 6})}, {"b", F32({2}, {1, 2})}});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(s.message(), "[2, 3]") && Contains(s.message(), "[2]")) << s.message();
  EXPECT_TRUE(Contains(s.message(), "Mul_0")) << "the node name prefixes the message: " << s.message();
}

TEST(Binary, BoolArithmeticIsUnimplemented) {
  Status s = RunError("Add", {{"a", Bool({1}, {1})}, {"b", Bool({1}, {1})}});
  EXPECT_EQ(s.code(), StatusCode::kUnimplemented);
  EXPECT_TRUE(Contains(s.message(), "bool")) << s.message();
}

TEST(Binary, PowTypes) {
  // float ^ float, float ^ int64, int64 ^ int64, int32 ^ float.
  EXPECT_EQ(Values(Run1("Pow", {{"x", F32({3}, {2, 4, 9})}, {"y", F32({3}, {3, 0.5, -1})}})),
            (V{8, 2, static_cast<double>(1.0f / 9.0f)}));
  Tensor fi = Run1("Pow", {{"x", F32({2}, {1.5, -2})}, {"y", I64({2}, {2, 3})}});
  EXPECT_EQ(fi.dtype(), DataType::kFloat32);
  EXPECT_EQ(Values(fi), (V{2.25, -8}));
  Tensor ii = Run1("Pow", {{"x", I64({3}, {3, -2, 5})}, {"y", I64({3}, {4, 3, 0})}});
  EXPECT_EQ(ii.dtype(), DataType::kInt64);
  EXPECT_EQ(Values(ii), (V{81, -8, 1}));
  Tensor if32 = Run1("Pow", {{"x", I32({2}, {4, 2})}, {"y", F32({2}, {0.5, 3})}});
  EXPECT_EQ(if32.dtype(), DataType::kInt32);
  EXPECT_EQ(Values(if32), (V{2, 8}));
}

TEST(Binary, ModSignConventions) {
  auto a = I64({4}, {7, -7, 7, -7});
  auto b = I64({4}, {3, 3, -3, -3});
  Attributes c_fmod;
  c_fmod.set("fmod", int64_t{1});
  // fmod=0 takes the divisor's sign (Python), fmod=1 the dividend's (C).
  EXPECT_EQ(Values(Run1("Mod", {{"a", a}, {"b", b}})), (V{1, 2, -2, -1}));
  EXPECT_EQ(Values(Run1("Mod", {{"a", a}, {"b", b}}, c_fmod)), (V{1, -1, 1, -1}));
  EXPECT_EQ(Values(Run1("Mod", {{"a", F32({2}, {5.5, -5.5})}, {"b", F32({1}, {2})}}, c_fmod)), (V{1.5, -1.5}));
  Status s = RunError("Mod", {{"a", F32({1}, {1})}, {"b", F32({1}, {2})}});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(s.message(), "fmod")) << s.message();
  s = RunError("Mod", {{"a", I64({1}, {1})}, {"b", I64({1}, {0})}});
  EXPECT_TRUE(Contains(s.message(), "by zero")) << s.message();
}

TEST(Binary, Comparisons) {
  auto a = F32({3}, {1, 2, 3});
  auto b = F32({1}, {2});
  Tensor eq = Run1("Equal", {{"a", a}, {"b", b}});
  EXPECT_EQ(eq.dtype(), DataType::kBool);
  EXPECT_EQ(Values(eq), (V{0, 1, 0}));
  EXPECT_EQ(Values(Run1("Less", {{"a", a}, {"b", b}})), (V{1, 0, 0}));
  EXPECT_EQ(Values(Run1("Greater", {{"a", a}, {"b", b}})), (V{0, 0, 1}));
  EXPECT_EQ(Values(Run1("LessOrEqual", {{"a", a}, {"b", b}})), (V{1, 1, 0}));
  EXPECT_EQ(Values(Run1("GreaterOrEqual", {{"a", a}, {"b", b}})), (V{0, 1, 1}));
  EXPECT_EQ(Values(Run1("Equal", {{"a", I32({2}, {5, 6})}, {"b", I32({2}, {5, 7})}})), (V{1, 0}));
  EXPECT_EQ(Values(Run1("Equal", {{"a", Bool({2}, {1, 0})}, {"b", Bool({1}, {1})}})), (V{1, 0}));
}

TEST(Binary, LogicOnBool) {
  auto a = Bool({2, 2}, {0, 0, 1, 1});
  auto b = Bool({2}, {0, 1});
  EXPECT_EQ(Values(Run1("And", {{"a", a}, {"b", b}})), (V{0, 0, 0, 1}));
  EXPECT_EQ(Values(Run1("Or", {{"a", a}, {"b", b}})), (V{0, 1, 1, 1}));
  EXPECT_EQ(Values(Run1("Xor", {{"a", a}, {"b", b}})), (V{0, 1, 1, 0}));
  Status s = RunError("And", {{"a", F32({1}, {1})}, {"b", F32({1}, {1})}});
  EXPECT_EQ(s.code(), StatusCode::kUnimplemented);
}

TEST(Binary, PReluBroadcastsSlope) {
  // X [1, 2, 2], slope [2, 1]: channel 0 uses 0.5, channel 1 uses 2.
  Tensor y = Run1("PRelu", {{"x", F32({1, 2, 2}, {-2, 3, -1, 4})}, {"slope", F32({2, 1}, {0.5, 2})}});
  EXPECT_EQ(y.shape(), (Shape{1, 2, 2}));
  EXPECT_EQ(Values(y), (V{-1, 3, -2, 4}));
  // A per-channel [C] slope that numpy rules would align with the last dimension (older exporters) is read
  // as [C, 1].
  Tensor c = Run1("PRelu", {{"x", F32({1, 2, 3}, {-2, 3, -1, -4, 4, -6})}, {"slope", F32({2}, {0.5, 2})}});
  EXPECT_EQ(Values(c), (V{-1, 3, -0.5, -8, 4, -12}));
  // Slope may not enlarge X.
  Status s = RunError("PRelu", {{"x", F32({2}, {1, 2})}, {"slope", F32({3}, {1, 2, 3})}});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(s.message(), "slope")) << s.message();
}

TEST(Binary, WhereThreeWayBroadcast) {
  Tensor y = Run1("Where", {{"c", Bool({2, 1}, {1, 0})}, {"x", I64({2}, {1, 2})}, {"y", I64({}, {9})}});
  EXPECT_EQ(y.dtype(), DataType::kInt64);
  EXPECT_EQ(y.shape(), (Shape{2, 2}));
  EXPECT_EQ(Values(y), (V{1, 2, 9, 9}));
  Status s = RunError("Where", {{"c", F32({1}, {1})}, {"x", I64({1}, {1})}, {"y", I64({1}, {2})}});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(s.message(), "condition")) << s.message();
}

}  // namespace
}  // namespace deepx
