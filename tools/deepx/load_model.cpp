// LoadModelForRun: the model `run`, `bench` and `profile` execute, compressed at load when asked.
#include <iostream>

#include "compress_args.h"
#include "deepx/compress.hpp"
#include "input_feeds.h"
#include "io/npy.h"

namespace deepx::cli {

Result<std::shared_ptr<const Model>> LoadModelForRun(const ModelRunArgs& args) {
  DX_ASSIGN_OR_RETURN(std::shared_ptr<const Model> model, Model::Load(args.model));
  if (args.max_accuracy_drop < 0) return model;
  // RLC in memory: the fewest weights whose estimated top-1 drop stays within the bound.
  CompressOptions options;
  options.max_accuracy_drop = args.max_accuracy_drop;
  options.threads = args.threads;
  options.progress = true;
  if (!args.calibration.empty()) {
    DX_ASSIGN_OR_RETURN(options.calibration, ReadNpyFile(args.calibration));
    Status fit = CheckCalibrationFits(*model, options.calibration);
    if (!fit.ok()) return InvalidArgument("--calibration '" + args.calibration + "': " + fit.message());
  }
  DX_ASSIGN_OR_RETURN(CompressionResult result, Compress(*model, options));
  std::cerr << "rlc: " << result.params_before << " -> " << result.params_after << " weights, estimated top-1 drop "
            << 100 * result.estimated_accuracy_drop << " pp on " << result.estimator_inputs << " ("
            << result.total_seconds << " s)\n";
  return result.model;
}

}  // namespace deepx::cli
