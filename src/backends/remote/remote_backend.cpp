#include "backends/remote/remote_backend.h"

namespace deepx {

Result<std::shared_ptr<Backend>> CreateRemoteBackend(const BackendConfig& config) {
  return Unimplemented("remote backend is not implemented yet");
}

}  // namespace deepx
