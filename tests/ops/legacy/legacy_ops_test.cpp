// Operator forms of ONNX opsets 1..6: legacy `broadcast`/`axis` broadcasting, the `consumed_inputs` hint, and the
// old attribute forms of Reshape, BatchNormalization, Gemm, Sum, Concat, Split, Pad, Upsample, Tile, Cast, Dropout
// and Selu. Expected values are worked out by hand in the comments.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "core/attributes.h"
#include "deepx/status.h"
#include "deepx/tensor.h"
#include "test_util.h"

namespace deepx {
namespace {

using testing::InputSpec;
using testing::RunReferenceOp;
using V = std::vector<double>;

Tensor F32(const Shape& shape, const std::vector<float>& v) { return Tensor::FromFloats(shape, v); }
Tensor I64(const Shape& shape, const std::vector<int64_t>& v) { return Tensor::FromInt64s(shape, v); }

V Values(const Tensor& t) {
  V v;
  for (int64_t i = 0; i < t.num_elements(); ++i) v.push_back(t.GetAsDouble(i));
  return v;
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// Runs a one-output op at `opset`; fails the test and returns an empty tensor on error.
Tensor Run1(const std::string& op, const std::vector<InputSpec>& inputs, const Attributes& attrs, int opset) {
  auto r = RunReferenceOp(op, inputs, attrs, 1, opset);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? r.value()[0] : Tensor();
}

// Runs an op expected to fail with `code` and a message containing `needle`.
void ExpectError(const std::string& op, const std::vector<InputSpec>& inputs, const Attributes& attrs, int opset,
                 StatusCode code, const std::string& needle, int num_outputs = 1) {
  auto r = RunReferenceOp(op, inputs, attrs, num_outputs, opset);
  ASSERT_FALSE(r.ok()) << op << " at opset " << opset << " unexpectedly succeeded";
  EXPECT_EQ(r.status().code(), code) << r.status().ToString();
  EXPECT_TRUE(Contains(r.status().message(), needle)) << "'" << needle << "' not in: " << r.status().message();
}

Attributes Attrs(std::initializer_list<std::pair<const std::string, AttributeValue>> values) {
  Attributes a;
  for (const auto& [name, value] : values) a.set(name, value);
  return a;
}

void ExpectNear(const V& got, const V& want, double tol = 1e-5) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << "element " << i;
}

// --- Legacy broadcasting (opsets 1..6) ---------------------------------------------------------------------------

TEST(LegacyBroadcast, SuffixMatchWithoutAxis) {
  // B [3] matches A's last dimension: row r gets + [10, 20, 30].
  Tensor y = Run1("Add", {{"a", F32({2, 3}, {1, 2, 3, 4, 5, 6})}, {"b", F32({3}, {10, 20, 30})}},
                  Attrs({{"broadcast", int64_t{1}}}), 6);
  EXPECT_EQ(y.shape(), (Shape{2, 3}));
  EXPECT_EQ(Values(y), (V{11, 22, 33, 14, 25, 36}));
}

TEST(LegacyBroadcast, AxisZeroMatchesLeadingDimension) {
  // B [2] at axis 0 scales rows: row 0 * 2, row 1 * -1 (numpy would have needed B of shape [2, 1]).
  Tensor y = Run1("Mul", {{"a", F32({2, 3}, {1, 2, 3, 4, 5, 6})}, {"b", F32({2}, {2, -1})}},
                  Attrs({{"broadcast", int64_t{1}}, {"axis", int64_t{0}}}), 6);
  EXPECT_EQ(y.shape(), (Shape{2, 3}));
  EXPECT_EQ(Values(y), (V{2, 4, 6, -4, -5, -6}));
}

TEST(LegacyBroadcast, AxisInTheMiddleOfA) {
  // A [2, 3, 2] = 0..11, B [3] at axis 1: element (n, c, w) minus B[c] with B = [1, 2, 3].
  std::vector<float> a(12);
  for (int i = 0; i < 12; ++i) a[static_cast<size_t>(i)] = static_cast<float>(i);
  Tensor y = Run1("Sub", {{"a", F32({2, 3, 2}, a)}, {"b", F32({3}, {1, 2, 3})}},
                  Attrs({{"broadcast", int64_t{1}}, {"axis", int64_t{1}}}), 6);
  EXPECT_EQ(y.shape(), (Shape{2, 3, 2}));
  EXPECT_EQ(Values(y), (V{-1, 0, 0, 1, 1, 2, 5, 6, 6, 7, 7, 8}));
}

TEST(LegacyBroadcast, SizeOneDimensionsOfBStretch) {
  // PyTorch's exporter: B [2, 1] at axis 0 onto A [2, 3] (test_operator_add_size1_broadcast).
  Tensor y = Run1("Add", {{"a", F32({2, 3}, {1, 2, 3, 4, 5, 6})}, {"b", F32({2, 1}, {100, 200})}},
                  Attrs({{"broadcast", int64_t{1}}, {"axis", int64_t{0}}}), 6);
  EXPECT_EQ(Values(y), (V{101, 102, 103, 204, 205, 206}));
}

TEST(LegacyBroadcast, ScalarB) {
  Tensor y = Run1("Div", {{"a", F32({2}, {1, 2})}, {"b", F32({}, {5})}}, Attrs({{"broadcast", int64_t{1}}}), 6);
  ExpectNear(Values(y), V{0.2, 0.4});
}

TEST(LegacyBroadcast, ComparisonAndIntegerInputs) {
  // Equal-1 with B [2] suffix-matched onto A [2, 2] = [[1, 2], [3, 2]]: [[1==1, 2==2], [3==1, 2==2]].
  Tensor y =
      Run1("Equal", {{"a", I64({2, 2}, {1, 2, 3, 2})}, {"b", I64({2}, {1, 2})}}, Attrs({{"broadcast", int64_t{1}}}), 6);
  EXPECT_EQ(y.dtype(), DataType::kBool);
  EXPECT_EQ(Values(y), (V{1, 1, 0, 1}));
}

TEST(LegacyBroadcast, EqualShapesNeedNoAttribute) {
  Tensor y = Run1("Add", {{"a", F32({2}, {1, 2})}, {"b", F32({2}, {3, 4})}}, {}, 6);
  EXPECT_EQ(Values(y), (V{4, 6}));
}

TEST(LegacyBroadcast, BroadcastZeroRejectsDifferentShapes) {
  // Numpy rules would accept this; opset 6 without broadcast=1 does not.
  ExpectError("Add", {{"a", F32({2, 3}, {1, 2, 3, 4, 5, 6})}, {"b", F32({3}, {1, 2, 3})}}, {}, 6,
              StatusCode::kInvalidArgument, "broadcast=0");
  ExpectError("Add", {{"a", F32({2, 3}, {1, 2, 3, 4, 5, 6})}, {"b", F32({3}, {1, 2, 3})}},
              Attrs({{"broadcast", int64_t{0}}}), 6, StatusCode::kInvalidArgument, "differ");
}

TEST(LegacyBroadcast, OnlyBIsStretched) {
  // A [3] + B [2, 3] is fine with numpy rules but legacy broadcasting never stretches A.
  ExpectError("Add", {{"a", F32({3}, {1, 2, 3})}, {"b", F32({2, 3}, {1, 2, 3, 4, 5, 6})}},
              Attrs({{"broadcast", int64_t{1}}}), 6, StatusCode::kInvalidArgument, "higher rank");
  // A [2, 1] with B [3] at axis 1: B's 3 is not A's 1.
  ExpectError("Add", {{"a", F32({2, 1}, {1, 2})}, {"b", F32({3}, {1, 2, 3})}},
              Attrs({{"broadcast", int64_t{1}}, {"axis", int64_t{1}}}), 6, StatusCode::kInvalidArgument,
              "does not match");
}

TEST(LegacyBroadcast, AxisMustFitB) {
  ExpectError("Add", {{"a", F32({2, 3}, {1, 2, 3, 4, 5, 6})}, {"b", F32({3}, {1, 2, 3})}},
              Attrs({{"broadcast", int64_t{1}}, {"axis", int64_t{2}}}), 6, StatusCode::kInvalidArgument, "axis 2");
  ExpectError("Add", {{"a", F32({2}, {1, 2})}, {"b", F32({2}, {1, 2})}}, Attrs({{"broadcast", int64_t{2}}}), 6,
              StatusCode::kInvalidArgument, "must be 0 or 1");
}

TEST(LegacyBroadcast, AttributesAreRejectedFromOpset7) {
  ExpectError("Add", {{"a", F32({2, 3}, {1, 2, 3, 4, 5, 6})}, {"b", F32({3}, {1, 2, 3})}},
              Attrs({{"broadcast", int64_t{1}}}), 7, StatusCode::kInvalidArgument, "only before opset 7");
}

// --- consumed_inputs ----------------------------------------------------------------------------------------------

TEST(ConsumedInputs, AcceptedAndIgnoredBeforeOpset6) {
  const Attributes hint = Attrs({{"consumed_inputs", std::vector<int64_t>{1}}});
  EXPECT_EQ(Values(Run1("Relu", {{"x", F32({3}, {-1, 0, 2})}}, hint, 5)), (V{0, 0, 2}));
  EXPECT_EQ(Values(Run1("Add", {{"a", F32({2}, {1, 2})}, {"b", F32({2}, {3, 4})}},
                        Attrs({{"consumed_inputs", std::vector<int64_t>{0, 0}}}), 1)),
            (V{4, 6}));
  EXPECT_EQ(Values(Run1("Sum", {{"a", F32({2}, {1, 2})}, {"b", F32({2}, {3, 4})}}, hint, 5)), (V{4, 6}));
  EXPECT_EQ(Values(Run1("Clip", {{"x", F32({3}, {-5, 0, 5})}},
                        Attrs({{"consumed_inputs", std::vector<int64_t>{0}}, {"min", -1.0f}, {"max", 1.0f}}), 5)),
            (V{-1, 0, 1}));
  EXPECT_EQ(Values(Run1("LeakyRelu", {{"x", F32({2}, {-10, 3})}},
                        Attrs({{"consumed_inputs", std::vector<int64_t>{0}}, {"alpha", 0.5f}}), 1)),
            (V{-5, 3}));
}

TEST(ConsumedInputs, RejectedOnceRemoved) {
  ExpectError("Relu", {{"x", F32({1}, {1})}}, Attrs({{"consumed_inputs", std::vector<int64_t>{0}}}), 6,
              StatusCode::kInvalidArgument, "removed in opset 6");
  // Reshape dropped it one opset earlier, together with the shape attribute.
  ExpectError("Reshape", {{"x", F32({2}, {1, 2})}, {"s", I64({2}, {2, 1}), true}},
              Attrs({{"consumed_inputs", std::vector<int64_t>{0}}}), 5, StatusCode::kInvalidArgument,
              "removed in opset 5");
}

TEST(ConsumedInputs, MustBeInts) {
  ExpectError("Relu", {{"x", F32({1}, {1})}}, Attrs({{"consumed_inputs", 1.5f}}), 5, StatusCode::kInvalidArgument,
              "consumed_inputs");
}

// --- Reshape-1 ----------------------------------------------------------------------------------------------------

TEST(LegacyReshape, ShapeAttribute) {
  const Tensor x = F32({2, 3}, {0, 1, 2, 3, 4, 5});
  Tensor y = Run1("Reshape", {{"x", x}}, Attrs({{"shape", std::vector<int64_t>{3, -1}}}), 4);
  EXPECT_EQ(y.shape(), (Shape{3, 2}));
  EXPECT_EQ(Values(y), (V{0, 1, 2, 3, 4, 5}));
  // 0 copies the input's dimension: [0, 3, 1] -> [2, 3, 1].
  Tensor z = Run1("Reshape", {{"x", x}},
                  Attrs({{"shape", std::vector<int64_t>{0, 3, 1}}, {"consumed_inputs", std::vector<int64_t>{1}}}), 1);
  EXPECT_EQ(z.shape(), (Shape{2, 3, 1}));
}

TEST(LegacyReshape, FormsDoNotMix) {
  const Tensor x = F32({2, 3}, {0, 1, 2, 3, 4, 5});
  ExpectError("Reshape", {{"x", x}}, {}, 4, StatusCode::kInvalidArgument, "attribute 'shape' is required");
  ExpectError("Reshape", {{"x", x}, {"s", I64({2}, {3, 2}), true}}, Attrs({{"shape", std::vector<int64_t>{3, 2}}}), 4,
              StatusCode::kInvalidArgument, "one input");
  ExpectError("Reshape", {{"x", x}}, Attrs({{"shape", std::vector<int64_t>{3, 2}}}), 5, StatusCode::kInvalidArgument,
              "input from opset 5");
  ExpectError("Reshape", {{"x", x}}, Attrs({{"shape", std::vector<int64_t>{4, 2}}}), 4, StatusCode::kInvalidArgument,
              "cannot reshape");
}

// --- BatchNormalization-1/6 ---------------------------------------------------------------------------------------

TEST(LegacyBatchNorm, IsTestSpatial) {
  // X [1, 2, 2], eps 0: channel 0 (x - 1) / 2 * 1 + 0 on [1, 2] -> [0, 0.5]; channel 1 (x - 2) / 1 * 2 + 1 on
  // [3, 4] -> [3, 5].
  Tensor y = Run1("BatchNormalization",
                  {{"x", F32({1, 2, 2}, {1, 2, 3, 4})},
                   {"scale", F32({2}, {1, 2}), true},
                   {"b", F32({2}, {0, 1}), true},
                   {"mean", F32({2}, {1, 2}), true},
                   {"var", F32({2}, {4, 1}), true}},
                  Attrs({{"is_test", int64_t{1}},
                         {"epsilon", 0.0f},
                         {"momentum", 0.9f},
                         {"consumed_inputs", std::vector<int64_t>{0, 0, 0, 1, 1}}}),
                  5);
  ExpectNear(Values(y), V{0, 0.5, 3, 5});
}

TEST(LegacyBatchNorm, PerActivationStatisticsWithSpatialZero) {
  // X [N=2, C=2, L=2]; statistics [C, L] indexed by (c, l); eps 1 so sqrt(var + 1) = [2, 2, 1, 4].
  // n=0: (1-1)/2*2+0 = 0, (2-0)/2*2+1 = 3, (3-3)/1*1+0 = 0, (4-4)/4*4-1 = -1
  // n=1: (5-1)/2*2+0 = 4, (6-0)/2*2+1 = 7, (7-3)/1*1+0 = 4, (8-4)/4*4-1 = 3
  Tensor y = Run1("BatchNormalization",
                  {{"x", F32({2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8})},
                   {"scale", F32({2, 2}, {2, 2, 1, 4}), true},
                   {"b", F32({2, 2}, {0, 1, 0, -1}), true},
                   {"mean", F32({2, 2}, {1, 0, 3, 4}), true},
                   {"var", F32({2, 2}, {3, 3, 0, 15}), true}},
                  Attrs({{"is_test", int64_t{1}}, {"spatial", int64_t{0}}, {"epsilon", 1.0f}}), 6);
  ExpectNear(Values(y), V{0, 3, 0, -1, 4, 7, 4, 3});
}

std::vector<InputSpec> SmallBatchNormInputs(const Shape& param_shape) {
  const std::vector<float> ones(static_cast<size_t>(NumElements(param_shape)), 1.0f);
  return {{"x", F32({1, 2, 2}, {1, 2, 3, 4})},
          {"scale", F32(param_shape, ones), true},
          {"b", F32(param_shape, ones), true},
          {"mean", F32(param_shape, ones), true},
          {"var", F32(param_shape, ones), true}};
}

TEST(LegacyBatchNorm, TrainingModeIsUnimplemented) {
  // is_test defaults to 0 (training: batch statistics) before opset 7.
  ExpectError("BatchNormalization", SmallBatchNormInputs({2}), {}, 6, StatusCode::kUnimplemented, "is_test=0");
  ExpectError("BatchNormalization", SmallBatchNormInputs({2}), Attrs({{"is_test", int64_t{0}}}), 6,
              StatusCode::kUnimplemented, "training");
}

TEST(LegacyBatchNorm, AttributesOfTheWrongOpset) {
  ExpectError("BatchNormalization", SmallBatchNormInputs({2}), Attrs({{"is_test", int64_t{1}}}), 7,
              StatusCode::kInvalidArgument, "only before opset 7");
  ExpectError("BatchNormalization", SmallBatchNormInputs({2, 2}), Attrs({{"spatial", int64_t{0}}}), 9,
              StatusCode::kInvalidArgument, "only before opset 9");
  // Per-activation statistics need spatial=0.
  ExpectError("BatchNormalization", SmallBatchNormInputs({2, 2}), Attrs({{"is_test", int64_t{1}}}), 6,
              StatusCode::kInvalidArgument, "must have shape [2]");
}

// --- Other old forms ----------------------------------------------------------------------------------------------

TEST(LegacyGemm, BroadcastAttribute) {
  // [1, 2] x identity + C [2] broadcast over the single row: [1 + 10, 2 + 20].
  const std::vector<InputSpec> inputs = {
      {"a", F32({1, 2}, {1, 2})}, {"b", F32({2, 2}, {1, 0, 0, 1}), true}, {"c", F32({2}, {10, 20}), true}};
  EXPECT_EQ(Values(Run1("Gemm", inputs, Attrs({{"broadcast", int64_t{1}}}), 6)), (V{11, 22}));
  ExpectError("Gemm", inputs, {}, 6, StatusCode::kInvalidArgument, "broadcast=0");
  ExpectError("Gemm", inputs, Attrs({{"broadcast", int64_t{1}}}), 7, StatusCode::kInvalidArgument,
              "only before opset 7");
}

TEST(LegacyVariadic, NoBroadcastingBeforeOpset8) {
  const std::vector<InputSpec> inputs = {{"a", F32({2}, {1, 2})}, {"b", F32({1}, {10})}};
  ExpectError("Sum", inputs, {}, 7, StatusCode::kInvalidArgument, "only from opset 8");
  EXPECT_EQ(Values(Run1("Sum", inputs, {}, 8)), (V{11, 12}));
  EXPECT_EQ(Values(Run1("Max", {{"a", F32({2}, {1, 5})}, {"b", F32({2}, {3, 4})}}, {}, 6)), (V{3, 5}));
}

TEST(LegacyConcat, AxisDefaultsToOneBeforeOpset4) {
  Tensor y = Run1("Concat", {{"a", F32({1, 2}, {1, 2})}, {"b", F32({1, 1}, {3})}}, {}, 3);
  EXPECT_EQ(y.shape(), (Shape{1, 3}));
  EXPECT_EQ(Values(y), (V{1, 2, 3}));
  ExpectError("Concat", {{"a", F32({1, 2}, {1, 2})}, {"b", F32({1, 1}, {3})}}, {}, 4, StatusCode::kInvalidArgument,
              "'axis' is required");
}

TEST(LegacySplit, SizesFromSecondInputInOpset1) {
  auto r = RunReferenceOp("Split", {{"x", F32({3}, {1, 2, 3})}, {"split", I64({2}, {1, 2}), true}},
                          Attrs({{"axis", int64_t{0}}}), 2, 1);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Values(r.value()[0]), (V{1}));
  EXPECT_EQ(Values(r.value()[1]), (V{2, 3}));
  ExpectError("Split", {{"x", F32({2}, {1, 2})}}, {}, 1, StatusCode::kUnimplemented, "default axis", 2);
  ExpectError("Split", {{"x", F32({3}, {1, 2, 3})}, {"split", I64({2}, {1, 2}), true}}, Attrs({{"axis", int64_t{0}}}),
              2, StatusCode::kInvalidArgument, "not an input", 2);
}

TEST(LegacyPad, PaddingsAttributeInOpset1) {
  // [1, 2] padded by one column in front, filled with 9.
  Tensor y = Run1("Pad", {{"x", F32({1, 2}, {1, 2})}},
                  Attrs({{"paddings", std::vector<int64_t>{0, 1, 0, 0}}, {"value", 9.0f}}), 1);
  EXPECT_EQ(y.shape(), (Shape{1, 3}));
  EXPECT_EQ(Values(y), (V{9, 1, 2}));
  ExpectError("Pad", {{"x", F32({1, 2}, {1, 2})}}, Attrs({{"pads", std::vector<int64_t>{0, 1, 0, 0}}}), 1,
              StatusCode::kInvalidArgument, "'paddings'");
  ExpectError("Pad", {{"x", F32({1, 2}, {1, 2})}}, Attrs({{"paddings", std::vector<int64_t>{0, 1, 0, 0}}}), 2,
              StatusCode::kInvalidArgument, "renamed");
}

TEST(LegacyUpsample, HeightAndWidthScales) {
  // Nearest, x2 in both directions: each element becomes a 2x2 block.
  Tensor y =
      Run1("Upsample", {{"x", F32({1, 1, 1, 2}, {1, 2})}}, Attrs({{"height_scale", 2.0f}, {"width_scale", 2.0f}}), 6);
  EXPECT_EQ(y.shape(), (Shape{1, 1, 2, 4}));
  EXPECT_EQ(Values(y), (V{1, 1, 2, 2, 1, 1, 2, 2}));
  ExpectError("Upsample", {{"x", F32({1, 1, 1, 2}, {1, 2})}}, Attrs({{"height_scale", 2.0f}}), 6,
              StatusCode::kInvalidArgument, "width_scale");
}

TEST(LegacyTile, TilesAlongOneAxis) {
  // Tile-1: two copies along axis 1 of [[1, 2]] -> [[1, 2, 1, 2]].
  Tensor y =
      Run1("Tile", {{"x", F32({1, 2}, {1, 2})}, {"tiles", I64({}, {2}), true}, {"axis", I64({}, {1}), true}}, {}, 5);
  EXPECT_EQ(y.shape(), (Shape{1, 4}));
  EXPECT_EQ(Values(y), (V{1, 2, 1, 2}));
  ExpectError("Tile", {{"x", F32({1, 2}, {1, 2})}, {"tiles", I64({}, {2}), true}}, {}, 5, StatusCode::kInvalidArgument,
              "three inputs");
}

TEST(LegacyCast, TypeNamedByString) {
  Tensor y = Run1("Cast", {{"x", I64({2}, {1, -2})}}, Attrs({{"to", std::string("FLOAT")}}), 5);
  EXPECT_EQ(y.dtype(), DataType::kFloat32);
  EXPECT_EQ(Values(y), (V{1, -2}));
  ExpectError("Cast", {{"x", I64({1}, {1})}}, Attrs({{"to", std::string("QUATERNION")}}), 5,
              StatusCode::kInvalidArgument, "QUATERNION");
}

TEST(LegacyDropout, IsTestIsAnIdentity) {
  EXPECT_EQ(Values(Run1("Dropout", {{"x", F32({2}, {1, 2})}}, Attrs({{"is_test", int64_t{1}}, {"ratio", 0.3f}}), 6)),
            (V{1, 2}));
  ExpectError("Dropout", {{"x", F32({2}, {1, 2})}}, Attrs({{"is_test", int64_t{1}}}), 7, StatusCode::kInvalidArgument,
              "only before opset 7");
}

TEST(LegacySelu, OpsetOneDefaults) {
  // Selu-1 defaults gamma to 1.0507 (Selu-6: 1.05070102...): selu(1) = gamma.
  EXPECT_EQ(static_cast<float>(Values(Run1("Selu", {{"x", F32({1}, {1})}}, {}, 5))[0]), 1.0507f);
  EXPECT_EQ(static_cast<float>(Values(Run1("Selu", {{"x", F32({1}, {1})}}, {}, 6))[0]), 1.05070102214813232421875f);
}

}  // namespace
}  // namespace deepx
