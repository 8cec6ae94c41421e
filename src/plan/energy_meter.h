// Energy meters the planner reads when the platform has one, so that reported energy can say "measured":
//   rapl     Linux powercap (Intel/AMD RAPL): <root>/class/powercap/intel-rapl:N/energy_uj, a cumulative counter
//            in microjoules that wraps at max_energy_range_uj (package domains only, summed).
//   battery  fuel gauge: <root>/class/power_supply/<BAT*>/current_now (uA) x voltage_now (uV), or power_now (uW);
//            instantaneous, sampled and integrated.
//   ina3221  Jetson power monitor (hwmon): <root>/class/hwmon/hwmonN with name "ina3221" (or a
//            ".../ina3221x" device): in{N}_input (mV) x curr{N}_input (mA) per channel, or power{N}_input (uW).
// Without a meter, energy is modelled from the device profile (and reported as "modelled").
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "deepx/status.h"

namespace deepx {

class EnergyMeter {
 public:
  virtual ~EnergyMeter() = default;
  virtual std::string kind() const = 0;    // "rapl", "battery", "ina3221"
  virtual std::string source() const = 0;  // the files it reads
  // Cumulative counters (RAPL): joules since an arbitrary origin. Power meters: UNIMPLEMENTED.
  virtual Result<double> ReadJoules() { return Unimplemented(kind() + " has no energy counter"); }
  // Instantaneous power in watts (power meters); counters: UNIMPLEMENTED.
  virtual Result<double> ReadWatts() { return Unimplemented(kind() + " has no power reading"); }
};

// The first meter found below `sysfs_root` (normally "/sys"): RAPL, then INA3221, then a battery. NOT_FOUND when
// none is readable.
Result<std::unique_ptr<EnergyMeter>> DetectEnergyMeter(const std::string& sysfs_root = "/sys");

struct EnergyMeasurement {
  double joules = 0;
  double seconds = 0;
  double watts() const { return seconds > 0 ? joules / seconds : 0; }
};

// Runs `work` and measures the energy spent meanwhile: counter difference (handling one wrap), or power sampled
// every `sample_ms` and integrated (trapezoids).
Result<EnergyMeasurement> MeasureEnergy(EnergyMeter& meter, const std::function<Status()>& work, int sample_ms = 20);

}  // namespace deepx
