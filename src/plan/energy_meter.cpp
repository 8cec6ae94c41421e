#include "plan/energy_meter.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

namespace deepx {
namespace {

namespace fs = std::filesystem;

Result<double> ReadNumber(const fs::path& p) {
  std::ifstream in(p);
  double v = 0;
  if (!(in >> v)) return IoError("cannot read '" + p.string() + "'");
  return v;
}

std::string ReadWord(const fs::path& p) {
  std::ifstream in(p);
  std::string s;
  in >> s;
  return s;
}

class RaplMeter : public EnergyMeter {
 public:
  explicit RaplMeter(std::vector<fs::path> domains) : domains_(std::move(domains)) {}
  std::string kind() const override { return "rapl"; }
  std::string source() const override {
    std::string s;
    for (const auto& d : domains_) s += (s.empty() ? "" : ", ") + (d / "energy_uj").string();
    return s;
  }
  Result<double> ReadJoules() override {
    double total = 0;
    for (const auto& d : domains_) {
      DX_ASSIGN_OR_RETURN(double uj, ReadNumber(d / "energy_uj"));
      total += uj * 1e-6;
    }
    return total;
  }
  // Wrap range of the summed counters (joules); 0 if unknown.
  double WrapJoules() const {
    double total = 0;
    for (const auto& d : domains_) {
      auto r = ReadNumber(d / "max_energy_range_uj");
      if (!r.ok()) return 0;
      total += *r * 1e-6;
    }
    return total;
  }

 private:
  std::vector<fs::path> domains_;
};

// A meter of summed channel power: each channel is either a power file (uW) or a voltage (mV or uV) x current
// (mA or uA) pair with the scale given.
class PowerMeter : public EnergyMeter {
 public:
  struct Channel {
    fs::path power;               // uW; empty when voltage x current
    fs::path voltage, current;
    double vi_scale = 1;          // product -> watts
  };
  PowerMeter(std::string kind, std::vector<Channel> channels) : kind_(std::move(kind)), channels_(std::move(channels)) {}
  std::string kind() const override { return kind_; }
  std::string source() const override {
    std::string s;
    for (const Channel& c : channels_)
      s += (s.empty() ? "" : ", ") + (c.power.empty() ? c.voltage.string() + " x " + c.current.string() : c.power.string());
    return s;
  }
  Result<double> ReadWatts() override {
    double w = 0;
    for (const Channel& c : channels_) {
      if (!c.power.empty()) {
        DX_ASSIGN_OR_RETURN(double uw, ReadNumber(c.power));
        w += uw * 1e-6;
      } else {
        DX_ASSIGN_OR_RETURN(double v, ReadNumber(c.voltage));
        DX_ASSIGN_OR_RETURN(double i, ReadNumber(c.current));
        w += std::abs(v * i) * c.vi_scale;  // a discharging battery may report negative current
      }
    }
    return w;
  }

 private:
  std::string kind_;
  std::vector<Channel> channels_;
};

std::vector<fs::path> Sorted(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

Result<std::unique_ptr<EnergyMeter>> DetectEnergyMeter(const std::string& sysfs_root) {
  const fs::path root(sysfs_root);
  // RAPL: top-level package domains only (intel-rapl:N, not intel-rapl:N:M subdomains, which they contain).
  std::vector<fs::path> domains;
  for (const fs::path& d : Sorted(root / "class" / "powercap")) {
    const std::string name = d.filename().string();
    if (name.rfind("intel-rapl:", 0) != 0 || name.find(':', 11) != std::string::npos) continue;
    if (ReadNumber(d / "energy_uj").ok()) domains.push_back(d);
  }
  if (!domains.empty()) return std::unique_ptr<EnergyMeter>(new RaplMeter(domains));
  // INA3221 on Jetson boards.
  for (const fs::path& d : Sorted(root / "class" / "hwmon")) {
    if (ReadWord(d / "name").rfind("ina3221", 0) != 0) continue;
    std::vector<PowerMeter::Channel> channels;
    for (int ch = 1; ch <= 3; ++ch) {
      const std::string n = std::to_string(ch);
      if (ReadNumber(d / ("power" + n + "_input")).ok())
        channels.push_back({.power = d / ("power" + n + "_input")});
      else if (ReadNumber(d / ("in" + n + "_input")).ok() && ReadNumber(d / ("curr" + n + "_input")).ok())
        channels.push_back({.voltage = d / ("in" + n + "_input"), .current = d / ("curr" + n + "_input"), .vi_scale = 1e-6});
    }
    if (!channels.empty()) return std::unique_ptr<EnergyMeter>(new PowerMeter("ina3221", channels));
  }
  // A battery fuel gauge.
  for (const fs::path& d : Sorted(root / "class" / "power_supply")) {
    if (ReadWord(d / "type") != "Battery") continue;
    if (ReadNumber(d / "power_now").ok())
      return std::unique_ptr<EnergyMeter>(new PowerMeter("battery", {{.power = d / "power_now"}}));
    if (ReadNumber(d / "current_now").ok() && ReadNumber(d / "voltage_now").ok())
      return std::unique_ptr<EnergyMeter>(new PowerMeter(
          "battery", {{.voltage = d / "voltage_now", .current = d / "current_now", .vi_scale = 1e-12}}));
  }
  return NotFound("no energy meter under '" + sysfs_root + "' (powercap RAPL, INA3221 hwmon, battery fuel gauge)");
}

Result<EnergyMeasurement> MeasureEnergy(EnergyMeter& meter, const std::function<Status()>& work, int sample_ms) {
  using Clock = std::chrono::steady_clock;
  EnergyMeasurement m;
  if (auto* rapl = dynamic_cast<RaplMeter*>(&meter)) {
    DX_ASSIGN_OR_RETURN(double before, rapl->ReadJoules());
    const auto t0 = Clock::now();
    DX_RETURN_IF_ERROR(work());
    m.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    DX_ASSIGN_OR_RETURN(double after, rapl->ReadJoules());
    m.joules = after >= before ? after - before : after - before + rapl->WrapJoules();
    return m;
  }
  // Power meters: a sampling thread integrates while `work` runs.
  DX_ASSIGN_OR_RETURN(double first, meter.ReadWatts());
  std::atomic<bool> done{false};
  double joules = 0, integrated_s = 0;
  Status sample_error = Status::Ok();
  const auto t0 = Clock::now();
  std::thread sampler([&] {
    double last_w = first;
    auto last_t = t0;
    while (true) {
      const bool finish = done.load();
      if (!finish) std::this_thread::sleep_for(std::chrono::milliseconds(sample_ms));
      auto w = meter.ReadWatts();
      if (!w.ok()) {
        sample_error = w.status();
        return;
      }
      const auto now = Clock::now();
      joules += 0.5 * (last_w + *w) * std::chrono::duration<double>(now - last_t).count();
      last_w = *w;
      last_t = now;
      integrated_s = std::chrono::duration<double>(now - t0).count();
      if (finish) return;
    }
  });
  Status s = work();
  done = true;
  sampler.join();
  DX_RETURN_IF_ERROR(s);
  DX_RETURN_IF_ERROR(sample_error);
  m.seconds = integrated_s;  // the span the samples cover
  m.joules = joules;
  return m;
}

}  // namespace deepx
