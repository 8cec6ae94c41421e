// Constant, ConstantOfShape and Range: ops that create tensors.
#include <gtest/gtest.h>

#include "tensor_test_helpers.h"

namespace deepx::testing {
namespace {

Result<std::vector<Tensor>> ConstantOp(const Attributes& attrs) {
  return RunReferenceOp("Constant", {}, attrs);
}

TEST(Constant, EachValueAttributeKind) {
  Attributes a;
  a.set("value_ints", std::vector<int64_t>{4, -5});
  auto ints = ConstantOp(a);
  ASSERT_TRUE(ints.ok()) << ints.status().ToString();
  EXPECT_EQ((*ints)[0].dtype(), DataType::kInt64);
  EXPECT_EQ((*ints)[0].ToInt64Vector(), (std::vector<int64_t>{4, -5}));

  Attributes f;
  f.set("value_float", 2.5f);
  auto scalar = ConstantOp(f);
  ASSERT_TRUE(scalar.ok());
  EXPECT_EQ((*scalar)[0].shape(), Shape{});
  EXPECT_EQ(Values((*scalar)[0]), (std::vector<double>{2.5}));

  Attributes t;
  t.set("value", U8({2, 2}, {1, 2, 3, 4}));
  auto tensor = ConstantOp(t);
  ASSERT_TRUE(tensor.ok());
  EXPECT_EQ((*tensor)[0].dtype(), DataType::kUInt8);
  EXPECT_EQ(Values((*tensor)[0]), (std::vector<double>{1, 2, 3, 4}));
}

TEST(Constant, Errors) {
  ExpectError(ConstantOp({}), StatusCode::kInvalidArgument, "exactly one of the value attributes");
  Attributes two;
  two.set("value_int", int64_t{1});
  two.set("value_float", 1.0f);
  ExpectError(ConstantOp(two), StatusCode::kInvalidArgument, "got 2");
  Attributes str;
  str.set("value_string", std::string("hi"));
  ExpectError(ConstantOp(str), StatusCode::kUnimplemented, "string constants");
}

TEST(ConstantOfShape, FillsWithValueType) {
  Attributes a;
  a.set("value", I64({1}, {7}));
  auto r = RunReferenceOp("ConstantOfShape", {Const("s", I64({2}, {2, 3}))}, a);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)[0].dtype(), DataType::kInt64);
  EXPECT_EQ((*r)[0].ToInt64Vector(), std::vector<int64_t>(6, 7));

  auto zeros = RunReferenceOp("ConstantOfShape", {Const("s", I64({1}, {0}))});
  ASSERT_TRUE(zeros.ok()) << zeros.status().ToString();
  EXPECT_EQ((*zeros)[0].dtype(), DataType::kFloat32);
  EXPECT_EQ((*zeros)[0].shape(), Shape{0});

  auto scalar = RunReferenceOp("ConstantOfShape", {Const("s", I64({0}, {}))});
  ASSERT_TRUE(scalar.ok()) << scalar.status().ToString();
  EXPECT_EQ((*scalar)[0].shape(), Shape{});
}

TEST(ConstantOfShape, Errors) {
  ExpectError(RunReferenceOp("ConstantOfShape", {Const("s", I64({2}, {2, -1}))}), StatusCode::kInvalidArgument,
              "negative dimension");
  Attributes a;
  a.set("value", F32({2}, {1, 2}));
  ExpectError(RunReferenceOp("ConstantOfShape", {Const("s", I64({1}, {2}))}, a), StatusCode::kInvalidArgument,
              "one element");
  ExpectError(RunReferenceOp("ConstantOfShape", {In("s", I64({1}, {2}))}), StatusCode::kUnimplemented,
              "must be a constant");
}

TEST(Range, FloatAndIntegerSequences) {
  auto f = RunReferenceOp("Range", {Const("s", F32({}, {1})), Const("l", F32({}, {5})), Const("d", F32({}, {2}))});
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(Values((*f)[0]), (std::vector<double>{1, 3}));

  auto i = RunReferenceOp("Range", {Const("s", I32({}, {10})), Const("l", I32({}, {4})), Const("d", I32({}, {-3}))});
  ASSERT_TRUE(i.ok()) << i.status().ToString();
  EXPECT_EQ((*i)[0].dtype(), DataType::kInt32);
  EXPECT_EQ(Values((*i)[0]), (std::vector<double>{10, 7}));

  auto empty = RunReferenceOp("Range", {Const("s", I64({}, {3})), Const("l", I64({}, {3})), Const("d", I64({}, {1}))});
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ((*empty)[0].shape(), Shape{0});
}

TEST(Range, Errors) {
  ExpectError(RunReferenceOp("Range", {Const("s", I64({}, {0})), Const("l", I64({}, {3})), Const("d", I64({}, {0}))}),
              StatusCode::kInvalidArgument, "delta must not be 0");
  ExpectError(RunReferenceOp("Range", {Const("s", I64({}, {0})), Const("l", F32({}, {3})), Const("d", I64({}, {1}))}),
              StatusCode::kInvalidArgument, "limit has type float32");
  ExpectError(RunReferenceOp("Range", {In("s", I64({}, {0})), Const("l", I64({}, {3})), Const("d", I64({}, {1}))}),
              StatusCode::kUnimplemented, "must be a constant");
}

}  // namespace
}  // namespace deepx::testing
