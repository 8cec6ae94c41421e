// Argument parsing shared by `deepx compress` and RLC at load (`run`/`bench --max-accuracy-drop`).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "deepx/deepx.hpp"

namespace deepx::cli {

// "fc1=64,conv2=8": (name, rank) pairs; the name is everything before the last '='. Errors name the bad item.
Result<std::vector<std::pair<std::string, int64_t>>> ParseRanks(const std::string& spec);

// Whether a calibration batch fits the model's input (see compress/accuracy_estimator.h).
Status CheckCalibrationFits(const Model& model, const Tensor& samples);

}  // namespace deepx::cli
