// The bundled demo model (trained by scripts/train_fashion_mnist.py) must reproduce PyTorch's logits on the
// stored real test images, as a batch and one image at a time (dynamic batch), with and without graph passes.
#include <gtest/gtest.h>

#include <cmath>

#include "deepx/deepx.hpp"
#include "io/tensor_file.h"
#include "test_util.h"

namespace deepx {
namespace {

using testing::SourcePath;

constexpr double kTolerance = 1e-4;  // max |deepx - torch| / max(1, |torch|)

double MaxRelativeError(const Tensor& got, const Tensor& want) {
  double worst = 0;
  for (int64_t i = 0; i < want.num_elements(); ++i) {
    double g = got.GetAsDouble(i), w = want.GetAsDouble(i);
    worst = std::max(worst, std::abs(g - w) / std::max(1.0, std::abs(w)));
  }
  return worst;
}

class FashionMnist : public ::testing::TestWithParam<bool> {};

TEST_P(FashionMnist, MatchesPyTorchLogits) {
  LoadOptions options;
  options.optimize = GetParam();
  auto model = Model::Load(SourcePath("models/fashion_mnist_cnn.onnx"), options);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  auto batch = LoadTensorFile(SourcePath("models/samples/fashion_batch8.npy"));
  auto logits = LoadTensorFile(SourcePath("models/samples/fashion_batch8_logits.npy"));
  ASSERT_TRUE(batch.ok() && logits.ok());
  auto session = Session::Create(*model);
  ASSERT_TRUE(session.ok()) << session.status().ToString();

  auto out = (*session)->Run({{"input", *batch}});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_EQ((*out)[0].shape(), logits->shape());
  EXPECT_LE(MaxRelativeError((*out)[0], *logits), kTolerance);

  // One image at a time: a second specialisation (batch 1) of the same session.
  const int64_t per_image = NumElements({1, 1, 28, 28});
  for (int64_t i = 0; i < batch->dim(0); ++i) {
    Tensor one = Tensor::Zeros(DataType::kFloat32, {1, 1, 28, 28});
    std::copy_n(batch->data<float>() + i * per_image, per_image, one.data<float>());
    auto single = (*session)->Run({{"input", one}});
    ASSERT_TRUE(single.ok()) << single.status().ToString();
    Tensor want = Tensor::Zeros(DataType::kFloat32, {1, 10});
    std::copy_n(logits->data<float>() + i * 10, 10, want.data<float>());
    EXPECT_LE(MaxRelativeError((*single)[0], want), kTolerance) << "image " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(WithAndWithoutPasses, FashionMnist, ::testing::Bool());

}  // namespace
}  // namespace deepx
