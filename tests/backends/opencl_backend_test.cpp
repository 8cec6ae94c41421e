// The OpenCL backend beyond the differential suite: device listing, buffers and transfers, support reporting, a
// plan mixing the host CPU backend and OpenCL blocks, per-node timings, and the bundled model end to end through a
// Session. On CI these run on PoCL (a CPU device); a build with the backend but no OpenCL device fails here
// rather than skipping, because then the backend is untested.
#include "backends/opencl/opencl_backend.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <iostream>

#include "backends/backend_cases.h"
#include "backends/reference/reference_backend.h"
#include "deepx/deepx.hpp"
#include "io/tensor_file.h"
#include "ops/fused_activation.h"
#include "ops/op.h"
#include "passes/shape_inference.h"
#include "plan/plan.h"
#include "runtime/executor.h"
#include "test_util.h"

namespace deepx {
namespace {

using testing::NormalisedError;
using testing::RandomTensor;
using testing::SourcePath;

std::shared_ptr<Backend> OpenCl() {
  auto b = CreateBackend("opencl", 2);
  EXPECT_TRUE(b.ok()) << b.status().ToString();
  return b.ok() ? *b : nullptr;
}

TEST(OpenClBackend, ListsDevicesAndDescribesThem) {
  const std::vector<std::string> names = OpenClDeviceNames();
  ASSERT_FALSE(names.empty()) << "no OpenCL device (install pocl-opencl-icd)";
  EXPECT_EQ(names[0], "opencl:0");
  const auto available = AvailableBackends();
  EXPECT_NE(std::find(available.begin(), available.end(), "opencl"), available.end());
  auto backend = OpenCl();
  ASSERT_TRUE(backend);
  EXPECT_EQ(backend->info().name, "opencl:0");
  EXPECT_TRUE(backend->info().kind == "gpu" || backend->info().kind == "cpu") << backend->info().kind;
  EXPECT_GT(backend->info().memory_bytes, 0);
  auto same = CreateBackend(names.back(), 0);
  EXPECT_TRUE(same.ok()) << same.status().ToString();

  auto missing = CreateBackend("opencl:" + std::to_string(names.size()), 0);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound) << missing.status().ToString();
  auto malformed = CreateBackend("opencl:x", 0);
  ASSERT_FALSE(malformed.ok());
  EXPECT_EQ(malformed.status().code(), StatusCode::kInvalidArgument) << malformed.status().ToString();
}

TEST(OpenClBackend, BuffersRoundTripThroughTheDevice) {
  auto backend = OpenCl();
  ASSERT_TRUE(backend);
  for (const Shape& shape : {Shape{3, 5, 7}, Shape{1}, Shape{0, 4}, Shape{1 << 20}}) {
    const Tensor host = RandomTensor(shape, 7);
    auto device = backend->ToDevice(host);
    ASSERT_TRUE(device.ok()) << device.status().ToString();
    EXPECT_FALSE(device->is_host());
    EXPECT_EQ(device->buffer()->location(), "opencl:0");
    EXPECT_EQ(device->buffer()->host_data(), nullptr);
    EXPECT_EQ(device->shape(), shape);
    // Already resident: the same buffer comes back.
    auto again = backend->ToDevice(*device);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->buffer(), device->buffer());
    auto back = backend->ToHost(*device);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    ASSERT_TRUE(back->is_host());
    ASSERT_EQ(back->shape(), shape);
    EXPECT_EQ(std::memcmp(back->raw_data(), host.raw_data(), host.size_bytes()), 0) << ShapeToString(shape);
  }
  // The upload is asynchronous, yet dropping the host tensor at once must not corrupt it.
  Tensor device;
  {
    const Tensor host = Tensor::FromFloats({4}, {1, 2, 3, 4});
    auto d = backend->ToDevice(host);
    ASSERT_TRUE(d.ok());
    device = *d;
  }
  auto back = backend->ToHost(device);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->data<float>()[3], 4.0f);
  // A host backend cannot read it; the OpenCL one can.
  ReferenceBackend reference;
  EXPECT_FALSE(reference.ToHost(device).ok());
}

TEST(OpenClBackend, MeasuresTransfers) {
  auto cost = MeasureOpenClTransfers("opencl:0", size_t{4} << 20, 2);
  ASSERT_TRUE(cost.ok()) << cost.status().ToString();
  EXPECT_GT(cost->to_device_gbps, 0);
  EXPECT_GT(cost->to_host_gbps, 0);
  EXPECT_GT(cost->latency_us, 0);
  std::cout << "opencl:0 transfers: to device " << cost->to_device_gbps << " GB/s, to host " << cost->to_host_gbps
            << " GB/s, 4-byte round trip " << cost->latency_us << " us\n";
}

// Builds a specialised single-node graph for Supports().
Graph OneNode(const std::string& op, DataType dtype, const Shape& shape) {
  Graph g;
  g.opset = 13;
  Value x;
  x.name = "x";
  x.dtype = dtype;
  x.shape = shape;
  x.has_shape = true;
  g.inputs = {g.AddValue(x)};
  Value y = x;
  y.name = "y";
  g.outputs = {g.AddValue(y)};
  g.nodes.push_back(Node{.name = "n", .op_type = op, .opset = 13, .inputs = {g.inputs[0]}, .outputs = {g.outputs[0]}});
  return g;
}

TEST(OpenClBackend, ReportsWhatItCannotRun) {
  auto backend = OpenCl();
  ASSERT_TRUE(backend);
  const Graph relu = OneNode("Relu", DataType::kFloat32, {2, 3});
  EXPECT_TRUE(backend->Supports(relu, relu.nodes[0]).ok());
  const Graph int_relu = OneNode("Relu", DataType::kInt64, {2, 3});
  Status s = backend->Supports(int_relu, int_relu.nodes[0]);
  EXPECT_EQ(s.code(), StatusCode::kUnimplemented);
  EXPECT_NE(s.message().find("float32"), std::string::npos) << s.ToString();
  const Graph other = OneNode("CumSum", DataType::kFloat32, {2, 3});
  s = backend->Supports(other, other.nodes[0]);
  EXPECT_EQ(s.code(), StatusCode::kUnimplemented);
  EXPECT_NE(s.message().find("CumSum"), std::string::npos) << s.ToString();
  // Prepare refuses a block holding such a node.
  auto g = std::make_shared<const Graph>(other);
  EXPECT_FALSE(backend->Prepare(g, SingleBackendPlan(*g).blocks[0]).ok());
}

// x -> Conv 3x3 (+Relu fused) -> [Conv 1x1 | MaxPool 3x3] -> Add -> Relu -> GlobalAveragePool -> Flatten -> Gemm,
// plus the first conv's output as a second graph output.
std::shared_ptr<const Graph> MixedGraph() {
  Graph g;
  g.opset = 13;
  auto value = [&](const std::string& name, Tensor constant = Tensor()) {
    Value v;
    v.name = name;
    if (!constant.empty()) {
      v.dtype = constant.dtype();
      v.shape = constant.shape();
      v.has_shape = true;
      v.constant = constant;
    }
    return g.AddValue(v);
  };
  auto node = [&](const std::string& name, const std::string& op, std::vector<ValueId> in, std::vector<ValueId> out,
                  Attributes attrs = {}) {
    g.nodes.push_back(Node{.name = name, .op_type = op, .opset = 13, .inputs = in, .outputs = out, .attrs = attrs});
  };
  ValueId x = value("x");
  g.value(x).dtype = DataType::kFloat32;
  g.value(x).shape = {2, 3, 14, 14};
  g.value(x).has_shape = true;
  g.inputs = {x};
  ValueId w1 = value("w1", RandomTensor({8, 3, 3, 3}, 1)), b1 = value("b1", RandomTensor({8}, 2));
  ValueId w2 = value("w2", RandomTensor({8, 8, 1, 1}, 3));
  ValueId wf = value("wf", RandomTensor({5, 8}, 4)), bf = value("bf", RandomTensor({5}, 5));
  ValueId c1 = value("c1"), a = value("a"), p = value("p"), s = value("s"), r = value("r"), gp = value("gp"),
          fl = value("fl"), out = value("out");
  Attributes conv1;
  conv1.set("pads", std::vector<int64_t>{1, 1, 1, 1});
  Attributes pool = conv1;
  pool.set("kernel_shape", std::vector<int64_t>{3, 3});
  SetFusedActivation(conv1, FusedActivation{"Relu", {}});
  Attributes gemm;
  gemm.set("transB", int64_t{1});
  node("conv1", "Conv", {x, w1, b1}, {c1}, conv1);
  node("conv_a", "Conv", {c1, w2}, {a});
  node("pool_b", "MaxPool", {c1}, {p}, pool);
  node("add", "Add", {a, p}, {s});
  node("relu", "Relu", {s}, {r});
  node("gap", "GlobalAveragePool", {r}, {gp});
  node("flatten", "Flatten", {gp}, {fl});
  node("fc", "Gemm", {fl, wf, bf}, {out}, gemm);
  g.outputs = {out, c1};
  EXPECT_TRUE(g.TopologicalSort().ok());
  Status st = InferShapes(g, OpRegistry::Default());
  EXPECT_TRUE(st.ok()) << st.ToString();
  return std::make_shared<const Graph>(std::move(g));
}

TEST(OpenClBackend, PlanMixingHostAndOpenClBlocksMatchesReference) {
  auto graph = MixedGraph();
  const Tensor input = RandomTensor({2, 3, 14, 14}, 11);
  auto reference = Executor::Create(graph, SingleBackendPlan(*graph), {std::make_shared<ReferenceBackend>()});
  ASSERT_TRUE(reference.ok());
  auto want = (*reference)->Run({input});
  ASSERT_TRUE(want.ok()) << want.status().ToString();

  auto host = CreateBackend(HostFallbackBackend(), 2);
  ASSERT_TRUE(host.ok());
  auto opencl = OpenCl();
  ASSERT_TRUE(opencl);
  // 0: host, 1: opencl. Alternating blocks, opencl first/last, and all on opencl.
  const std::vector<std::vector<int>> assignments = {
      {1, 0, 1, 1, 0, 1, 1, 0}, {0, 1, 1, 0, 1, 0, 0, 1}, {1, 1, 1, 1, 1, 1, 1, 1}, {0, 0, 0, 1, 1, 1, 1, 1}};
  for (const auto& assignment : assignments) {
    auto plan = PlanFromAssignment(*graph, assignment);
    ASSERT_TRUE(plan.ok()) << plan.status().ToString();
    auto executor = Executor::Create(graph, *plan, {*host, opencl});
    ASSERT_TRUE(executor.ok()) << executor.status().ToString();
    for (int run = 0; run < 2; ++run) {  // a second run reuses the prepared buffers
      auto got = (*executor)->Run({input});
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      ASSERT_EQ(got->size(), want->size());
      for (size_t i = 0; i < got->size(); ++i) {
        ASSERT_TRUE((*got)[i].is_host());
        EXPECT_LE(NormalisedError((*got)[i], (*want)[i]), 1e-4)
            << "output " << i << " of plan with " << plan->blocks.size() << " blocks";
      }
    }
  }
}

TEST(OpenClBackend, KeepsOutputsOnTheDeviceAndTimesEachNode) {
  auto graph = MixedGraph();
  auto opencl = OpenCl();
  ASSERT_TRUE(opencl);
  auto exe = opencl->Prepare(graph, SingleBackendPlan(*graph).blocks[0]);
  ASSERT_TRUE(exe.ok()) << exe.status().ToString();
  EXPECT_GT((*exe)->resident_bytes(), 0);
  EXPECT_GT((*exe)->activation_bytes(), 0);
  std::vector<NodeTiming> timings;
  RunOptions options;
  options.timings = &timings;
  std::vector<Tensor> outputs;
  ASSERT_TRUE((*exe)->Run({RandomTensor({2, 3, 14, 14}, 3)}, outputs, options).ok());
  ASSERT_EQ(outputs.size(), 2u);
  EXPECT_FALSE(outputs[0].is_host());
  ASSERT_EQ(timings.size(), graph->nodes.size());
  for (size_t i = 0; i < timings.size(); ++i) {
    EXPECT_EQ(timings[i].node, static_cast<NodeId>(i));
    EXPECT_LE(timings[i].start_ns, timings[i].end_ns);
  }
  // Outputs of a run stay valid after the next run (fresh buffers per run).
  std::vector<Tensor> second;
  ASSERT_TRUE((*exe)->Run({RandomTensor({2, 3, 14, 14}, 4)}, second).ok());
  auto first_host = opencl->ToHost(outputs[0]), second_host = opencl->ToHost(second[0]);
  ASSERT_TRUE(first_host.ok() && second_host.ok());
  EXPECT_GT(NormalisedError(*first_host, *second_host), 1e-3);
}

TEST(OpenClBackend, FashionMnistModelThroughASessionMatchesReference) {
  auto model = Model::Load(SourcePath("models/fashion_mnist_cnn.onnx"));
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  auto batch = LoadTensorFile(SourcePath("models/samples/fashion_batch8.npy"));
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  SessionOptions reference_options;
  auto reference = Session::Create(*model, reference_options);
  ASSERT_TRUE(reference.ok());
  auto want = (*reference)->Run({{"input", *batch}});
  ASSERT_TRUE(want.ok()) << want.status().ToString();

  SessionOptions options;
  options.backend = "opencl";
  options.host_fallback = false;  // every node of this model must run on the device
  auto session = Session::Create(*model, options);
  ASSERT_TRUE(session.ok()) << session.status().ToString();
  for (int run = 0; run < 2; ++run) {
    std::vector<LayerTiming> timings;
    auto got = (*session)->Run({{"input", *batch}}, run == 1 ? &timings : nullptr);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    ASSERT_EQ(got->size(), 1u);
    EXPECT_LE(NormalisedError((*got)[0], (*want)[0]), 1e-4);
    if (run == 0) {
      // Logged for the record: the one-off cost of building the kernel program (PoCL caches it on disk after).
      std::cout << "opencl:0 kernel program built in " << OpenClProgramBuildSeconds("opencl:0") << " s\n";
    }
    if (run == 1) {
      ASSERT_FALSE(timings.empty());
      for (const LayerTiming& t : timings) EXPECT_EQ(t.processor, "opencl:0") << t.name;
    }
  }
}

}  // namespace
}  // namespace deepx
