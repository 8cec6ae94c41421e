#include <algorithm>
#include <filesystem>
#include <fstream>

#include "onnx/model_loader.h"
#include "ops/op.h"
#include "passes/passes.h"
#include "passes/shape_inference.h"
#include "runtime/model_impl.h"

namespace deepx {

Model::Model(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Model::~Model() = default;

const std::vector<TensorSpec>& Model::inputs() const { return impl_->inputs; }
const std::vector<TensorSpec>& Model::outputs() const { return impl_->outputs; }
int Model::opset() const { return impl_->graph.opset; }
const std::string& Model::producer() const { return impl_->producer; }
const Graph& Model::graph() const { return impl_->graph; }

Result<Graph> SpecializeModel(const Model& model, const std::map<std::string, Shape>& input_shapes,
                              const std::map<std::string, Tensor>& input_values) {
  DX_ASSIGN_OR_RETURN(Graph g, SpecializeGraph(model.graph(), input_shapes, OpRegistry::Default(), {}, input_values));
  DX_RETURN_IF_ERROR(FoldConstants(g));
  return g;
}

namespace {

// Validates, completes the output specs and optimises a freshly loaded graph.
Result<std::shared_ptr<const Model>> FinishLoad(LoadedOnnx loaded, const LoadOptions& options) {
  auto impl = std::make_unique<Model::Impl>();
  impl->graph = std::move(loaded.graph);
  impl->inputs = std::move(loaded.inputs);
  impl->outputs = std::move(loaded.outputs);
  impl->producer = std::move(loaded.producer);

  // Validate the whole model once, with dynamic dims at 1, so that a model that loads also runs; then fill in
  // output dtypes/shapes the file left out (dynamic dims stay -1 where the file says so).
  {
    Model probe(std::make_unique<Model::Impl>(*impl));
    auto specialised = SpecializeGraph(probe.graph(), {}, OpRegistry::Default());
    if (!specialised.ok()) {
      // Some graphs take a Reshape target or Slice bounds as an input: they can only be validated once that
      // input's value is known, which sessions do per value (small inputs only, see session.cpp).
      bool has_small_static_input = false;
      for (const TensorSpec& in : impl->inputs) {
        bool is_static = std::all_of(in.shape.begin(), in.shape.end(), [](int64_t d) { return d >= 0; });
        has_small_static_input |= is_static && NumElements(in.shape) <= kMaxValueSpecialisedElements;
      }
      if (specialised.status().code() != StatusCode::kUnimplemented || !has_small_static_input)
        return specialised.status();
      impl->shapes_depend_on_input_values = true;
    } else {
      for (size_t i = 0; i < impl->outputs.size(); ++i) {
        const Value& v = specialised->value(specialised->outputs[i]);
        TensorSpec& spec = impl->outputs[i];
        if (spec.dtype == DataType::kUndefined) spec.dtype = v.dtype;
        if (spec.shape.size() != v.shape.size()) spec.shape = v.shape;
      }
    }
  }
  if (options.optimize) DX_RETURN_IF_ERROR(OptimizeModelGraph(impl->graph));
  return std::shared_ptr<const Model>(std::make_shared<Model>(std::move(impl)));
}

}  // namespace

Result<std::shared_ptr<const Model>> Model::LoadFromBytes(const void* data, size_t size, const std::string& base_dir,
                                                          const LoadOptions& options) {
  if (static_cast<int64_t>(size) > options.max_file_bytes)
    return ResourceExhausted("model is " + std::to_string(size) + " bytes, over the limit of " +
                             std::to_string(options.max_file_bytes));
  DX_ASSIGN_OR_RETURN(LoadedOnnx loaded, LoadOnnx(data, size, base_dir));
  return FinishLoad(std::move(loaded), options);
}


Result<std::shared_ptr<const Model>> Model::Load(const std::string& path, const LoadOptions& options) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(path, ec)) return NotFound("model file '" + path + "' does not exist");
  if (!fs::is_regular_file(path, ec)) return InvalidArgument("'" + path + "' is not a regular file");
  auto size = fs::file_size(path, ec);
  if (ec) return IoError("cannot read size of '" + path + "'");
  if (static_cast<int64_t>(size) > options.max_file_bytes)
    return ResourceExhausted("model file '" + path + "' is " + std::to_string(size) + " bytes, over the limit of " +
                             std::to_string(options.max_file_bytes));
  if (size == 0) return InvalidArgument("loading '" + path + "': model file is empty");
  if (size > static_cast<uintmax_t>(INT32_MAX))
    return Unimplemented("loading '" + path + "': model protobuf is larger than 2 GiB; store weights as external data");
  std::string dir = fs::absolute(fs::path(path)).parent_path().string();
  auto loaded = LoadOnnxFile(path, dir);
  if (!loaded.ok()) return loaded.status().WithContext("loading '" + path + "'");
  auto model = FinishLoad(std::move(loaded).value(), options);
  if (!model.ok()) return model.status().WithContext("loading '" + path + "'");
  return model;
}

Result<ModelSummary> Model::Summarize(const std::map<std::string, Shape>& input_shapes) const {
  // Summarise the graph as it will run: specialised, with weights folded but before dead shape arithmetic
  // disappears, so every layer a user wrote still shows.
  DX_ASSIGN_OR_RETURN(Graph g, SpecializeModel(*this, input_shapes));
  ModelSummary summary;
  const OpRegistry& registry = OpRegistry::Default();
  for (const Node& n : g.nodes) {
    LayerInfo layer;
    layer.name = n.name;
    layer.op_type = n.op_type;
    CostContext ctx{n, {}, {}};
    for (ValueId v : n.inputs) {
      ctx.inputs.push_back(v == kNoValue ? nullptr : &g.value(v));
      if (v == kNoValue) continue;
      layer.input_shapes.push_back(g.value(v).shape);
      if (g.value(v).is_constant()) layer.params += NumElements(g.value(v).shape);
    }
    for (ValueId v : n.outputs) {
      ctx.outputs.push_back(v == kNoValue ? nullptr : &g.value(v));
      if (v != kNoValue) layer.output_shapes.push_back(g.value(v).shape);
    }
    OpCost cost = ComputeCost(*registry.Find(n.op_type), ctx);
    layer.flops = cost.flops;
    layer.bytes_read = cost.bytes_read;
    layer.bytes_written = cost.bytes_written;
    summary.total_params += layer.params;
    summary.total_flops += layer.flops;
    summary.total_bytes += layer.bytes_read + layer.bytes_written;
    summary.layers.push_back(std::move(layer));
  }
  return summary;
}

}  // namespace deepx
