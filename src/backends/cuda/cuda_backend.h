// CUDA backend (Jetson-class and datacenter NVIDIA GPUs): cuBLAS/cuDNN plus own kernels.
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

}  // namespace deepx
