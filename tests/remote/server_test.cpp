// `deepx serve` in process on 127.0.0.1: the KServe v2 endpoints, JSON and binary tensors, the token, the
// repository extension, and malformed requests (each must get a 4xx with {"error"} and leave the server answering).
#include <gtest/gtest.h>
#include <httplib.h>

#include <cstring>
#include <filesystem>
#include <atomic>
#include <random>
#include <thread>
#include <nlohmann/json.hpp>

#include "capi/tiny_models.h"
#include "serve/kserve_codec.h"
#include "serve/server.h"
#include "serve/sha256.h"

namespace deepx {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr const char* kToken = "s3cret-token";

class ServeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("deepx_serve_test_" + std::to_string(getpid()));
    fs::create_directories(dir_);
    ASSERT_TRUE(testing::WriteModel(testing::ClassifierModel(), (dir_ / "classifier.onnx").string()));
    ASSERT_TRUE(testing::WriteModel(testing::MixedModel(), (dir_ / "mixed.onnx").string()));
    serve::ServerOptions options;
    options.models_dir = dir_.string();
    options.token = kToken;
    options.allow_upload = true;
    options.backend = "reference";
    options.max_request_bytes = 1 << 20;
    options.max_uploaded_models = 2;
    auto server = serve::InferenceServer::Create(options);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
    ASSERT_TRUE(server_->Start().ok());
  }
  void TearDown() override {
    if (server_) server_->Stop();
    fs::remove_all(dir_);
  }

  httplib::Client Client(bool with_token = true) const {
    httplib::Client c("127.0.0.1", server_->port());
    c.set_read_timeout(10, 0);
    c.set_tcp_nodelay(true);  // else Nagle + delayed ACK add ~40 ms to every request
    if (with_token) c.set_bearer_token_auth(kToken);
    return c;
  }
  json Parse(const std::string& body) const { return json::parse(body, nullptr, false); }

  // The server still answers an ordinary request after whatever came before.
  void ExpectStillServing() {
    auto c = Client();
    auto r = c.Get("/v2/models/classifier");
    ASSERT_TRUE(r) << "server stopped answering";
    EXPECT_EQ(r->status, 200);
  }

  // POSTs `body` to classifier's infer endpoint and expects a 4xx with an {"error"} body.
  void ExpectRejected(const std::string& body, const httplib::Headers& headers = {},
                      const std::string& model = "classifier", int want = 400) {
    auto c = Client();
    auto r = c.Post("/v2/models/" + model + "/infer", headers, body, "application/octet-stream");
    ASSERT_TRUE(r) << "no answer";
    EXPECT_EQ(r->status, want) << r->body;
    json j = Parse(r->body);
    ASSERT_TRUE(j.is_object()) << r->body;
    EXPECT_TRUE(j.contains("error") && j["error"].is_string()) << r->body;
    ExpectStillServing();
  }

  fs::path dir_;
  std::unique_ptr<serve::InferenceServer> server_;
};

TEST_F(ServeTest, HealthNeedsNoTokenAndMetadataDescribesModels) {
  auto anon = Client(false);
  for (const char* path : {"/v2/health/live", "/v2/health/ready"}) {
    auto r = anon.Get(path);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << path;
  }
  auto c = Client();
  auto server = c.Get("/v2");
  ASSERT_TRUE(server);
  EXPECT_EQ(Parse(server->body)["name"], "deepx");
  auto meta = c.Get("/v2/models/classifier");
  ASSERT_TRUE(meta);
  ASSERT_EQ(meta->status, 200);
  json m = Parse(meta->body);
  EXPECT_EQ(m["name"], "classifier");
  EXPECT_EQ(m["inputs"][0]["name"], "x");
  EXPECT_EQ(m["inputs"][0]["datatype"], "FP32");
  EXPECT_EQ(m["inputs"][0]["shape"], json({-1, 4}));
  EXPECT_EQ(m["outputs"][1]["name"], "probs");
  auto mixed = c.Get("/v2/models/mixed/versions/1");
  ASSERT_TRUE(mixed);
  EXPECT_EQ(Parse(mixed->body)["inputs"][1]["datatype"], "INT64");
  EXPECT_EQ(c.Get("/v2/models/classifier/ready")->status, 200);
  EXPECT_EQ(c.Get("/v2/models/nosuch/ready")->status, 404);
  EXPECT_EQ(c.Get("/v2/models/classifier/versions/7")->status, 404);
}

TEST_F(ServeTest, InfersWithJsonTensors) {
  auto c = Client();
  json req = {{"id", "r1"},
              {"inputs", {{{"name", "x"}, {"datatype", "FP32"}, {"shape", {2, 4}}, {"data", {1, 2, 3, 4, 0, 0, 0, 0}}}}}};
  auto r = c.Post("/v2/models/classifier/infer", req.dump(), "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  json j = Parse(r->body);
  EXPECT_EQ(j["id"], "r1");
  EXPECT_EQ(j["model_name"], "classifier");
  ASSERT_EQ(j["outputs"].size(), 2u);
  EXPECT_EQ(j["outputs"][0]["name"], "logits");
  EXPECT_EQ(j["outputs"][0]["shape"], json({2, 3}));
  const std::vector<double> want = {5.5, 6, 6.5, 0.5, 0, -0.5};  // W, B of tiny_models.h
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(j["outputs"][0]["data"][i].get<double>(), want[i], 1e-6);

  // Nested "data" (as some clients send) and an int64 input; only the requested output comes back.
  json mixed = {{"inputs",
                 {{{"name", "a"}, {"datatype", "FP32"}, {"shape", {2, 3}}, {"data", {{1, 2, 3}, {4, 5, 6}}}},
                  {{"name", "b"}, {"datatype", "INT64"}, {"shape", {3}}, {"data", {10, 20, 30}}}}},
                {"outputs", {{{"name", "sum"}}}}};
  r = c.Post("/v2/models/mixed/infer", mixed.dump(), "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(Parse(r->body)["outputs"][0]["data"], json({11.0, 22.0, 33.0, 14.0, 25.0, 36.0}));
}

TEST_F(ServeTest, InfersWithBinaryTensors) {
  Tensor x = Tensor::FromFloats({1, 4}, {1, 2, 3, 4});
  auto body = serve::EncodeInferRequest({{"x", x}}, {"probs"}, /*binary=*/true, /*binary_output=*/true);
  ASSERT_TRUE(body.ok());
  ASSERT_TRUE(body->header_length.has_value());
  auto c = Client();
  httplib::Headers h = {{serve::kHeaderLengthHeader, std::to_string(*body->header_length)}};
  auto r = c.Post("/v2/models/classifier/infer", h, body->body, "application/octet-stream");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  ASSERT_TRUE(r->has_header(serve::kHeaderLengthHeader));
  const size_t hl = std::stoul(r->get_header_value(serve::kHeaderLengthHeader));
  json head = Parse(r->body.substr(0, hl));
  EXPECT_EQ(head["outputs"][0]["parameters"]["binary_data_size"], 12);
  EXPECT_FALSE(head["outputs"][0].contains("data"));
  auto outs = serve::DecodeInferResponse(r->body, hl);
  ASSERT_TRUE(outs.ok()) << outs.status().ToString();
  ASSERT_EQ(outs->size(), 1u);
  const float* p = (*outs)[0].tensor.data<float>();
  const double z = std::exp(5.5) + std::exp(6.0) + std::exp(6.5);
  EXPECT_NEAR(p[0], std::exp(5.5) / z, 1e-6);
  EXPECT_NEAR(p[2], std::exp(6.5) / z, 1e-6);
}

TEST_F(ServeTest, MissingOrWrongTokenGets401WithoutModelInformation) {
  json req = {{"inputs", {{{"name", "x"}, {"datatype", "FP32"}, {"shape", {1, 4}}, {"data", {1, 2, 3, 4}}}}}};
  auto anon = Client(false);
  httplib::Client wrong("127.0.0.1", server_->port());
  wrong.set_bearer_token_auth("s3cret-tokeN");
  httplib::Client prefix("127.0.0.1", server_->port());
  prefix.set_bearer_token_auth("s3cret");
  httplib::Client basic("127.0.0.1", server_->port());
  basic.set_basic_auth("user", kToken);
  for (httplib::Client* c : {&anon, &wrong, &prefix, &basic}) {
    for (const char* path : {"/v2", "/v2/models/classifier", "/v2/models/classifier/ready", "/v2/models/nosuch"}) {
      auto r = c->Get(path);
      ASSERT_TRUE(r);
      EXPECT_EQ(r->status, 401) << path;
      EXPECT_EQ(r->body.find("classifier"), std::string::npos) << r->body;
      EXPECT_EQ(r->body.find("mixed"), std::string::npos) << r->body;
    }
    auto r = c->Post("/v2/models/classifier/infer", req.dump(), "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 401);
    EXPECT_EQ(r->body.find("classifier"), std::string::npos) << r->body;
    auto idx = c->Post("/v2/repository/index", "", "application/json");
    ASSERT_TRUE(idx);
    EXPECT_EQ(idx->status, 401);
    EXPECT_EQ(idx->body.find("mixed"), std::string::npos) << idx->body;
  }
  ExpectStillServing();
}

TEST_F(ServeTest, MalformedRequestsGet4xxAndTheServerKeepsAnswering) {
  ExpectRejected("{not json");
  ExpectRejected("[1, 2]");
  ExpectRejected(R"({"inputs": 5})");
  ExpectRejected(R"({"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 4]}]})");  // no data
  ExpectRejected(R"({"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 4], "data": [1, 2, 3]}]})");
  ExpectRejected(R"({"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 4], "data": [1, 2, 3, "a"]}]})");
  ExpectRejected(R"({"inputs": [{"name": "x", "datatype": "FP17", "shape": [1, 4], "data": [1, 2, 3, 4]}]})");
  ExpectRejected(R"({"inputs": [{"name": "x", "datatype": "FP16", "shape": [1, 4], "data": [1, 2, 3, 4]}]})");
  ExpectRejected(R"({"inputs": [{"name": "x", "datatype": "INT64", "shape": [1, 4], "data": [1, 2, 3, 4]}]})");
  ExpectRejected(R"({"inputs": [{"name": "x", "datatype": "FP32", "shape": [2, 2], "data": [1, 2, 3, 4]}]})");
  ExpectRejected(R"({"inputs": [{"name": "x", "datatype": "FP32", "shape": [-1, 4], "data": [1, 2, 3, 4]}]})");
  ExpectRejected(R"({"inputs": [{"name": "y", "datatype": "FP32", "shape": [1, 4], "data": [1, 2, 3, 4]}]})");
  ExpectRejected(R"({"inputs": []})");
  ExpectRejected(R"({"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 4], "data": [1, 2, 3, 4]}],
                     "outputs": [{"name": "nosuch"}]})");
  ExpectRejected(R"({"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 4], "data": [1, 2, 3, 4]}]})", {},
                 "nosuch", 404);
  // Deeply nested data must not exhaust the stack.
  ExpectRejected(R"({"inputs": [{"name": "x", "datatype": "FP32", "shape": [1], "data": )" + std::string(5000, '[') +
                 "1" + std::string(5000, ']') + "}]}");

  // Binary framing errors.
  const std::string head = R"({"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 4],
                              "parameters": {"binary_data_size": 16}}]})";
  auto hl = [&](size_t n) { return httplib::Headers{{serve::kHeaderLengthHeader, std::to_string(n)}}; };
  ExpectRejected(head + std::string(8, '\0'), hl(head.size()));                         // truncated payload
  ExpectRejected(head + std::string(20, '\0'), hl(head.size()));                        // undeclared extra bytes
  ExpectRejected(head + std::string(16, '\0'), hl(head.size() + 100));                  // header beyond the body
  ExpectRejected(head + std::string(16, '\0'), {{serve::kHeaderLengthHeader, "12x"}});  // malformed header
  ExpectRejected(head + std::string(16, '\0'), hl(head.size() - 3));                    // JSON cut short
  const std::string wrong_size = R"({"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 4],
                                    "parameters": {"binary_data_size": 15}}]})";
  ExpectRejected(wrong_size + std::string(15, '\0'), hl(wrong_size.size()));
  // Huge declared sizes are refused before anything is allocated.
  const std::string huge = R"({"inputs": [{"name": "x", "datatype": "FP32", "shape": [1000000000, 1000000000],
                              "parameters": {"binary_data_size": 4000000000000000000}}]})";
  ExpectRejected(huge + std::string(16, '\0'), hl(huge.size()));
  const std::string overflow = R"({"inputs": [{"name": "x", "datatype": "FP32",
      "shape": [4294967296, 4294967296, 4294967296], "data": [1]}]})";
  ExpectRejected(overflow);
  const std::string huge_json = R"({"inputs": [{"name": "x", "datatype": "FP32", "shape": [100000000000, 4],
                                   "data": [1, 2, 3, 4]}]})";
  ExpectRejected(huge_json);
}

TEST_F(ServeTest, OversizedRequestGets413) {
  auto c = Client();
  const std::string big(2 << 20, ' ');  // the server accepts 1 MiB
  auto r = c.Post("/v2/models/classifier/infer", big, "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_TRUE(Parse(r->body).contains("error")) << r->body;
  ExpectStillServing();
}

TEST_F(ServeTest, RepositoryUploadLoadsAModelAndEvictsBeyondTheBound) {
  auto c = Client();
  std::string onnx;
  ASSERT_TRUE(testing::ClassifierModel().SerializeToString(&onnx));
  json load = {{"parameters", {{"file:1/model.onnx", serve::Base64Encode(onnx)}}}};
  for (const char* name : {"up1", "up2", "up3"}) {
    auto r = c.Post(std::string("/v2/repository/models/") + name + "/load", load.dump(), "application/json");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
  }
  // At most two uploads are kept: up1, the least recently used, is gone; directory models stay.
  EXPECT_EQ(c.Get("/v2/models/up1/ready")->status, 404);
  EXPECT_EQ(c.Get("/v2/models/up3/ready")->status, 200);
  EXPECT_EQ(c.Get("/v2/models/classifier/ready")->status, 200);
  json req = {{"inputs", {{{"name", "x"}, {"datatype", "FP32"}, {"shape", {1, 4}}, {"data", {1, 2, 3, 4}}}}}};
  auto r = c.Post("/v2/models/up3/infer", req.dump(), "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(c.Post("/v2/repository/models/up3/unload", "", "application/json")->status, 200);
  EXPECT_EQ(c.Get("/v2/models/up3/ready")->status, 404);
  // Directory models cannot be replaced or unloaded; garbage uploads are refused.
  EXPECT_EQ(c.Post("/v2/repository/models/classifier/load", load.dump(), "application/json")->status, 400);
  EXPECT_EQ(c.Post("/v2/repository/models/classifier/unload", "", "application/json")->status, 400);
  json garbage = {{"parameters", {{"file:1/model.onnx", serve::Base64Encode("not a model at all")}}}};
  auto bad = c.Post("/v2/repository/models/bad/load", garbage.dump(), "application/json");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400) << bad->body;
  json not_b64 = {{"parameters", {{"file:1/model.onnx", "@@@"}}}};
  EXPECT_EQ(c.Post("/v2/repository/models/bad/load", not_b64.dump(), "application/json")->status, 400);
  EXPECT_EQ(c.Post("/v2/repository/models/bad/load", "{x", "application/json")->status, 400);
  ExpectStillServing();
}

// Seeded random corruptions of a valid binary request (bytes flipped, cut, header length moved): every answer
// is 200 or a 4xx, and the server keeps answering.
TEST_F(ServeTest, MutatedRequestsNeverBreakTheServer) {
  auto body = serve::EncodeInferRequest({{"x", Tensor::FromFloats({2, 4}, {1, 2, 3, 4, 5, 6, 7, 8})}}, {"probs"},
                                        /*binary=*/true, /*binary_output=*/true);
  ASSERT_TRUE(body.ok());
  std::mt19937 rng(1234);
  auto c = Client();
  c.set_keep_alive(true);
  int ok = 0, rejected = 0;
  for (int i = 0; i < 400; ++i) {
    std::string b = body->body;
    size_t hl = *body->header_length;
    switch (rng() % 4) {
      case 0:
        for (int k = 0; k < 1 + static_cast<int>(rng() % 4); ++k) b[rng() % b.size()] = static_cast<char>(rng());
        break;
      case 1: b.resize(rng() % b.size()); break;
      case 2: hl = rng() % (b.size() + 8); break;
      default: b.insert(rng() % b.size(), std::string(1 + rng() % 16, static_cast<char>(rng()))); break;
    }
    auto r = c.Post("/v2/models/classifier/infer", {{serve::kHeaderLengthHeader, std::to_string(hl)}}, b,
                    "application/octet-stream");
    ASSERT_TRUE(r) << "mutation " << i << ": no answer";
    ASSERT_TRUE(r->status == 200 || (r->status >= 400 && r->status < 500)) << r->status << " " << r->body;
    (r->status == 200 ? ok : rejected)++;
  }
  EXPECT_GT(rejected, 200);
  ExpectStillServing();
}

// Concurrent clients on one model and on two: every answer is the one for its own input.
TEST_F(ServeTest, ConcurrentRequestsGetTheirOwnAnswers) {
  std::atomic<int> wrong{0}, failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      auto c = Client();
      c.set_keep_alive(true);
      for (int i = 0; i < 25; ++i) {
        const float v = static_cast<float>(t * 100 + i);
        json req = {{"inputs", {{{"name", "x"}, {"datatype", "FP32"}, {"shape", {1, 4}}, {"data", {v, 0, 0, 0}}}}},
                    {"outputs", {{{"name", "logits"}}}}};
        auto r = c.Post("/v2/models/classifier/infer", req.dump(), "application/json");
        if (!r || r->status != 200) {
          ++failed;
          continue;
        }
        // logits[0] = x0 + x3 + 0.5 (tiny_models.h)
        if (json::parse(r->body)["outputs"][0]["data"][0].get<double>() != v + 0.5) ++wrong;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(wrong.load(), 0);
}

TEST(ServeOptions, UploadsNeedAllowUpload) {
  serve::ServerOptions options;
  options.backend = "reference";
  auto server = serve::InferenceServer::Create(options);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  ASSERT_TRUE((*server)->Start().ok());
  httplib::Client c("127.0.0.1", (*server)->port());
  std::string onnx;
  ASSERT_TRUE(testing::ClassifierModel().SerializeToString(&onnx));
  json load = {{"parameters", {{"file:1/model.onnx", serve::Base64Encode(onnx)}}}};
  auto r = c.Post("/v2/repository/models/m/load", load.dump(), "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);
  EXPECT_NE(r->body.find("--allow-upload"), std::string::npos);
}

TEST(ServeOptions, BadOptionsFailClearly) {
  serve::ServerOptions options;
  options.models_dir = "/nonexistent/deepx/models";
  auto server = serve::InferenceServer::Create(options);
  ASSERT_FALSE(server.ok());
  EXPECT_NE(server.status().message().find("/nonexistent/deepx/models"), std::string::npos);
  serve::ServerOptions tls;
  tls.tls_cert = "/nonexistent/cert.pem";
  tls.tls_key = "/nonexistent/key.pem";
  EXPECT_FALSE(serve::InferenceServer::Create(tls).ok());
  serve::ServerOptions half;
  half.tls_cert = "c.pem";
  EXPECT_EQ(serve::InferenceServer::Create(half).status().code(), StatusCode::kInvalidArgument);
}

TEST(Sha256, MatchesFipsVectors) {  // FIPS 180-2 examples, plus the 55/56/64-byte padding edges
  EXPECT_EQ(serve::Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(serve::Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(serve::Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(serve::Sha256Hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(KServeCodec, RoundTripsEveryDtypeInJsonAndBinary) {
  std::vector<serve::NamedTensor> tensors;
  tensors.push_back({"f", Tensor::FromFloats({2, 2}, {1.5f, -2.25f, 3e-8f, 1e30f})});
  tensors.push_back({"i", Tensor::FromInt64s({3}, {-(int64_t{1} << 62), 0, 7})});
  Tensor b = Tensor::Zeros(DataType::kBool, {2});
  b.data<bool>()[1] = true;
  tensors.push_back({"b", b});
  Tensor u = Tensor::Zeros(DataType::kUInt8, {2});
  u.data<uint8_t>()[0] = 255;
  tensors.push_back({"u", u});
  Tensor e = Tensor::Zeros(DataType::kFloat32, {0, 3});
  tensors.push_back({"e", e});
  for (bool binary : {false, true}) {
    auto body = serve::EncodeInferRequest(tensors, {}, binary, false);
    ASSERT_TRUE(body.ok());
    auto req = serve::DecodeInferRequest(body->body, body->header_length);
    ASSERT_TRUE(req.ok()) << req.status().ToString();
    ASSERT_EQ(req->inputs.size(), tensors.size());
    for (size_t i = 0; i < tensors.size(); ++i) {
      const Tensor& got = req->inputs[i].tensor;
      EXPECT_EQ(req->inputs[i].name, tensors[i].name);
      EXPECT_EQ(got.dtype(), tensors[i].tensor.dtype());
      EXPECT_EQ(got.shape(), tensors[i].tensor.shape());
      EXPECT_EQ(std::memcmp(got.raw_data(), tensors[i].tensor.raw_data(), got.size_bytes()), 0)
          << tensors[i].name << (binary ? " binary" : " json");
    }
  }
  for (const std::string& s : std::vector<std::string>{"", "f", "Zm", "Zm9", "Zm9v", std::string("\0\xff\x10", 3)})
    EXPECT_EQ(*serve::Base64Decode(serve::Base64Encode(s)), s);
}

}  // namespace
}  // namespace deepx
