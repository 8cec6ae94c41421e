// Flatten, Reshape, Squeeze and Unsqueeze: shape changes that keep the element order.
#include <gtest/gtest.h>

#include "tensor_test_helpers.h"

namespace deepx::testing {
namespace {

Attributes With(const std::string& name, AttributeValue v) {
  Attributes a;
  a.set(name, std::move(v));
  return a;
}

TEST(Flatten, AxisVariants) {
  struct Case { int64_t axis; Shape want; };
  for (const Case& c : {Case{0, {1, 24}}, Case{1, {2, 12}}, Case{2, {6, 4}}, Case{3, {24, 1}}, Case{-1, {6, 4}},
                        Case{-2, {2, 12}}, Case{-3, {1, 24}}}) {
    auto r = RunReferenceOp("Flatten", {In("x", Iota({2, 3, 4}))}, With("axis", c.axis));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ((*r)[0].shape(), c.want) << "axis " << c.axis;
    EXPECT_EQ(Values((*r)[0]), Values(Iota({24})));
  }
  auto r = RunReferenceOp("Flatten", {In("x", Iota({2, 3, 4}))});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].shape(), (Shape{2, 12}));
}

TEST(Flatten, RejectsAxisOutOfRange) {
  ExpectError(RunReferenceOp("Flatten", {In("x", Iota({2, 3}))}, With("axis", int64_t{3})),
              StatusCode::kInvalidArgument, "axis 3 is out of range");
}

TEST(Reshape, ZeroCopiesAndMinusOneInfers) {
  auto r = RunReferenceOp("Reshape", {In("x", Iota({2, 3, 4})), Const("s", I64({3}, {0, -1, 2}))});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)[0].shape(), (Shape{2, 6, 2}));
  EXPECT_EQ(Values((*r)[0]), Values(Iota({24})));
}

TEST(Reshape, AllowZeroKeepsEmptyDimension) {
  auto r = RunReferenceOp("Reshape", {In("x", Tensor::Zeros(DataType::kFloat32, {0, 3})),
                                      Const("s", I64({2}, {3, 0}))}, With("allowzero", int64_t{1}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)[0].shape(), (Shape{3, 0}));
}

TEST(Reshape, WorksOnInt64Data) {
  auto r = RunReferenceOp("Reshape", {In("x", I64({4}, {7, 8, 9, 10})), Const("s", I64({2}, {2, 2}))});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].dtype(), DataType::kInt64);
  EXPECT_EQ((*r)[0].ToInt64Vector(), (std::vector<int64_t>{7, 8, 9, 10}));
}

TEST(Reshape, Errors) {
  ExpectError(RunReferenceOp("Reshape", {In("x", Iota({2, 3})), Const("s", I64({2}, {4, 2}))}),
              StatusCode::kInvalidArgument, "cannot reshape [2, 3] (6 elements) to [4, 2] (8 elements)");
  ExpectError(RunReferenceOp("Reshape", {In("x", Iota({2, 3})), Const("s", I64({2}, {-1, -1}))}),
              StatusCode::kInvalidArgument, "more than one -1");
  ExpectError(RunReferenceOp("Reshape", {In("x", Iota({2, 3})), Const("s", I64({2}, {-2, 3}))}),
              StatusCode::kInvalidArgument, "invalid dimension -2");
  ExpectError(RunReferenceOp("Reshape", {In("x", Iota({6})), Const("s", I64({2}, {3, 0}))}),
              StatusCode::kInvalidArgument, "no dimension there to copy");
  ExpectError(RunReferenceOp("Reshape", {In("x", Iota({2, 3})), In("s", I64({2}, {3, 2}))}),
              StatusCode::kUnimplemented, "must be a constant");
}

TEST(Squeeze, AxesAttributeBeforeOpset13AndInputAfter) {
  auto old_style = RunReferenceOp("Squeeze", {In("x", Iota({1, 3, 1, 2}))}, With("axes", std::vector<int64_t>{0}),
                                  1, 11);
  ASSERT_TRUE(old_style.ok()) << old_style.status().ToString();
  EXPECT_EQ((*old_style)[0].shape(), (Shape{3, 1, 2}));
  auto new_style = RunReferenceOp("Squeeze", {In("x", Iota({1, 3, 1, 2})), Const("a", I64({1}, {-2}))});
  ASSERT_TRUE(new_style.ok()) << new_style.status().ToString();
  EXPECT_EQ((*new_style)[0].shape(), (Shape{1, 3, 2}));
  EXPECT_EQ(Values((*new_style)[0]), Values(Iota({6})));
  auto all = RunReferenceOp("Squeeze", {In("x", Iota({1, 3, 1, 2}))});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ((*all)[0].shape(), (Shape{3, 2}));
}

TEST(Squeeze, Errors) {
  ExpectError(RunReferenceOp("Squeeze", {In("x", Iota({1, 3})), Const("a", I64({1}, {1}))}),
              StatusCode::kInvalidArgument, "its size is not 1");
  ExpectError(RunReferenceOp("Squeeze", {In("x", Iota({1, 3})), Const("a", I64({2}, {0, -2}))}),
              StatusCode::kInvalidArgument, "more than once");
  ExpectError(RunReferenceOp("Squeeze", {In("x", Iota({1, 3})), Const("a", I64({1}, {2}))}),
              StatusCode::kInvalidArgument, "out of range");
  ExpectError(RunReferenceOp("Squeeze", {In("x", Iota({1, 3}))}, With("axes", std::vector<int64_t>{0})),
              StatusCode::kInvalidArgument, "input from opset 13");
}

TEST(Unsqueeze, AxesIndexTheOutput) {
  auto r = RunReferenceOp("Unsqueeze", {In("x", Iota({3, 4})), Const("a", I64({3}, {4, 0, -3}))});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  // Output rank 5, so -3 is axis 2; unsorted axes are fine.
  EXPECT_EQ((*r)[0].shape(), (Shape{1, 3, 1, 4, 1}));
}

TEST(Unsqueeze, OpsetVariantsAndErrors) {
  auto old_style = RunReferenceOp("Unsqueeze", {In("x", Iota({3}))}, With("axes", std::vector<int64_t>{1}), 1, 11);
  ASSERT_TRUE(old_style.ok()) << old_style.status().ToString();
  EXPECT_EQ((*old_style)[0].shape(), (Shape{3, 1}));
  ExpectError(RunReferenceOp("Unsqueeze", {In("x", Iota({3})), Const("a", I64({2}, {0, 0}))}),
              StatusCode::kInvalidArgument, "more than once");
  ExpectError(RunReferenceOp("Unsqueeze", {In("x", Iota({3})), Const("a", I64({1}, {2}))}),
              StatusCode::kInvalidArgument, "out of range for rank 2");
  ExpectError(RunReferenceOp("Unsqueeze", {In("x", Iota({3}))}), StatusCode::kInvalidArgument, "required");
}

}  // namespace
}  // namespace deepx::testing
