// BatchNormalization, LRN and InstanceNormalization.
#include <gtest/gtest.h>

#include <cmath>

#include "nn_test_util.h"

namespace deepx {
namespace {

using nn_test::Attrs;
using nn_test::ExpectError;
using nn_test::ExpectTensor;
using nn_test::In;
using nn_test::RunOp;

// Channel 0 holds [1, 3], channel 1 [2, 4].
std::vector<testing::InputSpec> BnInputs(Shape scale_shape = {2}) {
  return {In("x", {1, 2, 1, 2}, {1, 3, 2, 4}), In("scale", scale_shape, {1, 2}), In("b", {2}, {0, 1}),
          In("mean", {2}, {1, 2}), In("var", {2}, {4, 1})};
}

TEST(BatchNormalization, NormalisesPerChannel) {
  // c0: (x - 1) / 2 -> [0, 1]; c1: 2 * (x - 2) / 1 + 1 -> [1, 5].
  ExpectTensor(RunOp("BatchNormalization", BnInputs(), Attrs({{"epsilon", 0.0f}})), {1, 2, 1, 2}, {0, 1, 1, 5});
}

TEST(BatchNormalization, EpsilonAndOldOpsetAttributes) {
  // var + eps = 4 + 5 = 9 for channel 0 -> (x - 1) / 3.
  Tensor y = RunOp("BatchNormalization", BnInputs(),
                   Attrs({{"epsilon", 5.0f}, {"momentum", 0.5f}, {"spatial", int64_t{1}}}), 8);
  ExpectTensor(y, {1, 2, 1, 2}, {0, 2.0f / 3, 1, 1 + 2 * 2 / std::sqrt(6.0f)});
}

TEST(BatchNormalization, TrainingIsUnimplemented) {
  ExpectError("BatchNormalization", BnInputs(), Attrs({{"training_mode", int64_t{1}}}),
              StatusCode::kUnimplemented, "training_mode");
  auto r = testing::RunReferenceOp("BatchNormalization", BnInputs(), {}, 3);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnimplemented);
}

TEST(BatchNormalization, RejectsWrongParameterShape) {
  ExpectError("BatchNormalization", BnInputs({1, 2}), {}, StatusCode::kInvalidArgument, "scale must have shape [2]");
  ExpectError("BatchNormalization", BnInputs(), Attrs({{"epsilon", -1.0f}}), StatusCode::kInvalidArgument,
              "epsilon");
}

TEST(Lrn, SumsSquaresOverNeighbouringChannels) {
  // size 3, alpha/size = 1: c0 sees c0..c1 (1+4), c1 sees all (14), c2 sees c1..c2 (13).
  Tensor y = RunOp("LRN", {In("x", {1, 3, 1, 1}, {1, 2, 3})},
                   Attrs({{"size", int64_t{3}}, {"alpha", 3.0f}, {"beta", 1.0f}, {"bias", 1.0f}}));
  ExpectTensor(y, {1, 3, 1, 1}, {1.0f / 6, 2.0f / 15, 3.0f / 14});
}

TEST(Lrn, EvenSizeLooksOneChannelAhead) {
  // size 2: floor(1/2) = 0 channels before, ceil(1/2) = 1 after. beta 0.5 -> square root.
  Tensor y = RunOp("LRN", {In("x", {1, 3, 1}, {1, 2, 3})},
                   Attrs({{"size", int64_t{2}}, {"alpha", 2.0f}, {"beta", 0.5f}, {"bias", 0.0f}}));
  ExpectTensor(y, {1, 3, 1}, {1 / std::sqrt(5.0f), 2 / std::sqrt(13.0f), 3 / std::sqrt(9.0f)});
}

TEST(Lrn, RejectsMissingOrBadSize) {
  auto x = In("x", {1, 3, 1, 1}, {1, 2, 3});
  ExpectError("LRN", {x}, {}, StatusCode::kInvalidArgument, "size is required");
  ExpectError("LRN", {x}, Attrs({{"size", int64_t{0}}}), StatusCode::kInvalidArgument, "size must be >= 1");
}

TEST(InstanceNormalization, UsesEachPlanesOwnStatistics) {
  // Plane [1,2,3,4]: mean 2.5, variance 1.25; scale 2, bias 1. Plane [0,0,2,2]: mean 1, variance 1;
  // scale 3, bias -1.
  Tensor y = RunOp("InstanceNormalization",
                   {In("x", {1, 2, 4}, {1, 2, 3, 4, 0, 0, 2, 2}), In("s", {2}, {2, 3}), In("b", {2}, {1, -1})},
                   Attrs({{"epsilon", 0.0f}}));
  const float sd = std::sqrt(1.25f);
  ExpectTensor(y, {1, 2, 4}, {1 - 3 / sd, 1 - 1 / sd, 1 + 1 / sd, 1 + 3 / sd, -4, -4, 2, 2});
}

TEST(InstanceNormalization, RejectsWrongParameterShape) {
  ExpectError("InstanceNormalization",
              {In("x", {1, 2, 2}, {1, 2, 3, 4}), In("s", {3}, {1, 1, 1}), In("b", {2}, {0, 0})}, {},
              StatusCode::kInvalidArgument, "scale must have shape [2]");
}

}  // namespace
}  // namespace deepx
