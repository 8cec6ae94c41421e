#include <map>
#include <mutex>

#include "runtime/executor.h"
#include "runtime/model_impl.h"

namespace deepx {

struct Session::Impl {
  std::shared_ptr<const Model> model;
  SessionOptions options;
  std::vector<std::shared_ptr<Backend>> backends;
  // One executor per distinct set of input shapes (dynamic batch): specialisation and preparation happen once.
  std::map<std::vector<Shape>, std::unique_ptr<Executor>> executors;
  std::mutex mu;

  Result<Executor*> ExecutorFor(const std::vector<Shape>& shapes) {
    auto it = executors.find(shapes);
    if (it != executors.end()) return it->second.get();
    std::map<std::string, Shape> named;
    for (size_t i = 0; i < shapes.size(); ++i) named[model->inputs()[i].name] = shapes[i];
    DX_ASSIGN_OR_RETURN(Graph g, SpecializeModel(*model, named));
    auto graph = std::make_shared<const Graph>(std::move(g));
    Plan plan = SingleBackendPlan(*graph, 0);
    DX_ASSIGN_OR_RETURN(auto executor, Executor::Create(graph, std::move(plan), backends));
    Executor* raw = executor.get();
    executors[shapes] = std::move(executor);
    return raw;
  }
};

Session::Session(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Session::~Session() = default;
const Model& Session::model() const { return *impl_->model; }

Result<std::unique_ptr<Session>> Session::Create(std::shared_ptr<const Model> model, const SessionOptions& options) {
  if (!model) return InvalidArgument("session needs a model");
  auto impl = std::make_unique<Impl>();
  impl->model = std::move(model);
  impl->options = options;
  DX_ASSIGN_OR_RETURN(auto backend, CreateBackend(options.backend, options.num_threads));
  impl->backends.push_back(std::move(backend));
  return std::make_unique<Session>(std::move(impl));
}

Result<std::vector<Tensor>> Session::Run(const std::vector<std::pair<std::string, Tensor>>& inputs) {
  const auto& specs = impl_->model->inputs();
  std::vector<Tensor> ordered(specs.size());
  std::vector<bool> given(specs.size(), false);
  for (const auto& [name, tensor] : inputs) {
    size_t i = 0;
    while (i < specs.size() && specs[i].name != name) ++i;
    if (i == specs.size()) return NotFound("model has no input named '" + name + "'");
    if (given[i]) return InvalidArgument("input '" + name + "' given twice");
    const TensorSpec& spec = specs[i];
    if (tensor.empty()) return InvalidArgument("input '" + name + "' is an empty tensor");
    if (tensor.dtype() != spec.dtype)
      return InvalidArgument("input '" + name + "' must be " + DataTypeName(spec.dtype) + ", got " +
                             DataTypeName(tensor.dtype()));
    bool shape_ok = tensor.rank() == static_cast<int64_t>(spec.shape.size());
    for (size_t d = 0; shape_ok && d < spec.shape.size(); ++d)
      shape_ok = spec.shape[d] < 0 || spec.shape[d] == tensor.shape()[d];
    if (!shape_ok)
      return InvalidArgument("input '" + name + "' must have shape " + ShapeToString(spec.shape) +
                             " (-1: any), got " + ShapeToString(tensor.shape()));
    ordered[i] = tensor;
    given[i] = true;
  }
  for (size_t i = 0; i < specs.size(); ++i)
    if (!given[i]) return InvalidArgument("missing input '" + specs[i].name + "'");

  std::vector<Shape> shapes;
  for (const Tensor& t : ordered) shapes.push_back(t.shape());
  std::lock_guard<std::mutex> lock(impl_->mu);
  DX_ASSIGN_OR_RETURN(Executor * executor, impl_->ExecutorFor(shapes));
  return executor->Run(ordered);
}

}  // namespace deepx
