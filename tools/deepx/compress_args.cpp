#include "compress_args.h"

#include <cerrno>
#include <cstdlib>

#include "compress/accuracy_estimator.h"

namespace deepx::cli {

Result<std::vector<std::pair<std::string, int64_t>>> ParseRanks(const std::string& spec) {
  std::vector<std::pair<std::string, int64_t>> out;
  size_t start = 0;
  while (start <= spec.size()) {
    const size_t comma = spec.find(',', start);
    const std::string item = spec.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    const size_t eq = item.rfind('=');
    if (item.empty() || eq == std::string::npos || eq == 0 || eq + 1 == item.size())
      return InvalidArgument("--ranks '" + spec + "': item '" + item + "' is not NAME=K");
    const std::string number = item.substr(eq + 1);
    errno = 0;
    char* end = nullptr;
    const long long k = std::strtoll(number.c_str(), &end, 10);
    if (errno != 0 || end == number.c_str() || *end != '\0')
      return InvalidArgument("--ranks '" + spec + "': rank '" + number + "' of '" + item.substr(0, eq) +
                             "' is not an integer");
    if (k < 0)
      return OutOfRange("--ranks '" + spec + "': rank " + number + " of '" + item.substr(0, eq) +
                        "' is negative (0 keeps a layer dense)");
    out.emplace_back(item.substr(0, eq), static_cast<int64_t>(k));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

Status CheckCalibrationFits(const Model& model, const Tensor& samples) {
  return compress::AccuracyEstimator::CheckSamples(model, samples);
}

}  // namespace deepx::cli
