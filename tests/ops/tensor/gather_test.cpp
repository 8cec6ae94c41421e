// Gather and GatherElements.
#include <gtest/gtest.h>

#include "tensor_test_helpers.h"

namespace deepx::testing {
namespace {

Attributes Axis(int64_t axis) {
  Attributes a;
  a.set("axis", axis);
  return a;
}

Tensor Data3x2() { return F32({3, 2}, {1, 2, 3, 4, 5, 6}); }

TEST(Gather, Axis0With2DIndices) {
  auto r = RunReferenceOp("Gather", {In("d", Data3x2()), In("i", I64({2, 2}, {0, 1, 1, 2}))});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)[0].shape(), (Shape{2, 2, 2}));
  EXPECT_EQ(Values((*r)[0]), (std::vector<double>{1, 2, 3, 4, 3, 4, 5, 6}));
}

TEST(Gather, Axis1NegativeInt32Indices) {
  auto r = RunReferenceOp("Gather", {In("d", Data3x2()), In("i", I32({3}, {1, -1, 0}))}, Axis(-1));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)[0].shape(), (Shape{3, 3}));
  EXPECT_EQ(Values((*r)[0]), (std::vector<double>{2, 2, 1, 4, 4, 3, 6, 6, 5}));
}

TEST(Gather, ScalarIndexDropsTheAxisOfInt64Data) {
  auto r = RunReferenceOp("Gather", {In("d", I64({3}, {10, 20, 30})), Const("i", I64({}, {2}))});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)[0].shape(), Shape{});
  EXPECT_EQ((*r)[0].ToInt64Vector(), (std::vector<int64_t>{30}));
}

TEST(Gather, OutOfRangeIndicesAreErrorsInInferAndKernel) {
  // Constant indices are checked by infer.
  ExpectError(RunReferenceOp("Gather", {In("d", Data3x2()), Const("i", I64({1}, {3}))}),
              StatusCode::kInvalidArgument, "index 3 (at position 0) is out of range for an axis of size 3");
  // Run-time indices are only seen by the kernel, which must refuse rather than read out of bounds.
  ExpectError(RunReferenceOp("Gather", {In("d", Data3x2()), In("i", I64({2}, {0, -4}))}),
              StatusCode::kInvalidArgument, "index -4 (at position 1) is out of range");
  ExpectError(RunReferenceOp("Gather", {In("d", Data3x2()), In("i", F32({1}, {0}))}),
              StatusCode::kInvalidArgument, "indices must be int32 or int64");
  ExpectError(RunReferenceOp("Gather", {In("d", Data3x2()), In("i", I64({1}, {0}))}, Axis(2)),
              StatusCode::kInvalidArgument, "axis 2 is out of range");
}

TEST(GatherElements, SpecExamples) {
  auto a = RunReferenceOp("GatherElements", {In("d", F32({2, 2}, {1, 2, 3, 4})), In("i", I64({2, 2}, {0, 0, 1, 0}))},
                          Axis(1));
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(Values((*a)[0]), (std::vector<double>{1, 1, 4, 3}));

  Tensor d = F32({3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  auto b = RunReferenceOp("GatherElements", {In("d", d), In("i", I32({2, 3}, {1, 2, 0, 2, 0, 0}))});
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ((*b)[0].shape(), (Shape{2, 3}));
  EXPECT_EQ(Values((*b)[0]), (std::vector<double>{4, 8, 3, 7, 2, 3}));

  auto c = RunReferenceOp("GatherElements", {In("d", d), In("i", I64({2, 3}, {-1, -2, 0, -2, 0, 0}))});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(Values((*c)[0]), (std::vector<double>{7, 5, 3, 4, 2, 3}));
}

TEST(GatherElements, Errors) {
  Tensor d = F32({2, 2}, {1, 2, 3, 4});
  ExpectError(RunReferenceOp("GatherElements", {In("d", d), In("i", I64({2}, {0, 0}))}),
              StatusCode::kInvalidArgument, "must have the rank of data");
  ExpectError(RunReferenceOp("GatherElements", {In("d", d), In("i", I64({2, 3}, {0, 0, 0, 0, 0, 0}))}),
              StatusCode::kInvalidArgument, "exceed data");
  ExpectError(RunReferenceOp("GatherElements", {In("d", d), In("i", I64({1, 1}, {2}))}),
              StatusCode::kInvalidArgument, "index 2 (at position 0) is out of range");
}

}  // namespace
}  // namespace deepx::testing
