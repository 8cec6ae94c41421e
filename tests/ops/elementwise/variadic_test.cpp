#include <gtest/gtest.h>

#include <cmath>

#include "ew_test_util.h"

namespace deepx {
namespace {

using ew_test::Contains;
using ew_test::F32;
using ew_test::I32;
using ew_test::Run1;
using ew_test::RunError;
using ew_test::Values;
using V = std::vector<double>;

TEST(Variadic, ThreeInputsWithBroadcast) {
  std::vector<testing::InputSpec> in = {
      {"a", F32({2, 2}, {1, 5, 3, 0})}, {"b", F32({2}, {2, 2})}, {"c", F32({}, {4})}};
  EXPECT_EQ(Values(Run1("Sum", in)), (V{7, 11, 9, 6}));
  EXPECT_EQ(Values(Run1("Max", in)), (V{4, 5, 4, 4}));
  EXPECT_EQ(Values(Run1("Min", in)), (V{1, 2, 2, 0}));
  EXPECT_EQ(Values(Run1("Mean", in)), (V{7.0f / 3, 11.0f / 3, 3, 2}));
}

TEST(Variadic, OneInputIsACopy) {
  EXPECT_EQ(Values(Run1("Max", {{"a", F32({3}, {1, -2, 3})}})), (V{1, -2, 3}));
}

TEST(Variadic, IntegerMaxMin) {
  std::vector<testing::InputSpec> in = {{"a", I32({3}, {1, -5, 7})}, {"b", I32({3}, {2, -6, 7})}};
  EXPECT_EQ(Values(Run1("Max", in)), (V{2, -5, 7}));
  EXPECT_EQ(Values(Run1("Min", in)), (V{1, -6, 7}));
  EXPECT_EQ(Values(Run1("Sum", in)), (V{3, -11, 14}));
}

TEST(Variadic, MaxPropagatesNaN) {
  Tensor y = Run1("Max", {{"a", F32({2}, {NAN, 1})}, {"b", F32({2}, {0, NAN})}});
  EXPECT_TRUE(std::isnan(y.data<float>()[0]));
  EXPECT_TRUE(std::isnan(y.data<float>()[1]));
}

TEST(Variadic, MalformedInputs) {
  Status s = RunError("Sum", {{"a", F32({2}, {1, 2})}, {"b", I32({2}, {1, 2})}});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(s.message(), "same dtype")) << s.message();
  s = RunError("Max", {{"a", F32({2}, {1, 2})}, {"b", F32({3}, {1, 2, 3})}});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(s.message(), "broadcast")) << s.message();
  s = RunError("Mean", {{"a", I32({1}, {1})}});
  EXPECT_EQ(s.code(), StatusCode::kUnimplemented);
}

}  // namespace
}  // namespace deepx
