#include "backends/opencl/opencl_backend.h"

namespace deepx {

Result<std::shared_ptr<Backend>> CreateOpenClBackend(const std::string& name, const BackendConfig& config) {
  return Unimplemented("OpenCL backend '" + name + "' is not implemented yet");
}

std::vector<std::string> OpenClDeviceNames() { return {}; }

}  // namespace deepx
