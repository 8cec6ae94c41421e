// `deepx compress MODEL -o OUT.onnx`: compress a model by truncated SVD (RLC) within an estimated accuracy-drop
// bound, a weight budget or explicit ranks; writes standard ONNX and a per-layer report.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "commands.h"
#include "compress_args.h"
#include "deepx/compress.hpp"
#include "io/npy.h"

namespace deepx::cli {
namespace {

using json = nlohmann::json;

struct CompressArgs {
  std::string model;
  std::string output;
  double max_accuracy_drop = -1;
  double weight_budget_mb = -1;
  std::vector<std::string> ranks;
  std::string calibration;
  int threads = 0;
  bool spatial = false;
  bool sensitivity = false;
  bool json = false;
  bool quiet = false;
  std::string backend;
};

std::string Num(double v, int precision) {
  std::ostringstream os;
  os << std::fixed << std::setprecision(precision) << v;
  return os.str();
}

json ReportJson(const CompressArgs& args, const CompressionResult& r, double save_seconds) {
  json layers = json::array();
  for (const LayerCompressionReport& l : r.layers) {
    json j = {{"name", l.name},
              {"op_type", l.op_type},
              {"weight_shape", l.weight_shape},
              {"matrix", {l.rows, l.cols}},
              {"rank", l.rank},
              {"dense", l.rank == 0},
              {"max_rank", l.max_rank},
              {"params_before", l.params_before},
              {"params_after", l.params_after},
              {"flops_before", l.flops_before},
              {"flops_after", l.flops_after},
              {"relative_error", l.relative_error}};
    j["estimated_drop_alone"] = l.estimated_drop_alone >= 0 ? json(l.estimated_drop_alone) : json(nullptr);
    layers.push_back(j);
  }
  json out = {{"model", args.model},
              {"output", args.output},
              {"layers", layers},
              {"params_before", r.params_before},
              {"params_after", r.params_after},
              {"weight_mb_before", static_cast<double>(r.params_before) * 4 / 1e6},
              {"weight_mb_after", static_cast<double>(r.params_after) * 4 / 1e6},
              {"flops_before", r.flops_before},
              {"flops_after", r.flops_after},
              {"estimator_inputs", r.estimator_inputs},
              {"estimator_evaluations", r.estimator_evaluations},
              {"timing", {{"svd_seconds", r.svd_seconds},
                          {"estimator_seconds", r.estimator_seconds},
                          {"compress_seconds", r.total_seconds},
                          {"save_seconds", save_seconds}}}};
  out["estimated_accuracy_drop"] = r.estimated_accuracy_drop >= 0 ? json(r.estimated_accuracy_drop) : json(nullptr);
  out["estimated_dense_accuracy"] = r.estimated_dense_accuracy >= 0 ? json(r.estimated_dense_accuracy) : json(nullptr);
  out["estimated_accuracy_drop_upper"] =
      r.estimated_accuracy_drop_upper >= 0 ? json(r.estimated_accuracy_drop_upper) : json(nullptr);
  out["flip_rate"] = r.flip_rate >= 0 ? json(r.flip_rate) : json(nullptr);
  return out;
}

void PrintReport(const CompressArgs& args, const CompressionResult& r, double save_seconds) {
  size_t width = 8;
  for (const LayerCompressionReport& l : r.layers) width = std::max(width, l.name.size() + 2);
  std::cout << std::left << std::setw(static_cast<int>(width)) << "layer" << std::setw(8) << "op" << std::setw(20) << "weight"
            << std::setw(8) << "rank" << std::right << std::setw(12) << "params" << std::setw(12) << "after"
            << std::setw(10) << "rel.err" << std::setw(12) << "est.drop" << "\n";
  for (const LayerCompressionReport& l : r.layers) {
    std::cout << std::left << std::setw(static_cast<int>(width)) << l.name << std::setw(8) << l.op_type << std::setw(20)
              << ShapeToString(l.weight_shape) << std::setw(8) << (l.rank ? std::to_string(l.rank) : "dense")
              << std::right << std::setw(12) << l.params_before << std::setw(12) << l.params_after << std::setw(10)
              << Num(l.relative_error, 4) << std::setw(12)
              << (l.estimated_drop_alone >= 0 ? Num(100 * l.estimated_drop_alone, 2) + " pp" : "-") << "\n";
  }
  std::cout << "weights: " << r.params_before << " -> " << r.params_after << " ("
            << Num(static_cast<double>(r.params_before) * 4 / 1e6, 3) << " -> "
            << Num(static_cast<double>(r.params_after) * 4 / 1e6, 3) << " MB, "
            << Num(static_cast<double>(r.params_before) / std::max<int64_t>(r.params_after, 1), 2) << "x smaller)\n";
  std::cout << "FLOPs at batch 1: " << Num(r.flops_before / 1e6, 2) << " M -> " << Num(r.flops_after / 1e6, 2) << " M\n";
  if (r.estimated_accuracy_drop >= 0)
    std::cout << "estimated top-1 drop: " << Num(100 * r.estimated_accuracy_drop, 2) << " pp, 95 % upper bound "
              << Num(100 * r.estimated_accuracy_drop_upper, 2) << " pp (flip rate "
              << Num(100 * r.flip_rate, 2) << "%, on " << r.estimator_inputs << ", " << r.estimator_evaluations
              << " candidates evaluated)\n";
  else
    std::cout << "estimated top-1 drop: not estimated (give --max-accuracy-drop or --calibration to run the estimator)\n";
  std::cout << "time: " << Num(r.total_seconds, 3) << " s (SVD " << Num(r.svd_seconds, 3) << " s, estimator "
            << Num(r.estimator_seconds, 3) << " s), saved in " << Num(save_seconds, 3) << " s to " << args.output
            << "\n";
}

Status Compress(const CompressArgs& args) {
  CompressOptions options;
  options.max_accuracy_drop = args.max_accuracy_drop;
  options.weight_budget_mb = args.weight_budget_mb;
  options.threads = args.threads;
  options.spatial_conv = args.spatial;
  options.measure_sensitivity = args.sensitivity;
  options.backend = args.backend;
  options.progress = !args.quiet;
  for (const std::string& spec : args.ranks) {
    DX_ASSIGN_OR_RETURN(auto parsed, ParseRanks(spec));
    for (const auto& [name, k] : parsed) {
      if (options.ranks.count(name)) return InvalidArgument("--ranks names layer '" + name + "' twice");
      options.ranks[name] = k;
    }
  }
  if (!args.calibration.empty()) {
    DX_ASSIGN_OR_RETURN(options.calibration, ReadNpyFile(args.calibration));
  }
  DX_ASSIGN_OR_RETURN(std::shared_ptr<const Model> model, Model::Load(args.model));
  if (!args.calibration.empty()) {
    Status fit = CheckCalibrationFits(*model, options.calibration);
    if (!fit.ok()) return InvalidArgument("--calibration '" + args.calibration + "': " + fit.message());
  }
  DX_ASSIGN_OR_RETURN(CompressionResult result, deepx::Compress(*model, options));
  const auto save_start = std::chrono::steady_clock::now();
  DX_RETURN_IF_ERROR(SaveModelOnnx(*result.model, args.output));
  const double save_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - save_start).count();
  if (args.json) std::cout << ReportJson(args, result, save_seconds).dump(2) << "\n";
  else PrintReport(args, result, save_seconds);
  return Status::Ok();
}

}  // namespace

void AddCompressCommand(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand(
      "compress", "Compress a model by truncated SVD (RLC) within an accuracy-drop bound, a weight budget or ranks");
  auto args = std::make_shared<CompressArgs>();
  cmd->add_option("model", args->model, "ONNX model file")->required();
  cmd->add_option("-o,--output", args->output, "Compressed ONNX model to write")->required();
  cmd->add_option("--max-accuracy-drop", args->max_accuracy_drop,
                  "Bound on the estimated top-1 accuracy drop (fraction, 0.01 = 1 pp); alone: fewest weights within it")
      ->check(CLI::Range(0.0, 1.0));
  auto* budget = cmd->add_option("--weight-budget-mb", args->weight_budget_mb,
                                 "Weights of the whole model within this many MB (float32), at the least estimated loss")
                     ->check(CLI::NonNegativeNumber);
  cmd->add_option("--ranks", args->ranks, "NAME=K,...: explicit ranks by node name (0 keeps a layer dense)")
      ->excludes(budget)
      ->type_name("NAME=K,...");
  cmd->add_option("--calibration", args->calibration,
                  "Unlabelled input samples (.npy float32, batch on dim 0) for the accuracy estimate");
  cmd->add_option("--threads", args->threads, "Threads for the SVD and the estimator (0: library default)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--backend", args->backend, "Processor the estimator runs on (default: cpu when built)");
  cmd->add_flag("--spatial", args->spatial, "Factor convolutions into h×1 and 1×w filters instead of rank-k + 1×1");
  cmd->add_flag("--sensitivity", args->sensitivity,
                "Weight layers by their measured sensitivity in the accuracy-bound search (one estimator run per layer)");
  cmd->add_flag("--json", args->json, "Print one JSON object instead of the table");
  cmd->add_flag("-q,--quiet", args->quiet, "No progress lines on stderr");
  cmd->callback([args] {
    if (args->max_accuracy_drop < 0 && args->weight_budget_mb < 0 && args->ranks.empty()) {
      std::cerr << "deepx compress: error: give --max-accuracy-drop, --weight-budget-mb or --ranks\n";
      SetExitCode(2);
      return;
    }
    Status s = Compress(*args);
    if (!s.ok()) {
      std::cerr << "deepx compress: error: " << s.ToString() << "\n";
      SetExitCode(1);
      return;
    }
    SetExitCode(0);
  });
}

}  // namespace deepx::cli
