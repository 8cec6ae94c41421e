#include "backends/remote/remote_backend.h"

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "backends/remote/kserve_client.h"
#include "onnx/model_writer.h"
#include "plan/block_graph.h"
#include "serve/kserve_codec.h"
#include "serve/server.h"
#include "serve/sha256.h"

namespace deepx {
namespace {

using json = nlohmann::json;

// "block [conv1 .. fc2] (7 nodes)" for error messages.
std::string BlockLabel(const Graph& g, const Block& b) {
  if (b.nodes.empty()) return "empty block";
  return "block [" + g.node(b.nodes.front()).name + " .. " + g.node(b.nodes.back()).name + "] (" +
         std::to_string(b.nodes.size()) + " nodes)";
}

// The server's {"error": ...} message, or the start of the body.
std::string ServerMessage(const HttpReply& r) {
  json j = json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_object() && j.contains("error") && j["error"].is_string()) return j["error"].get<std::string>();
  return r.body.substr(0, 200);
}

Status ReplyError(const HttpReply& r, const std::string& url, const std::string& what) {
  const std::string msg = "remote server " + url + ": " + what + ": HTTP " + std::to_string(r.status) + ": " +
                          ServerMessage(r);
  if (r.status == 401 || r.status == 403) return Status(StatusCode::kUnauthenticated, msg);
  if (r.status == 413) return ResourceExhausted(msg);
  if (r.status >= 400 && r.status < 500) return InvalidArgument(msg);
  return Unavailable(msg);
}


class RemoteExecutable : public Executable {
 public:
  RemoteExecutable(std::shared_ptr<KServeClient> client, std::string model_name, std::string onnx, std::string label,
                   std::vector<std::string> inputs, std::vector<Value> outputs, NodeId first_node)
      : client_(std::move(client)),
        model_name_(std::move(model_name)),
        onnx_(std::move(onnx)),
        label_(std::move(label)),
        input_names_(std::move(inputs)),
        outputs_(std::move(outputs)),
        first_node_(first_node) {}

  Status Run(const std::vector<Tensor>& inputs, std::vector<Tensor>& outputs, const RunOptions& options) override;
  int64_t resident_bytes() const override { return 0; }  // held by the server

  // Uploads the block unless the server already has it.
  Status EnsureLoaded();

 private:
  Status Upload();
  Result<HttpReply> InferOnce(const serve::WireBody& body);

  std::shared_ptr<KServeClient> client_;
  std::string model_name_, onnx_, label_;
  std::vector<std::string> input_names_;
  std::vector<Value> outputs_;  // names, dtypes and shapes the block promises
  NodeId first_node_;
};

Status RemoteExecutable::Upload() {
  json doc;
  doc["parameters"]["file:1/model.onnx"] = serve::Base64Encode(onnx_);
  // Triton wants the model configuration next to file overrides; its ONNX Runtime backend completes inputs and
  // outputs from the file. Shapes are fixed by specialisation, hence no batching. `deepx serve` ignores it.
  doc["parameters"]["config"] =
      json{{"name", model_name_}, {"backend", "onnxruntime"}, {"max_batch_size", 0}}.dump();
  auto reply = client_->Post("/v2/repository/models/" + model_name_ + "/load", doc.dump(), "application/json");
  if (!reply.ok()) return reply.status().WithContext("uploading " + label_);
  const HttpReply& r = *reply;
  if (r.status == 200) return Status::Ok();
  if (r.status == 403)
    return ReplyError(r, client_->url(), "uploading " + label_ + " (start the server with --allow-upload)");
  return ReplyError(r, client_->url(), "uploading " + label_);
}

Status RemoteExecutable::EnsureLoaded() {
  auto reply = client_->Get("/v2/models/" + model_name_ + "/ready");
  if (!reply.ok()) return reply.status().WithContext("checking " + label_);
  const HttpReply& r = *reply;
  if (r.status == 200) return Status::Ok();
  if (r.status == 401 || r.status == 403) return ReplyError(r, client_->url(), "checking " + label_);
  // 404 (deepx serve) or 400 (Triton): not there yet.
  return Upload();
}

Status RemoteExecutable::Run(const std::vector<Tensor>& inputs, std::vector<Tensor>& outputs,
                             const RunOptions& options) {
  const int64_t start = SteadyNowNs();
  if (inputs.size() != input_names_.size())
    return InvalidArgument(label_ + ": expected " + std::to_string(input_names_.size()) + " inputs, got " +
                           std::to_string(inputs.size()));
  std::vector<serve::NamedTensor> named;
  for (size_t i = 0; i < inputs.size(); ++i) named.push_back({input_names_[i], inputs[i]});
  std::vector<std::string> output_names;
  for (const Value& v : outputs_) output_names.push_back(v.name);
  DX_ASSIGN_OR_RETURN(serve::WireBody body, serve::EncodeInferRequest(named, output_names, /*binary=*/true,
                                                                      /*binary_output=*/true));
  auto reply = InferOnce(body);
  if (!reply.ok()) return reply.status().WithContext(label_);
  if (reply->status == 404) {
    // The server lost the block (restarted, or evicted it from its bounded upload cache): upload again, once.
    Status loaded = Upload();
    if (!loaded.ok()) return loaded;
    reply = InferOnce(body);
    if (!reply.ok()) return reply.status().WithContext(label_);
  }
  if (reply->status != 200) return ReplyError(*reply, client_->url(), "running " + label_);
  auto decoded = serve::DecodeInferResponse(reply->body, reply->header_length);
  if (!decoded.ok())
    return Unavailable("remote server " + client_->url() + ": malformed answer for " + label_ + ": " +
                       decoded.status().message());
  outputs.assign(outputs_.size(), Tensor());
  for (size_t i = 0; i < outputs_.size(); ++i) {
    const Value& want = outputs_[i];
    for (serve::NamedTensor& t : *decoded)
      if (t.name == want.name) outputs[i] = std::move(t.tensor);
    if (outputs[i].empty())
      return Unavailable("remote server " + client_->url() + " did not return output '" + want.name + "' of " + label_);
    const bool dtype_known = want.dtype != DataType::kUndefined;
    if ((dtype_known && outputs[i].dtype() != want.dtype) || (want.has_shape && outputs[i].shape() != want.shape))
      return Unavailable("remote server " + client_->url() + " returned output '" + want.name + "' of " + label_ +
                         " as " + DataTypeName(outputs[i].dtype()) + ShapeToString(outputs[i].shape()) +
                         ", expected " + DataTypeName(want.dtype) + ShapeToString(want.shape));
  }
  if (options.timings) options.timings->push_back({first_node_, start, SteadyNowNs()});
  return Status::Ok();
}

Result<HttpReply> RemoteExecutable::InferOnce(const serve::WireBody& body) {
  return client_->Post("/v2/models/" + model_name_ + "/infer", body.body,
                       body.header_length ? "application/octet-stream" : "application/json", body.header_length);
}

class RemoteBackend : public Backend {
 public:
  RemoteBackend(std::shared_ptr<KServeClient> client) : client_(std::move(client)) {
    info_.name = "remote:" + client_->host_port();
    info_.kind = "remote";
    info_.memory_bytes = 0;  // unknown: the server's
    info_.threads = 1;
  }

  const ProcessorInfo& info() const override { return info_; }

  Status Supports(const Graph& g, const Node& n) const override {
    // The server runs whatever DeepX runs; only tensors the protocol cannot name must stay home.
    for (ValueId v : n.inputs)
      if (v != kNoValue && !g.value(v).is_constant() && serve::KServeDatatype(g.value(v).dtype) == nullptr)
        return Unimplemented("remote: dtype " + std::string(DataTypeName(g.value(v).dtype)) + " has no KServe name");
    for (ValueId v : n.outputs)
      if (v != kNoValue && serve::KServeDatatype(g.value(v).dtype) == nullptr)
        return Unimplemented("remote: dtype " + std::string(DataTypeName(g.value(v).dtype)) + " has no KServe name");
    return Status::Ok();
  }

  Result<std::unique_ptr<Executable>> Prepare(std::shared_ptr<const Graph> graph, const Block& block) override {
    const std::string label = BlockLabel(*graph, block) + " on " + client_->url();
    auto sub = ExtractBlockGraph(*graph, block);
    if (!sub.ok()) return sub.status().WithContext(label);
    auto bytes = SerializeOnnx(*sub);
    if (!bytes.ok()) return bytes.status().WithContext(label);
    std::vector<std::string> inputs;
    for (ValueId v : block.inputs) inputs.push_back(graph->value(v).name);
    std::vector<Value> outputs;
    for (ValueId v : block.outputs) {
      Value meta = graph->value(v);
      meta.constant = Tensor();
      outputs.push_back(std::move(meta));
    }
    const std::string name = RemoteBlockModelName(*bytes);
    auto exe = std::make_unique<RemoteExecutable>(client_, name, std::move(bytes).value(), label, std::move(inputs),
                                                  std::move(outputs), block.nodes.empty() ? -1 : block.nodes.front());
    DX_RETURN_IF_ERROR(exe->EnsureLoaded());
    return std::unique_ptr<Executable>(std::move(exe));
  }

 private:
  std::shared_ptr<KServeClient> client_;
  ProcessorInfo info_;
};

}  // namespace

std::string RemoteBlockModelName(const std::string& onnx_bytes) {
  return "blk-" + serve::Sha256Hex(onnx_bytes).substr(0, 32);
}

Result<std::shared_ptr<Backend>> CreateRemoteBackend(const BackendConfig& config) {
  if (config.remote_url.empty()) return InvalidArgument("the remote backend needs a server URL (--remote URL)");
  KServeClientOptions options;
  options.url = config.remote_url;
  options.timeout_s = config.timeout_s;
  options.retries = config.retries;
  if (!config.token_file.empty()) {
    DX_ASSIGN_OR_RETURN(options.token, serve::ReadTokenFile(config.token_file));
  }
  if (const char* ca = std::getenv("DEEPX_REMOTE_CA_FILE"); ca != nullptr) options.ca_file = ca;
  DX_ASSIGN_OR_RETURN(std::unique_ptr<KServeClient> client, KServeClient::Create(options));
  return std::shared_ptr<Backend>(std::make_shared<RemoteBackend>(std::shared_ptr<KServeClient>(std::move(client))));
}

}  // namespace deepx
