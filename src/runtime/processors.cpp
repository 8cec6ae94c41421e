#include "runtime/processors.h"

#include <sched.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#ifdef DEEPX_HAVE_CPU_BACKEND
#include "backends/cpu/cpu_backend.h"
#endif
#ifdef DEEPX_HAVE_OPENCL_BACKEND
#include "backends/opencl/opencl_backend.h"
#endif
#ifdef DEEPX_HAVE_CUDA_BACKEND
#include "backends/cuda/cuda_backend.h"
#endif

namespace deepx {
namespace {

// One integer from a sysfs file; 0 when missing or malformed.
int64_t ReadSysfsInt(const std::filesystem::path& path) {
  std::ifstream in(path);
  long long v = 0;
  if (!(in >> v) || v < 0) return 0;
  return v;
}

// Parses a kernel CPU list ("0-3,6,8-9"); empty on malformed text.
std::vector<int> ParseCpuList(const std::string& text) {
  std::vector<int> cores;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find(',', pos);
    if (end == std::string::npos) end = text.size();
    const std::string item = text.substr(pos, end - pos);
    pos = end + 1;
    if (item.empty()) continue;
    char* stop = nullptr;
    errno = 0;
    const long lo = std::strtol(item.c_str(), &stop, 10);
    long hi = lo;
    if (*stop == '-') hi = std::strtol(stop + 1, &stop, 10);
    if (errno != 0 || (*stop != '\0' && *stop != '\n') || lo < 0 || hi < lo || hi > 65535) return {};
    for (long c = lo; c <= hi; ++c) cores.push_back(static_cast<int>(c));
  }
  return cores;
}

std::vector<int> AffinityCores() {
  cpu_set_t mask;
  CPU_ZERO(&mask);
  std::vector<int> cores;
  if (sched_getaffinity(0, sizeof(mask), &mask) != 0) return cores;
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &mask)) cores.push_back(c);
  return cores;
}

std::string CoreListText(const std::vector<int>& cores) {
  std::string s;
  for (size_t i = 0; i < cores.size(); ++i) {
    size_t j = i;
    while (j + 1 < cores.size() && cores[j + 1] == cores[j] + 1) ++j;
    if (!s.empty()) s += ',';
    s += std::to_string(cores[i]);
    if (j > i) {
      s += '-';  // appended piecewise: GCC 12 warns falsely (-Wrestrict) about "-" + std::string
      s += std::to_string(cores[j]);
    }
    i = j;
  }
  return s;
}

}  // namespace

Result<CpuTopology> ReadCpuTopology(const std::string& sysfs_cpu_dir, const std::vector<int>& allowed) {
  namespace fs = std::filesystem;
  const fs::path root(sysfs_cpu_dir);
  std::string online_text;
  {
    std::ifstream in(root / "online");
    std::getline(in, online_text);
  }
  std::vector<int> cores = ParseCpuList(online_text);
  if (cores.empty()) {
    // No "online" file: every cpuN directory.
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(root, ec)) {
      const std::string name = entry.path().filename().string();
      if (name.size() > 3 && name.rfind("cpu", 0) == 0 &&
          name.find_first_not_of("0123456789", 3) == std::string::npos)
        cores.push_back(std::atoi(name.c_str() + 3));
    }
  }
  if (!allowed.empty()) {
    const std::set<int> ok(allowed.begin(), allowed.end());
    cores.erase(std::remove_if(cores.begin(), cores.end(), [&](int c) { return !ok.count(c); }), cores.end());
  }
  std::sort(cores.begin(), cores.end());
  cores.erase(std::unique(cores.begin(), cores.end()), cores.end());
  if (cores.empty()) return NotFound("no usable CPU core found under '" + sysfs_cpu_dir + "'");

  CpuTopology t;
  t.cores = cores;
  std::vector<int64_t> capacity, freq;
  for (int c : cores) {
    const fs::path dir = root / ("cpu" + std::to_string(c));
    capacity.push_back(ReadSysfsInt(dir / "cpu_capacity"));
    freq.push_back(ReadSysfsInt(dir / "cpufreq" / "cpuinfo_max_freq"));
  }
  // Split by the first measure every core reports and that differs between cores. cpu_capacity is preferred: it
  // includes the micro-architecture (an A76 at 2.0 GHz outruns an A55 at 2.0 GHz), a frequency alone does not.
  auto all_known = [](const std::vector<int64_t>& v) {
    return std::all_of(v.begin(), v.end(), [](int64_t x) { return x > 0; });
  };
  auto distinct = [](const std::vector<int64_t>& v) { return std::set<int64_t>(v.begin(), v.end()).size() > 1; };
  const std::vector<int64_t>* key = nullptr;
  if (all_known(capacity) && distinct(capacity)) {
    key = &capacity;
    t.source = "cpu_capacity";
  } else if (all_known(freq) && distinct(freq)) {
    key = &freq;
    t.source = "cpuinfo_max_freq";
  } else {
    t.source = "none";
  }
  std::map<int64_t, CpuCluster, std::greater<>> by_speed;  // fastest first
  for (size_t i = 0; i < cores.size(); ++i) {
    CpuCluster& cl = by_speed[key ? (*key)[i] : 0];
    cl.cores.push_back(cores[i]);
    cl.capacity = capacity[i];
    cl.max_freq_khz = freq[i];
  }
  for (auto& [speed, cl] : by_speed) t.clusters.push_back(std::move(cl));
  return t;
}

const CpuTopology& HostCpuTopology() {
  static const CpuTopology topology = [] {
    auto t = ReadCpuTopology("/sys/devices/system/cpu", AffinityCores());
    if (t.ok()) return std::move(t).value();
    CpuTopology fallback;
    const int n = std::max(1u, std::thread::hardware_concurrency());
    for (int c = 0; c < n; ++c) fallback.cores.push_back(c);
    fallback.clusters.push_back(CpuCluster{fallback.cores, 0, 0});
    fallback.source = "none";
    return fallback;
  }();
  return topology;
}

Result<CpuProcessorSplit> SplitCpu(const CpuTopology& topology, const std::string& name) {
  if (name != "cpu-big" && name != "cpu-little")
    return InvalidArgument("'" + name + "' is not a CPU cluster processor (cpu-big, cpu-little)");
  if (topology.cores.empty() || topology.clusters.empty()) return NotFound("no CPU cores known");
  const bool big = name == "cpu-big";
  CpuProcessorSplit s;
  if (topology.heterogeneous()) {
    if (big) {
      for (size_t i = 0; i + 1 < topology.clusters.size(); ++i)
        s.cores.insert(s.cores.end(), topology.clusters[i].cores.begin(), topology.clusters[i].cores.end());
      std::sort(s.cores.begin(), s.cores.end());
    } else {
      s.cores = topology.clusters.back().cores;
    }
    s.note = std::string(big ? "fast" : "slowest") + " cores " + CoreListText(s.cores) + " (by " + topology.source +
             ")";
    return s;
  }
  // Symmetric: emulate the split so plans still see two CPU processors.
  s.emulated = true;
  const std::vector<int>& all = topology.cores;
  const std::string machine = "symmetric " + std::to_string(all.size()) + "-core CPU";
  if (all.size() == 1) {
    s.cores = all;
    s.note = "emulated: the only core of a 1-core CPU";
  } else if (big) {
    s.cores.assign(all.begin(), all.end() - 1);
    s.note = std::string(s.cores.size() == 1 ? "emulated: core " : "emulated: cores ") + CoreListText(s.cores) +
             " of a " + machine;
  } else {
    s.cores = {all.back()};
    s.note = "emulated: last core (" + std::to_string(all.back()) + ") of a " + machine + ", 1 thread";
  }
  return s;
}

Result<std::shared_ptr<Backend>> CreateCpuClusterBackend(const std::string& name, const BackendConfig& config) {
  DX_ASSIGN_OR_RETURN(CpuProcessorSplit split, SplitCpu(HostCpuTopology(), name));
#ifdef DEEPX_HAVE_CPU_BACKEND
  CpuBackendOptions options;
  options.name = name;
  options.cores = split.cores;
  options.num_threads = config.num_threads;  // 0: one thread per core of the mask
  return std::shared_ptr<Backend>(std::make_shared<CpuBackend>(options));
#else
  (void)config;
  return Unimplemented("backend '" + name + "' needs the CPU backend, which this build lacks (oneDNN not found)");
#endif
}

std::vector<std::string> ProcessorNames() {
  std::vector<std::string> names = {"reference"};
#ifdef DEEPX_HAVE_CPU_BACKEND
  names.insert(names.end(), {"cpu", "cpu-big", "cpu-little"});
#endif
#ifdef DEEPX_HAVE_OPENCL_BACKEND
  for (const std::string& n : OpenClDeviceNames()) names.push_back(n);
#endif
#ifdef DEEPX_HAVE_CUDA_BACKEND
  for (const std::string& n : CudaDeviceNames()) names.push_back(n);
#endif
  return names;
}

ProcessorDescription DescribeProcessor(const std::string& name, const BackendConfig& config,
                                       std::shared_ptr<Backend>* backend) {
  ProcessorDescription d;
  d.name = name;
  if (backend) backend->reset();
  auto created = CreateBackend(name, config);
  if (!created.ok()) {
    d.error = created.status().ToString();
    return d;
  }
  const ProcessorInfo& info = (*created)->info();
  d.name = info.name.empty() ? name : info.name;
  d.kind = info.kind;
  d.memory_bytes = info.memory_bytes;
  d.threads = info.threads;
  if (name == "cpu-big" || name == "cpu-little") {
    if (auto split = SplitCpu(HostCpuTopology(), name); split.ok()) {
      d.cores = split->cores;
      d.emulated = split->emulated;
      d.note = split->note;
    }
  } else if (name == "cpu") {
    d.cores = HostCpuTopology().cores;
  }
  if (backend) *backend = std::move(created).value();
  return d;
}

}  // namespace deepx
