#include "backends/opencl/opencl_backend.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <set>

#include "backends/opencl/opencl_device.h"
#include "backends/opencl/opencl_ops.h"

namespace deepx {
namespace {

using opencl::ClBuffer;
using opencl::ClDevice;
using opencl::ClMem;
using opencl::ClOp;

// A block compiled for one device. Memory: constants read by kernels are uploaded once here; intermediates live in
// device buffers allocated here and reused between values whose lifetimes do not overlap (best fit by size);
// block outputs get fresh buffers every run, so a caller may keep them while the block runs again. Views alias
// their input's buffer. Runs are serialised (they share the intermediate buffers).
class OpenClExecutable final : public Executable {
 public:
  static Result<std::unique_ptr<Executable>> Make(std::shared_ptr<ClDevice> device, std::shared_ptr<const Graph> graph,
                                                  const Block& block) {
    auto e = std::unique_ptr<OpenClExecutable>(new OpenClExecutable());
    e->device_ = std::move(device);
    e->graph_ = std::move(graph);
    e->block_ = block;
    DX_RETURN_IF_ERROR(e->Build());
    return std::unique_ptr<Executable>(std::move(e));
  }

  Status Run(const std::vector<Tensor>& inputs, std::vector<Tensor>& outputs, const RunOptions& options) override {
    std::lock_guard<std::mutex> lock(mu_);
    const Graph& g = *graph_;
    if (inputs.size() != block_.inputs.size())
      return InvalidArgument("block expects " + std::to_string(block_.inputs.size()) + " inputs, got " +
                             std::to_string(inputs.size()));
    // Inputs already on this device are used in place; host ones are uploaded (enqueued, not waited for).
    std::vector<Tensor> resident(inputs.size());
    for (size_t i = 0; i < inputs.size(); ++i) {
      const Tensor& t = inputs[i];
      if (ClBuffer* b = opencl::DeviceBufferOf(t, *device_)) {
        resident[i] = t;
        mem_[static_cast<size_t>(block_.inputs[i])] = b->mem();
      } else if (t.is_host()) {
        DX_ASSIGN_OR_RETURN(resident[i], opencl::UploadTensor(device_, t));
        mem_[static_cast<size_t>(block_.inputs[i])] = static_cast<ClBuffer*>(resident[i].buffer().get())->mem();
      } else {
        return InvalidArgument("input '" + g.value(block_.inputs[i]).name + "' is in '" + t.buffer()->location() +
                               "', not in " + device_->name() + " or host memory");
      }
    }
    outputs.assign(block_.outputs.size(), Tensor());
    std::map<ValueId, Tensor> fresh;
    for (size_t i = 0; i < block_.outputs.size(); ++i) {
      const ValueId v = block_.outputs[i];
      auto it = fresh.find(v);
      if (it == fresh.end()) {
        const Value& value = g.value(v);
        DX_ASSIGN_OR_RETURN(Tensor t, opencl::AllocateDeviceTensor(device_, value.dtype, value.shape));
        mem_[static_cast<size_t>(v)] = static_cast<ClBuffer*>(t.buffer().get())->mem();
        it = fresh.emplace(v, std::move(t)).first;
      }
      outputs[i] = it->second;
    }
    cl_command_queue queue = device_->queue();
    if (options.timings) DX_RETURN_IF_ERROR(opencl::ClCheck(clFinish(queue), "waiting for the device"));
    opencl::ClArgs args;
    for (const Step& step : steps_) {
      const Node& n = g.node(step.node);
      args.in.assign(n.inputs.size(), nullptr);
      args.out.assign(n.outputs.size(), nullptr);
      for (size_t i = 0; i < n.inputs.size(); ++i)
        if (n.inputs[i] != kNoValue && step.op->reads_device_input(i))
          args.in[i] = mem_[static_cast<size_t>(n.inputs[i])];
      if (step.alias_output) mem_[static_cast<size_t>(n.outputs[0])] = args.in[0];
      for (size_t o = 0; o < n.outputs.size(); ++o)
        if (n.outputs[o] != kNoValue) args.out[o] = mem_[static_cast<size_t>(n.outputs[o])];
      const int64_t start = options.timings ? SteadyNowNs() : 0;
      DX_RETURN_IF_ERROR_CTX(step.op->Enqueue(args), g.NodeLabel(n));
      if (options.timings) {
        DX_RETURN_IF_ERROR(opencl::ClCheck(clFinish(queue), "running " + g.NodeLabel(n)));
        options.timings->push_back({step.node, start, SteadyNowNs()});
      }
    }
    // Start the work now; the caller's read of the outputs (ToHost) is the one wait.
    return opencl::ClCheck(clFlush(queue), "flushing the command queue");
  }

  int64_t resident_bytes() const override { return resident_; }
  int64_t activation_bytes() const override { return activation_; }
  // Per node of the block, which kernel runs it.
  std::vector<std::string> node_impls() const {
    std::vector<std::string> r;
    for (const Step& s : steps_) r.push_back(s.op->impl_name());
    return r;
  }

 private:
  struct Step {
    NodeId node;
    std::unique_ptr<ClOp> op;
    bool alias_output = false;  // a view whose output shares its input's buffer
  };

  OpenClExecutable() = default;

  Status Build() {
    const Graph& g = *graph_;
    mem_.assign(g.values.size(), nullptr);
    const std::set<ValueId> block_outputs(block_.outputs.begin(), block_.outputs.end());
    std::map<ValueId, size_t> uploaded;  // constant value -> index in constants_
    // Ops, constant uploads and aliases.
    std::vector<ValueId> root(g.values.size());
    for (size_t v = 0; v < root.size(); ++v) root[v] = static_cast<ValueId>(v);
    for (NodeId id : block_.nodes) {
      const Node& n = g.node(id);
      DX_ASSIGN_OR_RETURN(std::unique_ptr<ClOp> op, opencl::MakeClOp({g, n, device_}));
      for (size_t i = 0; i < n.inputs.size(); ++i) {
        const ValueId v = n.inputs[i];
        if (v == kNoValue || !op->reads_device_input(i) || !g.value(v).is_constant() || uploaded.count(v)) continue;
        const Tensor& c = g.value(v).constant;
        if (c.dtype() != DataType::kFloat32)
          return Unimplemented(g.NodeLabel(n) + ": constant input '" + g.value(v).name + "' is not float32");
        DX_ASSIGN_OR_RETURN(ClMem m, opencl::UploadFloats(*device_, opencl::ConstantFloats(g.value(v))));
        mem_[static_cast<size_t>(v)] = m.get();
        uploaded[v] = constants_.size();
        constants_.push_back(std::move(m));
        resident_ += static_cast<int64_t>(c.size_bytes());
      }
      Step step{id, std::move(op)};
      if (step.op->is_view() && !block_outputs.count(n.outputs[0])) {
        step.alias_output = true;
        root[static_cast<size_t>(n.outputs[0])] = root[static_cast<size_t>(n.inputs[0])];
      }
      resident_ += step.op->resident_bytes();
      steps_.push_back(std::move(step));
    }
    // Lifetimes of intermediate buffers (through aliases), then best-fit reuse in node order.
    std::vector<int> last_use(g.values.size(), -1);
    for (size_t i = 0; i < steps_.size(); ++i) {
      const Node& n = g.node(steps_[i].node);
      for (ValueId v : n.inputs)
        if (v != kNoValue) last_use[static_cast<size_t>(root[static_cast<size_t>(v)])] = static_cast<int>(i);
      for (ValueId v : n.outputs)
        if (v != kNoValue)
          last_use[static_cast<size_t>(v)] = std::max(last_use[static_cast<size_t>(v)], static_cast<int>(i));
    }
    std::multimap<size_t, size_t> free_buffers;  // bytes -> index in pool_
    std::map<ValueId, size_t> holder;            // root value -> pool index
    for (size_t i = 0; i < steps_.size(); ++i) {
      const Node& n = g.node(steps_[i].node);
      for (ValueId v : n.outputs) {
        if (v == kNoValue || block_outputs.count(v) || steps_[i].alias_output) continue;
        const Value& value = g.value(v);
        const size_t bytes = std::max<size_t>(1, static_cast<size_t>(NumElements(value.shape)) * sizeof(float));
        auto it = free_buffers.lower_bound(bytes);
        size_t index;
        if (it != free_buffers.end()) {
          index = it->second;
          free_buffers.erase(it);
        } else {
          DX_ASSIGN_OR_RETURN(cl_mem m, device_->Allocate(bytes));
          index = pool_.size();
          pool_.emplace_back(m);
          pool_bytes_.push_back(bytes);
          activation_ += static_cast<int64_t>(bytes);
        }
        holder[v] = index;
        mem_[static_cast<size_t>(v)] = pool_[index].get();
      }
      for (auto it = holder.begin(); it != holder.end();) {
        if (last_use[static_cast<size_t>(it->first)] <= static_cast<int>(i)) {
          free_buffers.emplace(pool_bytes_[it->second], it->second);
          it = holder.erase(it);
        } else {
          ++it;
        }
      }
    }
    return Status::Ok();
  }

  std::shared_ptr<ClDevice> device_;
  std::shared_ptr<const Graph> graph_;
  Block block_;
  std::vector<Step> steps_;
  std::vector<ClMem> constants_, pool_;
  std::vector<size_t> pool_bytes_;
  std::vector<cl_mem> mem_;  // value -> its buffer in the current run
  int64_t resident_ = 0, activation_ = 0;
  std::mutex mu_;
};

class OpenClBackend final : public Backend {
 public:
  explicit OpenClBackend(std::shared_ptr<ClDevice> device) : device_(std::move(device)) {
    info_.name = device_->name();
    info_.kind = device_->entry().is_gpu ? "gpu" : "cpu";
    info_.memory_bytes = device_->global_memory_bytes();
    cl_uint units = 1;
    clGetDeviceInfo(device_->device(), CL_DEVICE_MAX_COMPUTE_UNITS, sizeof(units), &units, nullptr);
    info_.threads = static_cast<int>(units);
  }

  const ProcessorInfo& info() const override { return info_; }

  Status Supports(const Graph& g, const Node& n) const override { return opencl::ClSupports(g, n); }

  Result<std::unique_ptr<Executable>> Prepare(std::shared_ptr<const Graph> graph, const Block& block) override {
    for (NodeId id : block.nodes) DX_RETURN_IF_ERROR(Supports(*graph, graph->node(id)));
    return OpenClExecutable::Make(device_, std::move(graph), block);
  }

  Result<Tensor> ToDevice(const Tensor& t) override {
    if (opencl::DeviceBufferOf(t, *device_)) return t;
    if (!t.is_host()) return Unimplemented("tensor in '" + t.buffer()->location() + "' cannot reach " + info_.name);
    return opencl::UploadTensor(device_, t);
  }

  Result<Tensor> ToHost(const Tensor& t) override {
    if (t.is_host()) return t;
    if (!opencl::DeviceBufferOf(t, *device_))
      return Unimplemented("tensor in '" + t.buffer()->location() + "' is not in " + info_.name);
    return opencl::DownloadTensor(*device_, t);
  }

 private:
  std::shared_ptr<ClDevice> device_;
  ProcessorInfo info_;
};

Result<int> DeviceIndex(const std::string& name) {
  if (name == "opencl") return 0;
  const std::string digits = name.substr(name.find(':') + 1);
  if (name.rfind("opencl:", 0) != 0 || digits.empty() || digits.size() > 4 ||
      !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return InvalidArgument("OpenCL backend name must be 'opencl' or 'opencl:N', got '" + name + "'");
  return std::stoi(digits);
}

}  // namespace

Result<std::shared_ptr<Backend>> CreateOpenClBackend(const std::string& name, const BackendConfig& config) {
  (void)config;  // nothing to configure: the device decides its own parallelism
  DX_ASSIGN_OR_RETURN(int index, DeviceIndex(name));
  DX_ASSIGN_OR_RETURN(std::shared_ptr<ClDevice> device, ClDevice::Get(index));
  return std::shared_ptr<Backend>(std::make_shared<OpenClBackend>(std::move(device)));
}

std::vector<std::string> OpenClDeviceNames() {
  std::vector<std::string> names;
  for (size_t i = 0; i < opencl::ClDevices().size(); ++i) names.push_back("opencl:" + std::to_string(i));
  return names;
}

Result<TransferCost> MeasureOpenClTransfers(const std::string& name, size_t bytes, int repeats) {
  DX_ASSIGN_OR_RETURN(auto backend, CreateOpenClBackend(name, {}));
  DX_ASSIGN_OR_RETURN(int index, DeviceIndex(name));
  DX_ASSIGN_OR_RETURN(std::shared_ptr<ClDevice> device, ClDevice::Get(index));
  const int64_t elements = std::max<int64_t>(1, static_cast<int64_t>(bytes / sizeof(float)));
  const Tensor big = Tensor::Zeros(DataType::kFloat32, {elements});
  const Tensor small = Tensor::Zeros(DataType::kFloat32, {1});
  double best_up = 1e30, best_down = 1e30, best_small = 1e30;
  for (int r = 0; r < std::max(1, repeats); ++r) {
    int64_t t0 = SteadyNowNs();
    DX_ASSIGN_OR_RETURN(Tensor d, backend->ToDevice(big));
    DX_RETURN_IF_ERROR(opencl::ClCheck(clFinish(device->queue()), "waiting for an upload"));
    int64_t t1 = SteadyNowNs();
    DX_ASSIGN_OR_RETURN(Tensor h, backend->ToHost(d));
    int64_t t2 = SteadyNowNs();
    DX_ASSIGN_OR_RETURN(Tensor ds, backend->ToDevice(small));
    DX_ASSIGN_OR_RETURN(Tensor hs, backend->ToHost(ds));
    int64_t t3 = SteadyNowNs();
    best_up = std::min(best_up, static_cast<double>(t1 - t0));
    best_down = std::min(best_down, static_cast<double>(t2 - t1));
    best_small = std::min(best_small, static_cast<double>(t3 - t2));
  }
  TransferCost cost;
  const double b = static_cast<double>(elements) * sizeof(float);
  cost.to_device_gbps = b / best_up;  // bytes per ns = GB/s
  cost.to_host_gbps = b / best_down;
  cost.latency_us = best_small / 1e3;
  return cost;
}

double OpenClProgramBuildSeconds(const std::string& name) {
  auto index = DeviceIndex(name);
  if (!index.ok()) return 0;
  auto device = ClDevice::Get(*index);
  return device.ok() ? (*device)->program_build_seconds() : 0;
}

}  // namespace deepx
