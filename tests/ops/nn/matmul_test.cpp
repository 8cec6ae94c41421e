#include <gtest/gtest.h>

#include "nn_test_util.h"

namespace deepx {
namespace {

using nn_test::ExpectError;
using nn_test::ExpectTensor;
using nn_test::In;
using nn_test::RunOp;

TEST(MatMul, VectorDotVectorIsScalar) {
  ExpectTensor(RunOp("MatMul", {In("a", {3}, {1, 2, 3}), In("b", {3}, {4, 5, 6})}), {}, {32});
}

TEST(MatMul, MatrixTimesVectorAndVectorTimesMatrix) {
  ExpectTensor(RunOp("MatMul", {In("a", {2, 2}, {1, 2, 3, 4}), In("b", {2}, {1, 1})}), {2}, {3, 7});
  ExpectTensor(RunOp("MatMul", {In("a", {2}, {1, 1}), In("b", {2, 2}, {1, 2, 3, 4})}), {2}, {4, 6});
}

TEST(MatMul, BatchBroadcast) {
  // A [1,2] is shared by both matrices of B [2,2,1]: [1,2].[1,1] = 3, [1,2].[2,0] = 2.
  ExpectTensor(RunOp("MatMul", {In("a", {1, 2}, {1, 2}), In("b", {2, 2, 1}, {1, 1, 2, 0})}), {2, 1, 1}, {3, 2});
  // Batch dims [2,1] and [3] broadcast to [2,3].
  Tensor y = RunOp("MatMul", {In("a", {2, 1, 1, 1}, {1, 10}), In("b", {3, 1, 1}, {1, 2, 3})});
  ExpectTensor(y, {2, 3, 1, 1}, {1, 2, 3, 10, 20, 30});
}

TEST(MatMul, RejectsMalformedNodes) {
  ExpectError("MatMul", {In("a", {2, 3}, std::vector<float>(6, 1)), In("b", {2, 3}, std::vector<float>(6, 1))}, {},
              StatusCode::kInvalidArgument, "inner dims differ");
  ExpectError("MatMul", {In("a", {}, {1}), In("b", {1}, {1})}, {}, StatusCode::kInvalidArgument, "rank >= 1");
  ExpectError("MatMul", {In("a", {2, 1, 1}, {1, 2}), In("b", {3, 1, 1}, {1, 2, 3})}, {},
              StatusCode::kInvalidArgument, "batch dims do not broadcast");
}

TEST(MatMul, Cost) {
  OpCost c = nn_test::CostOf("MatMul", {In("a", {2, 3}, std::vector<float>(6, 1)),
                                        In("b", {3, 4}, std::vector<float>(12, 1))}, {});
  EXPECT_EQ(c.flops, 2 * 2 * 4 * 3);
}

}  // namespace
}  // namespace deepx
