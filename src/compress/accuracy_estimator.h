// Label-free estimate of a compressed model's top-1 accuracy drop.
//
// The dense model's class probabilities on some inputs are the soft labels: for a model M,
//     est_acc(M) = mean_x p_dense(argmax M(x) | x),   drop = est_acc(dense) − est_acc(M).
// If the dense model were calibrated (its top probability the chance that it is right), est_acc would be
// M's expected accuracy: a sample that flips from class a to b costs p(a) − p(b), which is small on the ambiguous
// samples where compression flips decisions first. The flip rate (share of changed top-1) is kept as a second
// figure; flip_rate × est_acc(dense) over-estimates the drop because it counts every flip as a loss.
//
// Inputs: unlabelled samples the app supplies (calibration), or synthesised Gaussian inputs when none. The dense
// outputs are computed once per estimator and reused for every candidate.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "deepx/deepx.hpp"

namespace deepx::compress {

struct Estimate {
  double accuracy = 0;   // est_acc(candidate)
  double drop = 0;       // est_acc(dense) − est_acc(candidate)
  double flip_rate = 0;  // share of samples whose top-1 class differs from the dense model's
  // One-sided 95 % upper confidence bound of `drop` over the sampling of the calibration inputs:
  // drop + 1.645 · sd(d) / sqrt(N), d_i = p_dense(dense top-1 | x_i) − p_dense(candidate top-1 | x_i). The
  // accuracy-bound search compares this, not the point estimate, with the bound: on 256–1000 samples the point
  // estimate alone let measured drops exceed the bound (docs/COMPRESSION.md).
  double drop_upper = 0;
};

struct EstimatorOptions {
  std::string backend;  // "": "cpu" when built, else "reference"
  int threads = 0;
  int batch = 256;
};

class AccuracyEstimator {
 public:
  // `samples`: [N, ...] float32 batch for the model's single input; checked against its declared shape.
  static Result<std::unique_ptr<AccuracyEstimator>> Create(std::shared_ptr<const Model> dense, Tensor samples,
                                                           std::string source, const EstimatorOptions& options);
  // Synthesised inputs: N samples of N(0, 1) in the input's declared shape (dynamic dims other than batch: 1).
  static Result<Tensor> SyntheticInputs(const Model& model, int n, uint64_t seed);
  // Checks that a calibration tensor fits the model's input; the error names the shapes.
  static Status CheckSamples(const Model& model, const Tensor& samples);

  Result<Estimate> Evaluate(std::shared_ptr<const Model> candidate) const;
  double dense_accuracy() const { return dense_accuracy_; }
  int64_t num_samples() const { return n_; }
  const std::string& source() const { return source_; }

 private:
  AccuracyEstimator() = default;
  // Class probabilities [N, C] of `model` on the samples (softmax applied unless the outputs already are
  // probabilities).
  Result<std::vector<float>> Probabilities(std::shared_ptr<const Model> model, int64_t* classes) const;

  Tensor samples_;
  std::string source_;
  EstimatorOptions options_;
  int64_t n_ = 0, classes_ = 0;
  std::vector<float> dense_probs_;
  std::vector<int64_t> dense_top_;
  double dense_accuracy_ = 0;
};

}  // namespace deepx::compress
