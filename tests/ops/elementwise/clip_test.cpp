#include <gtest/gtest.h>

#include <cmath>

#include "ew_test_util.h"

namespace deepx {
namespace {

using ew_test::Contains;
using ew_test::F32;
using ew_test::I64;
using ew_test::Run1;
using ew_test::RunError;
using ew_test::Values;
using V = std::vector<double>;

TEST(Clip, InputsFromOpset11) {
  auto x = F32({5}, {-3, -1, 0, 1, 3});
  EXPECT_EQ(Values(Run1("Clip", {{"x", x}, {"min", F32({}, {-1})}, {"max", F32({}, {2})}}, {}, 13)),
            (V{-1, -1, 0, 1, 2}));
  // Only max given (min omitted in the middle).
  EXPECT_EQ(Values(Run1("Clip", {{"x", x}, {"", Tensor()}, {"max", F32({}, {0})}}, {}, 13)), (V{-3, -1, 0, 0, 0}));
  // Only min given.
  EXPECT_EQ(Values(Run1("Clip", {{"x", x}, {"min", F32({1}, {0})}}, {}, 12)), (V{0, 0, 0, 1, 3}));
  // No bounds: identity.
  EXPECT_EQ(Values(Run1("Clip", {{"x", x}}, {}, 13)), (V{-3, -1, 0, 1, 3}));
  // min > max: everything becomes max.
  EXPECT_EQ(Values(Run1("Clip", {{"x", x}, {"min", F32({}, {2})}, {"max", F32({}, {1})}}, {}, 13)),
            (V{1, 1, 1, 1, 1}));
}

TEST(Clip, IntegerInput) {
  Tensor y = Run1("Clip", {{"x", I64({3}, {-9, 5, 9})}, {"min", I64({}, {-2})}, {"max", I64({}, {6})}}, {}, 13);
  EXPECT_EQ(y.dtype(), DataType::kInt64);
  EXPECT_EQ(Values(y), (V{-2, 5, 6}));
}

TEST(Clip, AttributesBeforeOpset11) {
  Attributes a;
  a.set("min", -1.0f);
  a.set("max", 1.5f);
  EXPECT_EQ(Values(Run1("Clip", {{"x", F32({3}, {-3, 0.5, 3})}}, a, 6)), (V{-1, 0.5, 1.5}));
  Attributes only_max;
  only_max.set("max", 0.0f);
  EXPECT_EQ(Values(Run1("Clip", {{"x", F32({2}, {-3, 3})}}, only_max, 6)), (V{-3, 0}));
}

TEST(Clip, NaNStaysNaN) {
  Tensor y = Run1("Clip", {{"x", F32({1}, {NAN})}, {"min", F32({}, {0})}, {"max", F32({}, {1})}}, {}, 13);
  EXPECT_TRUE(std::isnan(y.data<float>()[0]));
}

TEST(Clip, MalformedNodes) {
  Status s = RunError("Clip", {{"x", F32({2}, {1, 2})}, {"min", F32({2}, {0, 0})}}, {}, 13);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(s.message(), "scalar")) << s.message();
  s = RunError("Clip", {{"x", F32({2}, {1, 2})}, {"min", I64({}, {0})}}, {}, 13);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(s.message(), "dtype")) << s.message();
  Attributes a;
  a.set("min", 0.0f);
  s = RunError("Clip", {{"x", F32({2}, {1, 2})}}, a, 13);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(s.message(), "attribute")) << s.message();
}

}  // namespace
}  // namespace deepx
