#include "backends/remote_loopback.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>

#ifdef DEEPX_HAVE_REMOTE_BACKEND
#include "serve/server.h"
#endif

namespace deepx::testing {

const BackendConfig& RemoteLoopbackConfig(std::string* error) {
  static std::once_flag once;
  static BackendConfig config;
  static std::string start_error = "this build has no remote backend";
#ifdef DEEPX_HAVE_REMOTE_BACKEND
  static std::unique_ptr<serve::InferenceServer> server;
  std::call_once(once, [] {
    const std::string token = "loopback-token-" + std::to_string(getpid());
    const auto path = std::filesystem::temp_directory_path() / ("deepx_loopback_token_" + std::to_string(getpid()));
    {
      std::ofstream f(path);
      f << token << "\n";
    }
    serve::ServerOptions options;
    options.token = token;
    options.allow_upload = true;
    options.backend = "reference";  // the suite compares against the reference: the server computes exactly it
    options.max_uploaded_models = 512;
    auto created = serve::InferenceServer::Create(options);
    if (!created.ok()) {
      start_error = created.status().ToString();
      return;
    }
    server = std::move(created).value();
    Status started = server->Start();
    if (!started.ok()) {
      start_error = started.ToString();
      return;
    }
    config.remote_url = "http://127.0.0.1:" + std::to_string(server->port());
    config.token_file = path.string();
    config.timeout_s = 30;
    config.retries = 1;
    start_error.clear();
  });
#endif
  if (error) *error = start_error;
  return config;
}

}  // namespace deepx::testing
