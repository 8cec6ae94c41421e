// The differential suite's "remote" backend: a `deepx serve` server started once per test binary on 127.0.0.1
// (ephemeral port, a bearer token, uploads allowed) and a BackendConfig pointing the remote backend at it.
#pragma once

#include <string>

#include "runtime/backend.h"

namespace deepx::testing {

// Starts the server on first use. `error` (when not null) receives why it could not start; the config's URL is
// then empty.
const BackendConfig& RemoteLoopbackConfig(std::string* error = nullptr);

}  // namespace deepx::testing
