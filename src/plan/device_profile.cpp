#include "plan/device_profile.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

namespace deepx {
namespace {

using json = nlohmann::json;

struct Reader {
  std::string origin;
  DeviceProfile* profile;

  Status Error(const std::string& where, const std::string& what) const {
    return InvalidArgument("device profile '" + origin + "': " + where + ": " + what);
  }

  // A cited figure; `required` false: absent leaves `out` unchanged.
  Status Figure(const json& obj, const std::string& owner, const std::string& field, bool required, double& out) {
    if (!obj.contains(field)) return required ? Error(owner, "missing figure '" + field + "'") : Status::Ok();
    const json& f = obj.at(field);
    if (!f.is_object())
      return Error(owner + "." + field, "a figure must be {\"value\": number, \"source\": \"...\"} (bare numbers have no source)");
    if (!f.contains("value") || !f.at("value").is_number()) return Error(owner + "." + field, "'value' must be a number");
    if (!f.contains("source") || !f.at("source").is_string() || f.at("source").get<std::string>().empty())
      return Error(owner + "." + field, "every figure needs a non-empty 'source'");
    const double v = f.at("value").get<double>();
    if (!(v >= 0) || v > 1e18) return Error(owner + "." + field, "value must be a finite number >= 0");
    out = v;
    profile->sources[owner + "." + field] = f.at("source").get<std::string>();
    return Status::Ok();
  }
};

}  // namespace

Result<DeviceProfile> ParseDeviceProfile(const std::string& text, const std::string& origin) {
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return InvalidArgument("device profile '" + origin + "': not valid JSON");
  if (!doc.is_object()) return InvalidArgument("device profile '" + origin + "': top level must be an object");
  DeviceProfile profile;
  Reader r{origin, &profile};
  if (!doc.contains("name") || !doc["name"].is_string()) return r.Error("name", "missing or not a string");
  profile.name = doc["name"].get<std::string>();
  if (doc.contains("description") && doc["description"].is_string()) profile.description = doc["description"];

  if (doc.contains("networks")) {
    if (!doc["networks"].is_object()) return r.Error("networks", "must be an object");
    for (const auto& [name, n] : doc["networks"].items()) {
      if (!n.is_object()) return r.Error("networks." + name, "must be an object");
      NetworkSpec s;
      const std::string owner = "networks." + name;
      DX_RETURN_IF_ERROR(r.Figure(n, owner, "mbps", true, s.mbps));
      DX_RETURN_IF_ERROR(r.Figure(n, owner, "rtt_ms", true, s.rtt_ms));
      DX_RETURN_IF_ERROR(r.Figure(n, owner, "j_per_byte", true, s.j_per_byte));
      DX_RETURN_IF_ERROR(r.Figure(n, owner, "fixed_j", true, s.fixed_j));
      DX_RETURN_IF_ERROR(r.Figure(n, owner, "active_w", true, s.active_w));
      if (s.mbps <= 0) return r.Error(owner + ".mbps", "must be > 0");
      profile.networks[name] = s;
    }
  }
  if (!doc.contains("processors") || !doc["processors"].is_array() || doc["processors"].empty())
    return r.Error("processors", "must be a non-empty array");
  std::set<std::string> names;
  int homes = 0;
  for (size_t i = 0; i < doc["processors"].size(); ++i) {
    const json& pj = doc["processors"][i];
    const std::string at = "processors[" + std::to_string(i) + "]";
    if (!pj.is_object()) return r.Error(at, "must be an object");
    if (!pj.contains("name") || !pj["name"].is_string() || pj["name"].get<std::string>().empty())
      return r.Error(at, "missing 'name'");
    ProcessorSpec p;
    p.name = pj["name"].get<std::string>();
    if (!names.insert(p.name).second) return r.Error(at, "duplicate processor name '" + p.name + "'");
    const std::string owner = p.name;
    if (pj.contains("kind")) {
      if (!pj["kind"].is_string()) return r.Error(owner + ".kind", "must be a string");
      p.kind = pj["kind"].get<std::string>();
    }
    if (p.kind != "cpu" && p.kind != "gpu" && p.kind != "dsp" && p.kind != "remote")
      return r.Error(owner + ".kind", "must be cpu, gpu, dsp or remote, got '" + p.kind + "'");
    if (pj.contains("backend")) {
      if (!pj["backend"].is_string()) return r.Error(owner + ".backend", "must be a string");
      p.backend = pj["backend"].get<std::string>();
    }
    if (pj.contains("home")) {
      if (!pj["home"].is_boolean()) return r.Error(owner + ".home", "must be true or false");
      p.home = pj["home"].get<bool>();
      homes += p.home;
    }
    if (pj.contains("power_gated")) {
      if (!pj["power_gated"].is_boolean()) return r.Error(owner + ".power_gated", "must be true or false");
      p.power_gated = pj["power_gated"].get<bool>();
    }
    DX_RETURN_IF_ERROR(r.Figure(pj, owner, "gflops", true, p.gflops));
    DX_RETURN_IF_ERROR(r.Figure(pj, owner, "gbps", true, p.gbps));
    DX_RETURN_IF_ERROR(r.Figure(pj, owner, "efficiency", false, p.efficiency));
    DX_RETURN_IF_ERROR(r.Figure(pj, owner, "launch_overhead_us", false, p.launch_overhead_us));
    DX_RETURN_IF_ERROR(r.Figure(pj, owner, "active_w", p.kind != "remote", p.active_w));
    DX_RETURN_IF_ERROR(r.Figure(pj, owner, "idle_w", p.kind != "remote", p.idle_w));
    if (p.gflops <= 0 || p.gbps <= 0) return r.Error(owner, "gflops and gbps must be > 0");
    if (p.efficiency <= 0 || p.efficiency > 1) return r.Error(owner + ".efficiency", "must be in (0, 1]");
    double memory_mb = 0;
    DX_RETURN_IF_ERROR(r.Figure(pj, owner, "memory_mb", false, memory_mb));
    p.memory_bytes = static_cast<int64_t>(memory_mb * 1e6);
    std::string network;
    if (p.kind == "remote") {
      if (!pj.contains("network") || !pj["network"].is_string())
        return r.Error(owner + ".network", "a remote processor names its network");
      network = pj["network"].get<std::string>();
      if (!profile.networks.count(network)) return r.Error(owner + ".network", "no network '" + network + "'");
    } else if (pj.contains("link")) {
      const json& l = pj["link"];
      if (!l.is_object()) return r.Error(owner + ".link", "must be an object");
      DX_RETURN_IF_ERROR(r.Figure(l, owner + ".link", "gbps", true, p.link_gbps));
      DX_RETURN_IF_ERROR(r.Figure(l, owner + ".link", "latency_ms", false, p.link_latency_ms));
      DX_RETURN_IF_ERROR(r.Figure(l, owner + ".link", "j_per_byte", false, p.link_j_per_byte));
      DX_RETURN_IF_ERROR(r.Figure(l, owner + ".link", "fixed_j", false, p.link_fixed_j));
    }
    if (pj.contains("unsupported_ops")) {
      if (!pj["unsupported_ops"].is_array()) return r.Error(owner + ".unsupported_ops", "must be an array of op types");
      for (const json& op : pj["unsupported_ops"]) {
        if (!op.is_string()) return r.Error(owner + ".unsupported_ops", "must be an array of op types");
        p.unsupported_ops.push_back(op.get<std::string>());
      }
    }
    profile.processors.push_back(std::move(p));
    profile.processor_network.push_back(network);
  }
  if (homes > 1) return r.Error("processors", "more than one processor says \"home\": true");
  if (homes == 0) profile.processors.front().home = true;
  for (const ProcessorSpec& p : profile.processors)
    if (p.home && p.kind == "remote") return r.Error(p.name, "the home processor cannot be remote");
  for (size_t i = 0; i < profile.processors.size(); ++i)
    if (!profile.processor_network[i].empty()) DX_RETURN_IF_ERROR(UseNetwork(profile, profile.processor_network[i]));
  return profile;
}

Status UseNetwork(DeviceProfile& profile, const std::string& name) {
  auto it = profile.networks.find(name);
  if (it == profile.networks.end()) {
    std::string known;
    for (const auto& [n, s] : profile.networks) known += (known.empty() ? "" : ", ") + n;
    return NotFound("device profile '" + profile.name + "' has no network '" + name + "' (has: " + known + ")");
  }
  for (size_t i = 0; i < profile.processors.size(); ++i) {
    ProcessorSpec& p = profile.processors[i];
    if (p.kind != "remote") continue;
    profile.processor_network[i] = name;
    p.link_gbps = it->second.mbps / 8e3;
    p.link_latency_ms = it->second.rtt_ms / 2;  // one way per transfer; a round trip costs one RTT
    p.link_j_per_byte = it->second.j_per_byte;
    p.link_fixed_j = it->second.fixed_j;
    p.active_w = it->second.active_w;
    p.idle_w = 0;
  }
  return Status::Ok();
}

Result<DeviceProfile> LoadDeviceProfile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return IoError("cannot read device profile '" + path + "'");
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseDeviceProfile(ss.str(), path);
}

}  // namespace deepx
