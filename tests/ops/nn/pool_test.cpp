// MaxPool, AveragePool, GlobalAveragePool and GlobalMaxPool.
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

testing::InputSpec Image3x3() { return In("x", {1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9}); }

TEST(MaxPool, TwoByTwoWindowsAndIndices) {
  auto r = testing::RunReferenceOp("MaxPool", {Image3x3()}, Attrs({{"kernel_shape", Ints{2, 2}}}), 2);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ExpectTensor((*r)[0], {1, 1, 2, 2}, {5, 6, 8, 9});
  EXPECT_EQ((*r)[1].ToInt64Vector(), (std::vector<int64_t>{4, 5, 7, 8}));
}

TEST(MaxPool, ColumnMajorIndices) {
  // (h, w) -> h + w * 3 for storage_order=1: (1,1)=4, (1,2)=7, (2,1)=5, (2,2)=8.
  auto r = testing::RunReferenceOp("MaxPool", {Image3x3()},
                                   Attrs({{"kernel_shape", Ints{2, 2}}, {"storage_order", int64_t{1}}}), 2);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)[1].ToInt64Vector(), (std::vector<int64_t>{4, 7, 5, 8}));
}

TEST(MaxPool, IndicesCountEarlierPlanes) {
  auto r = testing::RunReferenceOp("MaxPool", {In("x", {1, 2, 2}, {3, 1, 0, 7})},
                                   Attrs({{"kernel_shape", Ints{2}}}), 2);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ExpectTensor((*r)[0], {1, 2, 1}, {3, 7});
  EXPECT_EQ((*r)[1].ToInt64Vector(), (std::vector<int64_t>{0, 3}));
}

TEST(MaxPool, CeilModeKeepsThePartialWindow) {
  auto x = In("x", {1, 1, 4}, {1, 2, 3, 4});
  ExpectTensor(RunOp("MaxPool", {x}, Attrs({{"kernel_shape", Ints{3}}, {"strides", Ints{2}}})), {1, 1, 1}, {3});
  ExpectTensor(
      RunOp("MaxPool", {x}, Attrs({{"kernel_shape", Ints{3}}, {"strides", Ints{2}}, {"ceil_mode", int64_t{1}}})),
      {1, 1, 2}, {3, 4});
}

TEST(MaxPool, PadsNeverWinAndDilations) {
  // Padding does not act as zero: the window over [pad, -1] yields -1.
  ExpectTensor(RunOp("MaxPool", {In("x", {1, 1, 3}, {-1, -2, -3})},
                     Attrs({{"kernel_shape", Ints{2}}, {"strides", Ints{2}}, {"pads", Ints{1, 1}}})),
               {1, 1, 2}, {-1, -2});
  ExpectTensor(RunOp("MaxPool", {In("x", {1, 1, 5}, {1, 5, 2, 4, 3})},
                     Attrs({{"kernel_shape", Ints{2}}, {"dilations", Ints{2}}})),
               {1, 1, 3}, {2, 5, 3});
}

TEST(MaxPool, SameUpperAndUint8) {
  Tensor x = Tensor::Zeros(DataType::kUInt8, {1, 1, 3});
  x.data<uint8_t>()[0] = 200;
  x.data<uint8_t>()[1] = 7;
  x.data<uint8_t>()[2] = 9;
  auto r = testing::RunReferenceOp("MaxPool", {{"x", x}},
                                   Attrs({{"kernel_shape", Ints{2}}, {"auto_pad", std::string("SAME_UPPER")}}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)[0].dtype(), DataType::kUInt8);
  EXPECT_EQ((*r)[0].ToInt64Vector(), (std::vector<int64_t>{200, 9, 9}));
}

TEST(MaxPool, RejectsMalformedNodes) {
  ExpectError("MaxPool", {Image3x3()}, {}, StatusCode::kInvalidArgument, "kernel_shape is required");
  ExpectError("MaxPool", {Image3x3()}, Attrs({{"kernel_shape", Ints{2}}}), StatusCode::kInvalidArgument,
              "kernel_shape must have 2 values");
  ExpectError("MaxPool", {Image3x3()}, Attrs({{"kernel_shape", Ints{2, 2}}, {"strides", Ints{0, 1}}}),
              StatusCode::kInvalidArgument, "strides");
  ExpectError("MaxPool", {Image3x3()}, Attrs({{"kernel_shape", Ints{2, 2}}, {"storage_order", int64_t{2}}}),
              StatusCode::kInvalidArgument, "storage_order");
  ExpectError("MaxPool", {In("x", {3, 3}, std::vector<float>(9, 0))}, Attrs({{"kernel_shape", Ints{2}}}),
              StatusCode::kInvalidArgument, "rank >= 3");
}

TEST(AveragePool, CountIncludePad) {
  // Windows [pad,1], [2,3], [4,pad]: excluding pads the divisors are 1, 2, 1; including them all are 2.
  auto x = In("x", {1, 1, 4}, {1, 2, 3, 4});
  auto attrs = Attrs({{"kernel_shape", Ints{2}}, {"strides", Ints{2}}, {"pads", Ints{1, 1}}});
  ExpectTensor(RunOp("AveragePool", {x}, attrs), {1, 1, 3}, {1, 2.5f, 4});
  attrs.set("count_include_pad", int64_t{1});
  ExpectTensor(RunOp("AveragePool", {x}, attrs), {1, 1, 3}, {0.5f, 2.5f, 2});
}

TEST(AveragePool, TwoDimensionalAndCeilMode) {
  ExpectTensor(RunOp("AveragePool", {Image3x3()}, Attrs({{"kernel_shape", Ints{2, 2}}})), {1, 1, 2, 2},
               {3, 4, 6, 7});
  // The last window [5] sees one element only, beyond the input: it divides by 1, not 2.
  ExpectTensor(RunOp("AveragePool", {In("x", {1, 1, 5}, {1, 2, 3, 4, 5})},
                     Attrs({{"kernel_shape", Ints{2}}, {"strides", Ints{2}}, {"ceil_mode", int64_t{1}},
                            {"count_include_pad", int64_t{1}}})),
               {1, 1, 3}, {1.5f, 3.5f, 5});
}

TEST(AveragePool, SameLower) {
  // Kernel 2 over length 3: one pad at the start, windows [pad,1], [1,2], [2,3].
  ExpectTensor(RunOp("AveragePool", {In("x", {1, 1, 3}, {1, 2, 3})},
                     Attrs({{"kernel_shape", Ints{2}}, {"auto_pad", std::string("SAME_LOWER")}})),
               {1, 1, 3}, {1, 1.5f, 2.5f});
}

TEST(AveragePool, RejectsMalformedNodes) {
  ExpectError("AveragePool", {Image3x3()}, Attrs({{"kernel_shape", Ints{2, 2}}, {"pads", Ints{-1, 0, 0, 0}}}),
              StatusCode::kInvalidArgument, "pads values must be in");
  ExpectError("AveragePool", {Image3x3()}, Attrs({{"kernel_shape", Ints{4, 4}}}), StatusCode::kInvalidArgument,
              "larger than padded input");
  ExpectError("AveragePool", {Image3x3()}, Attrs({{"kernel_shape", std::string("2")}}),
              StatusCode::kInvalidArgument, "kernel_shape' must be of kind ints");
}

TEST(GlobalPool, AverageAndMaxOverAllSpatialDims) {
  auto x = In("x", {1, 2, 2, 2}, {1, 2, 3, 4, -1, -2, -3, -8});
  ExpectTensor(RunOp("GlobalAveragePool", {x}), {1, 2, 1, 1}, {2.5f, -3.5f});
  ExpectTensor(RunOp("GlobalMaxPool", {x}), {1, 2, 1, 1}, {4, -1});
  ExpectTensor(RunOp("GlobalAveragePool", {In("x", {1, 1, 3}, {1, 2, 6})}), {1, 1, 1}, {3});
}

TEST(GlobalPool, RejectsLowRank) {
  ExpectError("GlobalAveragePool", {In("x", {2, 2}, {1, 2, 3, 4})}, {}, StatusCode::kInvalidArgument, "rank >= 3");
  ExpectError("GlobalMaxPool", {In("x", {2}, {1, 2})}, {}, StatusCode::kInvalidArgument, "rank >= 3");
}

TEST(Pools, Cost) {
  OpCost c = nn_test::CostOf("MaxPool", {Image3x3()}, Attrs({{"kernel_shape", Ints{2, 2}}}));
  EXPECT_EQ(c.flops, 4 * 4);
  EXPECT_EQ(nn_test::CostOf("GlobalAveragePool", {Image3x3()}, {}).flops, 9);
}

}  // namespace
}  // namespace deepx
