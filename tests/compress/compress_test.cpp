// deepx::Compress, EnumerateRankChoices, ApplyRanks and the label-free estimator on the bundled Fashion-MNIST CNN.
#include "deepx/compress.hpp"

#include <gtest/gtest.h>

#include "compress/accuracy_estimator.h"
#include "io/npy.h"
#include "test_util.h"

namespace deepx {
namespace {

constexpr const char* kFc = "/classifier/classifier.0/Gemm";  // 3136 -> 128

std::shared_ptr<const Model> Cnn() {
  auto m = Model::Load(testing::SourcePath("models/fashion_mnist_cnn.onnx"));
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return *m;
}

Tensor Batch8() {
  auto t = ReadNpyFile(testing::SourcePath("models/samples/fashion_batch8.npy"));
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return *t;
}

TEST(AccuracyEstimator, DenseModelHasNoDropAndRankOneHasSome) {
  std::shared_ptr<const Model> dense = Cnn();
  auto est = compress::AccuracyEstimator::Create(dense, Batch8(), "batch8", {"reference", 0, 8});
  ASSERT_TRUE(est.ok()) << est.status().ToString();
  EXPECT_GT((*est)->dense_accuracy(), 0.5);
  EXPECT_LE((*est)->dense_accuracy(), 1.0);
  auto same = (*est)->Evaluate(dense);
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(same->drop, 0.0);
  EXPECT_EQ(same->flip_rate, 0.0);
  auto crushed = ApplyRanks(*dense, {{kFc, 1}, {"/features/features.4/Conv", 1}});
  ASSERT_TRUE(crushed.ok()) << crushed.status().ToString();
  auto e = (*est)->Evaluate(*crushed);
  ASSERT_TRUE(e.ok());
  EXPECT_GT(e->flip_rate, 0.0);
  EXPECT_GT(e->drop, 0.0);
  // The soft-label drop never exceeds flip rate × dense confidence... per flipped sample it is p(a) − p(b) <= p(a).
  EXPECT_LE(e->drop, e->flip_rate + 1e-9);
}

TEST(AccuracyEstimator, RejectsSamplesOfTheWrongShape) {
  std::shared_ptr<const Model> dense = Cnn();
  Status s = compress::AccuracyEstimator::CheckSamples(*dense, Tensor::Zeros(DataType::kFloat32, {4, 28, 28}));
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("[4, 28, 28]"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("input 'input'"), std::string::npos) << s.message();
  EXPECT_FALSE(compress::AccuracyEstimator::CheckSamples(*dense, Tensor::Zeros(DataType::kInt64, {4, 1, 28, 28})).ok());
  EXPECT_TRUE(compress::AccuracyEstimator::CheckSamples(*dense, Tensor::Zeros(DataType::kFloat32, {3, 1, 28, 28})).ok());
}

TEST(Compress, ExplicitRanksReportParamsAndErrors) {
  std::shared_ptr<const Model> dense = Cnn();
  CompressOptions o;
  o.ranks = {{kFc, 16}};
  auto r = Compress(*dense, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->layers.size(), 4u);  // two convs, two Gemms
  int compressed = 0;
  for (const LayerCompressionReport& l : r->layers) {
    if (l.name != kFc) {
      EXPECT_EQ(l.rank, 0) << l.name;
      continue;
    }
    ++compressed;
    EXPECT_EQ(l.rank, 16);
    EXPECT_EQ(l.params_before, 3136 * 128);
    EXPECT_EQ(l.params_after, 16 * (3136 + 128));
    EXPECT_GT(l.relative_error, 0.0);
    EXPECT_LT(l.relative_error, 1.0);
  }
  EXPECT_EQ(compressed, 1);
  EXPECT_EQ(r->params_before - r->params_after, 3136 * 128 - 16 * (3136 + 128));
  EXPECT_LT(r->estimated_accuracy_drop, 0);  // no bound, no calibration: not estimated
  auto s = Session::Create(r->model);
  ASSERT_TRUE(s.ok());
  auto out = (*s)->Run({{"input", Batch8()}});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].shape(), (Shape{8, 10}));
}

TEST(Compress, AccuracyBoundIsRespectedOnTheCalibrationSet) {
  std::shared_ptr<const Model> dense = Cnn();
  CompressOptions o;
  o.max_accuracy_drop = 0.02;
  o.calibration = Batch8();
  auto r = Compress(*dense, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_GE(r->estimated_accuracy_drop, 0.0);
  EXPECT_LE(r->estimated_accuracy_drop, 0.02);
  EXPECT_LT(r->params_after, r->params_before);  // the FC layer has plenty of slack at this bound
  EXPECT_GT(r->estimator_evaluations, 0);
  EXPECT_LE(r->estimator_evaluations, 14);
  EXPECT_EQ(r->estimator_inputs, "calibration (8 samples)");
  // With measured sensitivities the bound still holds; one more estimator run per factorable layer.
  o.measure_sensitivity = true;
  auto s = Compress(*dense, o);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_LE(s->estimated_accuracy_drop, 0.02);
  EXPECT_GT(s->estimator_evaluations, r->estimator_evaluations - 4);
}

TEST(Compress, WeightBudgetIsMetOrTheSmallestIsNamed) {
  std::shared_ptr<const Model> dense = Cnn();
  CompressOptions o;
  o.weight_budget_mb = 0.5;
  auto r = Compress(*dense, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_LE(static_cast<double>(r->params_after) * 4, 0.5e6);
  o.weight_budget_mb = 0.01;
  auto bad = Compress(*dense, o);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kOutOfRange);
  EXPECT_NE(bad.status().message().find("smallest achievable is"), std::string::npos) << bad.status().message();
}

TEST(Compress, BadRanksAreClearErrors) {
  std::shared_ptr<const Model> dense = Cnn();
  CompressOptions o;
  o.ranks = {{"nope", 4}};
  auto r = Compress(*dense, o);
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find("no node named 'nope'"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find(kFc), std::string::npos);  // lists the compressible layers
  o.ranks = {{"/features/features.3/MaxPool", 4}};
  r = Compress(*dense, o);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("cannot be factored"), std::string::npos) << r.status().message();
  o.ranks = {{kFc, 129}};
  r = Compress(*dense, o);
  EXPECT_EQ(r.status().code(), StatusCode::kOutOfRange);
  EXPECT_NE(r.status().message().find("1..128"), std::string::npos) << r.status().message();
  o.ranks = {{kFc, -1}};
  EXPECT_EQ(Compress(*dense, o).status().code(), StatusCode::kOutOfRange);
  EXPECT_EQ(Compress(*dense, CompressOptions{}).status().code(), StatusCode::kInvalidArgument);
}

TEST(Compress, RankChoicesForThePlanner) {
  std::shared_ptr<const Model> dense = Cnn();
  auto choices = EnumerateRankChoices(*dense);
  ASSERT_TRUE(choices.ok()) << choices.status().ToString();
  ASSERT_EQ(choices->size(), 4u);
  for (const LayerRankChoices& l : *choices) {
    ASSERT_FALSE(l.choices.empty());
    EXPECT_EQ(l.choices[0].rank, 0);
    EXPECT_EQ(l.choices[0].params, l.rows * l.cols);
    for (size_t i = 1; i < l.choices.size(); ++i) {
      EXPECT_LT(l.choices[i].params, l.rows * l.cols) << l.name;
      EXPECT_EQ(l.choices[i].params, l.choices[i].rank * (l.rows + l.cols));
      EXPECT_GE(l.choices[i].relative_error, l.choices[i - 1].relative_error);
    }
  }
  const LayerRankChoices& fc = (*choices)[2];
  EXPECT_EQ(fc.name, kFc);
  EXPECT_GE(fc.choices.size(), 5u);
}

}  // namespace
}  // namespace deepx
