// Shared pieces of the CUDA backend: the per-device context (stream, cuBLAS and cuDNN handles), device buffers,
// error mapping, and the node-kernel interface the op builders (cuda_ops.cpp) implement.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include "core/graph.h"
#include "deepx/status.h"
#include "deepx/tensor.h"

namespace deepx::cuda {

Status FromCuda(cudaError_t e, const std::string& what);
Status FromCublas(cublasStatus_t s, const std::string& what);
Status FromCudnn(cudnnStatus_t s, const std::string& what);

#define DX_CUDA(expr) DX_RETURN_IF_ERROR(::deepx::cuda::FromCuda((expr), #expr))
#define DX_CUBLAS(expr) DX_RETURN_IF_ERROR(::deepx::cuda::FromCublas((expr), #expr))
#define DX_CUDNN(expr) DX_RETURN_IF_ERROR(::deepx::cuda::FromCudnn((expr), #expr))

// One per backend instance: everything runs in order on one stream, so kernels of a block need no events.
// Runs of executables sharing the context are serialised by `mu` (one stream, one cuDNN workspace at a time).
struct Context {
  int device = 0;
  std::string location;  // "cuda:N"
  cudaStream_t stream = nullptr;
  cublasHandle_t cublas = nullptr;
  cudnnHandle_t cudnn = nullptr;
  std::mutex mu;
  ~Context();
  static Result<std::shared_ptr<Context>> Create(int device);
};

// cudaMalloc'ed memory of one device.
class DeviceBuffer final : public Buffer {
 public:
  static Result<std::shared_ptr<DeviceBuffer>> Allocate(int device, const std::string& location, size_t bytes);
  ~DeviceBuffer() override;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  void* host_data() override { return nullptr; }
  size_t size_bytes() const override { return bytes_; }
  const std::string& location() const override { return location_; }
  void* device_data() const { return data_; }

 private:
  DeviceBuffer(int device, std::string location, void* data, size_t bytes)
      : device_(device), location_(std::move(location)), data_(data), bytes_(bytes) {}
  int device_;
  std::string location_;
  void* data_;
  size_t bytes_;
};

// Device addresses of one node's inputs and outputs for one run (nullptr for omitted ones).
struct NodeArgs {
  std::vector<const void*> in;
  std::vector<void*> out;
  void* workspace = nullptr;  // shared scratch (cuDNN workspace), at least the largest kernel's workspace_bytes
};

class NodeKernel {
 public:
  virtual ~NodeKernel() = default;
  virtual Status Run(Context& ctx, const NodeArgs& args) = 0;
  virtual std::string impl_name() const = 0;
  virtual int64_t workspace_bytes() const { return 0; }
  virtual int64_t resident_bytes() const { return 0; }
};

// What an op builder sees: the node, its graph, and the device copies of constant inputs (uploaded once).
struct BuildContext {
  const Graph& graph;
  const Node& node;
  Context& ctx;
  const Value& in(size_t i) const { return graph.value(node.inputs[i]); }
  bool has_in(size_t i) const { return i < node.inputs.size() && node.inputs[i] != kNoValue; }
  const Value& out(size_t i) const { return graph.value(node.outputs[i]); }
};

// Builds the kernel of one supported, non-view node (SupportsNode was checked). Errors name the node.
Result<std::unique_ptr<NodeKernel>> BuildNodeKernel(const BuildContext& b);

}  // namespace deepx::cuda
