// A PlanReport as JSON (`deepx plan --json`) and as a self-contained HTML page with the energy-latency frontier
// drawn as inline SVG (`deepx plan --html`).
#pragma once

#include <string>
#include <vector>

#include "plan/planner.h"

namespace deepx {

struct PlanReportContext {
  std::string model;                        // path
  std::string device;                       // profile name, or "this machine"
  std::string network;                      // remote network in use ("" when none)
  std::vector<ProcessorSpec> processors;    // as planned (PlannerInputs::processors)
  std::vector<std::string> latency_source;  // per processor: "measured" or "roofline"
  PlanLimits limits;
  PlanObjective objective = PlanObjective::kEnergy;
};

// {"model", "device", "objective", "limits", "method", "plan_time_ms", "processors": [...],
//  "blocks": [{"nodes": [...], "processor", "ranks", "latency_ms", "transfer_in_ms", "energy_mj", "memory_mb",
//              "latency_source", "split_group", "split_fraction"}],
//  "predicted": {"latency_ms", "energy_mj", "memory_mb", "accuracy_drop", "energy_source", "meets_limits"},
//  "baselines": {"<processor>": {"latency_ms", "energy_mj", "memory_mb", "meets_limits", "note"}, "neurosurgeon": ...},
//  "frontier": [{"latency_ms", "energy_mj", "accuracy_drop"}], "segments", "notes"}
std::string PlanReportJson(const PlanReport& report, const PlanReportContext& ctx);

std::string PlanReportHtml(const PlanReport& report, const PlanReportContext& ctx);

}  // namespace deepx
