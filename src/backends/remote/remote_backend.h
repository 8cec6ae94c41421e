// Remote backend: runs a block of a plan (shipped as a standalone ONNX model) or a whole model on a server that
// speaks the KServe v2 / Open Inference Protocol (`deepx serve`, Triton, KServe).
#pragma once

#include <memory>
#include <string>

#include "runtime/backend.h"

namespace deepx {

Result<std::shared_ptr<Backend>> CreateRemoteBackend(const BackendConfig& config);

}  // namespace deepx
