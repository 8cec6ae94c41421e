// `deepx serve`: a KServe v2 / Open Inference Protocol server over HTTP(S), as Triton implements it.
//
//   GET  /v2/health/live, /v2/health/ready          no token needed
//   GET  /v2                                        server metadata
//   GET  /v2/models/{m}[/versions/1][/ready]        model metadata / readiness
//   POST /v2/models/{m}[/versions/1]/infer          JSON tensors or the binary tensor extension
//   POST /v2/repository/index                       loaded models
//   POST /v2/repository/models/{m}/load | /unload   upload {"parameters": {"file:1/model.onnx": <base64>}}
//                                                   (only with allow_upload)
// With a token, every other endpoint needs "Authorization: Bearer <token>"; a missing or wrong one gets 401 and
// no model information. Every error is a 4xx/5xx with {"error": "..."}; nothing a client sends may crash it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "deepx/status.h"

namespace deepx::serve {

struct ServerOptions {
  std::string host = "127.0.0.1";  // loopback unless told otherwise
  int port = 0;                    // 0: an ephemeral port (see InferenceServer::port())
  std::string token;               // "": no authentication
  std::string models_dir;          // "": no models until uploaded
  std::string backend;             // "": the host CPU backend (HostFallbackBackend())
  int threads = 0;                 // backend threads per model session (0: the backend's default)
  std::string tls_cert, tls_key;   // both set: HTTPS
  int64_t max_request_bytes = int64_t{64} << 20;
  bool allow_upload = false;
  size_t max_uploaded_models = 64;
  int http_threads = 8;            // concurrent connections served
};

class InferenceServer {
 public:
  // Loads the models, binds the socket; does not serve yet.
  static Result<std::unique_ptr<InferenceServer>> Create(const ServerOptions& options);
  ~InferenceServer();  // stops serving

  int port() const;
  // Serves on a background thread until Stop().
  Status Start();
  // Serves on the calling thread until Stop() (from another thread or a signal handler's helper).
  Status Serve();
  void Stop();

  struct Impl;

 private:
  explicit InferenceServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Reads a bearer token from a file (surrounding whitespace trimmed); fails when it cannot be read or is empty.
Result<std::string> ReadTokenFile(const std::string& path);

}  // namespace deepx::serve
