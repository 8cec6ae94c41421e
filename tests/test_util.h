// Helpers shared by the unit tests.
#pragma once

#include <random>
#include <string>
#include <vector>

#include "core/graph.h"
#include "deepx/tensor.h"

namespace deepx::testing {

// A float tensor of the given shape with values uniform in [lo, hi), from a fixed seed.
Tensor RandomTensor(const Shape& shape, uint32_t seed, float lo = -1.0f, float hi = 1.0f);

// Max |a-b| / (atol + rtol*|b|) over elements; <= 1 means "close". Shapes and dtypes must match.
double MaxScaledError(const Tensor& a, const Tensor& b, double atol, double rtol);

// Builds a one-node graph: inputs (name, dtype, shape, optional constant) -> op -> outputs named out0, out1, ...
struct InputSpec {
  std::string name;
  Tensor value;            // its dtype/shape define the input; used as constant when `constant` is true
  bool constant = false;
};
Graph SingleNodeGraph(const std::string& op_type, const std::vector<InputSpec>& inputs, const Attributes& attrs,
                      int num_outputs = 1, int opset = 17);

// Infers shapes of a SingleNodeGraph (no folding) and runs the op's reference kernel on the inputs' values.
// Errors (validation or kernel) come back as the Status, so tests can check messages.
Result<std::vector<Tensor>> RunReferenceOp(const std::string& op_type, const std::vector<InputSpec>& inputs,
                                           const Attributes& attrs = {}, int num_outputs = 1, int opset = 17);

// Path of a file in the source tree.
std::string SourcePath(const std::string& relative);

// One run of the built `deepx` CLI (DEEPX_CLI_PATH), for the CLI tests.
struct CliResult {
  int exit_code = -1;  // -1: it did not start or did not exit normally
  std::string out;
  std::string err;
};

// `s` quoted for /bin/sh.
std::string ShellQuote(const std::string& s);

// Runs the deepx CLI with `args`, capturing stdout; stderr goes through the file `stderr_path` (overwritten).
CliResult RunCli(const std::vector<std::string>& args, const std::string& stderr_path);

}  // namespace deepx::testing
