// The processors of this machine: CPU clusters (big/little cores), OpenCL and CUDA devices, configured remotes.
//
// CPU topology comes from sysfs. A heterogeneous SoC (ARM big.LITTLE / DynamIQ) gives each core a different
// /sys/devices/system/cpu/cpuN/cpu_capacity (the scheduler's relative performance, 1024 = fastest) or, failing
// that, a different cpufreq/cpuinfo_max_freq; cores with equal values form a cluster. From the clusters:
//   "cpu-little"  the slowest cluster, one thread per core;
//   "cpu-big"     every other core (on a two-cluster SoC: the fast cluster; on a three-cluster phone SoC, e.g.
//                 1 prime + 3 mid + 4 efficiency cores, the prime and mid cores together — the prime cluster
//                 alone is often a single core, which would make "big" slower than "little");
//   "cpu"         every core, unpinned (the default processor).
// On a symmetric machine (x86 servers, this VM) the split is emulated so plans can still use two CPU processors:
// "cpu-big" is every core but the last and "cpu-little" the last core with one thread; both say "emulated".
// With a single core both name that core.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "deepx/status.h"
#include "runtime/backend.h"

namespace deepx {

struct CpuCluster {
  std::vector<int> cores;  // CPU ids, ascending
  int64_t capacity = 0;    // cpu_capacity (0: not reported)
  int64_t max_freq_khz = 0;  // cpuinfo_max_freq (0: not reported)
};

struct CpuTopology {
  std::vector<int> cores;            // usable CPU ids (online, and in this process's affinity mask), ascending
  std::vector<CpuCluster> clusters;  // fastest first; one cluster when all cores look equal
  std::string source;                // what split the clusters: "cpu_capacity", "cpuinfo_max_freq" or "none"
  bool heterogeneous() const { return clusters.size() > 1; }
};

// Reads the topology below `sysfs_cpu_dir` (normally /sys/devices/system/cpu; tests pass a fake tree). `allowed`
// limits the cores to those the process may run on (empty: no limit). Cores listed in `online` but lacking a
// cpuN directory are kept, as one cluster with unknown speed. Fails only when no usable core is found.
Result<CpuTopology> ReadCpuTopology(const std::string& sysfs_cpu_dir, const std::vector<int>& allowed = {});

// The topology of this machine, read once (sysfs, limited to sched_getaffinity); one cluster of
// hardware_concurrency() cores when sysfs is unreadable.
const CpuTopology& HostCpuTopology();

// How "cpu-big" or "cpu-little" maps onto a topology.
struct CpuProcessorSplit {
  std::vector<int> cores;  // the core mask
  bool emulated = false;   // a symmetric machine's split, not real big/little cores
  std::string note;        // one line for listings ("emulated: last core of a symmetric 2-core CPU")
};
// `name` is "cpu-big" or "cpu-little"; INVALID_ARGUMENT otherwise.
Result<CpuProcessorSplit> SplitCpu(const CpuTopology& topology, const std::string& name);

// "cpu-big" / "cpu-little" as CpuBackend instances pinned to their cores (threads: config.num_threads, else one
// per core of the mask). UNIMPLEMENTED when the CPU backend is not built.
Result<std::shared_ptr<Backend>> CreateCpuClusterBackend(const std::string& name, const BackendConfig& config);

// Every processor of this machine DeepX can name, in listing order: "reference", "cpu", "cpu-big", "cpu-little",
// then "opencl:N" and "cuda:N" for the devices found. Unlike AvailableBackends() (which drives the differential
// suite), this lists the CPU split and every device by index. Remotes are not listed: they need a URL.
std::vector<std::string> ProcessorNames();

// What `deepx devices` and the planner know about a processor besides its calibration.
struct ProcessorDescription {
  std::string name;
  std::string kind;          // ProcessorInfo::kind ("cpu", "gpu", "remote"); "" when the backend failed
  int64_t memory_bytes = 0;  // 0: unknown
  int threads = 0;
  std::vector<int> cores;    // the cores a CPU processor runs on (its mask when pinned); empty for devices
  bool emulated = false;     // see CpuProcessorSplit
  std::string note;          // e.g. the emulation note; "" when nothing to say
  // Name of the power profile (profiles/<name>.json, written by the planner's energy model) that describes this
  // processor's power; "" until a profile is assigned (no figure is guessed here).
  std::string power_profile;
  std::string error;         // why the backend could not be created ("" when it was)
};

// Creates the processor's backend to describe it. Never fails: a backend that cannot be created is described by
// its name and `error` (and `backend`, when given, is left null).
ProcessorDescription DescribeProcessor(const std::string& name, const BackendConfig& config,
                                       std::shared_ptr<Backend>* backend = nullptr);

}  // namespace deepx
