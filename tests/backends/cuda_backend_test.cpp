// CUDA backend behaviour beyond the numerics of the differential suite: the unsupported-case list kept true (runs
// without a GPU), and on a GPU: library kernels actually used, views, outputs kept across runs, timings,
// device-resident inputs, plans mixing the GPU with a host backend, and a whole model through a Session.
// GPU tests skip, with a message, where no CUDA device is present (CI).
#include <gtest/gtest.h>

#ifdef DEEPX_HAVE_CUDA_BACKEND
#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "backends/backend_cases.h"
#include "backends/cuda/cuda_backend.h"
#include "backends/cuda/cuda_support.h"
#include "backends/reference/reference_backend.h"
#include "deepx/deepx.hpp"
#include "io/tensor_file.h"
#include "plan/plan.h"
#include "runtime/executor.h"
#include "test_util.h"

namespace deepx {
namespace {

const testing::BackendCase& NamedCase(const std::string& name) {
  for (const auto& c : testing::AllBackendCases())
    if (c.name == name) return c;
  ADD_FAILURE() << name << " missing";
  return testing::AllBackendCases().front();
}

#define SKIP_WITHOUT_GPU() \
  if (CudaDeviceNames().empty()) GTEST_SKIP() << "no CUDA device on this machine"

Result<std::vector<Tensor>> RunReference(const testing::BackendCase& c) {
  ReferenceBackend reference;
  auto graph = std::make_shared<const Graph>(c.graph);
  DX_ASSIGN_OR_RETURN(auto exe, reference.Prepare(graph, SingleBackendPlan(*graph).blocks[0]));
  std::vector<Tensor> out;
  DX_RETURN_IF_ERROR(exe->Run(c.inputs, out));
  return out;
}

// Runs without a GPU: a case is declared unsupported exactly when one of its nodes fails the support check that
// Prepare applies, so the list in cuda_cases.cpp cannot drift from the code.
TEST(CudaCases, UnsupportedListMatchesSupportCheck) {
  const std::set<std::string> declared = testing::CudaUnsupportedCases();
  std::set<std::string> names;
  for (const auto& c : testing::AllBackendCases()) {
    names.insert(c.name);
    std::string why;
    for (const Node& n : c.graph.nodes) {
      Status s = cuda::SupportsNode(c.graph, n);
      if (!s.ok()) {
        EXPECT_EQ(s.code(), StatusCode::kUnimplemented) << s.ToString();
        why = s.message();
        break;
      }
    }
    EXPECT_EQ(!why.empty(), declared.count(c.name) == 1) << c.name << (why.empty() ? ": supported" : ": " + why);
  }
  for (const std::string& d : declared) EXPECT_TRUE(names.count(d)) << "no case named " << d;
}

TEST(CudaCases, OldBroadcastAndOtherDtypesAreReportedNotRun) {
  Graph g;
  Value a, b, y, i64;
  a.name = "a";
  a.dtype = DataType::kFloat32;
  a.shape = {2, 3};
  b = a;
  b.name = "b";
  y = a;
  y.name = "y";
  i64 = a;
  i64.name = "i";
  i64.dtype = DataType::kInt64;
  const ValueId va = g.AddValue(a), vb = g.AddValue(b), vy = g.AddValue(y), vi = g.AddValue(i64);
  Node add;
  add.name = "old_add";
  add.op_type = "Add";
  add.opset = 6;
  add.inputs = {va, vb};
  add.outputs = {vy};
  add.attrs.set("broadcast", int64_t{1});
  Status s = cuda::SupportsNode(g, add);
  EXPECT_EQ(s.code(), StatusCode::kUnimplemented);
  EXPECT_NE(s.message().find("old_add"), std::string::npos) << s.message();
  Node relu;
  relu.name = "int_relu";
  relu.op_type = "Relu";
  relu.inputs = {vi};
  relu.outputs = {vy};
  EXPECT_EQ(cuda::SupportsNode(g, relu).code(), StatusCode::kUnimplemented);
  Node gather;
  gather.name = "gather";
  gather.op_type = "Gather";
  gather.inputs = {va, vi};
  gather.outputs = {vy};
  EXPECT_EQ(cuda::SupportsNode(g, gather).code(), StatusCode::kUnimplemented);
}

TEST(CudaBackend, RegistryListsItExactlyWhenADeviceIsPresent) {
  const auto names = AvailableBackends();
  const bool listed = std::find(names.begin(), names.end(), "cuda") != names.end();
  EXPECT_EQ(listed, !CudaDeviceNames().empty());
  if (CudaDeviceNames().empty()) {
    auto b = CreateBackend("cuda", 0);
    ASSERT_FALSE(b.ok());
    EXPECT_EQ(b.status().code(), StatusCode::kUnavailable) << b.status().ToString();
  }
}

TEST(CudaBackend, UsesCudnnCublasAndViews) {
  SKIP_WITHOUT_GPU();
  auto backend = CreateBackend("cuda", 0);
  ASSERT_TRUE(backend.ok()) << backend.status().ToString();
  EXPECT_EQ((*backend)->info().kind, "gpu");
  EXPECT_GT((*backend)->info().memory_bytes, 0);
  const auto& c = NamedCase("chain_residual_cnn");
  auto graph = std::make_shared<const Graph>(c.graph);
  auto exe = (*backend)->Prepare(graph, SingleBackendPlan(*graph).blocks[0]);
  ASSERT_TRUE(exe.ok()) << exe.status().ToString();
  const auto impls = dynamic_cast<CudaExecutable&>(**exe).node_impls();
  ASSERT_EQ(impls.size(), graph->nodes.size());
  for (size_t i = 0; i < impls.size(); ++i) {
    const std::string& op = graph->nodes[i].op_type;
    if (op == "Conv") {
      EXPECT_EQ(impls[i].rfind("cudnn:conv", 0), 0u) << impls[i];
    } else if (op == "Gemm") {
      EXPECT_EQ(impls[i], "cublas:gemm");
    } else if (op == "Flatten") {
      EXPECT_EQ(impls[i], "view");
    }
  }
  EXPECT_GT((*exe)->resident_bytes(), 0);
  EXPECT_GT((*exe)->activation_bytes(), 0);
}

TEST(CudaBackend, OutputsSurviveTheNextRunAndTimingsCoverEveryNode) {
  SKIP_WITHOUT_GPU();
  auto backend = CreateBackend("cuda", 0);
  ASSERT_TRUE(backend.ok()) << backend.status().ToString();
  const auto& c = NamedCase("chain_residual_cnn");
  auto graph = std::make_shared<const Graph>(c.graph);
  auto exe = (*backend)->Prepare(graph, SingleBackendPlan(*graph).blocks[0]);
  ASSERT_TRUE(exe.ok()) << exe.status().ToString();
  std::vector<Tensor> first, second;
  ASSERT_TRUE((*exe)->Run(c.inputs, first).ok());
  const Tensor kept = first[0].Clone();
  std::vector<Tensor> other_inputs = {testing::RandomTensor(c.inputs[0].shape(), 99)};
  std::vector<NodeTiming> timings;
  RunOptions options;
  options.timings = &timings;
  ASSERT_TRUE((*exe)->Run(other_inputs, second, options).ok());
  EXPECT_EQ(testing::NormalisedError(first[0], kept), 0.0);  // the first run's output was not overwritten
  EXPECT_GT(testing::NormalisedError(second[0], kept), 0.0);
  EXPECT_EQ(timings.size(), graph->nodes.size() - 1);  // every node but the Flatten view
  for (const NodeTiming& t : timings) EXPECT_LE(t.start_ns, t.end_ns);
}

// Runs after the first are captured as a CUDA graph and replayed: the replay must follow new input values.
TEST(CudaBackend, GraphReplayFollowsNewInputs) {
  SKIP_WITHOUT_GPU();
  auto backend = CreateBackend("cuda", 0);
  ASSERT_TRUE(backend.ok()) << backend.status().ToString();
  const auto& c = NamedCase("chain_fire_module");
  auto graph = std::make_shared<const Graph>(c.graph);
  auto exe = (*backend)->Prepare(graph, SingleBackendPlan(*graph).blocks[0]);
  ASSERT_TRUE(exe.ok()) << exe.status().ToString();
  auto want = RunReference(c);
  ASSERT_TRUE(want.ok());
  testing::BackendCase other = c;
  other.inputs = {testing::RandomTensor(c.inputs[0].shape(), 7)};
  auto want_other = RunReference(other);
  ASSERT_TRUE(want_other.ok());
  for (int run = 0; run < 4; ++run) {
    const bool odd = run % 2 == 1;
    std::vector<Tensor> out;
    Status s = (*exe)->Run(odd ? other.inputs : c.inputs, out);
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_LE(testing::NormalisedError(out[0], odd ? (*want_other)[0] : (*want)[0]), c.max_error) << "run " << run;
  }
  const char* env = std::getenv("DEEPX_CUDA_GRAPHS");
  if (!(env && std::string(env) == "0")) {
    EXPECT_TRUE(dynamic_cast<CudaExecutable&>(**exe).graph_captured());
  }
}

TEST(CudaBackend, DeviceInputsAreUsedInPlaceAndRoundTrip) {
  SKIP_WITHOUT_GPU();
  auto backend = CreateBackend("cuda", 0);
  ASSERT_TRUE(backend.ok()) << backend.status().ToString();
  const auto& c = NamedCase("chain_fire_module");
  // ToDevice leaves host tensors for the executable to stage; UploadToCuda copies explicitly.
  auto staged = (*backend)->ToDevice(c.inputs[0]);
  ASSERT_TRUE(staged.ok()) << staged.status().ToString();
  EXPECT_TRUE(staged->is_host());
  auto dev = UploadToCuda(**backend, c.inputs[0]);
  ASSERT_TRUE(dev.ok()) << dev.status().ToString();
  EXPECT_FALSE(dev->is_host());
  EXPECT_EQ(dev->buffer()->location(), "cuda:0");
  auto same = (*backend)->ToDevice(*dev);
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(same->buffer(), dev->buffer());
  auto back = (*backend)->ToHost(*dev);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(testing::NormalisedError(*back, c.inputs[0]), 0.0);

  auto graph = std::make_shared<const Graph>(c.graph);
  auto exe = (*backend)->Prepare(graph, SingleBackendPlan(*graph).blocks[0]);
  ASSERT_TRUE(exe.ok()) << exe.status().ToString();
  std::vector<Tensor> from_host, from_device;
  ASSERT_TRUE((*exe)->Run(c.inputs, from_host).ok());
  auto run = (*exe)->Run({*dev}, from_device);
  ASSERT_TRUE(run.ok()) << run.ToString();
  EXPECT_EQ(testing::NormalisedError(from_device[0], from_host[0]), 0.0);
  auto want = RunReference(c);
  ASSERT_TRUE(want.ok());
  EXPECT_LE(testing::NormalisedError(from_device[0], (*want)[0]), c.max_error);
}

// A plan that leaves the GPU for the host and comes back (the shape of a Session's fallback for unsupported
// nodes): the residual Add and its Relu run on the reference backend.
TEST(CudaBackend, PlanMixingGpuAndHostMatchesReference) {
  SKIP_WITHOUT_GPU();
  auto cuda_backend = CreateBackend("cuda", 0);
  ASSERT_TRUE(cuda_backend.ok()) << cuda_backend.status().ToString();
  const auto& c = NamedCase("chain_residual_cnn");
  auto graph = std::make_shared<const Graph>(c.graph);
  std::vector<int> assignment(graph->nodes.size(), 0);
  for (size_t i = 0; i < graph->nodes.size(); ++i)
    if (graph->nodes[i].op_type == "Add" || graph->nodes[i].op_type == "Relu") assignment[i] = 1;
  auto plan = PlanFromAssignment(*graph, assignment);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  ASSERT_GE(plan->blocks.size(), 3u);
  auto executor = Executor::Create(graph, *plan, {*cuda_backend, std::make_shared<ReferenceBackend>()});
  ASSERT_TRUE(executor.ok()) << executor.status().ToString();
  auto got = (*executor)->Run(c.inputs);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  // The reference through an executor too: both return graph outputs in graph order.
  auto reference = Executor::Create(graph, SingleBackendPlan(*graph), {std::make_shared<ReferenceBackend>()});
  ASSERT_TRUE(reference.ok()) << reference.status().ToString();
  auto want = (*reference)->Run(c.inputs);
  ASSERT_TRUE(want.ok()) << want.status().ToString();
  ASSERT_EQ(got->size(), want->size());
  for (size_t i = 0; i < got->size(); ++i)
    EXPECT_LE(testing::NormalisedError((*got)[i], (*want)[i]), c.max_error) << "output " << i;
}

TEST(CudaBackend, SessionRunsTheBundledModelLikeTheReference) {
  SKIP_WITHOUT_GPU();
  auto model = Model::Load(testing::SourcePath("models/fashion_mnist_cnn.onnx"));
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  auto batch = LoadTensorFile(testing::SourcePath("models/samples/fashion_batch8.npy"));
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  SessionOptions on_gpu, on_ref;
  on_gpu.backend = "cuda";
  on_ref.backend = "reference";
  auto gpu = Session::Create(*model, on_gpu);
  auto ref = Session::Create(*model, on_ref);
  ASSERT_TRUE(gpu.ok() && ref.ok()) << gpu.status().ToString();
  auto got = (*gpu)->Run({{"input", *batch}});
  auto want = (*ref)->Run({{"input", *batch}});
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_TRUE(want.ok());
  EXPECT_LE(testing::NormalisedError((*got)[0], (*want)[0]), 1e-4);
}

}  // namespace
}  // namespace deepx
#endif  // DEEPX_HAVE_CUDA_BACKEND
