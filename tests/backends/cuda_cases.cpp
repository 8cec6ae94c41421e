// Cases of the differential suite the cuda backend cannot run, each with its reason.
//
// None today: every case's nodes pass cuda::SupportsNode (configurations cuDNN's descriptors cannot express —
// asymmetric padding, 3-D convolutions — run on the backend's own direct-convolution kernel instead, and count as
// run). CudaCases.UnsupportedListMatchesSupportCheck (cuda_backend_test.cpp) keeps this list equal to what the
// support check says, on machines without a GPU too.
#include "backends/backend_cases.h"

namespace deepx::testing {

std::set<std::string> CudaUnsupportedCases() { return {}; }

}  // namespace deepx::testing
