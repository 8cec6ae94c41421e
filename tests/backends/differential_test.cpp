// The differential suite: every case of backend_cases.cpp on every available backend except "reference", compared
// with the reference backend under the case's normalised error bound. Adding a backend to AvailableBackends() adds
// it here; its UnsupportedCases() entries are skipped with a message.
#include <gtest/gtest.h>

#include "backends/backend_cases.h"
#include "backends/remote_loopback.h"
#include "backends/reference/reference_backend.h"
#include "plan/plan.h"
#include "runtime/backend.h"

#ifdef DEEPX_HAVE_CPU_BACKEND
#include "backends/cpu/cpu_backend.h"
#endif


namespace deepx {
namespace {

using testing::AllBackendCases;
using testing::BackendCase;

struct DiffParam {
  std::string backend;
  size_t index;
};

std::vector<DiffParam> AllParams() {
  std::vector<DiffParam> params;
  for (const std::string& backend : AvailableBackends()) {
    if (backend == "reference") continue;
    for (size_t i = 0; i < AllBackendCases().size(); ++i) params.push_back({backend, i});
  }
#ifdef DEEPX_HAVE_REMOTE_BACKEND
  // "remote" needs a URL, so AvailableBackends() does not list it: it runs against a loopback server.
  for (size_t i = 0; i < AllBackendCases().size(); ++i) params.push_back({"remote", i});
#endif
  return params;
}

Result<std::vector<Tensor>> RunOn(Backend& backend, const BackendCase& c, std::unique_ptr<Executable>* keep = nullptr) {
  auto graph = std::make_shared<const Graph>(c.graph);
  const Plan plan = SingleBackendPlan(*graph);
  DX_ASSIGN_OR_RETURN(std::unique_ptr<Executable> exe, backend.Prepare(graph, plan.blocks[0]));
  std::vector<Tensor> outputs;
  DX_RETURN_IF_ERROR(exe->Run(c.inputs, outputs));
  for (Tensor& t : outputs) {  // device backends leave outputs in their memory
    DX_ASSIGN_OR_RETURN(t, backend.ToHost(t));
  }
  if (keep) *keep = std::move(exe);
  return outputs;
}

class BackendDifferential : public ::testing::TestWithParam<DiffParam> {};

TEST_P(BackendDifferential, MatchesReference) {
  const DiffParam& p = GetParam();
  const BackendCase& c = AllBackendCases()[p.index];
  ASSERT_GE(c.max_error, 0) << "case " << c.name << " is malformed (shape inference failed)";
  if (testing::UnsupportedCases(p.backend).count(c.name)) GTEST_SKIP() << p.backend << " declares it unsupported";

  BackendConfig config;
  config.num_threads = 2;
  if (p.backend == "remote") {
    std::string error;
    config = testing::RemoteLoopbackConfig(&error);
    ASSERT_TRUE(error.empty()) << "loopback server: " << error;
  }
  auto backend = CreateBackend(p.backend, config);
  ASSERT_TRUE(backend.ok()) << backend.status().ToString();
  ReferenceBackend reference;
  auto want = RunOn(reference, c);
  ASSERT_TRUE(want.ok()) << want.status().ToString();
  std::unique_ptr<Executable> exe;
  auto got = RunOn(**backend, c, &exe);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->size(), want->size());
  for (size_t i = 0; i < got->size(); ++i) {
    const double err = testing::NormalisedError((*got)[i], (*want)[i]);
    EXPECT_LE(err, c.max_error) << c.name << " output " << i << ": normalised error " << err;
  }

#ifdef DEEPX_HAVE_CPU_BACKEND
  // On the CPU backend, a single-node case runs its optimised kernel unless it is listed as a fallback case, and
  // a listed one really falls back: the list stays true.
  if (auto* cpu = dynamic_cast<CpuExecutable*>(exe.get()); cpu && c.op != "chain") {
    const std::string impl = cpu->node_impls().at(0);
    const bool fell_back = impl.rfind("reference", 0) == 0;
    EXPECT_EQ(fell_back, testing::CpuFallbackCases().count(c.name) == 1) << c.name << " ran " << impl;
  }
#endif
}

std::string ParamName(const ::testing::TestParamInfo<DiffParam>& info) {
  std::string backend = info.param.backend;  // "remote:host:port" and the like must become a valid test name
  for (char& ch : backend)
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return backend + "_" + AllBackendCases()[info.param.index].name;
}

INSTANTIATE_TEST_SUITE_P(AllBackends, BackendDifferential, ::testing::ValuesIn(AllParams()), ParamName);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(BackendDifferential);

TEST(BackendCases, NamesAreUniqueAndFallbackListNamesRealCases) {
  std::set<std::string> names;
  for (const BackendCase& c : AllBackendCases()) EXPECT_TRUE(names.insert(c.name).second) << "duplicate " << c.name;
  for (const std::string& n : testing::CpuFallbackCases()) EXPECT_TRUE(names.count(n)) << "no case named " << n;
  EXPECT_GT(names.size(), 100u);
}

}  // namespace
}  // namespace deepx
