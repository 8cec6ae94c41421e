#include <gtest/gtest.h>

#include "ew_test_util.h"

namespace deepx {
namespace {

using ew_test::Bool;
using ew_test::Contains;
using ew_test::F32;
using ew_test::I64;
using ew_test::Run1;
using ew_test::RunError;
using ew_test::Values;
using V = std::vector<double>;

TEST(Identity, CopiesAnyDtype) {
  Tensor y = Run1("Identity", {{"x", I64({2}, {7, -8})}});
  EXPECT_EQ(y.dtype(), DataType::kInt64);
  EXPECT_EQ(Values(y), (V{7, -8}));
  EXPECT_EQ(Values(Run1("Identity", {{"x", Bool({2}, {1, 0})}})), (V{1, 0}));
}

TEST(Dropout, InferenceIsIdentityWithAllTrueMask) {
  auto x = F32({3}, {1, -2, 3});
  auto r = testing::RunReferenceOp("Dropout", {{"x", x}, {"ratio", F32({}, {0.3f})}}, {}, 2, 13);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Values(r.value()[0]), (V{1, -2, 3}));
  EXPECT_EQ(r.value()[1].dtype(), DataType::kBool);
  EXPECT_EQ(Values(r.value()[1]), (V{1, 1, 1}));
  // training_mode=false is still inference.
  EXPECT_EQ(Values(Run1("Dropout", {{"x", x}, {"", Tensor()}, {"t", Bool({}, {0}), true}}, {}, 13)), (V{1, -2, 3}));
}

TEST(Dropout, OlderOpsets) {
  Attributes a;
  a.set("ratio", 0.2f);
  EXPECT_EQ(Values(Run1("Dropout", {{"x", F32({2}, {4, 5})}}, a, 11)), (V{4, 5}));
  // Before opset 10 the mask has the data's dtype.
  auto r = testing::RunReferenceOp("Dropout", {{"x", F32({2}, {4, 5})}}, a, 2, 7);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r.value()[1].dtype(), DataType::kFloat32);
  EXPECT_EQ(Values(r.value()[1]), (V{1, 1}));
}

TEST(Dropout, TrainingModeIsUnimplemented) {
  auto x = F32({1}, {1});
  Status s = RunError("Dropout", {{"x", x}, {"", Tensor()}, {"t", Bool({}, {1}), true}}, {}, 13);
  EXPECT_EQ(s.code(), StatusCode::kUnimplemented);
  EXPECT_TRUE(Contains(s.message(), "training_mode")) << s.message();
  // A run-time true is caught by the kernel.
  s = RunError("Dropout", {{"x", x}, {"", Tensor()}, {"t", Bool({}, {1})}}, {}, 13);
  EXPECT_EQ(s.code(), StatusCode::kUnimplemented);
}

TEST(Dropout, MalformedNodes) {
  Attributes a;
  a.set("ratio", 0.2f);
  Status s = RunError("Dropout", {{"x", F32({1}, {1})}}, a, 13);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(s.message(), "ratio")) << s.message();
  s = RunError("Dropout", {{"x", F32({1}, {1})}, {"ratio", F32({2}, {0.1f, 0.2f})}}, {}, 13);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(s.message(), "scalar")) << s.message();
}

}  // namespace
}  // namespace deepx
