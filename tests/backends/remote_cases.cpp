// Cases of the differential suite the remote backend cannot run, each with its reason.
#include "backends/backend_cases.h"

namespace deepx::testing {

std::set<std::string> RemoteUnsupportedCases() {
  // The remote backend ships each block as an ONNX model that the server loads through DeepX's ONNX loader,
  // which accepts opsets 1..18 (the loader's range, so every graph of a model DeepX loaded is shippable). The
  // suite builds its pooling cases at opset 19 (MaxPool/AveragePool), which only such hand-built graphs have.
  constexpr int kMaxLoadableOpset = 18;
  std::set<std::string> names;
  for (const BackendCase& c : AllBackendCases()) {
    bool too_new = c.graph.opset > kMaxLoadableOpset;
    for (const Node& n : c.graph.nodes) too_new |= n.domain.empty() && n.opset > kMaxLoadableOpset;
    if (too_new) names.insert(c.name);
  }
  return names;
}

}  // namespace deepx::testing
