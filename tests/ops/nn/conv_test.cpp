#include <gtest/gtest.h>

#include "nn_test_util.h"
#include "ops/fused_activation.h"

namespace deepx {
namespace {

using nn_test::Attrs;
using nn_test::ExpectError;
using nn_test::ExpectTensor;
using nn_test::In;
using nn_test::Ints;
using nn_test::RunOp;

// X = 1..9 as a 3x3 image.
testing::InputSpec Image3x3() { return In("x", {1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9}); }

TEST(Conv, TwoByTwoOnesKernelWithBias) {
  // Each output is the sum of a 2x2 patch plus 0.5: 1+2+4+5, 2+3+5+6, 4+5+7+8, 5+6+8+9.
  Tensor y = RunOp("Conv", {Image3x3(), In("w", {1, 1, 2, 2}, {1, 1, 1, 1}), In("b", {1}, {0.5f})});
  ExpectTensor(y, {1, 1, 2, 2}, {12.5f, 16.5f, 24.5f, 28.5f});
}

TEST(Conv, PadsAndStrides) {
  // Windows start at -1 and 1 in each dim; padding contributes zeros.
  Tensor y = RunOp("Conv", {Image3x3(), In("w", {1, 1, 2, 2}, {1, 1, 1, 1})},
                 Attrs({{"pads", Ints{1, 1, 1, 1}}, {"strides", Ints{2, 2}}}));
  ExpectTensor(y, {1, 1, 2, 2}, {1, 5, 11, 28});
}

TEST(Conv, DepthwiseGroups) {
  Tensor y = RunOp("Conv", {In("x", {1, 2, 1, 2}, {1, 2, 3, 4}), In("w", {2, 1, 1, 1}, {2, -1})},
                 Attrs({{"group", int64_t{2}}}));
  ExpectTensor(y, {1, 2, 1, 2}, {2, 4, -3, -4});
}

TEST(Conv, GroupedMixesOnlyChannelsOfItsGroup) {
  // Two groups of two input channels; output channel 0 sums channels 0,1; output 1 takes channel 3 only.
  Tensor y = RunOp("Conv", {In("x", {1, 4, 1}, {1, 10, 100, 1000}), In("w", {2, 2, 1}, {1, 1, 0, 1})},
                 Attrs({{"group", int64_t{2}}}));
  ExpectTensor(y, {1, 2, 1}, {11, 1000});
}

TEST(Conv, Dilated1d) {
  Tensor y = RunOp("Conv", {In("x", {1, 1, 5}, {1, 2, 3, 4, 5}), In("w", {1, 1, 2}, {1, 1})},
                 Attrs({{"dilations", Ints{2}}}));
  ExpectTensor(y, {1, 1, 3}, {4, 6, 8});
}

TEST(Conv, AutoPadSameUpperAndLower) {
  // Length 4, kernel 3, stride 2: output 2 with one unit of padding, at the end (UPPER) or start (LOWER).
  auto inputs = std::vector<testing::InputSpec>{In("x", {1, 1, 4}, {1, 2, 3, 4}), In("w", {1, 1, 3}, {1, 1, 1})};
  ExpectTensor(RunOp("Conv", inputs, Attrs({{"auto_pad", std::string("SAME_UPPER")}, {"strides", Ints{2}}})),
               {1, 1, 2}, {6, 7});
  ExpectTensor(RunOp("Conv", inputs, Attrs({{"auto_pad", std::string("SAME_LOWER")}, {"strides", Ints{2}}})),
               {1, 1, 2}, {3, 9});
  ExpectTensor(RunOp("Conv", inputs, Attrs({{"auto_pad", std::string("VALID")}, {"pads", Ints{5, 5}}})), {1, 1, 2},
               {6, 9});
}

TEST(Conv, ThreeDimensional) {
  // 2x2x2 input of ones, 2x2x2 kernel of twos: one output of 16.
  Tensor y = RunOp("Conv", {In("x", {1, 1, 2, 2, 2}, std::vector<float>(8, 1)),
                          In("w", {1, 1, 2, 2, 2}, std::vector<float>(8, 2))});
  ExpectTensor(y, {1, 1, 1, 1, 1}, {16});
}

TEST(Conv, FusedReluClampsNegativeOutputs) {
  Attributes attrs;
  SetFusedActivation(attrs, {"Relu", {}});
  Tensor y = RunOp("Conv", {In("x", {1, 1, 2}, {1, -3}), In("w", {1, 1, 1}, {1})}, attrs);
  ExpectTensor(y, {1, 1, 2}, {1, 0});
}

TEST(Conv, RejectsChannelMismatch) {
  ExpectError("Conv", {Image3x3(), In("w", {1, 2, 2, 2}, std::vector<float>(8, 1))}, {},
              StatusCode::kInvalidArgument, "input channels");
  ExpectError("Conv", {Image3x3(), In("w", {1, 1, 2, 2}, {1, 1, 1, 1})}, Attrs({{"group", int64_t{0}}}),
              StatusCode::kInvalidArgument, "group must be in [1, 1]");
}

TEST(Conv, RejectsKernelShapeThatDisagreesWithWeights) {
  ExpectError("Conv", {Image3x3(), In("w", {1, 1, 2, 2}, {1, 1, 1, 1})}, Attrs({{"kernel_shape", Ints{3, 3}}}),
              StatusCode::kInvalidArgument, "kernel_shape");
}

TEST(Conv, RejectsBadPadsStridesAndBias) {
  auto w = In("w", {1, 1, 2, 2}, {1, 1, 1, 1});
  ExpectError("Conv", {Image3x3(), w}, Attrs({{"pads", Ints{1, 1}}}), StatusCode::kInvalidArgument,
              "pads must have 4 values");
  ExpectError("Conv", {Image3x3(), w}, Attrs({{"strides", Ints{0, 1}}}), StatusCode::kInvalidArgument, "strides");
  ExpectError("Conv", {Image3x3(), w, In("b", {2}, {1, 2})}, {}, StatusCode::kInvalidArgument, "B must have shape");
  ExpectError("Conv", {Image3x3(), In("w", {1, 1, 4, 4}, std::vector<float>(16, 1))}, {},
              StatusCode::kInvalidArgument, "larger than padded input");
  ExpectError("Conv", {Image3x3(), w}, Attrs({{"auto_pad", std::string("SAME")}}), StatusCode::kInvalidArgument,
              "auto_pad");
}

TEST(Conv, CostCountsMultiplyAddsOfEveryOutput) {
  // N=1, Cout=2, 2x2 outputs, Cin/group=3, 3x3 kernel: 2 * 1 * 2 * 4 * 3 * 9 flops.
  OpCost c = nn_test::CostOf("Conv", {In("x", {1, 3, 4, 4}, std::vector<float>(48, 0)),
                                      In("w", {2, 3, 3, 3}, std::vector<float>(54, 0))}, {});
  EXPECT_EQ(c.flops, 432);
  EXPECT_EQ(c.bytes_read, (48 + 54) * 4);
  EXPECT_EQ(c.bytes_written, 8 * 4);
}

}  // namespace
}  // namespace deepx
