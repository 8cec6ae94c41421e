// `deepx serve`: serve models over the KServe v2 / Open Inference Protocol (src/serve/server.h).
#include <signal.h>
#include <unistd.h>

#include <cerrno>

#include <iostream>
#include <string>
#include <thread>

#include "commands.h"
#include "deepx/status.h"

#ifdef DEEPX_HAVE_REMOTE_BACKEND
#include "serve/server.h"
#endif

namespace deepx::cli {
namespace {

struct ServeArgs {
  std::string host = "127.0.0.1";
  int port = 8000;
  std::string token_file;
  std::string models_dir;
  std::string backend;
  int threads = 0;
  std::string tls_cert, tls_key;
  int64_t max_request_mb = 64;
  bool allow_upload = false;
  int max_uploads = 64;
};

#ifdef DEEPX_HAVE_REMOTE_BACKEND
// SIGINT/SIGTERM write one byte to this pipe (write is async-signal-safe; stopping the server is not), and a
// watcher thread stops the server when it reads it. A handler rather than a blocked-signal sigwait, because
// libraries may have started threads of their own that would otherwise take the signal's default action.
int g_stop_pipe[2] = {-1, -1};

void OnStopSignal(int) {
  const char b = 1;
  [[maybe_unused]] ssize_t n = write(g_stop_pipe[1], &b, 1);
}

int RunServe(const ServeArgs& args) {
  serve::ServerOptions options;
  options.host = args.host;
  options.port = args.port;
  options.models_dir = args.models_dir;
  options.backend = args.backend;
  options.threads = args.threads;
  options.tls_cert = args.tls_cert;
  options.tls_key = args.tls_key;
  options.max_request_bytes = args.max_request_mb << 20;
  options.allow_upload = args.allow_upload;
  options.max_uploaded_models = static_cast<size_t>(args.max_uploads);
  if (!args.token_file.empty()) {
    auto token = serve::ReadTokenFile(args.token_file);
    if (!token.ok()) {
      std::cerr << "deepx serve: " << token.status().ToString() << "\n";
      return 1;
    }
    options.token = *token;
  }
  auto server = serve::InferenceServer::Create(options);
  if (!server.ok()) {
    std::cerr << "deepx serve: " << server.status().ToString() << "\n";
    return 1;
  }
  const bool tls = !options.tls_cert.empty();
  // The first stdout line says where it listens (tests and scripts with --port 0 read the port from it).
  std::cout << "deepx serve: listening on " << (tls ? "https://" : "http://") << options.host << ":"
            << (*server)->port() << (options.token.empty() ? " (no token)" : " (bearer token required)")
            << (options.allow_upload ? ", uploads allowed" : "") << std::endl;
  if (options.host != "127.0.0.1" && options.host != "localhost" && options.host != "::1" && options.token.empty())
    std::cerr << "deepx serve: warning: listening beyond loopback without a token\n";
  if (pipe(g_stop_pipe) != 0) {
    std::cerr << "deepx serve: cannot create a pipe\n";
    return 1;
  }
  struct sigaction action {};
  action.sa_handler = OnStopSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  serve::InferenceServer* raw = server->get();
  std::thread watcher([raw] {
    char b;
    while (read(g_stop_pipe[0], &b, 1) < 0 && errno == EINTR) {
    }
    raw->Stop();
  });
  Status served = (*server)->Serve();
  OnStopSignal(0);  // Serve returned on its own (an error): release the watcher
  watcher.join();
  if (!served.ok()) {
    std::cerr << "deepx serve: " << served.ToString() << "\n";
    return 1;
  }
  return 0;
}
#endif

}  // namespace

void AddServeCommand(CLI::App& app) {
  auto args = std::make_shared<ServeArgs>();
  CLI::App* cmd = app.add_subcommand("serve", "Serve models over the KServe v2 / Open Inference Protocol");
  cmd->add_option("--host", args->host, "Address to bind (loopback unless told otherwise)")->capture_default_str();
  cmd->add_option("--port", args->port, "Port (0: a free one, printed on the first line)")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  cmd->add_option("--token-file", args->token_file, "File holding the bearer token clients must send");
  cmd->add_option("--models", args->models_dir, "Directory of .onnx models, each served under its file stem");
  cmd->add_option("--backend", args->backend, "Backend running the models (default: the host CPU backend)");
  cmd->add_option("--threads", args->threads, "Backend threads per model (0: the backend's default)")
      ->check(CLI::Range(0, 1024));
  cmd->add_option("--tls-cert", args->tls_cert, "PEM certificate: serve HTTPS (with --tls-key)");
  cmd->add_option("--tls-key", args->tls_key, "PEM private key of --tls-cert");
  cmd->add_option("--max-request-mb", args->max_request_mb, "Largest request body accepted (413 beyond)")
      ->check(CLI::Range(int64_t{1}, int64_t{4096}))
      ->capture_default_str();
  cmd->add_flag("--allow-upload", args->allow_upload,
                "Accept models uploaded through the repository extension (the remote backend needs it)");
  cmd->add_option("--max-uploads", args->max_uploads, "Uploaded models kept in memory (least recently used evicted)")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  cmd->callback([args] {
#ifdef DEEPX_HAVE_REMOTE_BACKEND
    SetExitCode(RunServe(*args));
#else
    std::cerr << "deepx serve: this build has no HTTP support (cpp-httplib was not found)\n";
    SetExitCode(1);
#endif
  });
}

}  // namespace deepx::cli
