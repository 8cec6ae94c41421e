// Expand and Tile: ops that repeat the input.
#include <gtest/gtest.h>

#include "tensor_test_helpers.h"

namespace deepx::testing {
namespace {

TEST(Expand, BroadcastsBothWays) {
  // [[1] [2] [3]] expanded to [2, 1, 2]: the result is [2, 3, 2] (a 1 in shape keeps the input's 3).
  auto r = RunReferenceOp("Expand", {In("x", F32({3, 1}, {1, 2, 3})), Const("s", I64({3}, {2, 1, 2}))});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)[0].shape(), (Shape{2, 3, 2}));
  EXPECT_EQ(Values((*r)[0]), (std::vector<double>{1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3}));

  auto same = RunReferenceOp("Expand", {In("x", I64({3, 1}, {1, 2, 3})), Const("s", I64({1}, {1}))});
  ASSERT_TRUE(same.ok()) << same.status().ToString();
  EXPECT_EQ((*same)[0].shape(), (Shape{3, 1}));
  EXPECT_EQ((*same)[0].ToInt64Vector(), (std::vector<int64_t>{1, 2, 3}));
}

TEST(Expand, Errors) {
  ExpectError(RunReferenceOp("Expand", {In("x", Iota({3})), Const("s", I64({1}, {2}))}),
              StatusCode::kInvalidArgument, "cannot broadcast input [3] to shape [2]");
  ExpectError(RunReferenceOp("Expand", {In("x", Iota({3})), In("s", I64({1}, {3}))}), StatusCode::kUnimplemented,
              "must be a constant");
}

TEST(Tile, RepeatsEachAxis) {
  Tensor x = F32({2, 2}, {1, 2, 3, 4});
  auto cols = RunReferenceOp("Tile", {In("x", x), Const("r", I64({2}, {1, 2}))});
  ASSERT_TRUE(cols.ok()) << cols.status().ToString();
  EXPECT_EQ((*cols)[0].shape(), (Shape{2, 4}));
  EXPECT_EQ(Values((*cols)[0]), (std::vector<double>{1, 2, 1, 2, 3, 4, 3, 4}));
  auto rows = RunReferenceOp("Tile", {In("x", x), Const("r", I64({2}, {2, 1}))});
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(Values((*rows)[0]), (std::vector<double>{1, 2, 3, 4, 1, 2, 3, 4}));
}

TEST(Tile, Errors) {
  ExpectError(RunReferenceOp("Tile", {In("x", Iota({2, 2})), Const("r", I64({1}, {2}))}),
              StatusCode::kInvalidArgument, "repeats has 1 values but the input has rank 2");
  ExpectError(RunReferenceOp("Tile", {In("x", Iota({2})), Const("r", I64({1}, {-1}))}),
              StatusCode::kInvalidArgument, "negative");
}

}  // namespace
}  // namespace deepx::testing
