#include <gtest/gtest.h>

#include "tensor_test_helpers.h"

namespace deepx::testing {
namespace {

Tensor Grid() { return F32({2, 3}, {1, 2, 3, 4, 5, 6}); }

Attributes Mode(const std::string& mode) {
  Attributes a;
  a.set("mode", mode);
  return a;
}

TEST(Pad, ConstantWithValueInput) {
  auto r = RunReferenceOp("Pad", {In("x", Grid()), Const("p", I64({4}, {0, 1, 0, 1})), Const("v", F32({}, {9}))});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)[0].shape(), (Shape{2, 5}));
  EXPECT_EQ(Values((*r)[0]), (std::vector<double>{9, 1, 2, 3, 9, 9, 4, 5, 6, 9}));
}

TEST(Pad, ReflectMirrorsWithoutRepeatingTheBorder) {
  // numpy.pad([1, 2, 3], 2, 'reflect') == [3, 2, 1, 2, 3, 2, 1].
  auto r = RunReferenceOp("Pad", {In("x", F32({1, 3}, {1, 2, 3})), Const("p", I64({4}, {0, 2, 0, 2}))},
                          Mode("reflect"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Values((*r)[0]), (std::vector<double>{3, 2, 1, 2, 3, 2, 1}));
}

TEST(Pad, EdgeRepeatsTheBorder) {
  auto r = RunReferenceOp("Pad", {In("x", Grid()), Const("p", I64({4}, {1, 0, 0, 1}))}, Mode("edge"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)[0].shape(), (Shape{3, 4}));
  EXPECT_EQ(Values((*r)[0]), (std::vector<double>{1, 2, 3, 3, 1, 2, 3, 3, 4, 5, 6, 6}));
}

TEST(Pad, NegativePadsCrop) {
  auto r = RunReferenceOp("Pad", {In("x", Grid()), Const("p", I64({4}, {0, -1, 0, 0}))});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Values((*r)[0]), (std::vector<double>{2, 3, 5, 6}));
}

TEST(Pad, AttributesBeforeOpset11ConvertValueToDataType) {
  Attributes attrs;
  attrs.set("pads", std::vector<int64_t>{1, 1});
  attrs.set("value", 7.5f);
  auto r = RunReferenceOp("Pad", {In("x", I64({2}, {1, 2}))}, attrs, 1, 10);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)[0].ToInt64Vector(), (std::vector<int64_t>{7, 1, 2, 7}));
}

TEST(Pad, Opset18AxesInput) {
  auto r = RunReferenceOp("Pad", {In("x", Grid()), Const("p", I64({2}, {1, 0})), Omitted(),
                                  Const("a", I64({1}, {-1}))}, {}, 1, 18);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Values((*r)[0]), (std::vector<double>{0, 1, 2, 3, 0, 4, 5, 6}));
}

TEST(Pad, Errors) {
  ExpectError(RunReferenceOp("Pad", {In("x", Grid()), Const("p", I64({3}, {0, 1, 0}))}),
              StatusCode::kInvalidArgument, "pads must have 4 values");
  ExpectError(RunReferenceOp("Pad", {In("x", Grid()), Const("p", I64({4}, {0, -2, 0, -2}))}),
              StatusCode::kInvalidArgument, "crop more than");
  ExpectError(RunReferenceOp("Pad", {In("x", Grid()), Const("p", I64({4}, {0, 1, 0, 1}))}, Mode("wrap")),
              StatusCode::kUnimplemented, "wrap");
  ExpectError(RunReferenceOp("Pad", {In("x", Grid()), Const("p", I64({4}, {0, 1, 0, 1}))}, Mode("mirror")),
              StatusCode::kInvalidArgument, "mode must be");
  ExpectError(RunReferenceOp("Pad", {In("x", Grid()), In("p", I64({4}, {0, 1, 0, 1}))}),
              StatusCode::kUnimplemented, "must be a constant");
  ExpectError(RunReferenceOp("Pad", {In("x", Grid()), Const("p", I64({4}, {0, 1, 0, 1})), Const("v", I64({}, {1}))}),
              StatusCode::kInvalidArgument, "constant_value has type int64");
}

}  // namespace
}  // namespace deepx::testing
