// OpenCL backend (mobile GPUs: Adreno, Mali; Intel/NVIDIA GPUs; PoCL on CPUs for CI).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "runtime/backend.h"

namespace deepx {

// `name` is "opencl" (device 0) or "opencl:N".
Result<std::shared_ptr<Backend>> CreateOpenClBackend(const std::string& name, const BackendConfig& config);
// "opencl:0", "opencl:1", ... for the devices present (all platforms, GPUs first); empty without OpenCL devices.
std::vector<std::string> OpenClDeviceNames();

}  // namespace deepx
