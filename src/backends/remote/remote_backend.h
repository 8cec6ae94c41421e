// Remote backend: runs a block of a plan (shipped as a standalone ONNX model) or a whole model on a server that
// speaks the KServe v2 / Open Inference Protocol (`deepx serve`, Triton, KServe).
//
// Prepare(block): the block's sub-graph (plan/block_graph.h) is written as standard ONNX and named
// "blk-<sha256 prefix>"; when the server does not have that model yet it is uploaded through the repository
// extension (POST /v2/repository/models/<name>/load with "file:1/model.onnx"; `deepx serve --allow-upload`).
// Run: one infer request per block run, tensors in the binary extension both ways.
// Failures to reach the server become UNAVAILABLE naming the URL and the block; a wrong token UNAUTHENTICATED.
#pragma once

#include <memory>
#include <string>

#include "runtime/backend.h"

namespace deepx {

// config.remote_url, token_file, timeout_s, retries; $DEEPX_REMOTE_CA_FILE: CA bundle for https:// servers.
Result<std::shared_ptr<Backend>> CreateRemoteBackend(const BackendConfig& config);

// The model name the remote backend gives a block's ONNX bytes.
std::string RemoteBlockModelName(const std::string& onnx_bytes);

}  // namespace deepx
