#include <gtest/gtest.h>

#include <limits>

#include "tensor_test_helpers.h"

namespace deepx::testing {
namespace {

// x[r][c] = 10 r + c for a 3 x 5 grid.
Tensor Grid() {
  std::vector<float> v;
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 5; ++c) v.push_back(static_cast<float>(10 * r + c));
  return F32({3, 5}, v);
}

Result<std::vector<Tensor>> SliceOp(std::vector<int64_t> starts, std::vector<int64_t> ends,
                                    std::vector<int64_t> axes = {}, std::vector<int64_t> steps = {}) {
  auto vec = [](const std::vector<int64_t>& v) { return I64({static_cast<int64_t>(v.size())}, v); };
  std::vector<InputSpec> inputs = {In("x", Grid()), Const("s", vec(starts)), Const("e", vec(ends))};
  if (!axes.empty()) inputs.push_back(Const("a", vec(axes)));
  if (!steps.empty()) {
    if (axes.empty()) inputs.push_back(Omitted());
    inputs.push_back(Const("st", vec(steps)));
  }
  return RunReferenceOp("Slice", inputs);
}

TEST(Slice, BasicRangeOnBothAxes) {
  auto r = SliceOp({1, 1}, {3, 4});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)[0].shape(), (Shape{2, 3}));
  EXPECT_EQ(Values((*r)[0]), (std::vector<double>{11, 12, 13, 21, 22, 23}));
}

TEST(Slice, NegativeAxesStartsAndClampedEnds) {
  const int64_t big = std::numeric_limits<int64_t>::max();
  auto r = SliceOp({-2}, {big}, {-1});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Values((*r)[0]), (std::vector<double>{3, 4, 13, 14, 23, 24}));
  // A start past the end gives an empty axis.
  auto e = SliceOp({7}, {9}, {1});
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ((*e)[0].shape(), (Shape{3, 0}));
}

TEST(Slice, NegativeStepsWalkBackwards) {
  // Columns from 4 down to (not including) 0, every second: 4, 2.
  auto r = SliceOp({4}, {0}, {1}, {-2});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Values((*r)[0]), (std::vector<double>{4, 2, 14, 12, 24, 22}));
  // Reversing a whole axis uses end = INT64_MIN, clamped to -1.
  auto rev = SliceOp({-1}, {std::numeric_limits<int64_t>::min()}, {0}, {-1});
  ASSERT_TRUE(rev.ok()) << rev.status().ToString();
  EXPECT_EQ((*rev)[0].shape(), (Shape{3, 5}));
  EXPECT_EQ((*rev)[0].GetAsDouble(0), 20);
}

TEST(Slice, AttributesBeforeOpset10) {
  Attributes attrs;
  attrs.set("starts", std::vector<int64_t>{0});
  attrs.set("ends", std::vector<int64_t>{-1});
  attrs.set("axes", std::vector<int64_t>{1});
  auto r = RunReferenceOp("Slice", {In("x", Grid())}, attrs, 1, 9);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)[0].shape(), (Shape{3, 4}));
  EXPECT_EQ((*r)[0].GetAsDouble(4), 10);
}

TEST(Slice, Errors) {
  ExpectError(SliceOp({0}, {1}, {0}, {0}), StatusCode::kInvalidArgument, "steps[0] is 0");
  ExpectError(SliceOp({0, 0}, {1}), StatusCode::kInvalidArgument, "starts has 2 values but ends has 1");
  ExpectError(SliceOp({0, 0}, {1, 1}, {1, -1}), StatusCode::kInvalidArgument, "more than once");
  ExpectError(SliceOp({0}, {1}, {2}), StatusCode::kInvalidArgument, "out of range");
  ExpectError(RunReferenceOp("Slice", {In("x", Grid()), In("s", I64({1}, {0})), Const("e", I64({1}, {1}))}),
              StatusCode::kUnimplemented, "must be a constant");
}

}  // namespace
}  // namespace deepx::testing
