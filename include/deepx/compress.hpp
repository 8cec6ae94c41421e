// Run-time layer compression (RLC): factor a model's large layers by truncated SVD within a bound on the
// estimated top-1 accuracy drop, a weight budget, or explicit ranks. See docs/COMPRESSION.md.
//
//   deepx::CompressOptions opts;
//   opts.max_accuracy_drop = 0.01;                              // ≤ 1 percentage point, estimated without labels
//   opts.calibration = unlabelled_batch;                        // optional [N, ...] float32 samples
//   auto result = deepx::Compress(*model, opts);                // Result<CompressionResult>
//   auto session = deepx::Session::Create(result->model);
//
// "Estimated" accuracy: no labels are used. The dense model's softmax on the calibration (or synthesised) inputs
// serves as soft labels: est_acc(M) = mean_x p_dense(argmax M(x) | x); the estimated drop is
// est_acc(dense) − est_acc(compressed).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "deepx/deepx.hpp"
#include "deepx/status.h"
#include "deepx/tensor.h"

namespace deepx {

struct CompressOptions {
  // Bound on the estimated top-1 accuracy drop, as a fraction (0.01 = 1 pp); < 0: no bound. Alone, it yields the
  // model with the fewest weights whose estimated drop is within it.
  double max_accuracy_drop = -1;
  // Weight budget of the whole model in MB (10^6 bytes of float32 weights); < 0: none. Met at the least
  // estimated loss (singular-value energy); with max_accuracy_drop too, the bound is checked and reported.
  double weight_budget_mb = -1;
  // Explicit ranks by node name (0 keeps the layer dense); other layers stay dense.
  std::map<std::string, int64_t> ranks;
  // Unlabelled samples of the model's (single) input, batch along dim 0, float32, preprocessed like real inputs.
  // Empty: inputs are synthesised (Gaussian N(0, 1) of the input's shape), which is much less reliable.
  Tensor calibration;
  int max_calibration_samples = 1000;  // the first ones are used
  int synthetic_samples = 256;
  // Accuracy-bound search: weight each layer's energy loss by its measured sensitivity (estimated drop with the
  // layer alone at relative error 0.5, per unit of squared error); costs one estimator run per layer.
  bool measure_sensitivity = false;
  // Conv layers: false = rank-k conv + 1×1 conv; true = k vertical (h×1) + Cout horizontal (1×w) filters.
  bool spatial_conv = false;
  // Threads for the SVD (OpenBLAS) and the estimator's sessions; 0 = library defaults.
  int threads = 0;
  // Backend the estimator runs the candidates on ("": "cpu" when built, else "reference").
  std::string backend;
  // Progress lines on stderr (one per stage/layer; overwritten with '\r' when stderr is a terminal).
  bool progress = false;
  uint64_t seed = 0;
};

// One compressible layer in the result (rank 0: left dense).
struct LayerCompressionReport {
  std::string name;
  std::string op_type;
  Shape weight_shape;
  int64_t rows = 0, cols = 0;   // the factored matrix (see src/compress/low_rank.h)
  int64_t rank = 0;             // 0 = dense
  int64_t max_rank = 0;         // min(rows, cols)
  int64_t params_before = 0;    // weight elements (biases unchanged and not counted)
  int64_t params_after = 0;
  double flops_before = 0, flops_after = 0;  // at batch 1
  double relative_error = 0;    // ‖W − W_k‖_F / ‖W‖_F
  // Estimated drop with this layer alone compressed at its rank (< 0 where not measured: no estimator run,
  // or more than 16 compressed layers).
  double estimated_drop_alone = -1;
};

struct CompressionResult {
  std::shared_ptr<const Model> model;  // the compressed model (the input model when nothing is compressed)
  std::vector<LayerCompressionReport> layers;  // every compressible layer, in graph order
  int64_t params_before = 0;     // all constant weights of the model (elements)
  int64_t params_after = 0;
  double flops_before = 0, flops_after = 0;  // batch 1, whole model
  // Estimated top-1 drop (fraction) of the returned model, est_acc(dense) − est_acc(compressed); < 0 when the
  // estimator did not run (explicit ranks or a weight budget without --max-accuracy-drop, non-classifier output).
  double estimated_accuracy_drop = -1;
  // One-sided 95 % upper confidence bound of the estimate over the calibration samples; --max-accuracy-drop
  // bounds this one.
  double estimated_accuracy_drop_upper = -1;
  double estimated_dense_accuracy = -1;  // mean of the dense model's top probability
  double flip_rate = -1;                 // share of samples whose top-1 class changed
  std::string estimator_inputs;          // "calibration (N samples)" or "synthetic Gaussian (N samples)"
  int estimator_evaluations = 0;         // compressed candidates run
  double svd_seconds = 0, estimator_seconds = 0, total_seconds = 0;
};

Result<CompressionResult> Compress(const Model& model, const CompressOptions& options);

// Writes a (compressed) model as standard ONNX that other runtimes load: fused activations become nodes again,
// outputs carry their declared dtype and shape.
Status SaveModelOnnx(const Model& model, const std::string& path);

// Candidate ranks per compressible layer, for a planner that chooses ranks jointly with placement (DAD).
struct RankChoice {
  int64_t rank = 0;          // 0 = dense
  int64_t params = 0;        // weight elements at this rank
  double flops = 0;          // at batch 1
  double relative_error = 0; // ‖W − W_k‖_F / ‖W‖_F (0 for dense)
};
struct LayerRankChoices {
  std::string name;
  std::string op_type;
  int64_t rows = 0, cols = 0;
  std::vector<RankChoice> choices;  // dense first, then ranks ascending by error (descending rank)
};
struct RankChoiceOptions {
  // Ranks with these relative errors (the smallest rank meeting each; duplicates and ranks at or above
  // break-even dropped).
  std::vector<double> relative_errors = {0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6};
  bool spatial_conv = false;
  int threads = 0;
};
Result<std::vector<LayerRankChoices>> EnumerateRankChoices(const Model& model, const RankChoiceOptions& options = {});

// Applies explicit ranks (node name -> rank, 0 = dense) and returns the compressed model: what a planner does
// with the RankChoice it picked. Errors name the layer (unknown, not factorable, rank out of range).
Result<std::shared_ptr<const Model>> ApplyRanks(const Model& model, const std::map<std::string, int64_t>& ranks,
                                                const RankChoiceOptions& options = {});

}  // namespace deepx
