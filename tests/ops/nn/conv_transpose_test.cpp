#include <gtest/gtest.h>

#include "nn_test_util.h"

namespace deepx {
namespace {

using nn_test::Attrs;
using nn_test::ExpectError;
using nn_test::ExpectTensor;
using nn_test::In;
using nn_test::Ints;
using nn_test::RunOp;

// X = [1, 2], kernel [1, 1, 1], stride 2: x0 lands on 0..2, x1 on 2..4, so the full result is [1, 1, 3, 2, 2].
std::vector<testing::InputSpec> Simple1d() { return {In("x", {1, 1, 2}, {1, 2}), In("w", {1, 1, 3}, {1, 1, 1})}; }

TEST(ConvTranspose, StridedScatterAddsOverlaps) {
  ExpectTensor(RunOp("ConvTranspose", Simple1d(), Attrs({{"strides", Ints{2}}})), {1, 1, 5}, {1, 1, 3, 2, 2});
}

TEST(ConvTranspose, PadsCropTheFullResult) {
  ExpectTensor(RunOp("ConvTranspose", Simple1d(), Attrs({{"strides", Ints{2}}, {"pads", Ints{1, 1}}})), {1, 1, 3},
               {1, 3, 2});
}

TEST(ConvTranspose, OutputPaddingAndOutputShapeExtendTheEnd) {
  ExpectTensor(RunOp("ConvTranspose", Simple1d(), Attrs({{"strides", Ints{2}}, {"output_padding", Ints{1}}})),
               {1, 1, 6}, {1, 1, 3, 2, 2, 0});
  ExpectTensor(RunOp("ConvTranspose", Simple1d(), Attrs({{"strides", Ints{2}}, {"output_shape", Ints{6}}})),
               {1, 1, 6}, {1, 1, 3, 2, 2, 0});
}

TEST(ConvTranspose, AutoPadSameGivesInputTimesStride) {
  // Full length 5, wanted 4: SAME_UPPER drops the last element, SAME_LOWER the first.
  ExpectTensor(RunOp("ConvTranspose", Simple1d(),
                   Attrs({{"strides", Ints{2}}, {"auto_pad", std::string("SAME_UPPER")}})),
               {1, 1, 4}, {1, 1, 3, 2});
  ExpectTensor(RunOp("ConvTranspose", Simple1d(),
                   Attrs({{"strides", Ints{2}}, {"auto_pad", std::string("SAME_LOWER")}})),
               {1, 1, 4}, {1, 3, 2, 2});
}

TEST(ConvTranspose, GroupsAndBias2d) {
  // Two groups of one channel each; a 1x1 kernel scales each channel, then bias is added.
  Tensor y = RunOp("ConvTranspose",
                 {In("x", {1, 2, 1, 2}, {1, 2, 3, 4}), In("w", {2, 1, 1, 1}, {10, -1}), In("b", {2}, {0.5f, 1})},
                 Attrs({{"group", int64_t{2}}}));
  ExpectTensor(y, {1, 2, 1, 2}, {10.5f, 20.5f, -2, -3});
}

TEST(ConvTranspose, Dilations) {
  // Kernel [1, 1] dilated by 2 places each input at i and i+2.
  Tensor y = RunOp("ConvTranspose", {In("x", {1, 1, 2}, {1, 2}), In("w", {1, 1, 2}, {1, 1})},
                 Attrs({{"dilations", Ints{2}}}));
  ExpectTensor(y, {1, 1, 4}, {1, 2, 1, 2});
}

TEST(ConvTranspose, RejectsMalformedNodes) {
  ExpectError("ConvTranspose", {In("x", {1, 2, 2}, {1, 2, 3, 4}), In("w", {1, 1, 3}, {1, 1, 1})}, {},
              StatusCode::kInvalidArgument, "input channels");
  ExpectError("ConvTranspose", Simple1d(), Attrs({{"strides", Ints{2}}, {"output_padding", Ints{2}}}),
              StatusCode::kInvalidArgument, "output_padding");
  ExpectError("ConvTranspose", Simple1d(), Attrs({{"pads", Ints{2, 2}}}), StatusCode::kInvalidArgument,
              "leave no output");
  ExpectError("ConvTranspose", Simple1d(), Attrs({{"output_shape", Ints{4, 4}}}), StatusCode::kInvalidArgument,
              "output_shape must have 1 values");
}

TEST(ConvTranspose, CostCountsEveryInputTimesKernel) {
  OpCost c = nn_test::CostOf("ConvTranspose", Simple1d(), Attrs({{"strides", Ints{2}}}));
  EXPECT_EQ(c.flops, 2 * 2 * 3);
}

}  // namespace
}  // namespace deepx
