// Device profiles (profiles/*.json): the processors of a device the planner can plan for without the device at
// hand (virtual processors), and the networks to a remote server, every figure with its source.
//
//   {
//     "name": "Jetson TK1", "description": "...",
//     "processors": [
//       {"name": "cpu", "kind": "cpu", "home": true,
//        "gflops": {"value": 74, "source": "D: 4 x 2.3 GHz x 8 FLOP/cycle (NVIDIA TK1 datasheet clocks)"},
//        "efficiency": {...}, "gbps": {...}, "launch_overhead_us": {...}, "active_w": {...}, "idle_w": {...},
//        "memory_mb": {...}, "power_gated": false,
//        "link": {"gbps": {...}, "latency_ms": {...}, "j_per_byte": {...}, "fixed_j": {...}},
//        "unsupported_ops": ["LRN"]},
//       {"name": "cloud", "kind": "remote", "network": "lte", "gflops": {...}, ...}
//     ],
//     "networks": {"lte": {"mbps": {...}, "rtt_ms": {...}, "j_per_byte": {...}, "fixed_j": {...},
//                          "active_w": {...}}}
//   }
// Every figure is {"value": number, "source": "..."}: a bare number, a missing source or a negative value is an
// error naming the file, processor and field. A remote processor takes its link from its network ("network"),
// and its active_w is the device radio's power while it waits for the answer (the device pays it, not the server).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "deepx/status.h"
#include "plan/planner.h"

namespace deepx {

struct NetworkSpec {
  double mbps = 0;        // bandwidth
  double rtt_ms = 0;
  double j_per_byte = 0;  // device radio energy per byte moved
  double fixed_j = 0;     // per request: promotion + tail energy
  double active_w = 0;    // device radio power while connected, waiting for the answer
};

struct DeviceProfile {
  std::string name;
  std::string description;
  std::vector<ProcessorSpec> processors;
  std::vector<std::string> processor_network;  // per processor: its network ("" unless remote)
  std::map<std::string, NetworkSpec> networks;
  std::map<std::string, std::string> sources;  // "processor.field" or "network.field" -> source
};

Result<DeviceProfile> ParseDeviceProfile(const std::string& json_text, const std::string& origin);
Result<DeviceProfile> LoadDeviceProfile(const std::string& path);

// Points every remote processor at network `name` (its link and radio power).
Status UseNetwork(DeviceProfile& profile, const std::string& name);

}  // namespace deepx
