#include "backends/cuda/cuda_backend.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "backends/cuda/cuda_common.h"
#include "backends/cuda/cuda_support.h"

namespace deepx {
namespace cuda {

Status FromCuda(cudaError_t e, const std::string& what) {
  if (e == cudaSuccess) return Status::Ok();
  if (e == cudaErrorMemoryAllocation) return ResourceExhausted("CUDA: " + what + ": out of device memory");
  return Internal("CUDA: " + what + ": " + cudaGetErrorString(e));
}

Status FromCublas(cublasStatus_t s, const std::string& what) {
  if (s == CUBLAS_STATUS_SUCCESS) return Status::Ok();
  return Internal("cuBLAS: " + what + ": status " + std::to_string(static_cast<int>(s)));
}

Status FromCudnn(cudnnStatus_t s, const std::string& what) {
  if (s == CUDNN_STATUS_SUCCESS) return Status::Ok();
  return Internal("cuDNN: " + what + ": " + cudnnGetErrorString(s));
}

Context::~Context() {
  cudaSetDevice(device);
  if (cudnn) cudnnDestroy(cudnn);
  if (cublas) cublasDestroy(cublas);
  if (stream) cudaStreamDestroy(stream);
}

Result<std::shared_ptr<Context>> Context::Create(int device) {
  auto ctx = std::make_shared<Context>();
  ctx->device = device;
  ctx->location = "cuda:" + std::to_string(device);
  DX_CUDA(cudaSetDevice(device));
  DX_CUDA(cudaStreamCreateWithFlags(&ctx->stream, cudaStreamNonBlocking));
  DX_CUBLAS(cublasCreate(&ctx->cublas));
  DX_CUBLAS(cublasSetStream(ctx->cublas, ctx->stream));
  // Plain FP32 (no TF32 tensor-op rounding), so results stay within the reference's bounds.
  DX_CUBLAS(cublasSetMathMode(ctx->cublas, CUBLAS_DEFAULT_MATH));
  DX_CUDNN(cudnnCreate(&ctx->cudnn));
  DX_CUDNN(cudnnSetStream(ctx->cudnn, ctx->stream));
  return ctx;
}

Result<std::shared_ptr<DeviceBuffer>> DeviceBuffer::Allocate(int device, const std::string& location, size_t bytes) {
  DX_CUDA(cudaSetDevice(device));
  void* data = nullptr;
  DX_CUDA(cudaMalloc(&data, std::max<size_t>(bytes, 1)));
  return std::shared_ptr<DeviceBuffer>(new DeviceBuffer(device, location, data, bytes));
}

DeviceBuffer::~DeviceBuffer() {
  cudaSetDevice(device_);
  cudaFree(data_);
}

}  // namespace cuda

namespace {

using cuda::Context;
using cuda::DeviceBuffer;
using cuda::FromCuda;

constexpr int64_t kAlign = 256;
int64_t AlignUp(int64_t v) { return (v + kAlign - 1) / kAlign * kAlign; }

int64_t ValueBytes(const Value& v) { return NumElements(v.shape) * static_cast<int64_t>(DataTypeSize(v.dtype)); }

// Device address of a tensor of this context, else nullptr.
void* DeviceAddress(const Tensor& t, const std::string& location) {
  if (t.empty() || t.is_host() || t.buffer()->location() != location) return nullptr;
  auto* d = dynamic_cast<DeviceBuffer*>(t.buffer().get());
  return d ? d->device_data() : nullptr;
}

// Pinned host memory, grown on demand, for staging host<->device copies (pageable copies are synchronous and
// slower; pinned ones overlap with queued work).
class PinnedStaging {
 public:
  ~PinnedStaging() {
    if (data_) cudaFreeHost(data_);
  }
  Result<char*> Get(size_t bytes) {
    if (bytes > bytes_) {
      if (data_) cudaFreeHost(data_);
      data_ = nullptr;
      bytes_ = 0;
      DX_CUDA(cudaMallocHost(reinterpret_cast<void**>(&data_), bytes));
      bytes_ = bytes;
    }
    return data_;
  }

 private:
  char* data_ = nullptr;
  size_t bytes_ = 0;
};

// Lifetime-based placement of intermediate values in one arena: greedy by size (largest first), each value at the
// lowest offset where it overlaps no placed value that is alive at the same time.
struct ArenaItem {
  int64_t bytes;
  int first, last;  // block steps, inclusive
  int64_t offset = 0;
};

int64_t PlanArena(std::vector<ArenaItem>& items) {
  std::vector<size_t> order(items.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return items[a].bytes > items[b].bytes; });
  std::vector<size_t> placed;
  int64_t total = 0;
  for (size_t i : order) {
    ArenaItem& it = items[i];
    std::vector<std::pair<int64_t, int64_t>> busy;
    for (size_t j : placed) {
      const ArenaItem& o = items[j];
      if (o.first <= it.last && it.first <= o.last) busy.push_back({o.offset, o.offset + AlignUp(o.bytes)});
    }
    std::sort(busy.begin(), busy.end());
    int64_t offset = 0;
    for (const auto& [lo, hi] : busy) {
      if (offset + AlignUp(it.bytes) <= lo) break;
      offset = std::max(offset, hi);
    }
    it.offset = offset;
    total = std::max(total, offset + AlignUp(it.bytes));
    placed.push_back(i);
  }
  return total;
}

bool GraphsEnabled() {
  const char* env = std::getenv("DEEPX_CUDA_GRAPHS");
  return !(env && std::string(env) == "0");
}

class CudaExecutableImpl final : public CudaExecutable {
 public:
  CudaExecutableImpl(std::shared_ptr<Context> ctx, std::shared_ptr<const Graph> graph, Block block)
      : ctx_(std::move(ctx)), graph_(std::move(graph)), block_(std::move(block)) {}

  ~CudaExecutableImpl() override {
    cudaSetDevice(ctx_->device);
    cudaStreamSynchronize(ctx_->stream);
    if (graph_exec_) cudaGraphExecDestroy(graph_exec_);
    kernels_.clear();
  }

  // Prepare's work:
  //  1. Support check of every node (Prepare fails on the first unsupported one, naming it).
  //  2. Storage roots: a view's output shares its input's storage (`root_`).
  //  3. Constants read by the block are uploaded once.
  //  4. Arena placement of every other root by lifetime; block inputs get slots too (host inputs are copied in),
  //     block outputs live to the end of the run (they are copied out).
  //  5. One kernel per non-view node; a shared workspace sized for the largest.
  Status Build() {
    const Graph& g = *graph_;
    Context& ctx = *ctx_;
    DX_CUDA(cudaSetDevice(ctx.device));
    // Step 1.
    for (NodeId id : block_.nodes) DX_RETURN_IF_ERROR(cuda::SupportsNode(g, g.node(id)));
    // Step 2.
    root_.resize(g.values.size());
    for (size_t v = 0; v < g.values.size(); ++v) root_[v] = static_cast<ValueId>(v);
    for (NodeId id : block_.nodes) {
      const Node& n = g.node(id);
      if (cuda::IsViewOp(n)) root_[static_cast<size_t>(n.outputs[0])] = Root(n.inputs[0]);
    }
    // Step 3.
    address_.assign(g.values.size(), nullptr);
    for (NodeId id : block_.nodes)
      for (ValueId v : g.node(id).inputs) {
        if (v == kNoValue || !g.value(v).is_constant() || address_[static_cast<size_t>(v)]) continue;
        const Tensor& t = g.value(v).constant;
        DX_ASSIGN_OR_RETURN(auto buf, DeviceBuffer::Allocate(ctx.device, ctx.location, t.size_bytes()));
        DX_CUDA(cudaMemcpy(buf->device_data(), t.raw_data(), t.size_bytes(), cudaMemcpyHostToDevice));
        address_[static_cast<size_t>(v)] = buf->device_data();
        constant_bytes_ += static_cast<int64_t>(t.size_bytes());
        constants_.push_back(std::move(buf));
      }
    // Step 4. Lifetimes per root, in block steps (block inputs from step 0, outputs to the end).
    const int end = static_cast<int>(block_.nodes.size());
    std::vector<int> first(g.values.size(), -1), last(g.values.size(), -1);
    auto touch = [&](ValueId v, int step) {
      const size_t r = static_cast<size_t>(Root(v));
      if (g.values[r].is_constant()) return;
      first[r] = first[r] < 0 ? step : std::min(first[r], step);
      last[r] = std::max(last[r], step);
    };
    for (ValueId v : block_.inputs) touch(v, 0);
    for (int step = 0; step < end; ++step) {
      const Node& n = g.node(block_.nodes[static_cast<size_t>(step)]);
      for (ValueId v : n.inputs)
        if (v != kNoValue) touch(v, step);
      for (ValueId v : n.outputs)
        if (v != kNoValue) touch(v, step);
    }
    for (ValueId v : block_.outputs) touch(v, end);
    std::vector<ArenaItem> items;
    std::vector<size_t> roots;
    for (size_t r = 0; r < g.values.size(); ++r) {
      if (first[r] < 0) continue;
      DX_ASSIGN_OR_RETURN(int64_t elements, CheckedNumElements(g.values[r].shape));
      items.push_back({elements * static_cast<int64_t>(DataTypeSize(g.values[r].dtype)), first[r], last[r]});
      roots.push_back(r);
      unshared_bytes_ += AlignUp(items.back().bytes);
    }
    arena_bytes_ = PlanArena(items);
    DX_ASSIGN_OR_RETURN(arena_, DeviceBuffer::Allocate(ctx.device, ctx.location, static_cast<size_t>(arena_bytes_)));
    for (size_t i = 0; i < items.size(); ++i)
      address_[roots[i]] = static_cast<char*>(arena_->device_data()) + items[i].offset;
    // Step 5.
    for (NodeId id : block_.nodes) {
      const Node& n = g.node(id);
      if (cuda::IsViewOp(n)) {
        kernels_.push_back(nullptr);
        continue;
      }
      cuda::BuildContext b{g, n, ctx};
      auto made = cuda::BuildNodeKernel(b);
      if (!made.ok()) return made.status().WithContext(g.NodeLabel(n));
      workspace_bytes_ = std::max(workspace_bytes_, (*made)->workspace_bytes());
      kernels_.push_back(std::move(made).value());
    }
    if (workspace_bytes_ > 0) {
      DX_ASSIGN_OR_RETURN(workspace_,
                          DeviceBuffer::Allocate(ctx.device, ctx.location, static_cast<size_t>(workspace_bytes_)));
    }
    args_.resize(block_.nodes.size());
    for (size_t i = 0; i < block_.nodes.size(); ++i) {
      const Node& n = g.node(block_.nodes[i]);
      args_[i].in.assign(n.inputs.size(), nullptr);
      args_[i].out.assign(n.outputs.size(), nullptr);
      args_[i].workspace = workspace_ ? workspace_->device_data() : nullptr;
    }
    DX_CUDA(cudaStreamSynchronize(ctx.stream));
    return Status::Ok();
  }

  Status Run(const std::vector<Tensor>& inputs, std::vector<Tensor>& outputs, const RunOptions& options) override {
    const Graph& g = *graph_;
    Context& ctx = *ctx_;
    std::lock_guard<std::mutex> lock(ctx.mu);  // one stream, one arena, one workspace
    DX_CUDA(cudaSetDevice(ctx.device));
    if (inputs.size() != block_.inputs.size())
      return InvalidArgument("expected " + std::to_string(block_.inputs.size()) + " inputs, got " +
                             std::to_string(inputs.size()));
    // Addresses of this run: the planned ones, except inputs already on this device, used in place (and any
    // value that views them).
    std::vector<void*>& addr = run_address_;
    addr = address_;
    size_t host_in_bytes = 0;
    for (size_t i = 0; i < inputs.size(); ++i) {
      const Value& v = g.value(block_.inputs[i]);
      if (inputs[i].dtype() != v.dtype || inputs[i].shape() != v.shape)
        return InvalidArgument("block input '" + v.name + "' must be a " + DataTypeName(v.dtype) + " tensor of " +
                               ShapeToString(v.shape));
      if (void* d = DeviceAddress(inputs[i], ctx.location)) {
        addr[static_cast<size_t>(Root(block_.inputs[i]))] = d;
      } else if (inputs[i].is_host()) {
        host_in_bytes += static_cast<size_t>(AlignUp(static_cast<int64_t>(inputs[i].size_bytes())));
      } else {
        return InvalidArgument("block input '" + v.name + "' is in " + inputs[i].buffer()->location() +
                               " memory, which " + ctx.location + " cannot read");
      }
    }
    // Staging buffers are sized before anything is enqueued (a captured graph must not see them move).
    size_t out_bytes = 0;
    for (ValueId v : block_.outputs) out_bytes += static_cast<size_t>(AlignUp(ValueBytes(g.value(v))));
    DX_ASSIGN_OR_RETURN(char* in_stage, in_stage_.Get(std::max<size_t>(host_in_bytes, 1)));
    DX_ASSIGN_OR_RETURN(char* out_stage, out_stage_.Get(std::max<size_t>(out_bytes, 1)));
    size_t offset = 0;
    for (const Tensor& t : inputs) {
      if (!t.is_host()) continue;
      std::memcpy(in_stage + offset, t.raw_data(), t.size_bytes());
      offset += static_cast<size_t>(AlignUp(static_cast<int64_t>(t.size_bytes())));
    }
    // CUDA graph: from the second run on, when every input is staged from the host (so every address is the
    // planned one) and no per-node timing is asked for, the whole run — copies in, kernels, copies out — is
    // captured once and replayed with one launch, saving the per-kernel launch cost that dominates batch-1
    // latency of small models. Any capture failure falls back to plain launches for good.
    const bool graphable = graphs_enabled_ && !graph_failed_ && host_in_bytes == InputBytesIfAllHost(inputs) &&
                           !options.timings;
    if (graphable && graph_exec_) {
      DX_CUDA(cudaGraphLaunch(graph_exec_, ctx.stream));
    } else if (graphable && runs_ > 0) {
      DX_CUDA(cudaStreamBeginCapture(ctx.stream, cudaStreamCaptureModeRelaxed));
      Status enqueued = Enqueue(inputs, addr, in_stage, out_stage, options);
      cudaGraph_t graph = nullptr;
      cudaError_t ended = cudaStreamEndCapture(ctx.stream, &graph);
      if (enqueued.ok() && ended == cudaSuccess && graph &&
          cudaGraphInstantiate(&graph_exec_, graph, 0) == cudaSuccess) {
        cudaGraphDestroy(graph);
        DX_CUDA(cudaGraphLaunch(graph_exec_, ctx.stream));
      } else {
        if (graph) cudaGraphDestroy(graph);
        graph_exec_ = nullptr;
        graph_failed_ = true;
        cudaGetLastError();  // capture errors are not sticky; clear the last-error slot
        DX_RETURN_IF_ERROR(Enqueue(inputs, addr, in_stage, out_stage, options));
      }
    } else {
      DX_RETURN_IF_ERROR(Enqueue(inputs, addr, in_stage, out_stage, options));
    }
    DX_CUDA(cudaStreamSynchronize(ctx.stream));
    ++runs_;
    outputs.resize(block_.outputs.size());
    offset = 0;
    for (size_t i = 0; i < block_.outputs.size(); ++i) {
      const Value& v = g.value(block_.outputs[i]);
      const size_t bytes = static_cast<size_t>(ValueBytes(v));
      Tensor& t = outputs[i];
      const bool reusable = !t.empty() && t.is_host() && t.buffer().use_count() == 1 && t.dtype() == v.dtype &&
                            t.shape() == v.shape;
      if (!reusable) t = Tensor(v.dtype, v.shape, AllocateHostBuffer(bytes));
      if (bytes > 0) std::memcpy(t.raw_data(), out_stage + offset, bytes);
      offset += static_cast<size_t>(AlignUp(static_cast<int64_t>(bytes)));
    }
    return Status::Ok();
  }

  bool graph_captured() const override { return graph_exec_ != nullptr; }

  int64_t resident_bytes() const override {
    int64_t total = constant_bytes_ + arena_bytes_ + workspace_bytes_;
    for (const auto& k : kernels_)
      if (k) total += k->resident_bytes();
    return total;
  }
  int64_t activation_bytes() const override { return arena_bytes_ + workspace_bytes_; }
  std::vector<std::string> node_impls() const override {
    std::vector<std::string> names;
    for (const auto& k : kernels_) names.push_back(k ? k->impl_name() : "view");
    return names;
  }

 private:
  // Sum of the staged sizes of `inputs` when all are host tensors, else SIZE_MAX (never equal to a real sum).
  static size_t InputBytesIfAllHost(const std::vector<Tensor>& inputs) {
    size_t total = 0;
    for (const Tensor& t : inputs) {
      if (!t.is_host()) return static_cast<size_t>(-1);
      total += static_cast<size_t>(AlignUp(static_cast<int64_t>(t.size_bytes())));
    }
    return total;
  }

  // Everything a run puts on the stream: staged host inputs to the device, every node, outputs to staging.
  Status Enqueue(const std::vector<Tensor>& inputs, const std::vector<void*>& addr, char* in_stage, char* out_stage,
                 const RunOptions& options) {
    const Graph& g = *graph_;
    Context& ctx = *ctx_;
    size_t offset = 0;
    for (size_t i = 0; i < inputs.size(); ++i) {
      if (!inputs[i].is_host()) continue;
      const size_t bytes = inputs[i].size_bytes();
      if (bytes > 0)
        DX_CUDA(cudaMemcpyAsync(addr[static_cast<size_t>(Root(block_.inputs[i]))], in_stage + offset, bytes,
                                cudaMemcpyHostToDevice, ctx.stream));
      offset += static_cast<size_t>(AlignUp(static_cast<int64_t>(bytes)));
    }
    for (size_t i = 0; i < block_.nodes.size(); ++i) {
      if (!kernels_[i]) continue;  // a view
      const Node& n = g.node(block_.nodes[i]);
      cuda::NodeArgs& a = args_[i];
      for (size_t k = 0; k < n.inputs.size(); ++k)
        a.in[k] = n.inputs[k] == kNoValue ? nullptr : Address(addr, n.inputs[k]);
      for (size_t k = 0; k < n.outputs.size(); ++k)
        a.out[k] = n.outputs[k] == kNoValue ? nullptr : Address(addr, n.outputs[k]);
      const int64_t start = options.timings ? SteadyNowNs() : 0;
      DX_RETURN_IF_ERROR_CTX(kernels_[i]->Run(ctx, a), g.NodeLabel(n));
      if (options.timings) {
        // Per-node timing needs the node finished: synchronise (only when timing was asked for).
        DX_RETURN_IF_ERROR_CTX(FromCuda(cudaStreamSynchronize(ctx.stream), "running"), g.NodeLabel(n));
        options.timings->push_back({block_.nodes[i], start, SteadyNowNs()});
      }
    }
    offset = 0;
    for (ValueId v : block_.outputs) {
      const size_t bytes = static_cast<size_t>(ValueBytes(g.value(v)));
      if (bytes > 0)
        DX_CUDA(cudaMemcpyAsync(out_stage + offset, Address(addr, v), bytes, cudaMemcpyDeviceToHost, ctx.stream));
      offset += static_cast<size_t>(AlignUp(static_cast<int64_t>(bytes)));
    }
    return Status::Ok();
  }

  ValueId Root(ValueId v) const { return root_[static_cast<size_t>(v)]; }
  void* Address(const std::vector<void*>& addr, ValueId v) const {
    void* own = addr[static_cast<size_t>(v)];  // constants are addressed by themselves
    return own ? own : addr[static_cast<size_t>(Root(v))];
  }

  std::shared_ptr<Context> ctx_;
  std::shared_ptr<const Graph> graph_;
  Block block_;
  std::vector<ValueId> root_;
  std::vector<void*> address_, run_address_;
  std::vector<std::shared_ptr<DeviceBuffer>> constants_;
  std::shared_ptr<DeviceBuffer> arena_, workspace_;
  std::vector<std::unique_ptr<cuda::NodeKernel>> kernels_;
  std::vector<cuda::NodeArgs> args_;
  PinnedStaging in_stage_, out_stage_;
  // CUDA graph of a whole run (see Run); DEEPX_CUDA_GRAPHS=0 in the environment turns it off.
  bool graphs_enabled_ = GraphsEnabled();
  bool graph_failed_ = false;
  cudaGraphExec_t graph_exec_ = nullptr;
  int64_t runs_ = 0;
  int64_t arena_bytes_ = 0, workspace_bytes_ = 0, constant_bytes_ = 0, unshared_bytes_ = 0;
};

class CudaBackend final : public Backend {
 public:
  CudaBackend(std::shared_ptr<Context> ctx, ProcessorInfo info) : ctx_(std::move(ctx)), info_(std::move(info)) {}
  const ProcessorInfo& info() const override { return info_; }
  Status Supports(const Graph& g, const Node& n) const override { return cuda::SupportsNode(g, n); }
  Result<std::unique_ptr<Executable>> Prepare(std::shared_ptr<const Graph> graph, const Block& block) override {
    std::lock_guard<std::mutex> lock(ctx_->mu);
    auto exe = std::make_unique<CudaExecutableImpl>(ctx_, std::move(graph), block);
    DX_RETURN_IF_ERROR(exe->Build());
    return std::unique_ptr<Executable>(std::move(exe));
  }
  // Host tensors are returned as they are: the executable stages host inputs itself (pinned memory, on the
  // stream, no synchronisation), which costs less per run than the allocation and synchronised copy an eager
  // upload would. Tensors already on this device pass through; Upload() makes an explicit device copy.
  Result<Tensor> ToDevice(const Tensor& t) override {
    if (t.is_host() || DeviceAddress(t, ctx_->location)) return t;
    return Unimplemented("tensor in " + t.buffer()->location() + " memory: " + ctx_->location + " cannot reach it");
  }
  Result<Tensor> Upload(const Tensor& t) {
    if (DeviceAddress(t, ctx_->location)) return t;
    if (!t.is_host()) return Unimplemented("tensor in " + t.buffer()->location() + " memory: " + ctx_->location +
                                           " cannot reach it");
    std::lock_guard<std::mutex> lock(ctx_->mu);
    DX_ASSIGN_OR_RETURN(auto buf, DeviceBuffer::Allocate(ctx_->device, ctx_->location, t.size_bytes()));
    if (t.size_bytes() > 0)
      DX_CUDA(cudaMemcpyAsync(buf->device_data(), t.raw_data(), t.size_bytes(), cudaMemcpyHostToDevice,
                              ctx_->stream));
    DX_CUDA(cudaStreamSynchronize(ctx_->stream));
    return Tensor(t.dtype(), t.shape(), std::move(buf));
  }
  Result<Tensor> ToHost(const Tensor& t) override {
    if (t.is_host()) return t;
    void* d = DeviceAddress(t, ctx_->location);
    if (!d) return Unimplemented("tensor in " + t.buffer()->location() + " memory: " + ctx_->location +
                                 " cannot reach it");
    std::lock_guard<std::mutex> lock(ctx_->mu);
    DX_CUDA(cudaSetDevice(ctx_->device));
    Tensor host(t.dtype(), t.shape(), AllocateHostBuffer(t.size_bytes()));
    if (t.size_bytes() > 0)
      DX_CUDA(cudaMemcpyAsync(host.raw_data(), d, t.size_bytes(), cudaMemcpyDeviceToHost, ctx_->stream));
    DX_CUDA(cudaStreamSynchronize(ctx_->stream));
    return host;
  }

 private:
  std::shared_ptr<Context> ctx_;
  ProcessorInfo info_;
};

}  // namespace

Result<Tensor> UploadToCuda(Backend& backend, const Tensor& t) {
  auto* cuda = dynamic_cast<CudaBackend*>(&backend);
  if (!cuda) return InvalidArgument("backend '" + backend.info().name + "' is not a CUDA backend");
  return cuda->Upload(t);
}

Result<std::shared_ptr<Backend>> CreateCudaBackend(const std::string& name, const BackendConfig& /*config*/) {
  int device = 0;
  if (name != "cuda") {
    const std::string index = name.substr(5);  // after "cuda:"
    if (index.empty() || index.size() > 3 || !std::all_of(index.begin(), index.end(), ::isdigit))
      return InvalidArgument("bad CUDA device name '" + name + "' (expected cuda or cuda:N)");
    device = std::stoi(index);
  }
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0)
    return Unavailable("backend '" + name + "': no CUDA device (driver missing or no GPU)");
  if (device >= count)
    return NotFound("backend '" + name + "': only " + std::to_string(count) + " CUDA device(s)");
  cudaDeviceProp prop{};
  DX_RETURN_IF_ERROR(FromCuda(cudaGetDeviceProperties(&prop, device), "cudaGetDeviceProperties"));
  DX_ASSIGN_OR_RETURN(auto ctx, Context::Create(device));
  ProcessorInfo info;
  info.name = name == "cuda" ? "cuda:0" : name;
  info.kind = "gpu";
  info.memory_bytes = static_cast<int64_t>(prop.totalGlobalMem);
  info.threads = prop.multiProcessorCount;
  return std::shared_ptr<Backend>(std::make_shared<CudaBackend>(std::move(ctx), std::move(info)));
}

std::vector<std::string> CudaDeviceNames() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no driver" error
    return {};
  }
  std::vector<std::string> names;
  for (int i = 0; i < count; ++i) names.push_back("cuda:" + std::to_string(i));
  return names;
}

}  // namespace deepx
