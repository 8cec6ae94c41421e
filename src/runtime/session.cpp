#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <mutex>

#include "runtime/executor.h"
#include "runtime/model_impl.h"

namespace deepx {
namespace {

// Bound on cached specialisations, so a stream of distinct small-input values cannot grow memory without limit.
constexpr size_t kMaxCachedExecutors = 32;

// The part of a request that selects a specialisation: every input's shape, plus the bytes of inputs fixed by
// value.
struct SpecialisationKey {
  std::vector<Shape> shapes;
  std::vector<std::string> values;
  bool operator<(const SpecialisationKey& o) const {
    return std::tie(shapes, values) < std::tie(o.shapes, o.values);
  }
};

}  // namespace

struct Session::Impl {
  // A specialised executor plus, for each of its graph inputs, the index of the model input feeding it (inputs
  // fixed by value are constants of the specialised graph and have none), computed once instead of per run.
  struct Entry {
    std::unique_ptr<Executor> executor;
    std::vector<size_t> input_index;
  };

  std::shared_ptr<const Model> model;
  SessionOptions options;
  std::vector<std::shared_ptr<Backend>> backends;
  // Processor health shared by every specialisation's executor: a processor that failed in one is avoided by all.
  std::shared_ptr<ProcessorHealth> health = std::make_shared<ProcessorHealth>();
  std::map<SpecialisationKey, Entry> executors;
  // The entry used by the previous run (std::map nodes are stable): runs repeating the previous request's
  // shapes, the common case, compare against it without building a key.
  const SpecialisationKey* last_key = nullptr;
  Entry* last_entry = nullptr;
  // Whether small inputs are fixed by value; decided on the first run that needs it.
  bool specialise_small_inputs = false;
  std::mutex mu;

  bool ByValue(const Tensor& t) const {
    return specialise_small_inputs && t.num_elements() <= kMaxValueSpecialisedElements;
  }

  SpecialisationKey KeyFor(const std::vector<const Tensor*>& inputs) const {
    SpecialisationKey key;
    for (const Tensor* t : inputs) {
      key.shapes.push_back(t->shape());
      key.values.push_back(ByValue(*t) ? std::string(static_cast<const char*>(t->raw_data()), t->size_bytes()) : "");
    }
    return key;
  }

  // Whether `inputs` would produce `key`, without building a key.
  bool Matches(const SpecialisationKey& key, const std::vector<const Tensor*>& inputs) const {
    if (key.shapes.size() != inputs.size()) return false;
    for (size_t i = 0; i < inputs.size(); ++i) {
      const Tensor& t = *inputs[i];
      if (key.shapes[i] != t.shape()) return false;
      const std::string& v = key.values[i];
      if (ByValue(t)) {
        if (v.size() != t.size_bytes() || std::memcmp(v.data(), t.raw_data(), v.size()) != 0) return false;
      } else if (!v.empty()) {
        return false;
      }
    }
    return true;
  }

  Result<std::unique_ptr<Executor>> Build(const std::vector<const Tensor*>& inputs) {
    std::map<std::string, Shape> shapes;
    std::map<std::string, Tensor> values;
    for (size_t i = 0; i < inputs.size(); ++i) {
      const std::string& name = model->inputs()[i].name;
      shapes[name] = inputs[i]->shape();
      if (ByValue(*inputs[i])) values[name] = *inputs[i];
    }
    DX_ASSIGN_OR_RETURN(Graph g, SpecializeModel(*model, shapes, values));
    auto graph = std::make_shared<const Graph>(std::move(g));
    // The simplest plan: everything on the chosen backend, except nodes it does not support, which run on the
    // host fallback backend (index 1) when there is one.
    std::vector<int> assignment(graph->nodes.size(), 0);
    bool any_fallback = false;
    for (size_t i = 0; i < graph->nodes.size(); ++i) {
      Status supported = backends[0]->Supports(*graph, graph->nodes[i]);
      if (supported.ok()) continue;
      if (backends.size() < 2) return supported.WithContext(graph->NodeLabel(static_cast<NodeId>(i)));
      assignment[i] = 1;
      any_fallback = true;
    }
    Plan plan = SingleBackendPlan(*graph, 0);
    if (any_fallback) {
      DX_ASSIGN_OR_RETURN(plan, PlanFromAssignment(*graph, assignment));
    }
    // A block that fails on the chosen backend is re-run on the host fallback backend (index 1).
    ExecutorOptions executor_options;
    executor_options.health = health;
    if (backends.size() > 1) executor_options.fallback = backends[1];
    return Executor::Create(graph, std::move(plan), backends, executor_options);
  }

  Result<Entry*> EntryFor(const std::vector<const Tensor*>& inputs) {
    if (last_key && Matches(*last_key, inputs)) return last_entry;
    SpecialisationKey key = KeyFor(inputs);
    auto it = executors.find(key);
    if (it != executors.end()) {
      last_key = &it->first;
      last_entry = &it->second;
      return last_entry;
    }
    auto built = Build(inputs);
    if (!built.ok() && built.status().code() == StatusCode::kUnimplemented && !specialise_small_inputs) {
      bool has_small = false;
      for (const Tensor* t : inputs) has_small |= t->num_elements() <= kMaxValueSpecialisedElements;
      if (has_small) {
        specialise_small_inputs = true;
        auto retry = Build(inputs);
        if (!retry.ok()) {
          specialise_small_inputs = false;
          return built.status();
        }
        built = std::move(retry);
        key = KeyFor(inputs);
      }
    }
    if (!built.ok()) return built.status();
    if (executors.size() >= kMaxCachedExecutors) {
      last_key = nullptr;
      last_entry = nullptr;
      executors.clear();
    }
    Entry entry;
    entry.executor = std::move(built).value();
    const auto& specs = model->inputs();
    const Graph& g = entry.executor->graph();
    for (ValueId id : g.inputs) {
      const std::string& name = g.value(id).name;
      size_t i = 0;
      while (i < specs.size() && specs[i].name != name) ++i;
      if (i == specs.size()) return Internal("specialised graph input '" + name + "' is not a model input");
      entry.input_index.push_back(i);
    }
    auto [pos, inserted] = executors.insert_or_assign(std::move(key), std::move(entry));
    last_key = &pos->first;
    last_entry = &pos->second;
    return last_entry;
  }
};

Session::Session(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Session::~Session() = default;
const Model& Session::model() const { return *impl_->model; }

SessionMemory Session::memory() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  SessionMemory m;
  for (const auto& [key, entry] : impl_->executors) {
    const Executor* executor = entry.executor.get();
    m.activation_bytes = std::max(m.activation_bytes, executor->activation_bytes());
    m.resident_bytes += executor->resident_bytes();
  }
  return m;
}

Result<std::unique_ptr<Session>> Session::Create(std::shared_ptr<const Model> model, const SessionOptions& options) {
  if (!model) return InvalidArgument("session needs a model");
  auto impl = std::make_unique<Impl>();
  impl->model = std::move(model);
  impl->options = options;
  impl->specialise_small_inputs = impl->model->impl().shapes_depend_on_input_values;
  BackendConfig config;
  config.num_threads = options.num_threads;
  config.remote_url = options.remote_url;
  config.token_file = options.remote_token_file;
  DX_ASSIGN_OR_RETURN(auto backend, CreateBackend(options.backend, config));
  impl->backends.push_back(std::move(backend));
  const std::string fallback = HostFallbackBackend();
  if (options.host_fallback && options.backend != fallback && options.backend != "reference") {
    BackendConfig host;
    host.num_threads = options.num_threads;
    DX_ASSIGN_OR_RETURN(auto host_backend, CreateBackend(fallback, host));
    impl->backends.push_back(std::move(host_backend));
  }
  return std::make_unique<Session>(std::move(impl));
}

Result<std::vector<Tensor>> Session::Run(const std::vector<std::pair<std::string, Tensor>>& inputs) {
  return Run(inputs, nullptr);
}

Result<std::vector<Tensor>> Session::Run(const std::vector<std::pair<std::string, Tensor>>& inputs,
                                         std::vector<LayerTiming>* timings) {
  const auto& specs = impl_->model->inputs();
  // Pointers into `inputs` in model input order (no Tensor copies, which would copy shapes).
  std::vector<const Tensor*> ordered(specs.size(), nullptr);
  for (const auto& [name, tensor] : inputs) {
    size_t i = 0;
    while (i < specs.size() && specs[i].name != name) ++i;
    if (i == specs.size()) return NotFound("model has no input named '" + name + "'");
    if (ordered[i]) return InvalidArgument("input '" + name + "' given twice");
    const TensorSpec& spec = specs[i];
    if (tensor.empty()) return InvalidArgument("input '" + name + "' is an empty tensor");
    if (!tensor.is_host()) return InvalidArgument("input '" + name + "' is not in host memory");
    if (tensor.dtype() != spec.dtype)
      return InvalidArgument("input '" + name + "' must be " + DataTypeName(spec.dtype) + ", got " +
                             DataTypeName(tensor.dtype()));
    bool shape_ok = tensor.rank() == static_cast<int64_t>(spec.shape.size());
    for (size_t d = 0; shape_ok && d < spec.shape.size(); ++d)
      shape_ok = spec.shape[d] < 0 || spec.shape[d] == tensor.shape()[d];
    if (!shape_ok)
      return InvalidArgument("input '" + name + "' must have shape " + ShapeToString(spec.shape) +
                             " (-1: any), got " + ShapeToString(tensor.shape()));
    ordered[i] = &tensor;
  }
  for (size_t i = 0; i < specs.size(); ++i)
    if (!ordered[i]) return InvalidArgument("missing input '" + specs[i].name + "'");

  std::lock_guard<std::mutex> lock(impl_->mu);
  DX_ASSIGN_OR_RETURN(Impl::Entry * entry, impl_->EntryFor(ordered));
  Executor* executor = entry->executor.get();
  // Inputs fixed by value are constants of the specialised graph; pass the rest in its input order.
  const Graph& g = executor->graph();
  std::vector<Tensor> remaining;
  remaining.reserve(entry->input_index.size());
  for (size_t i : entry->input_index) remaining.push_back(*ordered[i]);
  if (!timings) return executor->Run(remaining);

  std::vector<NodeTiming> raw;
  RunOptions options;
  options.timings = &raw;
  const int64_t t0 = SteadyNowNs();
  auto outputs = executor->Run(remaining, options);
  if (!outputs.ok()) return outputs;
  // Map nodes to the backend of the block that ran them.
  std::vector<std::string> processor(g.nodes.size());
  for (const Block& block : executor->plan().blocks)
    for (NodeId n : block.nodes)
      processor[static_cast<size_t>(n)] = executor->backends()[static_cast<size_t>(block.backend)]->info().name;
  timings->clear();
  for (const NodeTiming& t : raw) {
    const Node& n = g.node(t.node);
    timings->push_back({n.name, n.op_type, processor[static_cast<size_t>(t.node)], (t.start_ns - t0) / 1e6,
                        (t.end_ns - t.start_ns) / 1e6});
  }
  return outputs;
}

}  // namespace deepx
