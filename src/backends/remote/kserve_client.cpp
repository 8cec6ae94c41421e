#include "backends/remote/kserve_client.h"

#include <httplib.h>

#include <chrono>
#include <thread>

#include "serve/kserve_codec.h"

namespace deepx {

Result<ParsedUrl> ParseServerUrl(const std::string& url) {
  ParsedUrl p;
  std::string rest;
  if (url.rfind("http://", 0) == 0) {
    p.scheme = "http";
    rest = url.substr(7);
    p.port = 80;
  } else if (url.rfind("https://", 0) == 0) {
    p.scheme = "https";
    rest = url.substr(8);
    p.port = 443;
  } else {
    return InvalidArgument("remote URL '" + url + "' must start with http:// or https://");
  }
  if (!rest.empty() && rest.back() == '/') rest.pop_back();
  if (rest.empty() || rest.find('/') != std::string::npos)
    return InvalidArgument("remote URL '" + url + "' must be scheme://host[:port] (no path)");
  std::string host = rest, port;
  if (rest.front() == '[') {  // [IPv6]:port
    const size_t close = rest.find(']');
    if (close == std::string::npos) return InvalidArgument("remote URL '" + url + "' has an unclosed '['");
    host = rest.substr(1, close - 1);
    if (close + 1 < rest.size()) {
      if (rest[close + 1] != ':') return InvalidArgument("remote URL '" + url + "' is malformed after ']'");
      port = rest.substr(close + 2);
      if (port.empty()) return InvalidArgument("remote URL '" + url + "' has an empty port");
    }
  } else if (const size_t colon = rest.rfind(':'); colon != std::string::npos) {
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
    if (port.empty()) return InvalidArgument("remote URL '" + url + "' has an empty port");
  }
  if (!port.empty()) {
    if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos || std::stoi(port) < 1 ||
        std::stoi(port) > 65535)
      return InvalidArgument("remote URL '" + url + "' has an invalid port '" + port + "'");
    p.port = std::stoi(port);
  }
  rest = host;
  if (rest.empty()) return InvalidArgument("remote URL '" + url + "' has no host");
  p.host = rest;
  return p;
}

KServeClient::~KServeClient() = default;

Result<std::unique_ptr<KServeClient>> KServeClient::Create(const KServeClientOptions& options) {
  if (!(options.timeout_s > 0)) return InvalidArgument("remote timeout must be positive");
  if (options.retries < 0 || options.retries > 10) return InvalidArgument("remote retries must be in [0, 10]");
  DX_ASSIGN_OR_RETURN(ParsedUrl parsed, ParseServerUrl(options.url));
  std::unique_ptr<KServeClient> c(new KServeClient());
  c->options_ = options;
  c->host_port_ = parsed.host + ":" + std::to_string(parsed.port);
  c->url_ = parsed.scheme + "://" + (parsed.host.find(':') != std::string::npos ? "[" + parsed.host + "]" : parsed.host) +
            ":" + std::to_string(parsed.port);
  c->client_ = std::make_unique<httplib::Client>(c->url_);
  if (!c->client_->is_valid()) return InvalidArgument("cannot create an HTTP client for '" + options.url + "'");
  const auto sec = static_cast<time_t>(options.timeout_s);
  const auto usec = static_cast<time_t>((options.timeout_s - static_cast<double>(sec)) * 1e6);
  c->client_->set_connection_timeout(sec, usec);
  c->client_->set_read_timeout(sec, usec);
  c->client_->set_write_timeout(sec, usec);
  c->client_->set_keep_alive(true);
  c->client_->set_tcp_nodelay(true);  // see the server: avoids Nagle + delayed-ACK stalls of ~40 ms per request
  if (!options.token.empty()) c->client_->set_bearer_token_auth(options.token);
  if (parsed.scheme == "https") {
    c->client_->enable_server_certificate_verification(true);
    if (!options.ca_file.empty()) c->client_->set_ca_cert_path(options.ca_file);
  }
  return c;
}

template <typename Call>
Result<HttpReply> KServeClient::WithRetries(const std::string& what, Call call) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string last;
  for (int attempt = 0; attempt <= options_.retries; ++attempt) {
    if (attempt > 0) {
      // Exponential backoff: 50 ms, 100 ms, 200 ms, ... capped at 1 s.
      const int ms = std::min(1000, 50 << std::min(attempt - 1, 5));
      std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    }
    httplib::Result r = call();
    if (!r) {
      last = "transport error: " + httplib::to_string(r.error());
      continue;
    }
    HttpReply reply;
    reply.status = r->status;
    reply.body = std::move(r->body);
    auto hl = serve::ParseHeaderLength(r->get_header_value(serve::kHeaderLengthHeader),
                                       r->has_header(serve::kHeaderLengthHeader));
    if (!hl.ok()) return Unavailable(url_ + " " + what + ": " + hl.status().message());
    reply.header_length = *hl;
    if (reply.status >= 500) {
      last = "HTTP " + std::to_string(reply.status) + ": " + reply.body.substr(0, 200);
      continue;
    }
    return reply;
  }
  return Unavailable("remote server " + url_ + ": " + what + " failed after " + std::to_string(options_.retries + 1) +
                     " attempt(s), last: " + last);
}

Result<HttpReply> KServeClient::Get(const std::string& path) {
  return WithRetries("GET " + path, [&] { return client_->Get(path); });
}

Result<HttpReply> KServeClient::Post(const std::string& path, const std::string& body, const std::string& content_type,
                                     std::optional<size_t> header_length) {
  httplib::Headers headers;
  if (header_length) headers.emplace(serve::kHeaderLengthHeader, std::to_string(*header_length));
  return WithRetries("POST " + path, [&] { return client_->Post(path, headers, body, content_type); });
}

}  // namespace deepx
