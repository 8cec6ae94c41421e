// CPU backend behaviour beyond numerics (those are in differential_test.cpp): output ownership across runs,
// per-node timings, thread counts and core pinning, registry wiring.
#include <gtest/gtest.h>

#ifdef DEEPX_HAVE_CPU_BACKEND
#include <sched.h>

#include <cstring>
#include <string>

#include "backends/backend_cases.h"
#include "backends/cpu/cpu_backend.h"
#include "backends/reference/reference_backend.h"
#include "test_util.h"
#include "plan/plan.h"

namespace deepx {
namespace {

const testing::BackendCase& ResidualChain() {
  for (const auto& c : testing::AllBackendCases())
    if (c.name == "chain_residual_cnn") return c;
  ADD_FAILURE() << "chain_residual_cnn missing";
  return testing::AllBackendCases().front();
}

Result<std::unique_ptr<Executable>> PrepareCase(Backend& backend, const testing::BackendCase& c) {
  auto graph = std::make_shared<const Graph>(c.graph);
  return backend.Prepare(graph, SingleBackendPlan(*graph).blocks[0]);
}

const testing::BackendCase& NamedCase(const std::string& name) {
  for (const auto& c : testing::AllBackendCases())
    if (c.name == name) return c;
  ADD_FAILURE() << name << " missing";
  return testing::AllBackendCases().front();
}

// The layout pass keeps conv outputs NHWC and reorders them to NCHW exactly where a node needs NCHW: the reorders
// show in that node's implementation name, and nowhere else. (Numerics of these chains are in the differential
// suite.)
TEST(CpuBackend, LayoutPassReordersOnlyAtBoundaries) {
  CpuBackend backend;
  {
    auto exe = PrepareCase(backend, NamedCase("chain_layout_conv_conv_flatten_gemm"));
    ASSERT_TRUE(exe.ok()) << exe.status().ToString();
    const auto impls = dynamic_cast<CpuExecutable&>(**exe).node_impls();
    ASSERT_EQ(impls.size(), 4u);
    // The first conv hands NHWC to the second; the second, whose only reader (Flatten) needs NCHW, writes NCHW
    // itself: no separate reorder anywhere.
    for (const std::string& impl : impls) EXPECT_EQ(impl.find("+reorder"), std::string::npos) << impl;
  }
  {
    auto exe = PrepareCase(backend, NamedCase("chain_layout_reference_between_convs"));
    ASSERT_TRUE(exe.ok()) << exe.status().ToString();
    const auto impls = dynamic_cast<CpuExecutable&>(**exe).node_impls();
    ASSERT_EQ(impls.size(), 5u);
    // Neg takes only NCHW, so the conv before it writes NCHW; the dilated MaxPool was planned as an NHWC reader
    // but fell back to its reference kernel, so its NHWC input is reordered first.
    EXPECT_EQ(impls[1], "reference") << impls[1];
    EXPECT_EQ(impls[3].rfind("reference", 0), 0u) << impls[3];
    EXPECT_NE(impls[3].find("+reorder NHWC->NCHW"), std::string::npos) << impls[3];
  }
  {
    // Both convs write NHWC, the channel Concat joins them in NHWC for the last conv; only Sigmoid, whose output
    // is a block output (NCHW), reorders its input.
    auto exe = PrepareCase(backend, NamedCase("chain_layout_concat_of_convs"));
    ASSERT_TRUE(exe.ok()) << exe.status().ToString();
    const auto impls = dynamic_cast<CpuExecutable&>(**exe).node_impls();
    ASSERT_EQ(impls.size(), 5u);
    for (size_t i = 0; i < impls.size(); ++i)
      EXPECT_EQ(impls[i].find("+reorder") != std::string::npos, i == 4) << i << ": " << impls[i];
    EXPECT_EQ(impls[2].rfind("onednn:concat", 0), 0u) << impls[2];
  }
  {
    // Every node of the residual chain runs oneDNN. The second Relu's output is a block output (NCHW), so the Add
    // feeding it works in NCHW and reorders its NHWC conv inputs, and the Mul reading that Relu's NCHW output with
    // an NHWC conv output reorders the latter; nothing else reorders.
    auto exe = PrepareCase(backend, NamedCase("chain_layout_residual_add"));
    ASSERT_TRUE(exe.ok()) << exe.status().ToString();
    const auto impls = dynamic_cast<CpuExecutable&>(**exe).node_impls();
    ASSERT_EQ(impls.size(), 9u);
    for (size_t i = 0; i < impls.size(); ++i) {
      EXPECT_EQ(impls[i].rfind("onednn:", 0), 0u) << impls[i];
      EXPECT_EQ(impls[i].find("+reorder") != std::string::npos, i == 4 || i == 6) << i << ": " << impls[i];
    }
  }
}

// A caller that passes last run's outputs back (and holds no other reference to them) gets them refilled in place,
// with the right values; one that keeps a reference gets fresh tensors (OutputsSurviveLaterRuns).
TEST(CpuBackend, ReusesOutputBuffersNobodyElseHolds) {
  const auto& c = ResidualChain();
  CpuBackend backend;
  auto exe = PrepareCase(backend, c);
  ASSERT_TRUE(exe.ok()) << exe.status().ToString();
  std::vector<Tensor> outs, want;
  ASSERT_TRUE((*exe)->Run(c.inputs, want).ok());
  std::vector<Tensor> other = {testing::RandomTensor(c.inputs[0].shape(), 7)};
  ASSERT_TRUE((*exe)->Run(other, outs).ok());
  std::vector<const void*> addresses;
  for (const Tensor& t : outs) addresses.push_back(t.raw_data());
  ASSERT_TRUE((*exe)->Run(c.inputs, outs).ok());
  for (size_t i = 0; i < outs.size(); ++i) {
    EXPECT_EQ(outs[i].raw_data(), addresses[i]) << "output " << i;
    EXPECT_EQ(0, std::memcmp(outs[i].raw_data(), want[i].raw_data(), want[i].size_bytes())) << "output " << i;
  }
}

TEST(CpuBackend, OutputsSurviveLaterRuns) {
  const auto& c = ResidualChain();
  CpuBackend backend;
  auto exe = PrepareCase(backend, c);
  ASSERT_TRUE(exe.ok()) << exe.status().ToString();
  std::vector<Tensor> first, second;
  ASSERT_TRUE((*exe)->Run(c.inputs, first).ok());
  std::vector<Tensor> kept;
  for (const Tensor& t : first) kept.push_back(t.Clone());
  std::vector<Tensor> other = {testing::RandomTensor(c.inputs[0].shape(), 999)};
  ASSERT_TRUE((*exe)->Run(other, second).ok());
  for (size_t i = 0; i < first.size(); ++i) {
    EXPECT_EQ(0, std::memcmp(first[i].raw_data(), kept[i].raw_data(), kept[i].size_bytes())) << "output " << i;
    EXPECT_NE(0, std::memcmp(first[i].raw_data(), second[i].raw_data(), kept[i].size_bytes())) << "output " << i;
  }
}

TEST(CpuBackend, RepeatedRunsAreIdentical) {
  const auto& c = ResidualChain();
  CpuBackend backend(CpuBackendOptions{.num_threads = 2});
  auto exe = PrepareCase(backend, c);
  ASSERT_TRUE(exe.ok());
  std::vector<Tensor> a, b;
  ASSERT_TRUE((*exe)->Run(c.inputs, a).ok());
  ASSERT_TRUE((*exe)->Run(c.inputs, b).ok());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(0, std::memcmp(a[i].raw_data(), b[i].raw_data(), a[i].size_bytes()));
}

TEST(CpuBackend, TimingsHaveOneEntryPerNode) {
  const auto& c = ResidualChain();
  CpuBackend backend;
  auto exe = PrepareCase(backend, c);
  ASSERT_TRUE(exe.ok());
  std::vector<NodeTiming> timings;
  std::vector<Tensor> out;
  RunOptions options;
  options.timings = &timings;
  ASSERT_TRUE((*exe)->Run(c.inputs, out, options).ok());
  ASSERT_EQ(timings.size(), c.graph.nodes.size());
  for (size_t i = 0; i < timings.size(); ++i) {
    EXPECT_EQ(timings[i].node, static_cast<NodeId>(i));
    EXPECT_LE(timings[i].start_ns, timings[i].end_ns);
    if (i > 0) {
      EXPECT_GE(timings[i].start_ns, timings[i - 1].end_ns);
    }
  }
}

TEST(CpuBackend, ThreadCountsAndPinningKeepResults) {
  const auto& c = ResidualChain();
  ReferenceBackend reference;
  auto ref_exe = PrepareCase(reference, c);
  ASSERT_TRUE(ref_exe.ok());
  std::vector<Tensor> want;
  ASSERT_TRUE((*ref_exe)->Run(c.inputs, want).ok());

  cpu_set_t before;
  ASSERT_EQ(0, sched_getaffinity(0, sizeof(before), &before));
  std::vector<CpuBackendOptions> configs = {{.num_threads = 1}, {.num_threads = 2}, {.cores = {0}},
                                            {.num_threads = 2, .cores = {0}}};
  for (const CpuBackendOptions& options : configs) {
    CpuBackend backend(options);
    EXPECT_EQ(backend.info().threads, options.num_threads > 0 ? options.num_threads : 1);
    EXPECT_EQ(backend.cores().size(), options.cores.empty() ? 0u : static_cast<size_t>(backend.info().threads));
    auto exe = PrepareCase(backend, c);
    ASSERT_TRUE(exe.ok());
    std::vector<Tensor> got;
    ASSERT_TRUE((*exe)->Run(c.inputs, got).ok());
    for (size_t i = 0; i < got.size(); ++i) EXPECT_LE(testing::NormalisedError(got[i], want[i]), c.max_error);
    // The calling thread gets its own mask back after a pinned run.
    cpu_set_t after;
    ASSERT_EQ(0, sched_getaffinity(0, sizeof(after), &after));
    EXPECT_TRUE(CPU_EQUAL(&before, &after));
  }
}

TEST(CpuBackend, Registry) {
  auto names = AvailableBackends();
  EXPECT_NE(std::find(names.begin(), names.end(), "cpu"), names.end());
  auto b = CreateBackend("cpu", 3);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ((*b)->info().name, "cpu");
  EXPECT_EQ((*b)->info().kind, "cpu");
  EXPECT_EQ((*b)->info().threads, 3);
  auto all = CreateBackend("cpu", 0);
  ASSERT_TRUE(all.ok());
  EXPECT_GE((*all)->info().threads, 1);
  EXPECT_EQ(CreateBackend("cpu", -1).status().code(), StatusCode::kInvalidArgument);
}

TEST(CpuBackend, RejectsInputsOfTheWrongShape) {
  const auto& c = ResidualChain();
  CpuBackend backend;
  auto exe = PrepareCase(backend, c);
  ASSERT_TRUE(exe.ok());
  std::vector<Tensor> out;
  EXPECT_EQ((*exe)->Run({testing::RandomTensor({1, 3, 23, 24}, 1)}, out).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ((*exe)->Run({}, out).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace deepx
#endif  // DEEPX_HAVE_CPU_BACKEND
