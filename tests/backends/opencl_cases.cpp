// Cases of the differential suite the opencl backend cannot run, each with its reason.
//
// None today: every case runs on the device (kernels listed in src/backends/opencl/opencl_ops.h), on PoCL in CI
// and on NVIDIA's OpenCL (H100) when checked on the GPU machine. Nodes outside that list are reported by
// Supports() and run on the host fallback backend inside a Session; they are not differential cases.
#include "backends/backend_cases.h"

namespace deepx::testing {

std::set<std::string> OpenClUnsupportedCases() { return {}; }

}  // namespace deepx::testing
