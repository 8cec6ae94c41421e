// Cases of the differential suite the cuda backend cannot run, each with its reason.
#include "backends/backend_cases.h"

namespace deepx::testing {

std::set<std::string> CudaUnsupportedCases() { return {}; }

}  // namespace deepx::testing
