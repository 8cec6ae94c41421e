#include "compress/accuracy_estimator.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>

#include "runtime/backend.h"

namespace deepx::compress {
namespace {

std::string DefaultBackend() {
  for (const std::string& name : AvailableBackends())
    if (name == "cpu") return name;
  return "reference";
}

// Rows of `logits` [N, C] turned into probabilities in place, unless every row already is one.
void ToProbabilities(std::vector<float>& v, int64_t n, int64_t c) {
  bool probabilities = true;
  for (int64_t i = 0; i < n && probabilities; ++i) {
    double sum = 0;
    for (int64_t j = 0; j < c; ++j) {
      const float p = v[static_cast<size_t>(i * c + j)];
      if (!(p >= 0 && p <= 1)) probabilities = false;
      sum += p;
    }
    if (std::abs(sum - 1) > 1e-3) probabilities = false;
  }
  if (probabilities) return;
  for (int64_t i = 0; i < n; ++i) {
    float* row = v.data() + i * c;
    const float mx = *std::max_element(row, row + c);
    double sum = 0;
    for (int64_t j = 0; j < c; ++j) sum += (row[j] = std::exp(row[j] - mx));
    for (int64_t j = 0; j < c; ++j) row[j] = static_cast<float>(row[j] / sum);
  }
}

int64_t ArgMax(const float* row, int64_t c) { return std::max_element(row, row + c) - row; }

}  // namespace

Status AccuracyEstimator::CheckSamples(const Model& model, const Tensor& samples) {
  if (model.inputs().size() != 1)
    return Unimplemented("the accuracy estimator handles models with one input; this one has " +
                         std::to_string(model.inputs().size()));
  const TensorSpec& in = model.inputs()[0];
  if (in.dtype != DataType::kFloat32) return Unimplemented("the accuracy estimator needs a float32 input; '" + in.name + "' is " + DataTypeName(in.dtype));
  if (samples.dtype() != DataType::kFloat32)
    return InvalidArgument(std::string("calibration samples must be float32 (preprocessed like the model's input), not ") +
                           DataTypeName(samples.dtype()));
  bool fits = samples.rank() == static_cast<int64_t>(in.shape.size()) && samples.rank() >= 1 && samples.dim(0) >= 1;
  for (size_t i = 1; fits && i < in.shape.size(); ++i)
    if (in.shape[i] >= 0 && in.shape[i] != samples.dim(static_cast<int64_t>(i))) fits = false;
  if (fits && in.shape[0] > 0 && samples.dim(0) % in.shape[0] != 0) fits = false;
  if (!fits)
    return InvalidArgument("calibration samples of shape " + ShapeToString(samples.shape()) + " do not fit input '" +
                           in.name + "' of shape " + ShapeToString(in.shape) +
                           " (samples go along dim 0; the other dims must match)");
  return Status::Ok();
}

Result<Tensor> AccuracyEstimator::SyntheticInputs(const Model& model, int n, uint64_t seed) {
  if (model.inputs().size() != 1)
    return Unimplemented("the accuracy estimator handles models with one input; this one has " +
                         std::to_string(model.inputs().size()));
  Shape shape = model.inputs()[0].shape;
  if (shape.empty()) return Unimplemented("the accuracy estimator needs a batched input; '" + model.inputs()[0].name + "' is a scalar");
  for (size_t i = 1; i < shape.size(); ++i) shape[i] = std::max<int64_t>(shape[i], 1);
  shape[0] = shape[0] > 0 ? shape[0] * std::max<int64_t>(1, n / shape[0]) : n;
  Tensor t = Tensor::Zeros(DataType::kFloat32, shape);
  std::mt19937_64 rng(seed ^ 0x9e3779b97f4a7c15ull);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  float* p = t.data<float>();
  for (int64_t i = 0; i < t.num_elements(); ++i) p[i] = normal(rng);
  return t;
}

Result<std::unique_ptr<AccuracyEstimator>> AccuracyEstimator::Create(std::shared_ptr<const Model> dense,
                                                                     Tensor samples, std::string source,
                                                                     const EstimatorOptions& options) {
  DX_RETURN_IF_ERROR(CheckSamples(*dense, samples));
  std::unique_ptr<AccuracyEstimator> e(new AccuracyEstimator());
  e->samples_ = std::move(samples);
  e->source_ = std::move(source);
  e->options_ = options;
  if (e->options_.backend.empty()) e->options_.backend = DefaultBackend();
  e->n_ = e->samples_.dim(0);
  DX_ASSIGN_OR_RETURN(e->dense_probs_, e->Probabilities(dense, &e->classes_));
  if (e->classes_ < 2)
    return Unimplemented("the accuracy estimator needs a classifier output with >= 2 classes per sample; '" +
                         dense->outputs()[0].name + "' has " + std::to_string(e->classes_));
  e->dense_top_.resize(static_cast<size_t>(e->n_));
  double acc = 0;
  for (int64_t i = 0; i < e->n_; ++i) {
    const float* row = e->dense_probs_.data() + i * e->classes_;
    e->dense_top_[static_cast<size_t>(i)] = ArgMax(row, e->classes_);
    acc += row[e->dense_top_[static_cast<size_t>(i)]];
  }
  e->dense_accuracy_ = acc / static_cast<double>(e->n_);
  return e;
}

Result<std::vector<float>> AccuracyEstimator::Probabilities(std::shared_ptr<const Model> model,
                                                            int64_t* classes) const {
  SessionOptions so;
  so.backend = options_.backend;
  so.num_threads = options_.threads;
  DX_ASSIGN_OR_RETURN(std::unique_ptr<Session> session, Session::Create(model, so));
  const TensorSpec& in = model->inputs()[0];
  // Equal chunks of at most options_.batch samples: one specialisation per session.
  const int64_t max_batch = std::max(1, options_.batch);
  const int64_t chunks = (n_ + max_batch - 1) / max_batch;
  const int64_t batch = in.shape[0] > 0 ? in.shape[0] : (n_ + chunks - 1) / chunks;
  const int64_t per_sample = samples_.num_elements() / n_;
  std::vector<float> out;
  int64_t c = -1;
  for (int64_t start = 0; start < n_; start += batch) {
    const int64_t b = std::min(batch, n_ - start);
    Shape shape = samples_.shape();
    shape[0] = b;
    Tensor chunk = Tensor::Zeros(DataType::kFloat32, shape);
    std::memcpy(chunk.data<float>(), samples_.data<float>() + start * per_sample,
                static_cast<size_t>(b * per_sample) * sizeof(float));
    DX_ASSIGN_OR_RETURN(std::vector<Tensor> outputs, session->Run({{in.name, chunk}}));
    const Tensor& y = outputs[0];
    if (y.dtype() != DataType::kFloat32 || y.num_elements() % b != 0)
      return Unimplemented("the accuracy estimator needs a float32 [N, classes] first output");
    const int64_t cls = y.num_elements() / b;
    if (c >= 0 && cls != c) return Internal("output size changed between batches");
    c = cls;
    out.insert(out.end(), y.data<float>(), y.data<float>() + y.num_elements());
  }
  ToProbabilities(out, n_, c);
  *classes = c;
  return out;
}

Result<Estimate> AccuracyEstimator::Evaluate(std::shared_ptr<const Model> candidate) const {
  int64_t c = 0;
  DX_ASSIGN_OR_RETURN(std::vector<float> probs, Probabilities(candidate, &c));
  if (c != classes_) return InvalidArgument("the compressed model has " + std::to_string(c) + " outputs per sample, the dense one " + std::to_string(classes_));
  Estimate e;
  double acc = 0, sum_d = 0, sum_d2 = 0;
  int64_t flips = 0;
  for (int64_t i = 0; i < n_; ++i) {
    const int64_t top = ArgMax(probs.data() + i * c, c);
    const float* dense_row = dense_probs_.data() + i * c;
    acc += dense_row[top];
    const double d = static_cast<double>(dense_row[dense_top_[static_cast<size_t>(i)]]) - dense_row[top];
    sum_d += d;
    sum_d2 += d * d;
    flips += top != dense_top_[static_cast<size_t>(i)];
  }
  const double n = static_cast<double>(n_);
  e.accuracy = acc / n;
  e.drop = dense_accuracy_ - e.accuracy;
  e.flip_rate = static_cast<double>(flips) / n;
  const double mean_d = sum_d / n;
  const double var_d = n > 1 ? std::max(0.0, (sum_d2 - n * mean_d * mean_d) / (n - 1)) : 0.0;
  e.drop_upper = e.drop + 1.645 * std::sqrt(var_d / n);
  return e;
}

}  // namespace deepx::compress
