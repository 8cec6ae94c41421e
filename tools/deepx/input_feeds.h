// Model inputs for the CLI: from tensor files (--input NAME=FILE), or seeded random data of the declared shape
// with dynamic dims chosen by --input-shape NAME=DIMS (default 1). Shared by `bench` and `profile`; `run` could
// use it too.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>

#include "deepx/deepx.hpp"

namespace deepx::cli {

struct Feed {
  std::string name;
  Tensor tensor;
  std::string source;  // the file, "random" or "zeros"
};

// "[?, 3, 224, 224]": a declared shape with dynamic dims shown as '?'.
std::string DeclaredShapeString(const Shape& shape);

// Parses --input-shape arguments "NAME=1,3,224,224" (',' or 'x' between dims) against the model's inputs: the
// rank and every fixed dim must agree with the declaration.
Result<std::map<std::string, Shape>> ParseInputShapes(const Model& model, const std::vector<std::string>& args);

// One feed per model input, in model order: the --input files (NAME=FILE, .npy or .pb), checked against the
// declared dtype/shape and any --input-shape, else random data (floats uniform in [0, 1) from `seed`, other
// dtypes zero) of the --input-shape or the declared shape with dynamic dims 1.
Result<std::vector<Feed>> LoadFeeds(const Model& model, const std::vector<std::string>& input_files,
                                    const std::vector<std::string>& input_shapes, uint64_t seed);

// The backend `bench` and `profile` use when none is named: "cpu" when this build has it, else "reference".
std::string DefaultMeasurementBackend();

// What `run`, `bench` and `profile` all take: the model, the processor, and its inputs.
struct ModelRunArgs {
  std::string model;
  std::string backend;  // "" = DefaultMeasurementBackend()
  int threads = 0;
  std::vector<std::string> inputs;        // NAME=FILE
  std::vector<std::string> input_shapes;  // NAME=DIMS
  uint64_t seed = 0;
  // A remote processor (KServe v2 server) and its bearer token; with no --backend, the model runs there.
  std::string remote_url;
  std::string token_file;
  // RLC at load: compress the model in memory so that the estimated top-1 drop stays within this (< 0: off),
  // estimating on the unlabelled samples of `calibration` (.npy, batch along dim 0) when given.
  double max_accuracy_drop = -1;
  std::string calibration;
};

// Declares the ModelRunArgs options (model, --backend, --threads, -i/--input, --input-shape, --seed) on `cmd`.
void AddModelRunOptions(CLI::App* cmd, ModelRunArgs* args);

// Loads args.model and, when args.max_accuracy_drop >= 0, compresses it in memory (RLC; see compress/).
Result<std::shared_ptr<const Model>> LoadModelForRun(const ModelRunArgs& args);
// The session options the args ask for: backend (DefaultMeasurementBackend() when none, "remote" when only
// --remote is given), threads and remote settings.
SessionOptions SessionOptionsFor(const ModelRunArgs& args);

// The feeds as Session::Run wants them.
std::vector<std::pair<std::string, Tensor>> NamedFeeds(const std::vector<Feed>& feeds);

}  // namespace deepx::cli
