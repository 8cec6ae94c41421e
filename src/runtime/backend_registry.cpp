#include "backends/reference/reference_backend.h"
#include "runtime/backend.h"

namespace deepx {

Result<std::shared_ptr<Backend>> CreateBackend(const std::string& name, int num_threads) {
  if (name == "reference") return std::shared_ptr<Backend>(std::make_shared<ReferenceBackend>(name));
  std::string known;
  for (const std::string& n : AvailableBackends()) known += (known.empty() ? "" : ", ") + n;
  return NotFound("unknown backend '" + name + "' (available: " + known + ")");
}

std::vector<std::string> AvailableBackends() { return {"reference"}; }

}  // namespace deepx
