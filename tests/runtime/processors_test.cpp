// CPU topology from sysfs (fake trees for big.LITTLE, three-cluster and symmetric CPUs), the cpu-big/cpu-little
// split, the processor list, and the cpu-big/cpu-little backends running differential cases against the reference.
#include "runtime/processors.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "backends/backend_cases.h"
#include "backends/reference/reference_backend.h"
#include "plan/plan.h"

namespace deepx {
namespace {
namespace fs = std::filesystem;

// A fake /sys/devices/system/cpu: `online` plus, per core, cpu_capacity and cpufreq/cpuinfo_max_freq when given
// (0: file absent).
class FakeSysfs {
 public:
  FakeSysfs() : root_(fs::temp_directory_path() / ("deepx_sysfs_" + std::to_string(getpid()))) {
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  ~FakeSysfs() { fs::remove_all(root_); }
  void Online(const std::string& list) { std::ofstream(root_ / "online") << list << "\n"; }
  void Core(int id, int64_t capacity, int64_t max_freq_khz = 0) {
    const fs::path dir = root_ / ("cpu" + std::to_string(id));
    fs::create_directories(dir / "cpufreq");
    if (capacity > 0) std::ofstream(dir / "cpu_capacity") << capacity << "\n";
    if (max_freq_khz > 0) std::ofstream(dir / "cpufreq" / "cpuinfo_max_freq") << max_freq_khz << "\n";
  }
  std::string path() const { return root_.string(); }

 private:
  fs::path root_;
};

TEST(CpuTopology, BigLittleByCapacity) {
  FakeSysfs sys;
  sys.Online("0-7");
  for (int c = 0; c < 4; ++c) sys.Core(c, 446, 1800000);   // little cores listed first, as on most SoCs
  for (int c = 4; c < 8; ++c) sys.Core(c, 1024, 2400000);
  auto t = ReadCpuTopology(sys.path());
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->source, "cpu_capacity");
  ASSERT_EQ(t->clusters.size(), 2u);
  EXPECT_TRUE(t->heterogeneous());
  EXPECT_EQ(t->clusters[0].cores, (std::vector<int>{4, 5, 6, 7}));  // fastest first
  EXPECT_EQ(t->clusters[0].capacity, 1024);
  EXPECT_EQ(t->clusters[1].cores, (std::vector<int>{0, 1, 2, 3}));
  auto big = SplitCpu(*t, "cpu-big");
  auto little = SplitCpu(*t, "cpu-little");
  ASSERT_TRUE(big.ok() && little.ok());
  EXPECT_EQ(big->cores, (std::vector<int>{4, 5, 6, 7}));
  EXPECT_EQ(little->cores, (std::vector<int>{0, 1, 2, 3}));
  EXPECT_FALSE(big->emulated);
  EXPECT_FALSE(little->emulated);
  EXPECT_NE(little->note.find("0-3"), std::string::npos) << little->note;
  EXPECT_EQ(SplitCpu(*t, "cpu").status().code(), StatusCode::kInvalidArgument);
}

TEST(CpuTopology, ThreeClustersGiveBigEveryCoreButTheSlowest) {
  // A phone SoC: 1 prime core, 3 performance cores, 4 efficiency cores.
  FakeSysfs sys;
  sys.Online("0-7");
  for (int c = 0; c < 4; ++c) sys.Core(c, 400);
  for (int c = 4; c < 7; ++c) sys.Core(c, 870);
  sys.Core(7, 1024);
  auto t = ReadCpuTopology(sys.path());
  ASSERT_TRUE(t.ok());
  ASSERT_EQ(t->clusters.size(), 3u);
  EXPECT_EQ(t->clusters[0].cores, (std::vector<int>{7}));
  EXPECT_EQ(SplitCpu(*t, "cpu-big")->cores, (std::vector<int>{4, 5, 6, 7}));
  EXPECT_EQ(SplitCpu(*t, "cpu-little")->cores, (std::vector<int>{0, 1, 2, 3}));
}

TEST(CpuTopology, FallsBackToMaxFrequencyThenToOneCluster) {
  FakeSysfs by_freq;
  by_freq.Online("0-3");
  by_freq.Core(0, 0, 2000000);
  by_freq.Core(1, 0, 2000000);
  by_freq.Core(2, 0, 1200000);
  by_freq.Core(3, 0, 1200000);
  auto t = ReadCpuTopology(by_freq.path());
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->source, "cpuinfo_max_freq");
  ASSERT_EQ(t->clusters.size(), 2u);
  EXPECT_EQ(t->clusters[0].cores, (std::vector<int>{0, 1}));
  EXPECT_EQ(t->clusters[0].max_freq_khz, 2000000);

  // Equal capacities (x86 reports 1024 everywhere) and no cpufreq: symmetric, split emulated.
  FakeSysfs flat;
  flat.Online("0-2,5");  // gaps in the list are kept
  for (int c : {0, 1, 2, 5}) flat.Core(c, 1024);
  auto s = ReadCpuTopology(flat.path());
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->source, "none");
  EXPECT_FALSE(s->heterogeneous());
  EXPECT_EQ(s->cores, (std::vector<int>{0, 1, 2, 5}));
  auto big = SplitCpu(*s, "cpu-big");
  auto little = SplitCpu(*s, "cpu-little");
  ASSERT_TRUE(big.ok() && little.ok());
  EXPECT_TRUE(big->emulated);
  EXPECT_TRUE(little->emulated);
  EXPECT_EQ(big->cores, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(little->cores, (std::vector<int>{5}));
  EXPECT_NE(little->note.find("emulated"), std::string::npos);

  // The affinity mask limits the cores; a single core is both processors.
  auto one = ReadCpuTopology(flat.path(), {2});
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->cores, (std::vector<int>{2}));
  EXPECT_EQ(SplitCpu(*one, "cpu-big")->cores, (std::vector<int>{2}));
  EXPECT_EQ(SplitCpu(*one, "cpu-little")->cores, (std::vector<int>{2}));
}

TEST(CpuTopology, MissingOrUnusableTreeIsNotFound) {
  EXPECT_EQ(ReadCpuTopology("/nonexistent/deepx/sysfs").status().code(), StatusCode::kNotFound);
  FakeSysfs sys;
  sys.Online("0-1");
  EXPECT_EQ(ReadCpuTopology(sys.path(), {7}).status().code(), StatusCode::kNotFound);  // no allowed core online
  FakeSysfs garbage;
  garbage.Online("zero-one");
  garbage.Core(3, 1024);  // falls back to the cpuN directories
  auto t = ReadCpuTopology(garbage.path());
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->cores, (std::vector<int>{3}));
}

TEST(Processors, HostTopologyCoversTheUsableCores) {
  const CpuTopology& t = HostCpuTopology();
  ASSERT_FALSE(t.cores.empty());
  size_t in_clusters = 0;
  for (const CpuCluster& c : t.clusters) in_clusters += c.cores.size();
  EXPECT_EQ(in_clusters, t.cores.size());
}

#ifdef DEEPX_HAVE_CPU_BACKEND
TEST(Processors, BigAndLittleAreSeparateCpuProcessors) {
  const CpuTopology& t = HostCpuTopology();
  auto big = CreateBackend("cpu-big");
  auto little = CreateBackend("cpu-little");
  ASSERT_TRUE(big.ok()) << big.status().ToString();
  ASSERT_TRUE(little.ok()) << little.status().ToString();
  EXPECT_EQ((*big)->info().name, "cpu-big");
  EXPECT_EQ((*little)->info().name, "cpu-little");
  EXPECT_EQ((*big)->info().kind, "cpu");
  EXPECT_GT((*little)->info().memory_bytes, 0);
  // One thread per core of the mask by default; an explicit count wins.
  EXPECT_EQ((*big)->info().threads, static_cast<int>(SplitCpu(t, "cpu-big")->cores.size()));
  EXPECT_EQ((*little)->info().threads, static_cast<int>(SplitCpu(t, "cpu-little")->cores.size()));
  if (!t.heterogeneous()) {
    EXPECT_EQ((*little)->info().threads, 1);
  }
  auto three = CreateBackend("cpu-little", 3);
  ASSERT_TRUE(three.ok());
  EXPECT_EQ((*three)->info().threads, 3);

  const std::vector<std::string> names = ProcessorNames();
  for (const char* n : {"reference", "cpu", "cpu-big", "cpu-little"})
    EXPECT_NE(std::find(names.begin(), names.end(), n), names.end()) << n;
  // The differential suite runs AvailableBackends(): the CPU split is not there (same kernels as "cpu").
  const std::vector<std::string> available = AvailableBackends();
  EXPECT_EQ(std::find(available.begin(), available.end(), "cpu-little"), available.end());

  const ProcessorDescription d = DescribeProcessor("cpu-little", BackendConfig{});
  EXPECT_TRUE(d.error.empty()) << d.error;
  EXPECT_EQ(d.kind, "cpu");
  EXPECT_EQ(d.cores, SplitCpu(t, "cpu-little")->cores);
  EXPECT_EQ(d.emulated, !t.heterogeneous());
  EXPECT_FALSE(d.note.empty());
  EXPECT_TRUE(d.power_profile.empty());  // assigned by the planner's profiles, never guessed here
}

// A few cases of the shared differential suite (convolution, GEMM, pooling, elementwise, a chain) on the pinned
// big and little processors, compared with the reference backend.
TEST(Processors, BigAndLittleMatchTheReferenceOnDifferentialCases) {
  const std::set<std::string> ops = {"Conv", "Gemm", "MatMul", "MaxPool", "Add", "Softmax", "chain"};
  std::map<std::string, int> taken;
  ReferenceBackend reference;
  int ran = 0;
  for (const testing::BackendCase& c : testing::AllBackendCases()) {
    if (!ops.count(c.op) || taken[c.op]++ >= 2 || c.max_error < 0) continue;
    auto graph = std::make_shared<const Graph>(c.graph);
    const Plan plan = SingleBackendPlan(*graph);
    auto run = [&](Backend& b) -> Result<std::vector<Tensor>> {
      DX_ASSIGN_OR_RETURN(std::unique_ptr<Executable> exe, b.Prepare(graph, plan.blocks[0]));
      std::vector<Tensor> out;
      DX_RETURN_IF_ERROR(exe->Run(c.inputs, out));
      return out;
    };
    auto want = run(reference);
    ASSERT_TRUE(want.ok()) << c.name << ": " << want.status().ToString();
    for (const char* name : {"cpu-big", "cpu-little"}) {
      auto backend = CreateBackend(name);
      ASSERT_TRUE(backend.ok());
      auto got = run(**backend);
      ASSERT_TRUE(got.ok()) << name << " " << c.name << ": " << got.status().ToString();
      ASSERT_EQ(got->size(), want->size());
      for (size_t i = 0; i < got->size(); ++i)
        EXPECT_LE(testing::NormalisedError((*got)[i], (*want)[i]), c.max_error) << name << " " << c.name;
      ++ran;
    }
  }
  EXPECT_GE(ran, 2 * 8) << "too few differential cases matched the chosen ops";
}
#endif

TEST(Processors, AnUnknownProcessorIsDescribedByItsError) {
  std::shared_ptr<Backend> backend;
  const ProcessorDescription d = DescribeProcessor("tpu:9", BackendConfig{}, &backend);
  EXPECT_EQ(d.name, "tpu:9");
  EXPECT_FALSE(d.error.empty());
  EXPECT_NE(d.error.find("tpu:9"), std::string::npos) << d.error;
  EXPECT_EQ(backend, nullptr);
}

}  // namespace
}  // namespace deepx
