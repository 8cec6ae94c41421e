// DepthToSpace and SpaceToDepth.
#include <gtest/gtest.h>

#include "tensor_test_helpers.h"

namespace deepx::testing {
namespace {

Attributes Block(int64_t b, const std::string& mode = "") {
  Attributes a;
  a.set("blocksize", b);
  if (!mode.empty()) a.set("mode", mode);
  return a;
}

TEST(DepthToSpace, DcrAndCrdOrders) {
  // 8 channels of 1x1, blocksize 2 -> 2 channels of 2x2.
  // DCR: out[c][i][j] = in[(2i + j) * 2 + c]; CRD: out[c][i][j] = in[4c + 2i + j].
  auto dcr = RunReferenceOp("DepthToSpace", {In("x", Iota({1, 8, 1, 1}))}, Block(2));
  ASSERT_TRUE(dcr.ok()) << dcr.status().ToString();
  EXPECT_EQ((*dcr)[0].shape(), (Shape{1, 2, 2, 2}));
  EXPECT_EQ(Values((*dcr)[0]), (std::vector<double>{0, 2, 4, 6, 1, 3, 5, 7}));
  auto crd = RunReferenceOp("DepthToSpace", {In("x", Iota({1, 8, 1, 1}))}, Block(2, "CRD"));
  ASSERT_TRUE(crd.ok()) << crd.status().ToString();
  EXPECT_EQ(Values((*crd)[0]), (std::vector<double>{0, 1, 2, 3, 4, 5, 6, 7}));
}

TEST(SpaceToDepth, GathersTilesIntoChannels) {
  // in[c][i][j] = 4c + 2i + j; out channel (2i + j) * 2 + c.
  auto r = RunReferenceOp("SpaceToDepth", {In("x", Iota({1, 2, 2, 2}))}, Block(2));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)[0].shape(), (Shape{1, 8, 1, 1}));
  EXPECT_EQ(Values((*r)[0]), (std::vector<double>{0, 4, 1, 5, 2, 6, 3, 7}));
}

TEST(SpaceToDepth, InvertsDepthToSpaceDcr) {
  Tensor x = RandomTensor({2, 12, 3, 2}, 7);
  auto d2s = RunReferenceOp("DepthToSpace", {In("x", x)}, Block(2));
  ASSERT_TRUE(d2s.ok()) << d2s.status().ToString();
  auto back = RunReferenceOp("SpaceToDepth", {In("y", (*d2s)[0])}, Block(2));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(Values((*back)[0]), Values(x));
}

TEST(DepthToSpace, Errors) {
  ExpectError(RunReferenceOp("DepthToSpace", {In("x", Iota({1, 6, 1, 1}))}, Block(2)), StatusCode::kInvalidArgument,
              "not divisible by blocksize^2 = 4");
  ExpectError(RunReferenceOp("DepthToSpace", {In("x", Iota({1, 4, 1}))}, Block(2)), StatusCode::kInvalidArgument,
              "must be 4-D");
  ExpectError(RunReferenceOp("DepthToSpace", {In("x", Iota({1, 4, 1, 1}))}, Block(2, "XYZ")),
              StatusCode::kInvalidArgument, "mode must be DCR or CRD");
  ExpectError(RunReferenceOp("SpaceToDepth", {In("x", Iota({1, 1, 3, 2}))}, Block(2)), StatusCode::kInvalidArgument,
              "not divisible by blocksize 2");
  ExpectError(RunReferenceOp("SpaceToDepth", {In("x", Iota({1, 1, 2, 2}))}, Block(0)),
              StatusCode::kInvalidArgument, "blocksize must be positive");
}

}  // namespace
}  // namespace deepx::testing
