#include "serve/server.h"

#include <httplib.h>

#include <atomic>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "runtime/backend.h"
#include "serve/kserve_codec.h"
#include "serve/model_repository.h"

namespace deepx::serve {
namespace {

using json = nlohmann::json;

constexpr const char* kJson = "application/json";

// Compares in time independent of where the strings differ (and, beyond the comparison loop, of their content),
// so the token cannot be guessed byte by byte from response times.
bool ConstantTimeEquals(const std::string& a, const std::string& b) {
  const size_t n = std::max(a.size(), b.size());
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned char>(x ^ y);
  }
  return diff == 0;
}

int HttpStatusFor(const Status& s) {
  switch (s.code()) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kOutOfRange:
    case StatusCode::kUnimplemented:
    case StatusCode::kFailedPrecondition: return 400;
    case StatusCode::kUnauthenticated: return 401;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kResourceExhausted: return 413;
    case StatusCode::kUnavailable: return 503;
    default: return 500;
  }
}

void SendError(httplib::Response& res, int http_status, const std::string& message) {
  res.status = http_status;
  res.set_content(ErrorJson(message), kJson);
}

void SendStatus(httplib::Response& res, const Status& s) { SendError(res, HttpStatusFor(s), s.message()); }

void SendJson(httplib::Response& res, const json& j) {
  res.status = 200;
  res.set_content(j.dump(-1, ' ', false, json::error_handler_t::replace), kJson);
}

json TensorSpecs(const std::vector<TensorSpec>& specs) {
  json list = json::array();
  for (const TensorSpec& s : specs) {
    json t;
    t["name"] = s.name;
    const char* dt = KServeDatatype(s.dtype);
    t["datatype"] = dt ? dt : DataTypeName(s.dtype);
    t["shape"] = s.shape;
    list.push_back(std::move(t));
  }
  return list;
}

bool IsHealthPath(const std::string& path) { return path == "/v2/health/live" || path == "/v2/health/ready"; }

}  // namespace

struct InferenceServer::Impl {
  ServerOptions options;
  std::unique_ptr<httplib::Server> http;
  std::unique_ptr<ModelRepository> repo;
  int port = 0;
  std::thread thread;
  std::atomic<bool> serving{false};

  // Wraps a handler: nothing thrown inside (allocation failure, a library bug) escapes to the HTTP library.
  template <typename F>
  httplib::Server::Handler Guard(F f) {
    return [f](const httplib::Request& req, httplib::Response& res) {
      try {
        f(req, res);
      } catch (const std::bad_alloc&) {
        SendError(res, 507, "out of memory while handling the request");
      } catch (const std::exception& e) {
        SendError(res, 500, std::string("internal error: ") + e.what());
      } catch (...) {
        SendError(res, 500, "internal error");
      }
    };
  }

  // Resolves the model of a /v2/models/{m}[/versions/{v}] route; nullptr after answering 404.
  std::shared_ptr<ServedModel> ModelFor(const httplib::Request& req, httplib::Response& res) {
    const std::string name = req.matches[1];
    if (req.matches.size() > 2 && req.matches[2].matched) {
      const std::string version = req.matches[2];
      if (version != "1") {
        SendError(res, 404, "model '" + name + "' has no version '" + version.substr(0, 32) + "' (only 1)");
        return nullptr;
      }
    }
    auto m = repo->Find(name);
    if (!m) SendError(res, 404, "model '" + name.substr(0, 128) + "' is not loaded");
    return m;
  }

  void Infer(const httplib::Request& req, httplib::Response& res) {
    auto served = ModelFor(req, res);
    if (!served) return;
    auto header_length = ParseHeaderLength(req.get_header_value(kHeaderLengthHeader),
                                           req.has_header(kHeaderLengthHeader));
    if (!header_length.ok()) return SendStatus(res, header_length.status());
    auto request = DecodeInferRequest(req.body, *header_length);
    if (!request.ok()) return SendStatus(res, request.status());
    const Model& model = served->model();
    std::vector<std::pair<std::string, Tensor>> feeds;
    for (NamedTensor& t : request->inputs) {
      bool known = false;
      for (const TensorSpec& s : model.inputs()) known |= s.name == t.name;
      if (!known) return SendError(res, 400, "model '" + served->name() + "' has no input '" + t.name + "'");
      feeds.emplace_back(t.name, std::move(t.tensor));
    }
    auto outputs = served->Run(feeds);
    if (!outputs.ok()) return SendStatus(res, outputs.status().WithContext("model '" + served->name() + "'"));
    const auto& specs = model.outputs();
    std::vector<size_t> chosen;
    if (request->requested_outputs.empty()) {
      for (size_t i = 0; i < specs.size(); ++i) chosen.push_back(i);
    } else {
      for (const std::string& name : request->requested_outputs) {
        size_t i = 0;
        while (i < specs.size() && specs[i].name != name) ++i;
        if (i == specs.size()) return SendError(res, 400, "model '" + served->name() + "' has no output '" + name + "'");
        chosen.push_back(i);
      }
    }
    std::vector<NamedTensor> named;
    std::vector<bool> binary;
    for (size_t i : chosen) {
      named.push_back({specs[i].name, (*outputs)[i]});
      binary.push_back(request->binary_output || request->binary_outputs.count(specs[i].name) > 0);
    }
    auto body = EncodeInferResponse(served->name(), request->id, named, binary);
    if (!body.ok()) return SendStatus(res, body.status());
    res.status = 200;
    if (body->header_length) {
      res.set_header(kHeaderLengthHeader, std::to_string(*body->header_length));
      res.set_content(std::move(body->body), "application/octet-stream");
    } else {
      res.set_content(std::move(body->body), kJson);
    }
  }

  void Load(const httplib::Request& req, httplib::Response& res) {
    const std::string name = req.matches[1];
    if (!ModelRepository::ValidName(name)) return SendError(res, 400, "invalid model name");
    json doc = req.body.empty() ? json::object() : json::parse(req.body, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded() || !doc.is_object()) return SendError(res, 400, "body is not a JSON object");
    const json* file = nullptr;
    if (doc.contains("parameters")) {
      if (!doc["parameters"].is_object()) return SendError(res, 400, "\"parameters\" must be an object");
      for (const auto& [key, value] : doc["parameters"].items()) {
        if (key.rfind("file:", 0) != 0) continue;
        if (key.size() < 5 || key.substr(key.size() - 5) != ".onnx")
          return SendError(res, 400, "only .onnx model files can be uploaded, got '" + key.substr(0, 64) + "'");
        if (file) return SendError(res, 400, "upload exactly one file:<version>/<name>.onnx parameter");
        if (!value.is_string()) return SendError(res, 400, "'" + key + "' must be a base64 string");
        file = &value;
      }
    }
    if (!file) {  // a plain load request: succeeds for a model already served
      if (repo->Find(name)) return SendJson(res, json::object());
      return SendError(res, 404, "model '" + name + "' is not in the repository (upload it as file:1/model.onnx)");
    }
    if (!options.allow_upload)
      return SendError(res, 403, "model uploads are disabled (start the server with --allow-upload)");
    auto bytes = Base64Decode(file->get_ref<const std::string&>());
    if (!bytes.ok()) return SendStatus(res, bytes.status().WithContext("uploaded model"));
    Status added = repo->AddUpload(name, *bytes);
    if (!added.ok()) return SendStatus(res, added.WithContext("loading uploaded model '" + name + "'"));
    SendJson(res, json::object());
  }

  void Routes() {
    httplib::Server& s = *http;
    s.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      if (options.token.empty() || IsHealthPath(req.path)) return httplib::Server::HandlerResponse::Unhandled;
      const std::string auth = req.get_header_value("Authorization");
      const std::string prefix = "Bearer ";
      const bool ok = auth.size() > prefix.size() && auth.compare(0, prefix.size(), prefix) == 0 &&
                      ConstantTimeEquals(auth.substr(prefix.size()), options.token);
      if (ok) return httplib::Server::HandlerResponse::Unhandled;
      res.set_header("WWW-Authenticate", "Bearer");
      SendError(res, 401, "unauthorized: a valid bearer token is required");
      return httplib::Server::HandlerResponse::Handled;
    });
    s.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
      if (!res.body.empty()) return;
      if (res.status == 413) return SendError(res, 413, "request body is larger than the server accepts");
      SendError(res, res.status, "HTTP " + std::to_string(res.status) + " for " + req.method + " " +
                                     req.path.substr(0, 128));
    });
    s.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
      SendError(res, 500, "internal error");
    });

    auto ok_json = [](json j) { return [j](const httplib::Request&, httplib::Response& res) { SendJson(res, j); }; };
    s.Get("/v2/health/live", ok_json({{"live", true}}));
    s.Get("/v2/health/ready", ok_json({{"ready", true}}));
    s.Get("/v2", ok_json({{"name", "deepx"},
                          {"version", "0.1.0"},
                          {"extensions", {"binary_tensor_data", "model_repository"}}}));
    const std::string model = R"(/v2/models/([A-Za-z0-9_.\-]+)(?:/versions/([^/]+))?)";
    s.Get(model, Guard([this](const httplib::Request& req, httplib::Response& res) {
            auto m = ModelFor(req, res);
            if (!m) return;
            json j;
            j["name"] = m->name();
            j["versions"] = {"1"};
            j["platform"] = "onnx";
            j["inputs"] = TensorSpecs(m->model().inputs());
            j["outputs"] = TensorSpecs(m->model().outputs());
            SendJson(res, j);
          }));
    s.Get(model + "/ready", Guard([this](const httplib::Request& req, httplib::Response& res) {
            if (ModelFor(req, res)) SendJson(res, {{"name", req.matches[1].str()}, {"ready", true}});
          }));
    s.Post(model + "/infer", Guard([this](const httplib::Request& req, httplib::Response& res) { Infer(req, res); }));
    s.Post("/v2/repository/index", Guard([this](const httplib::Request&, httplib::Response& res) {
             json list = json::array();
             for (const std::string& n : repo->Names()) list.push_back({{"name", n}, {"version", "1"}, {"state", "READY"}});
             res.status = 200;
             res.set_content(list.dump(), kJson);
           }));
    s.Post(R"(/v2/repository/models/([A-Za-z0-9_.\-]+)/load)",
           Guard([this](const httplib::Request& req, httplib::Response& res) { Load(req, res); }));
    s.Post(R"(/v2/repository/models/([A-Za-z0-9_.\-]+)/unload)",
           Guard([this](const httplib::Request& req, httplib::Response& res) {
             if (!options.allow_upload)
               return SendError(res, 403, "repository changes are disabled (start the server with --allow-upload)");
             Status s = repo->Unload(req.matches[1]);
             if (!s.ok()) return SendStatus(res, s);
             SendJson(res, json::object());
           }));
  }
};

InferenceServer::InferenceServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

InferenceServer::~InferenceServer() { Stop(); }

int InferenceServer::port() const { return impl_->port; }

Result<std::unique_ptr<InferenceServer>> InferenceServer::Create(const ServerOptions& options) {
  if (options.max_request_bytes <= 0) return InvalidArgument("max request size must be positive");
  if (options.tls_cert.empty() != options.tls_key.empty())
    return InvalidArgument("TLS needs both a certificate and a key");
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  SessionOptions session;
  session.backend = options.backend.empty() ? HostFallbackBackend() : options.backend;
  session.num_threads = options.threads;
  if (session.backend == "remote") return InvalidArgument("the server cannot use the remote backend itself");
  impl->repo = std::make_unique<ModelRepository>(session, std::max<size_t>(1, options.max_uploaded_models));
  // Fail early on a backend name the build lacks, before any model is loaded.
  DX_RETURN_IF_ERROR(CreateBackend(session.backend, options.threads).status());
  if (!options.models_dir.empty()) DX_RETURN_IF_ERROR(impl->repo->LoadDirectory(options.models_dir));

  if (!options.tls_cert.empty()) {
    auto ssl = std::make_unique<httplib::SSLServer>(options.tls_cert.c_str(), options.tls_key.c_str());
    if (!ssl->is_valid())
      return InvalidArgument("cannot load TLS certificate '" + options.tls_cert + "' / key '" + options.tls_key + "'");
    impl->http = std::move(ssl);
  } else {
    impl->http = std::make_unique<httplib::Server>();
  }
  const size_t threads = static_cast<size_t>(std::max(1, options.http_threads));
  impl->http->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  impl->http->set_payload_max_length(static_cast<size_t>(options.max_request_bytes));
  // Headers and body go out in separate writes: without TCP_NODELAY, Nagle + delayed ACK add ~40 ms per request.
  impl->http->set_tcp_nodelay(true);
  impl->http->set_keep_alive_max_count(1000);
  impl->http->set_read_timeout(30);
  impl->http->set_write_timeout(30);
  impl->Routes();
  if (options.port == 0) {
    impl->port = impl->http->bind_to_any_port(options.host);
    if (impl->port <= 0) return Unavailable("cannot bind " + options.host + " to a free port");
  } else {
    if (!impl->http->bind_to_port(options.host, options.port))
      return Unavailable("cannot bind " + options.host + ":" + std::to_string(options.port));
    impl->port = options.port;
  }
  return std::unique_ptr<InferenceServer>(new InferenceServer(std::move(impl)));
}

Status InferenceServer::Start() {
  if (impl_->serving.exchange(true)) return FailedPrecondition("server already started");
  impl_->thread = std::thread([this] { impl_->http->listen_after_bind(); });
  // Wait until the accept loop runs, so a client connecting right after Start() is served.
  while (!impl_->http->is_running()) std::this_thread::yield();
  return Status::Ok();
}

Status InferenceServer::Serve() {
  if (impl_->serving.exchange(true)) return FailedPrecondition("server already started");
  if (!impl_->http->listen_after_bind()) return Unavailable("server stopped with an error");
  return Status::Ok();
}

void InferenceServer::Stop() {
  if (impl_->http) impl_->http->stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

Result<std::string> ReadTokenFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return NotFound("cannot read token file '" + path + "'");
  std::stringstream ss;
  ss << f.rdbuf();
  std::string token = ss.str();
  const auto first = token.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return InvalidArgument("token file '" + path + "' is empty");
  token = token.substr(first, token.find_last_not_of(" \t\r\n") - first + 1);
  return token;
}

}  // namespace deepx::serve
