// Shape and Size: outputs known from the input shape alone, so they become constants.
#include <gtest/gtest.h>

#include "ops/op.h"
#include "passes/shape_inference.h"
#include "tensor_test_helpers.h"

namespace deepx::testing {
namespace {

TEST(Shape, WholeShapeAndOpset15Window) {
  auto r = RunReferenceOp("Shape", {In("x", Iota({2, 3, 4}))});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)[0].ToInt64Vector(), (std::vector<int64_t>{2, 3, 4}));

  struct Case { int64_t start, end; std::vector<int64_t> want; };
  for (const Case& c : {Case{1, 3, {3, 4}}, Case{-1, 3, {4}}, Case{0, -1, {2, 3}}, Case{-10, 10, {2, 3, 4}},
                        Case{2, 1, {}}}) {
    Attributes attrs;
    attrs.set("start", c.start);
    attrs.set("end", c.end);
    auto w = RunReferenceOp("Shape", {In("x", Iota({2, 3, 4}))}, attrs, 1, 15);
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    EXPECT_EQ((*w)[0].ToInt64Vector(), c.want) << "start " << c.start << " end " << c.end;
  }
}

TEST(Shape, OutputIsAConstantAfterInference) {
  Graph g = SingleNodeGraph("Shape", {In("x", Iota({5, 7}))}, {});
  InferOptions options;
  options.fold_constants = false;
  ASSERT_TRUE(InferShapes(g, OpRegistry::Default(), options).ok());
  const Value& out = g.value(g.outputs[0]);
  ASSERT_TRUE(out.is_constant());
  EXPECT_EQ(out.constant.ToInt64Vector(), (std::vector<int64_t>{5, 7}));
}

TEST(Shape, RejectsStartBeforeOpset15) {
  Attributes attrs;
  attrs.set("start", int64_t{1});
  ExpectError(RunReferenceOp("Shape", {In("x", Iota({2}))}, attrs, 1, 13), StatusCode::kInvalidArgument,
              "only from opset 15");
}

TEST(Size, CountsElements) {
  auto r = RunReferenceOp("Size", {In("x", Iota({2, 3, 4}))});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)[0].shape(), Shape{});
  EXPECT_EQ((*r)[0].ToInt64Vector(), (std::vector<int64_t>{24}));
}

TEST(Size, RejectsExtraInput) {
  ExpectError(RunReferenceOp("Size", {In("x", Iota({2})), In("y", Iota({2}))}), StatusCode::kInvalidArgument,
              "expects 1..1 inputs");
}

}  // namespace
}  // namespace deepx::testing
