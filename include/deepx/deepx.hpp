// DeepX C++ API: load an ONNX model, create a session, run inferences.
//
//   auto model = deepx::Model::Load("net.onnx");            // Result<std::shared_ptr<const Model>>
//   if (!model.ok()) { std::cerr << model.status().ToString(); return 1; }
//   auto session = deepx::Session::Create(*model);           // Result<std::unique_ptr<Session>>
//   auto outputs = (*session)->Run({{"input", image}});       // Result<std::vector<Tensor>>, model output order
//
// Nothing here throws for bad input: every failure comes back as a Status naming the file, node or tensor.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "deepx/status.h"
#include "deepx/tensor.h"

namespace deepx {

class Graph;  // internal IR (src/core/graph.h)

// A model input or output as declared in the file; -1 marks a dynamic dimension (e.g. batch).
struct TensorSpec {
  std::string name;
  DataType dtype = DataType::kUndefined;
  Shape shape;
};

// One node of the model after specialisation to concrete input shapes.
struct LayerInfo {
  std::string name;
  std::string op_type;
  std::vector<Shape> input_shapes;
  std::vector<Shape> output_shapes;
  int64_t params = 0;         // elements of constant inputs (weights, biases)
  double flops = 0;           // floating-point operations (a multiply-add counts 2)
  double bytes_read = 0;      // minimum bytes read: all inputs once
  double bytes_written = 0;   // minimum bytes written: all outputs once
};

struct ModelSummary {
  std::vector<LayerInfo> layers;
  int64_t total_params = 0;
  double total_flops = 0;
  double total_bytes = 0;
};

struct LoadOptions {
  // Run the graph passes (constant folding, Identity/Dropout removal, Conv+BN folding, activation fusion).
  bool optimize = true;
  // Reject model files larger than this (bytes); external data files count separately.
  int64_t max_file_bytes = int64_t{4} << 30;
};

class Model {
 public:
  // Parses and validates an ONNX file. External data files are resolved next to it and may not escape its
  // directory. The model is fully validated here (with dynamic dims set to 1): a model that loads will run.
  static Result<std::shared_ptr<const Model>> Load(const std::string& path, const LoadOptions& options = {});
  // Same, from bytes in memory; `base_dir` resolves external data ("" forbids external data).
  static Result<std::shared_ptr<const Model>> LoadFromBytes(const void* data, size_t size,
                                                            const std::string& base_dir = "",
                                                            const LoadOptions& options = {});

  const std::vector<TensorSpec>& inputs() const;
  const std::vector<TensorSpec>& outputs() const;
  int opset() const;
  const std::string& producer() const;

  // Per-layer shapes, parameters, FLOPs and bytes for the given input shapes (dynamic dims default to 1).
  Result<ModelSummary> Summarize(const std::map<std::string, Shape>& input_shapes = {}) const;

  // The model's graph as loaded (before specialisation). Internal: for tools and tests.
  const Graph& graph() const;

  ~Model();
  struct Impl;
  explicit Model(std::unique_ptr<Impl> impl);
  const Impl& impl() const { return *impl_; }  // internal

 private:
  std::unique_ptr<Impl> impl_;
};

struct SessionOptions {
  // Processor to run on: "reference" (plain C++ kernels) today; optimised CPU, OpenCL, CUDA and remote backends
  // register further names.
  std::string backend = "reference";
  // Worker threads for backends that use them (0: the backend's default).
  int num_threads = 0;
  // backend "remote": the KServe v2 server (http://host:port or https://...) and a file holding its bearer token.
  std::string remote_url;
  std::string remote_token_file;
  // Nodes the backend cannot run (Backend::Supports) go to the host CPU backend instead of failing the session.
  bool host_fallback = true;
};

// One node's kernel time in a profiled run (Session::Run with `timings`).
struct LayerTiming {
  std::string name;
  std::string op_type;
  std::string processor;  // backend name
  double start_ms = 0;    // from the start of the run
  double duration_ms = 0;
};

// Memory a session holds for its prepared specialisations (0 where a backend does not report it).
struct SessionMemory {
  int64_t activation_bytes = 0;  // peak intermediate activations of one run (activation arenas + scratch)
  int64_t resident_bytes = 0;    // held between runs: packed weights, arenas, scratch
};

class Session {
 public:
  static Result<std::unique_ptr<Session>> Create(std::shared_ptr<const Model> model,
                                                 const SessionOptions& options = {});

  // Runs one inference. Inputs are matched by name; every model input must be given, with its declared dtype
  // and a shape that agrees with the declared one (dynamic dims free). Outputs come in model output order.
  Result<std::vector<Tensor>> Run(const std::vector<std::pair<std::string, Tensor>>& inputs);
  // Same, recording every node's kernel time into `timings` (cleared first). Nodes are those of the specialised,
  // optimised graph (folded constants gone, activations fused).
  Result<std::vector<Tensor>> Run(const std::vector<std::pair<std::string, Tensor>>& inputs,
                                  std::vector<LayerTiming>* timings);

  const Model& model() const;
  // Over the specialisations prepared so far (one per distinct input shape set).
  SessionMemory memory() const;
  ~Session();
  struct Impl;
  explicit Session(std::unique_ptr<Impl> impl);

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace deepx
