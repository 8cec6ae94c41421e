// Cases of the differential suite the opencl backend cannot run, each with its reason.
#include "backends/backend_cases.h"

namespace deepx::testing {

std::set<std::string> OpenClUnsupportedCases() { return {}; }

}  // namespace deepx::testing
