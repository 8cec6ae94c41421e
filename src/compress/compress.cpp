// deepx::Compress and friends (include/deepx/compress.hpp): SVD of every compressible layer, rank selection,
// the estimator in the loop, and the compressed model rebuilt through ONNX bytes.
#include "deepx/compress.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <sstream>

#include "compress/accuracy_estimator.h"
#include "compress/low_rank.h"
#include "compress/rank_selection.h"
#include "compress/svd.h"
#include "onnx/model_writer.h"
#include "runtime/model_impl.h"

namespace deepx {
namespace {

using compress::AccuracyEstimator;
using compress::BudgetKind;
using compress::CompressibleLayer;
using compress::ConvFactorization;
using compress::LayerSpectrum;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) { return std::chrono::duration<double>(Clock::now() - since).count(); }

// One line per stage on stderr; on a terminal each overwrites the last.
class Progress {
 public:
  explicit Progress(bool on) : on_(on), tty_(on && isatty(STDERR_FILENO)) {}
  ~Progress() { Done(); }
  void Line(const std::string& text) {
    if (!on_) return;
    if (tty_) {
      std::fprintf(stderr, "\r\033[K%s", text.c_str());
      pending_ = true;
    } else {
      std::fprintf(stderr, "%s\n", text.c_str());
    }
    std::fflush(stderr);
  }
  void Done() {
    if (pending_) std::fprintf(stderr, "\n");
    pending_ = false;
  }

 private:
  bool on_, tty_, pending_ = false;
};

std::string Fixed(double v, int digits) {
  std::ostringstream os;
  os.precision(digits);
  os << std::fixed << v;
  return os.str();
}

compress::SvdOptions SvdOptionsFor(int threads, uint64_t seed) {
  compress::SvdOptions o;
  o.threads = threads;
  o.seed = seed ^ 0x5eed;
  return o;
}

// The compressible layers of a model, with their matrices.
struct Prepared {
  std::vector<CompressibleLayer> layers;
  std::vector<std::vector<float>> matrices;
};

Result<Prepared> PrepareLayers(const Model& model, bool spatial_conv) {
  DX_ASSIGN_OR_RETURN(Graph shapes, SpecializeModel(model, {}));
  Prepared p;
  DX_ASSIGN_OR_RETURN(p.layers, compress::FindCompressibleLayers(
                                    model.graph(), shapes,
                                    spatial_conv ? ConvFactorization::kSpatial : ConvFactorization::kChannel));
  for (const CompressibleLayer& l : p.layers) {
    DX_ASSIGN_OR_RETURN(std::vector<float> m, compress::LayerMatrix(model.graph(), l));
    p.matrices.push_back(std::move(m));
  }
  return p;
}

int IndexOf(const std::vector<CompressibleLayer>& layers, const std::string& name) {
  for (size_t i = 0; i < layers.size(); ++i)
    if (layers[i].name == name) return static_cast<int>(i);
  return -1;
}

// Checks explicit ranks against the layers: unknown or non-factorable names, ranks out of range.
Status CheckRanks(const Model& model, const std::vector<CompressibleLayer>& layers,
                  const std::map<std::string, int64_t>& ranks) {
  for (const auto& [name, rank] : ranks) {
    const int i = IndexOf(layers, name);
    if (i < 0) {
      const std::string why = compress::WhyNotCompressible(model.graph(), name);
      std::string names;
      for (const CompressibleLayer& l : layers) names += (names.empty() ? "" : ", ") + l.name;
      if (why.rfind("there is no node", 0) == 0)
        return NotFound(why + "; compressible layers: " + (names.empty() ? "none" : names));
      return InvalidArgument(why.empty() ? "layer '" + name + "' cannot be factored" : why);
    }
    const CompressibleLayer& l = layers[static_cast<size_t>(i)];
    if (rank < 0 || rank > l.max_rank())
      return OutOfRange("rank " + std::to_string(rank) + " for layer '" + name + "' (" + std::to_string(l.rows) + "x" +
                        std::to_string(l.cols) + ") is out of range: use 1.." + std::to_string(l.max_rank()) +
                        " (min(m, n)), or 0 to keep it dense");
  }
  return Status::Ok();
}

// The model's graph with the declared output dtypes/shapes filled in: the loaded graph leaves an output's value
// untyped when only inference knew its type, and ONNX readers (ONNX Runtime) reject elem_type 0.
Graph WritableGraph(const Model& model) {
  Graph g = model.graph();
  for (size_t i = 0; i < g.outputs.size() && i < model.outputs().size(); ++i) {
    Value& v = g.value(g.outputs[i]);
    if (v.is_constant()) continue;
    if (v.dtype == DataType::kUndefined) v.dtype = model.outputs()[i].dtype;
    if (!v.has_shape && !model.outputs()[i].shape.empty()) {
      v.shape = model.outputs()[i].shape;
      v.has_shape = true;
    }
  }
  return g;
}

// The model with layer i replaced by its rank ranks[i] pair (0: dense).
Result<std::shared_ptr<const Model>> BuildModel(const Model& model, const std::vector<LayerSpectrum>& spectra,
                                                const std::vector<int64_t>& ranks) {
  Graph g = WritableGraph(model);
  for (size_t i = 0; i < spectra.size(); ++i) {
    if (ranks[i] == 0) continue;
    DX_RETURN_IF_ERROR(compress::ApplyLowRank(g, spectra[i].layer, spectra[i].svd, ranks[i]));
  }
  DX_ASSIGN_OR_RETURN(std::string bytes, SerializeOnnx(g));
  return Model::LoadFromBytes(bytes.data(), bytes.size());
}

int64_t ModelParams(const Model& model) {
  auto s = model.Summarize();
  return s.ok() ? s->total_params : 0;
}

double ModelFlops(const Model& model) {
  auto s = model.Summarize();
  return s.ok() ? s->total_flops : 0;
}

std::string Describe(const std::vector<LayerSpectrum>& spectra, const std::vector<int64_t>& ranks) {
  std::string out;
  for (size_t i = 0; i < spectra.size(); ++i)
    if (ranks[i] > 0) out += (out.empty() ? "" : ",") + spectra[i].layer.name + "=" + std::to_string(ranks[i]);
  return out.empty() ? "dense" : out;
}

}  // namespace

Result<CompressionResult> Compress(const Model& model, const CompressOptions& options) {
  const auto start = Clock::now();
  const bool bound = options.max_accuracy_drop >= 0;
  const bool budget = options.weight_budget_mb >= 0;
  const bool explicit_ranks = !options.ranks.empty();
  if (!bound && !budget && !explicit_ranks)
    return InvalidArgument("nothing to do: give a maximum accuracy drop, a weight budget or explicit ranks");
  if (budget && explicit_ranks) return InvalidArgument("give either a weight budget or explicit ranks, not both");
  if (bound && (std::isnan(options.max_accuracy_drop) || options.max_accuracy_drop > 1))
    return InvalidArgument("maximum accuracy drop " + std::to_string(options.max_accuracy_drop) +
                           " is not a fraction in [0, 1] (0.01 = 1 percentage point)");
  Progress progress(options.progress);
  CompressionResult result;
  std::shared_ptr<const Model> dense_copy;

  progress.Line("rlc: finding compressible layers");
  DX_ASSIGN_OR_RETURN(Prepared prepared, PrepareLayers(model, options.spatial_conv));
  if (explicit_ranks) DX_RETURN_IF_ERROR(CheckRanks(model, prepared.layers, options.ranks));
  result.params_before = ModelParams(model);
  result.flops_before = ModelFlops(model);
  int64_t compressible_params = 0;
  for (const CompressibleLayer& l : prepared.layers) compressible_params += l.dense_params();
  const int64_t fixed_params = result.params_before - compressible_params;

  // The estimator, when a bound asks for it: dense outputs computed once here.
  // With explicit ranks or a budget the estimator runs only when calibration samples are given.
  std::unique_ptr<AccuracyEstimator> estimator;
  const auto est_start = Clock::now();
  if (bound || !options.calibration.empty()) {
    // LoadFromBytes needs an owning pointer to the dense model for sessions: rebuild it once from the graph.
    DX_ASSIGN_OR_RETURN(std::string bytes, SerializeOnnx(WritableGraph(model)));
    DX_ASSIGN_OR_RETURN(dense_copy, Model::LoadFromBytes(bytes.data(), bytes.size()));
    Tensor samples;
    std::string source;
    if (!options.calibration.empty()) {
      DX_RETURN_IF_ERROR(AccuracyEstimator::CheckSamples(model, options.calibration));
      samples = options.calibration;
      const int64_t n = std::min<int64_t>(samples.dim(0), std::max(1, options.max_calibration_samples));
      if (n < samples.dim(0)) {
        Shape shape = samples.shape();
        shape[0] = n;
        Tensor head = Tensor::Zeros(DataType::kFloat32, shape);
        std::copy(samples.data<float>(), samples.data<float>() + head.num_elements(), head.data<float>());
        samples = head;
      }
      source = "calibration (" + std::to_string(samples.dim(0)) + " samples)";
    } else {
      DX_ASSIGN_OR_RETURN(samples, AccuracyEstimator::SyntheticInputs(model, options.synthetic_samples, options.seed));
      source = "synthetic Gaussian (" + std::to_string(samples.dim(0)) + " samples)";
    }
    progress.Line("rlc: dense outputs on " + source);
    compress::EstimatorOptions eo;
    eo.backend = options.backend;
    eo.threads = options.threads;
    DX_ASSIGN_OR_RETURN(estimator, AccuracyEstimator::Create(dense_copy, samples, source, eo));
    result.estimator_inputs = source;
    result.estimated_dense_accuracy = estimator->dense_accuracy();
  }
  result.estimator_seconds += Seconds(est_start);

  // Spectra: explicit ranks need exactly those; otherwise start from a sketch and grow where the search asks.
  const compress::SvdOptions svd_options = SvdOptionsFor(options.threads, options.seed);
  std::vector<LayerSpectrum> spectra;
  const auto svd_start = Clock::now();
  for (size_t i = 0; i < prepared.layers.size(); ++i) {
    const CompressibleLayer& l = prepared.layers[i];
    LayerSpectrum s;
    s.layer = l;
    if (explicit_ranks) {
      auto it = options.ranks.find(l.name);
      if (it == options.ranks.end() || it->second == 0) {
        s.svd.rows = l.rows;
        s.svd.cols = l.cols;
        s.svd.energy = {0.0};
        spectra.push_back(std::move(s));
        continue;
      }
      progress.Line("rlc: SVD of " + l.name + " (" + std::to_string(l.rows) + "x" + std::to_string(l.cols) +
                    ") to rank " + std::to_string(it->second));
      DX_ASSIGN_OR_RETURN(s.svd, compress::TruncatedSvd(prepared.matrices[i].data(), l.rows, l.cols, it->second,
                                                        svd_options));
    } else {
      const int64_t be = l.break_even_rank();
      if (be < 1) {  // factoring never pays
        s.svd.rows = l.rows;
        s.svd.cols = l.cols;
        s.svd.energy = {0.0};
        spectra.push_back(std::move(s));
        continue;
      }
      progress.Line("rlc: SVD of " + l.name + " (" + std::to_string(l.rows) + "x" + std::to_string(l.cols) + ")");
      const int64_t initial = std::min(be, std::max<int64_t>(64, l.max_rank() / 8));
      DX_ASSIGN_OR_RETURN(s.svd, compress::TruncatedSvdForError(prepared.matrices[i].data(), l.rows, l.cols, 1.0,
                                                                initial, be, svd_options));
    }
    spectra.push_back(std::move(s));
  }
  result.svd_seconds += Seconds(svd_start);

  // Grows the SVDs whose computed ranks are at the allocation's edge, then re-allocates; returns the ranks.
  auto allocate = [&](double cost_budget) -> Result<compress::Allocation> {
    for (int round = 0;; ++round) {
      compress::Allocation a = compress::AllocateForBudget(spectra, cost_budget, BudgetKind::kParams);
      bool grew = false;
      for (size_t i = 0; i < spectra.size(); ++i) {
        LayerSpectrum& s = spectra[i];
        const int64_t k = a.ranks[i];
        const bool at_edge = k == 0 ? false : k >= s.svd.rank;
        if (!at_edge || s.svd.exact || s.svd.rank >= s.layer.break_even_rank()) continue;
        progress.Line("rlc: growing SVD of " + s.layer.name + " beyond rank " + std::to_string(s.svd.rank));
        const auto t = Clock::now();
        DX_RETURN_IF_ERROR(compress::GrowSvd(prepared.matrices[i].data(), s.svd,
                                             std::min(s.layer.break_even_rank(), 2 * s.svd.rank), svd_options));
        result.svd_seconds += Seconds(t);
        grew = true;
      }
      if (!grew || round > 8) return a;
    }
  };
  std::map<std::vector<int64_t>, compress::Estimate> evaluated;
  auto evaluate = [&](const std::vector<int64_t>& ranks) -> Result<compress::Estimate> {
    if (auto it = evaluated.find(ranks); it != evaluated.end()) return it->second;
    const auto t = Clock::now();
    DX_ASSIGN_OR_RETURN(std::shared_ptr<const Model> m, BuildModel(model, spectra, ranks));
    DX_ASSIGN_OR_RETURN(compress::Estimate e, estimator->Evaluate(m));
    ++result.estimator_evaluations;
    result.estimator_seconds += Seconds(t);
    progress.Line("rlc: candidate " + std::to_string(result.estimator_evaluations) + " (" + Describe(spectra, ranks) +
                  "): estimated drop " + Fixed(100 * e.drop, 2) + " pp");
    evaluated[ranks] = e;
    return e;
  };

  std::vector<int64_t> ranks(spectra.size(), 0);
  if (explicit_ranks) {
    for (size_t i = 0; i < spectra.size(); ++i) {
      auto it = options.ranks.find(spectra[i].layer.name);
      if (it != options.ranks.end()) ranks[i] = it->second;
    }
  } else if (budget) {
    const double budget_params = options.weight_budget_mb * 1e6 / 4.0 - static_cast<double>(fixed_params);
    const double min_params = compress::MinimumCost(spectra, BudgetKind::kParams);
    if (budget_params < min_params) {
      const double min_mb = (min_params + static_cast<double>(fixed_params)) * 4.0 / 1e6;
      return OutOfRange("weight budget " + Fixed(options.weight_budget_mb, 3) + " MB cannot be met: the smallest " +
                        "achievable is " + Fixed(min_mb, 3) + " MB (every compressible layer at rank 1; " +
                        Fixed(static_cast<double>(fixed_params) * 4.0 / 1e6, 3) + " MB in layers that are not factored)");
    }
    DX_ASSIGN_OR_RETURN(compress::Allocation a, allocate(budget_params));
    ranks = a.ranks;
  } else {
    // Smallest weights whose estimated drop is within the bound: bisection over the weight budget along the
    // least-energy-loss frontier (each step one estimator run).
    if (options.measure_sensitivity) {
      double sum = 0;
      int counted = 0;
      for (size_t i = 0; i < spectra.size(); ++i) {
        // The rank meeting error 0.5, or the largest computed one below break-even when 0.5 is not reached yet.
        int64_t k = compress::RankForError(spectra[i], 0.5);
        if (k <= 0) k = std::min(spectra[i].svd.rank, spectra[i].layer.break_even_rank());
        if (k <= 0) continue;
        std::vector<int64_t> alone(spectra.size(), 0);
        alone[i] = k;
        DX_ASSIGN_OR_RETURN(compress::Estimate e, evaluate(alone));
        const double err = spectra[i].svd.RelativeError(k);
        spectra[i].sensitivity = std::max(e.drop, 1e-4) / std::max(err * err, 1e-6);
        sum += spectra[i].sensitivity;
        ++counted;
      }
      for (LayerSpectrum& s : spectra)  // mean 1 over the measured layers; the others keep 1
        if (counted > 0 && s.sensitivity != 1.0) s.sensitivity *= counted / sum;
    }
    double lo = compress::MinimumCost(spectra, BudgetKind::kParams);
    double hi = compress::DenseCost(spectra, BudgetKind::kParams);
    std::vector<int64_t> best(spectra.size(), 0);
    if (lo < hi) {
      DX_ASSIGN_OR_RETURN(compress::Allocation cheapest, allocate(lo));
      DX_ASSIGN_OR_RETURN(compress::Estimate e, evaluate(cheapest.ranks));
      if (e.drop_upper <= options.max_accuracy_drop) {
        best = cheapest.ranks;
        hi = lo;
      }
      for (int it = 0; it < 10 && hi > lo * 1.02; ++it) {
        const double mid = std::sqrt(lo * hi);
        DX_ASSIGN_OR_RETURN(compress::Allocation a, allocate(mid));
        if (a.ranks == best) {  // the frontier has no point between: stop
          hi = mid;
          continue;
        }
        DX_ASSIGN_OR_RETURN(compress::Estimate em, evaluate(a.ranks));
        if (em.drop_upper <= options.max_accuracy_drop) {
          hi = a.cost;
          best = a.ranks;
        } else {
          lo = mid;
        }
      }
    }
    ranks = best;
  }

  // The final model and its report.
  progress.Line("rlc: building the compressed model (" + Describe(spectra, ranks) + ")");
  DX_ASSIGN_OR_RETURN(result.model, BuildModel(model, spectra, ranks));
  if (estimator) {
    DX_ASSIGN_OR_RETURN(compress::Estimate e, evaluate(ranks));
    result.estimated_accuracy_drop = e.drop;
    result.estimated_accuracy_drop_upper = e.drop_upper;
    result.flip_rate = e.flip_rate;
  }
  int compressed = 0;
  for (int64_t k : ranks) compressed += k > 0;
  for (size_t i = 0; i < spectra.size(); ++i) {
    const LayerSpectrum& s = spectra[i];
    LayerCompressionReport r;
    r.name = s.layer.name;
    r.op_type = s.layer.op_type;
    r.weight_shape = s.layer.weight_shape;
    r.rows = s.layer.rows;
    r.cols = s.layer.cols;
    r.rank = ranks[i];
    r.max_rank = s.layer.max_rank();
    r.params_before = s.layer.dense_params();
    r.params_after = ranks[i] ? s.layer.params_at(ranks[i]) : r.params_before;
    r.flops_before = s.layer.dense_flops;
    r.flops_after = ranks[i] ? static_cast<double>(ranks[i]) * s.layer.flops_per_rank : r.flops_before;
    r.relative_error = ranks[i] ? s.svd.RelativeError(ranks[i]) : 0.0;
    if (estimator && ranks[i] > 0 && compressed > 1 && compressed <= 16) {
      std::vector<int64_t> alone(spectra.size(), 0);
      alone[i] = ranks[i];
      DX_ASSIGN_OR_RETURN(compress::Estimate e, evaluate(alone));
      r.estimated_drop_alone = e.drop;
    } else if (estimator && ranks[i] > 0) {
      r.estimated_drop_alone = result.estimated_accuracy_drop;
    }
    result.layers.push_back(std::move(r));
  }
  result.params_after = ModelParams(*result.model);
  result.flops_after = ModelFlops(*result.model);
  if (bound && budget && result.estimated_accuracy_drop_upper > options.max_accuracy_drop)
    return FailedPrecondition("weight budget " + Fixed(options.weight_budget_mb, 3) + " MB is met only with an " +
                              "estimated accuracy drop of up to " + Fixed(100 * result.estimated_accuracy_drop_upper, 2) +
                              " pp, over the bound of " + Fixed(100 * options.max_accuracy_drop, 2) + " pp");
  result.total_seconds = Seconds(start);
  progress.Line("rlc: done in " + Fixed(result.total_seconds, 2) + " s: " + std::to_string(result.params_before) +
                " -> " + std::to_string(result.params_after) + " weights");
  progress.Done();
  return result;
}

Status SaveModelOnnx(const Model& model, const std::string& path) { return SaveOnnx(WritableGraph(model), path); }

Result<std::vector<LayerRankChoices>> EnumerateRankChoices(const Model& model, const RankChoiceOptions& options) {
  DX_ASSIGN_OR_RETURN(Prepared prepared, PrepareLayers(model, options.spatial_conv));
  const compress::SvdOptions svd_options = SvdOptionsFor(options.threads, 0);
  double min_error = 1;
  for (double e : options.relative_errors) {
    if (!(e >= 0 && e <= 1)) return InvalidArgument("relative error " + std::to_string(e) + " is not in [0, 1]");
    min_error = std::min(min_error, e);
  }
  std::vector<LayerRankChoices> out;
  for (size_t i = 0; i < prepared.layers.size(); ++i) {
    const CompressibleLayer& l = prepared.layers[i];
    LayerRankChoices c;
    c.name = l.name;
    c.op_type = l.op_type;
    c.rows = l.rows;
    c.cols = l.cols;
    c.choices.push_back({0, l.dense_params(), l.dense_flops, 0.0});
    const int64_t be = l.break_even_rank();
    if (be >= 1) {
      LayerSpectrum s;
      s.layer = l;
      DX_ASSIGN_OR_RETURN(s.svd, compress::TruncatedSvdForError(prepared.matrices[i].data(), l.rows, l.cols, min_error,
                                                                std::min(be, std::max<int64_t>(64, l.max_rank() / 8)),
                                                                be, svd_options));
      std::vector<double> errors = options.relative_errors;
      std::sort(errors.begin(), errors.end());
      int64_t last = -1;
      for (double e : errors) {
        const int64_t k = compress::RankForError(s, e);
        if (k <= 0 || k == last) continue;
        last = k;
        c.choices.push_back({k, l.params_at(k), static_cast<double>(k) * l.flops_per_rank, s.svd.RelativeError(k)});
      }
    }
    out.push_back(std::move(c));
  }
  return out;
}

Result<std::shared_ptr<const Model>> ApplyRanks(const Model& model, const std::map<std::string, int64_t>& ranks,
                                                const RankChoiceOptions& options) {
  DX_ASSIGN_OR_RETURN(Prepared prepared, PrepareLayers(model, options.spatial_conv));
  DX_RETURN_IF_ERROR(CheckRanks(model, prepared.layers, ranks));
  std::vector<LayerSpectrum> spectra;
  std::vector<int64_t> chosen;
  const compress::SvdOptions svd_options = SvdOptionsFor(options.threads, 0);
  for (size_t i = 0; i < prepared.layers.size(); ++i) {
    auto it = ranks.find(prepared.layers[i].name);
    if (it == ranks.end() || it->second == 0) continue;
    LayerSpectrum s;
    s.layer = prepared.layers[i];
    DX_ASSIGN_OR_RETURN(s.svd, compress::TruncatedSvd(prepared.matrices[i].data(), s.layer.rows, s.layer.cols,
                                                      it->second, svd_options));
    spectra.push_back(std::move(s));
    chosen.push_back(it->second);
  }
  return BuildModel(model, spectra, chosen);
}

}  // namespace deepx
