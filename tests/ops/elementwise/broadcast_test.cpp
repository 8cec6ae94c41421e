#include "ops/elementwise/broadcast.h"

#include <gtest/gtest.h>

namespace deepx {
namespace {

TEST(Broadcast, MultidirectionalShapes) {
  EXPECT_EQ(BroadcastShapes(Shape{2, 3, 4}, Shape{4}).value(), (Shape{2, 3, 4}));
  EXPECT_EQ(BroadcastShapes(Shape{2, 1, 4}, Shape{3, 1}).value(), (Shape{2, 3, 4}));
  EXPECT_EQ(BroadcastShapes(Shape{}, Shape{5}).value(), (Shape{5}));
  EXPECT_EQ(BroadcastShapes(Shape{0, 1}, Shape{1, 3}).value(), (Shape{0, 3}));
  EXPECT_EQ(BroadcastShapes(std::vector<Shape>{{3, 1}, {1, 4}, {2, 1, 1}}).value(), (Shape{2, 3, 4}));
}

TEST(Broadcast, IncompatibleShapesNameBoth) {
  auto r = BroadcastShapes(Shape{2, 3}, Shape{4});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("[2, 3]"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("[4]"), std::string::npos) << r.status().message();
}

TEST(Broadcast, Unidirectional) {
  EXPECT_TRUE(CheckUnidirectionalBroadcast({3, 1, 1}, {2, 3, 4, 5}).ok());
  EXPECT_TRUE(CheckUnidirectionalBroadcast({}, {2, 3}).ok());
  // The target may not grow: [2, 3] does not broadcast to [1, 3].
  Status s = CheckUnidirectionalBroadcast({2, 3}, {1, 3});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("[2, 3]"), std::string::npos);
  EXPECT_EQ(CheckUnidirectionalBroadcast({1, 2, 3}, {2, 3}).code(), StatusCode::kInvalidArgument);
}

TEST(Broadcast, IndexerMapsOutputToInput) {
  // Input [3, 1] broadcast to [2, 3, 2]: output (i, j, k) reads input (j, 0) = j.
  BroadcastIndexer idx({3, 1}, {2, 3, 2});
  std::vector<int64_t> got;
  for (int64_t i = 0; i < 12; ++i) got.push_back(idx(i));
  EXPECT_EQ(got, (std::vector<int64_t>{0, 0, 1, 1, 2, 2, 0, 0, 1, 1, 2, 2}));
  // A scalar input always maps to element 0.
  BroadcastIndexer scalar({}, {2, 2});
  EXPECT_EQ(scalar(3), 0);
  // Same shape: identity.
  BroadcastIndexer same({2, 3}, {2, 3});
  EXPECT_EQ(same(5), 5);
}

}  // namespace
}  // namespace deepx
