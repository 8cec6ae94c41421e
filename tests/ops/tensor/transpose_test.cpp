#include <gtest/gtest.h>

#include "tensor_test_helpers.h"

namespace deepx::testing {
namespace {

TEST(Transpose, DefaultReversesAxes) {
  // [[0 1 2] [3 4 5]] transposed is [[0 3] [1 4] [2 5]].
  auto r = RunReferenceOp("Transpose", {In("x", Iota({2, 3}))});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)[0].shape(), (Shape{3, 2}));
  EXPECT_EQ(Values((*r)[0]), (std::vector<double>{0, 3, 1, 4, 2, 5}));
}

TEST(Transpose, PermOn3D) {
  // x[a][b][c] = 6a + 3b + c with shape [2, 2, 3]; perm {1, 2, 0} gives y[b][c][a] = x[a][b][c].
  Attributes attrs;
  attrs.set("perm", std::vector<int64_t>{1, 2, 0});
  auto r = RunReferenceOp("Transpose", {In("x", Iota({2, 2, 3}))}, attrs);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)[0].shape(), (Shape{2, 3, 2}));
  std::vector<double> want;
  for (int b = 0; b < 2; ++b)
    for (int c = 0; c < 3; ++c)
      for (int a = 0; a < 2; ++a) want.push_back(6 * a + 3 * b + c);
  EXPECT_EQ(Values((*r)[0]), want);
}

TEST(Transpose, CopiesBytesOfAnyType) {
  auto r = RunReferenceOp("Transpose", {In("x", U8({2, 2}, {1, 2, 3, 4}))});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Values((*r)[0]), (std::vector<double>{1, 3, 2, 4}));
}

TEST(Transpose, RejectsBadPerm) {
  Attributes attrs;
  attrs.set("perm", std::vector<int64_t>{0, 0});
  ExpectError(RunReferenceOp("Transpose", {In("x", Iota({2, 3}))}, attrs), StatusCode::kInvalidArgument,
              "not a permutation");
  attrs.set("perm", std::vector<int64_t>{0});
  ExpectError(RunReferenceOp("Transpose", {In("x", Iota({2, 3}))}, attrs), StatusCode::kInvalidArgument,
              "perm has 1 entries");
}

}  // namespace
}  // namespace deepx::testing
