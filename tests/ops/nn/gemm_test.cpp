#include <gtest/gtest.h>

#include "nn_test_util.h"
#include "ops/fused_activation.h"

namespace deepx {
namespace {

using nn_test::Attrs;
using nn_test::ExpectError;
using nn_test::ExpectTensor;
using nn_test::In;
using nn_test::RunOp;

// A = [[1,2,3],[4,5,6]], B = [[1,0],[0,1],[1,1]]: A*B = [[4,5],[10,11]].
testing::InputSpec A() { return In("a", {2, 3}, {1, 2, 3, 4, 5, 6}); }
testing::InputSpec B() { return In("b", {3, 2}, {1, 0, 0, 1, 1, 1}); }

TEST(Gemm, PlainProduct) { ExpectTensor(RunOp("Gemm", {A(), B()}), {2, 2}, {4, 5, 10, 11}); }

TEST(Gemm, AlphaBetaAndRowVectorBias) {
  Tensor y = RunOp("Gemm", {A(), B(), In("c", {2}, {1, 2})}, Attrs({{"alpha", 2.0f}, {"beta", 0.5f}}));
  ExpectTensor(y, {2, 2}, {8.5f, 11, 20.5f, 23});
}

TEST(Gemm, ColumnAndScalarBiasBroadcast) {
  ExpectTensor(RunOp("Gemm", {A(), B(), In("c", {2, 1}, {1, 2})}), {2, 2}, {5, 6, 12, 13});
  ExpectTensor(RunOp("Gemm", {A(), B(), In("c", {}, {-4})}), {2, 2}, {0, 1, 6, 7});
}

TEST(Gemm, Transposes) {
  // The same product with A and B stored transposed.
  Tensor y = RunOp("Gemm", {In("a", {3, 2}, {1, 4, 2, 5, 3, 6}), In("b", {2, 3}, {1, 0, 1, 0, 1, 1})},
                 Attrs({{"transA", int64_t{1}}, {"transB", int64_t{1}}}));
  ExpectTensor(y, {2, 2}, {4, 5, 10, 11});
}

TEST(Gemm, FusedActivation) {
  Attributes attrs;
  SetFusedActivation(attrs, {"Clip", {0, 6}});
  ExpectTensor(RunOp("Gemm", {A(), B()}, attrs), {2, 2}, {4, 5, 6, 6});
}

TEST(Gemm, RejectsMalformedNodes) {
  ExpectError("Gemm", {A(), A()}, {}, StatusCode::kInvalidArgument, "inner dims differ");
  ExpectError("Gemm", {A(), B(), In("c", {3}, {1, 2, 3})}, {}, StatusCode::kInvalidArgument, "cannot broadcast");
  ExpectError("Gemm", {In("a", {6}, {1, 2, 3, 4, 5, 6}), B()}, {}, StatusCode::kInvalidArgument, "A must be 2-D");
}

TEST(Gemm, Cost) {
  OpCost c = nn_test::CostOf("Gemm", {A(), B()}, {});
  EXPECT_EQ(c.flops, 2 * 2 * 2 * 3 + 4);
}

}  // namespace
}  // namespace deepx
