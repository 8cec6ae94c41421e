// Reductions and ArgMax/ArgMin on a small hand-checked tensor.
#include <gtest/gtest.h>

#include <cmath>

#include "ew_test_util.h"

namespace deepx {
namespace {

using ew_test::Contains;
using ew_test::ExpectNear;
using ew_test::F32;
using ew_test::I32;
using ew_test::I64;
using ew_test::Run1;
using ew_test::RunError;
using ew_test::Values;
using V = std::vector<double>;

// [[1, 2, 3],
//  [4, 5, 6]]
Tensor X() { return F32({2, 3}, {1, 2, 3, 4, 5, 6}); }

Attributes Axes(std::vector<int64_t> axes, int64_t keepdims = 1) {
  Attributes a;
  a.set("axes", std::move(axes));
  a.set("keepdims", keepdims);
  return a;
}

TEST(Reduce, AxesAttributeAndKeepdims) {
  Tensor y = Run1("ReduceMean", {{"x", X()}}, Axes({1}), 13);
  EXPECT_EQ(y.shape(), (Shape{2, 1}));
  EXPECT_EQ(Values(y), (V{2, 5}));
  y = Run1("ReduceMax", {{"x", X()}}, Axes({0}, 0), 13);
  EXPECT_EQ(y.shape(), (Shape{3}));
  EXPECT_EQ(Values(y), (V{4, 5, 6}));
  // Negative axes count from the end.
  y = Run1("ReduceMin", {{"x", X()}}, Axes({-1}, 0), 13);
  EXPECT_EQ(Values(y), (V{1, 4}));
}

TEST(Reduce, DefaultAxesReduceEverything) {
  Tensor y = Run1("ReduceSum", {{"x", X()}}, {}, 11);
  EXPECT_EQ(y.shape(), (Shape{1, 1}));
  EXPECT_EQ(Values(y), (V{21}));
  y = Run1("ReduceProd", {{"x", X()}}, Axes({}, 0), 13);
  EXPECT_EQ(y.shape(), (Shape{}));
  EXPECT_EQ(Values(y), (V{720}));
}

TEST(Reduce, EveryKindAlongAxis1) {
  auto x = F32({2, 2}, {1, -2, 3, 4});
  auto run = [&](const char* op) { return Values(Run1(op, {{"x", x}}, Axes({1}, 0), 11)); };
  EXPECT_EQ(run("ReduceSum"), (V{-1, 7}));
  EXPECT_EQ(run("ReduceL1"), (V{3, 7}));
  EXPECT_EQ(run("ReduceSumSquare"), (V{5, 25}));
  ExpectNear(run("ReduceL2"), {std::sqrt(5.0), 5});
  ExpectNear(Values(Run1("ReduceLogSum", {{"x", F32({2}, {1, 2})}}, Axes({0}), 13)), {std::log(3.0)});
  ExpectNear(run("ReduceLogSumExp"),
             {std::log(std::exp(1.0) + std::exp(-2.0)), std::log(std::exp(3.0) + std::exp(4.0))});
  // Stable for large values: log(e^1000 + e^1000) = 1000 + log 2.
  ExpectNear(Values(Run1("ReduceLogSumExp", {{"x", F32({2}, {1000, 1000})}}, Axes({0}), 13)),
             {1000 + std::log(2.0)}, 1e-3);
}

TEST(Reduce, AxesAsConstantInput) {
  // ReduceSum takes axes as input 1 from opset 13, the others from 18.
  Tensor y = Run1("ReduceSum", {{"x", X()}, {"axes", I64({1}, {0}), true}}, {}, 13);
  EXPECT_EQ(y.shape(), (Shape{1, 3}));
  EXPECT_EQ(Values(y), (V{5, 7, 9}));
  y = Run1("ReduceMax", {{"x", X()}, {"axes", I64({1}, {1}), true}}, {}, 18);
  EXPECT_EQ(Values(y), (V{3, 6}));
}

TEST(Reduce, NoopWithEmptyAxes) {
  Attributes a;
  a.set("noop_with_empty_axes", int64_t{1});
  Tensor y = Run1("ReduceSum", {{"x", X()}, {"axes", I64({0}, {}), true}}, a, 13);
  EXPECT_EQ(y.shape(), (Shape{2, 3}));
  EXPECT_EQ(Values(y), (V{1, 2, 3, 4, 5, 6}));
}

TEST(Reduce, IntegerInput) {
  Tensor y = Run1("ReduceSum", {{"x", I64({2, 2}, {1, 2, 3, 4})}}, Axes({0}, 0), 11);
  EXPECT_EQ(y.dtype(), DataType::kInt64);
  EXPECT_EQ(Values(y), (V{4, 6}));
  EXPECT_EQ(Values(Run1("ReduceMax", {{"x", I32({3}, {-5, 7, 2})}}, Axes({0}), 13)), (V{7}));
}

TEST(Reduce, EmptyReductionSet) {
  // Reducing a zero-length axis gives each op's identity.
  Tensor empty = F32({2, 0}, {});
  EXPECT_EQ(Values(Run1("ReduceSum", {{"x", empty}}, Axes({1}), 11)), (V{0, 0}));
  EXPECT_EQ(Values(Run1("ReduceProd", {{"x", empty}}, Axes({1}), 13)), (V{1, 1}));
  EXPECT_EQ(Values(Run1("ReduceMax", {{"x", empty}}, Axes({1}), 13)), (V{-INFINITY, -INFINITY}));
}

TEST(Reduce, MalformedNodes) {
  Status s = RunError("ReduceMean", {{"x", X()}}, Axes({2}), 13);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(s.message(), "out of range")) << s.message();
  s = RunError("ReduceMean", {{"x", X()}}, Axes({1, -1}), 13);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(s.message(), "more than once")) << s.message();
  s = RunError("ReduceSum", {{"x", X()}, {"axes", I64({1}, {0})}}, {}, 13);
  EXPECT_EQ(s.code(), StatusCode::kUnimplemented);
  EXPECT_TRUE(Contains(s.message(), "non-constant")) << s.message();
  s = RunError("ReduceSum", {{"x", X()}}, Axes({0}), 13);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(s.message(), "input 1")) << s.message();
  Attributes k;
  k.set("keepdims", int64_t{5});
  s = RunError("ReduceMean", {{"x", X()}}, k, 13);
  EXPECT_TRUE(Contains(s.message(), "keepdims")) << s.message();
  s = RunError("ReduceL2", {{"x", I64({1}, {1})}}, {}, 13);
  EXPECT_EQ(s.code(), StatusCode::kUnimplemented);
}

TEST(ArgMaxMin, AxisKeepdimsAndTies) {
  auto x = F32({2, 3}, {1, 3, 3, 2, 0, 2});
  Attributes a;
  a.set("axis", int64_t{1});
  Tensor y = Run1("ArgMax", {{"x", x}}, a, 13);
  EXPECT_EQ(y.dtype(), DataType::kInt64);
  EXPECT_EQ(y.shape(), (Shape{2, 1}));
  EXPECT_EQ(Values(y), (V{1, 0}));
  a.set("select_last_index", int64_t{1});
  EXPECT_EQ(Values(Run1("ArgMax", {{"x", x}}, a, 13)), (V{2, 2}));
  EXPECT_EQ(Values(Run1("ArgMin", {{"x", x}}, a, 13)), (V{0, 1}));
  Attributes b;
  b.set("axis", int64_t{-2});
  b.set("keepdims", int64_t{0});
  y = Run1("ArgMin", {{"x", x}}, b, 13);
  EXPECT_EQ(y.shape(), (Shape{3}));
  EXPECT_EQ(Values(y), (V{0, 1, 1}));
  // Default axis 0.
  EXPECT_EQ(Values(Run1("ArgMax", {{"x", x}}, {}, 13)), (V{1, 0, 0}));
}

TEST(ArgMaxMin, MalformedNodes) {
  Attributes a;
  a.set("axis", int64_t{2});
  Status s = RunError("ArgMax", {{"x", X()}}, a, 13);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(s.message(), "axis")) << s.message();
  Attributes b;
  b.set("axis", int64_t{1});
  s = RunError("ArgMin", {{"x", F32({2, 0}, {})}}, b, 13);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(s.message(), "size 0")) << s.message();
}

}  // namespace
}  // namespace deepx
