// A small KServe v2 HTTP(S) client for the remote backend: bearer token, per-request timeout, bounded retries with
// exponential backoff for transport errors and 5xx answers (never for 4xx, which would fail the same way again).
// Certificates of https:// servers are verified, against the CA file in $DEEPX_REMOTE_CA_FILE when set (else the
// system store). One connection is kept alive and shared; calls are serialised.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "deepx/status.h"

namespace httplib {
class Client;
}

namespace deepx {

struct KServeClientOptions {
  std::string url;       // http://host[:port] or https://host[:port]
  std::string token;     // "": no Authorization header
  double timeout_s = 30; // connect, read and write timeout of one attempt
  int retries = 2;       // further attempts after a failed one
  std::string ca_file;   // https: CA bundle to verify the server against ("": the system store)
};

struct HttpReply {
  int status = 0;
  std::string body;
  std::optional<size_t> header_length;  // Inference-Header-Content-Length, when the reply has one
};

class KServeClient {
 public:
  static Result<std::unique_ptr<KServeClient>> Create(const KServeClientOptions& options);
  ~KServeClient();

  // The reply of the first attempt that reached the server with a non-5xx answer. UNAVAILABLE naming the URL when
  // every attempt failed to connect, timed out or got a 5xx.
  Result<HttpReply> Get(const std::string& path);
  Result<HttpReply> Post(const std::string& path, const std::string& body, const std::string& content_type,
                         std::optional<size_t> header_length = std::nullopt);

  const std::string& url() const { return url_; }
  // "host:port", for ProcessorInfo.
  const std::string& host_port() const { return host_port_; }

 private:
  KServeClient() = default;
  template <typename Call>
  Result<HttpReply> WithRetries(const std::string& what, Call call);

  KServeClientOptions options_;
  std::string url_, host_port_;
  std::unique_ptr<httplib::Client> client_;
  std::mutex mu_;
};

// Splits http(s)://host[:port][/] into scheme, host and port; INVALID_ARGUMENT for anything else.
struct ParsedUrl {
  std::string scheme, host;
  int port = 0;
};
Result<ParsedUrl> ParseServerUrl(const std::string& url);

}  // namespace deepx
