// Loopback measurements of the KServe path (not run by default; numbers for docs/BENCHMARKS.md):
//   build/<tree>/tests/deepx_tests --gtest_also_run_disabled_tests --gtest_filter='RemoteBench.*'
// A Relu model keeps server compute negligible, so the times are protocol + transport.
#include <gtest/gtest.h>
#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "backends/remote/remote_backend.h"
#include "onnx/model_writer.h"
#include "serve/kserve_codec.h"
#include "serve/server.h"
#include "test_util.h"

namespace deepx {
namespace {

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

template <typename F>
std::vector<double> TimeMs(int runs, F f) {
  std::vector<double> ms;
  for (int i = 0; i < runs; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  return ms;
}

TEST(RemoteBench, DISABLED_LoopbackRttAndThroughput) {
  serve::ServerOptions options;
  options.allow_upload = true;
  options.backend = "reference";
  options.max_request_bytes = int64_t{256} << 20;
  auto server = serve::InferenceServer::Create(options);
  ASSERT_TRUE(server.ok());
  ASSERT_TRUE((*server)->Start().ok());
  const std::string url = "http://127.0.0.1:" + std::to_string((*server)->port());

  // Tiny infer through the remote backend (binary both ways), keep-alive connection.
  BackendConfig config;
  config.remote_url = url;
  auto backend = CreateBackend("remote", config);
  ASSERT_TRUE(backend.ok());
  auto tiny = std::make_shared<const Graph>(testing::SingleNodeGraph("Relu", {{"x", testing::RandomTensor({4}, 1)}}, {}));
  auto exe = (*backend)->Prepare(tiny, SingleBackendPlan(*tiny).blocks[0]);
  ASSERT_TRUE(exe.ok());
  const Tensor x4 = testing::RandomTensor({4}, 2);
  std::vector<Tensor> out;
  for (int i = 0; i < 50; ++i) ASSERT_TRUE((*exe)->Run({x4}, out).ok());
  const auto rtt = TimeMs(1000, [&] { (void)(*exe)->Run({x4}, out); });
  std::printf("tiny infer (Relu, 4 floats) via remote backend: median %.3f ms, p90 %.3f ms\n", Median(rtt),
              [&] { auto v = rtt; std::sort(v.begin(), v.end()); return v[v.size() * 9 / 10]; }());

  // 1x3x224x224 float32 (602,112 bytes) each way: binary extension vs JSON.
  const Tensor big = testing::RandomTensor({1, 3, 224, 224}, 3);
  Graph g = testing::SingleNodeGraph("Relu", {{"x", big}}, {});
  auto onnx = SerializeOnnx(g);
  ASSERT_TRUE(onnx.ok());
  httplib::Client c("127.0.0.1", (*server)->port());
  c.set_keep_alive(true);
  c.set_tcp_nodelay(true);
  const std::string load = "{\"parameters\": {\"file:1/model.onnx\": \"" + serve::Base64Encode(*onnx) + "\"}}";
  ASSERT_EQ(c.Post("/v2/repository/models/relu224/load", load, "application/json")->status, 200);
  for (bool binary : {true, false}) {
    auto body = serve::EncodeInferRequest({{"x", big}}, {"out0"}, binary, binary);
    ASSERT_TRUE(body.ok());
    httplib::Headers h;
    if (body->header_length) h.emplace(serve::kHeaderLengthHeader, std::to_string(*body->header_length));
    const int runs = binary ? 100 : 10;
    auto round_trip = [&] {
      auto r = c.Post("/v2/models/relu224/infer", h, body->body, "application/octet-stream");
      ASSERT_TRUE(r && r->status == 200);
      std::optional<size_t> hl;
      if (r->has_header(serve::kHeaderLengthHeader)) hl = std::stoul(r->get_header_value(serve::kHeaderLengthHeader));
      auto decoded = serve::DecodeInferResponse(r->body, hl);  // the client's decode cost counts too
      ASSERT_TRUE(decoded.ok());
    };
    round_trip();
    const double ms = Median(TimeMs(runs, round_trip));
    std::printf("1x3x224x224 fp32 %s: request %.2f MB, median %.2f ms per infer, %.1f infer/s, %.0f MB/s payload "
                "(both ways)\n",
                binary ? "binary" : "JSON  ", body->body.size() / 1e6, ms, 1000 / ms, 2 * 0.602112 / (ms / 1000));
  }
  (*server)->Stop();
}

}  // namespace
}  // namespace deepx
