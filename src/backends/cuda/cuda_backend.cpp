#include "backends/cuda/cuda_backend.h"

namespace deepx {

Result<std::shared_ptr<Backend>> CreateCudaBackend(const std::string& name, const BackendConfig& config) {
  return Unimplemented("CUDA backend '" + name + "' is not implemented yet");
}

std::vector<std::string> CudaDeviceNames() { return {}; }

}  // namespace deepx
