// Concat and Split: joining and cutting along one axis.
#include <gtest/gtest.h>

#include "tensor_test_helpers.h"

namespace deepx::testing {
namespace {

Attributes Axis(int64_t axis) {
  Attributes a;
  a.set("axis", axis);
  return a;
}

TEST(Concat, Axis1Of2D) {
  // [[0 1] [2 3]] ++ [[10] [11]] along axis 1 -> [[0 1 10] [2 3 11]].
  auto r = RunReferenceOp("Concat", {In("a", Iota({2, 2})), In("b", F32({2, 1}, {10, 11}))}, Axis(-1));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)[0].shape(), (Shape{2, 3}));
  EXPECT_EQ(Values((*r)[0]), (std::vector<double>{0, 1, 10, 2, 3, 11}));
}

TEST(Concat, Axis0OfInt64WithEmptyInput) {
  auto r = RunReferenceOp("Concat", {In("a", I64({2}, {1, 2})), In("e", I64({0}, {})), In("b", I64({1}, {3}))},
                          Axis(0));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)[0].ToInt64Vector(), (std::vector<int64_t>{1, 2, 3}));
}

TEST(Concat, Errors) {
  ExpectError(RunReferenceOp("Concat", {In("a", Iota({2, 2})), In("b", Iota({3, 1}))}, Axis(1)),
              StatusCode::kInvalidArgument, "does not match input 0's [2, 2]");
  ExpectError(RunReferenceOp("Concat", {In("a", Iota({2})), In("b", I64({2}, {1, 2}))}, Axis(0)),
              StatusCode::kInvalidArgument, "has type int64");
  ExpectError(RunReferenceOp("Concat", {In("a", Iota({2}))}, Axis(1)), StatusCode::kInvalidArgument,
              "out of range");
  ExpectError(RunReferenceOp("Concat", {In("a", Iota({2}))}), StatusCode::kInvalidArgument, "'axis' is required");
}

TEST(Split, EqualPartsDefault) {
  auto r = RunReferenceOp("Split", {In("x", Iota({2, 4}))}, Axis(1), 2);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Values((*r)[0]), (std::vector<double>{0, 1, 4, 5}));
  EXPECT_EQ(Values((*r)[1]), (std::vector<double>{2, 3, 6, 7}));
}

TEST(Split, SizesAsAttributeBefore13AndInputFrom13) {
  Attributes old_attrs;
  old_attrs.set("split", std::vector<int64_t>{1, 3});
  auto a = RunReferenceOp("Split", {In("x", Iota({4}))}, old_attrs, 2, 11);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(Values((*a)[0]), (std::vector<double>{0}));
  EXPECT_EQ(Values((*a)[1]), (std::vector<double>{1, 2, 3}));

  auto b = RunReferenceOp("Split", {In("x", Iota({4})), Const("s", I64({3}, {2, 0, 2}))}, {}, 3);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(Values((*b)[0]), (std::vector<double>{0, 1}));
  EXPECT_EQ((*b)[1].shape(), (Shape{0}));
  EXPECT_EQ(Values((*b)[2]), (std::vector<double>{2, 3}));
}

TEST(Split, Opset18NumOutputsUnevenLastChunk) {
  Attributes attrs;
  attrs.set("num_outputs", int64_t{3});
  auto r = RunReferenceOp("Split", {In("x", Iota({7}))}, attrs, 3, 18);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Values((*r)[0]), (std::vector<double>{0, 1, 2}));
  EXPECT_EQ(Values((*r)[1]), (std::vector<double>{3, 4, 5}));
  EXPECT_EQ(Values((*r)[2]), (std::vector<double>{6}));
}

TEST(Split, Errors) {
  ExpectError(RunReferenceOp("Split", {In("x", Iota({5}))}, {}, 2), StatusCode::kInvalidArgument,
              "cannot be split into 2 equal parts");
  ExpectError(RunReferenceOp("Split", {In("x", Iota({4})), Const("s", I64({2}, {1, 2}))}, {}, 2),
              StatusCode::kInvalidArgument, "sums to 3 but the split dimension is 4");
  ExpectError(RunReferenceOp("Split", {In("x", Iota({4})), Const("s", I64({1}, {4}))}, {}, 2),
              StatusCode::kInvalidArgument, "split has 1 entries but the node has 2 outputs");
  ExpectError(RunReferenceOp("Split", {In("x", Iota({4})), In("s", I64({2}, {2, 2}))}, {}, 2),
              StatusCode::kUnimplemented, "must be a constant");
}

}  // namespace
}  // namespace deepx::testing
