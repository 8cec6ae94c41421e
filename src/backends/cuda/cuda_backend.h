// CUDA backend (Jetson-class and datacenter NVIDIA GPUs): cuDNN convolutions, cuBLAS GEMMs (FP32 compute, no
// TF32), own kernels (cuda_kernels.cu) for the rest.
//
// Prepare uploads every constant a block reads once, picks a cuDNN algorithm per convolution (timed, like
// PyTorch's cudnn.benchmark), and plans one device activation arena by value lifetimes; views (Reshape, Flatten,
// Squeeze, Unsqueeze, Identity) alias their input's memory. A run copies host inputs in through pinned staging,
// enqueues every node on the backend's stream, and copies block outputs back to host memory (the host backends
// that run unsupported nodes cannot read device memory). Inputs already on this device (ToDevice) are used in
// place; ToDevice leaves host tensors on the host for that staging (UploadToCuda makes an explicit device copy).
// From the second run on, a run whose inputs all come from the host is captured once as a CUDA graph and replayed
// (one launch instead of one per kernel). Which nodes run here: cuda_support.h.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "runtime/backend.h"

namespace deepx {

// `name` is "cuda" (device 0) or "cuda:N".
Result<std::shared_ptr<Backend>> CreateCudaBackend(const std::string& name, const BackendConfig& config);
// "cuda:0", ... for the GPUs present; empty when there is no driver or GPU.
std::vector<std::string> CudaDeviceNames();
// A copy of host tensor `t` in the memory of `backend`, which must be a CUDA backend; device tensors of that
// backend are returned as they are.
Result<Tensor> UploadToCuda(Backend& backend, const Tensor& t);

// Introspection of an executable prepared by the CUDA backend (tests, `deepx profile`).
class CudaExecutable : public Executable {
 public:
  // Per node of the block: "cudnn:conv", "cublas:gemm", "kernel:pool", "view", ...
  virtual std::vector<std::string> node_impls() const = 0;
  // Whether runs replay a captured CUDA graph (from the second run with host inputs and no timings; off with
  // DEEPX_CUDA_GRAPHS=0).
  virtual bool graph_captured() const = 0;
};

}  // namespace deepx
