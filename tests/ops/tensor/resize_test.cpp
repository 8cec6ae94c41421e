// Resize and Upsample (4-D NCHW, nearest and linear).
#include <gtest/gtest.h>

#include "tensor_test_helpers.h"

namespace deepx::testing {
namespace {

Tensor Square() { return F32({1, 1, 2, 2}, {1, 2, 3, 4}); }

Attributes Modes(const std::string& mode, const std::string& coord = "", const std::string& nearest = "") {
  Attributes a;
  a.set("mode", mode);
  if (!coord.empty()) a.set("coordinate_transformation_mode", coord);
  if (!nearest.empty()) a.set("nearest_mode", nearest);
  return a;
}

Result<std::vector<Tensor>> ResizeScales(const Tensor& x, std::vector<float> scales, const Attributes& attrs) {
  return RunReferenceOp("Resize", {In("x", x), Omitted(), Const("scales", F32({4}, scales))}, attrs, 1, 13);
}

Result<std::vector<Tensor>> ResizeSizes(const Tensor& x, std::vector<int64_t> sizes, const Attributes& attrs) {
  return RunReferenceOp("Resize", {In("x", x), Omitted(), Omitted(), Const("sizes", I64({4}, sizes))}, attrs, 1, 13);
}

void ExpectNear(const Tensor& t, const std::vector<double>& want) {
  std::vector<double> got = Values(t);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-5) << "element " << i;
}

TEST(Resize, NearestUpsampleRepeatsPixels) {
  auto r = ResizeScales(Square(), {1, 1, 2, 2}, Modes("nearest"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)[0].shape(), (Shape{1, 1, 4, 4}));
  EXPECT_EQ(Values((*r)[0]), (std::vector<double>{1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4}));
}

TEST(Resize, NearestDownsampleUsesGivenScale) {
  // Output 1 x 2; half_pixel source x = (x + 0.5) / 0.6 - 0.5 = 0.33, 2.0 -> columns 0 and 2.
  auto r = ResizeScales(F32({1, 1, 2, 4}, {1, 2, 3, 4, 5, 6, 7, 8}), {1, 1, 0.6f, 0.6f}, Modes("nearest"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)[0].shape(), (Shape{1, 1, 1, 2}));
  EXPECT_EQ(Values((*r)[0]), (std::vector<double>{1, 3}));
}

TEST(Resize, NearestModesWithAsymmetricSizes) {
  // Asymmetric source x = x / 2 = 0, 0.5, 1, 1.5 on a 2-wide input.
  Tensor x = F32({1, 1, 1, 2}, {1, 2});
  struct Case { const char* mode; std::vector<double> want; };
  for (const Case& c : {Case{"round_prefer_floor", {1, 1, 2, 2}}, Case{"round_prefer_ceil", {1, 2, 2, 2}},
                        Case{"floor", {1, 1, 2, 2}}, Case{"ceil", {1, 2, 2, 2}}}) {
    auto r = ResizeSizes(x, {1, 1, 1, 4}, Modes("nearest", "asymmetric", c.mode));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(Values((*r)[0]), c.want) << c.mode;
  }
}

TEST(Resize, LinearHalfPixel) {
  // Source x = -0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to 1).
  auto r = ResizeScales(Square(), {1, 1, 2, 2}, Modes("linear"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ExpectNear((*r)[0], {1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4});
}

TEST(Resize, LinearAlignCornersAndPytorchHalfPixel) {
  auto r = ResizeScales(Square(), {1, 1, 2, 2}, Modes("linear", "align_corners"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  // Source x = 0, 1/3, 2/3, 1.
  const double t = 1.0 / 3;
  ExpectNear((*r)[0], {1, 1 + t, 1 + 2 * t, 2, 1 + 2 * t, 2, 2 + t, 2 + 2 * t, 2 + t, 2 + 2 * t, 3, 3 + t, 3,
                       3 + t, 3 + 2 * t, 4});
  // pytorch_half_pixel maps a length-1 output to source 0 (half_pixel would give the middle, 0.5).
  auto p = ResizeSizes(Square(), {1, 1, 1, 1}, Modes("linear", "pytorch_half_pixel"));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ExpectNear((*p)[0], {1});
  auto h = ResizeSizes(Square(), {1, 1, 1, 1}, Modes("linear", "half_pixel"));
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  ExpectNear((*h)[0], {2.5});
}

TEST(Resize, Opset10TakesScalesAsSecondInput) {
  auto r = RunReferenceOp("Resize", {In("x", Square()), Const("scales", F32({4}, {1, 1, 1, 2}))},
                          Modes("nearest"), 1, 10);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Values((*r)[0]), (std::vector<double>{1, 1, 2, 2, 3, 3, 4, 4}));
}

TEST(Resize, Errors) {
  ExpectError(ResizeScales(Square(), {1, 1, 2, 2}, Modes("cubic")), StatusCode::kUnimplemented, "cubic");
  ExpectError(ResizeScales(Square(), {1, 2, 2, 2}, Modes("nearest")), StatusCode::kUnimplemented, "N or C axis");
  ExpectError(ResizeScales(Square(), {1, 1, -2, 2}, Modes("nearest")), StatusCode::kInvalidArgument,
              "scales must be positive");
  ExpectError(ResizeScales(Square(), {1, 1, 2, 2}, Modes("nearest", "tf_crop_and_resize")),
              StatusCode::kUnimplemented, "tf_crop_and_resize");
  ExpectError(RunReferenceOp("Resize", {In("x", Square()), Omitted(), Const("scales", F32({4}, {1, 1, 2, 2})),
                                        Const("sizes", I64({4}, {1, 1, 4, 4}))}, Modes("nearest"), 1, 13),
              StatusCode::kInvalidArgument, "exactly one of scales and sizes");
  ExpectError(RunReferenceOp("Resize", {In("x", Square()), Omitted(), Const("scales", F32({3}, {1, 1, 2}))},
                             Modes("nearest"), 1, 13),
              StatusCode::kInvalidArgument, "scales must have 4 values, got 3");
}

TEST(Upsample, NearestWithScalesAttribute) {
  Attributes a = Modes("nearest");
  a.set("scales", std::vector<float>{1, 1, 2, 3});
  auto r = RunReferenceOp("Upsample", {In("x", Square())}, a, 1, 7);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)[0].shape(), (Shape{1, 1, 4, 6}));
  EXPECT_EQ(Values((*r)[0]), (std::vector<double>{1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2,
                                                  3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4}));
}

TEST(Upsample, LinearWithScalesInputIsAsymmetric) {
  // Source coordinate x / 2 = 0, 0.5, 1, 1.5 (clamped to 1).
  auto r = RunReferenceOp("Upsample", {In("x", Square()), Const("s", F32({4}, {1, 1, 2, 2}))}, Modes("linear"), 1,
                          9);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ExpectNear((*r)[0], {1, 1.5, 2, 2, 2, 2.5, 3, 3, 3, 3.5, 4, 4, 3, 3.5, 4, 4});
}

TEST(Upsample, Errors) {
  ExpectError(RunReferenceOp("Upsample", {In("x", Square())}, Modes("nearest"), 1, 7), StatusCode::kInvalidArgument,
              "'scales' is required");
  ExpectError(RunReferenceOp("Upsample", {In("x", Square()), In("s", F32({4}, {1, 1, 2, 2}))}, Modes("nearest"),
                             1, 9),
              StatusCode::kUnimplemented, "must be a constant");
}

}  // namespace
}  // namespace deepx::testing
