// Cases of the differential suite the remote backend cannot run, each with its reason.
#include "backends/backend_cases.h"

namespace deepx::testing {

std::set<std::string> RemoteUnsupportedCases() { return {}; }

}  // namespace deepx::testing
