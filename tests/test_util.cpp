#include "test_util.h"

#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "ops/op.h"
#include "passes/shape_inference.h"

namespace deepx::testing {

Tensor RandomTensor(const Shape& shape, uint32_t seed, float lo, float hi) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  Tensor t = Tensor::Zeros(DataType::kFloat32, shape);
  float* p = t.data<float>();
  for (int64_t i = 0; i < t.num_elements(); ++i) p[i] = dist(rng);
  return t;
}

double MaxScaledError(const Tensor& a, const Tensor& b, double atol, double rtol) {
  if (a.shape() != b.shape() || a.dtype() != b.dtype()) return INFINITY;
  double worst = 0;
  for (int64_t i = 0; i < a.num_elements(); ++i) {
    double x = a.GetAsDouble(i), y = b.GetAsDouble(i);
    if (std::isnan(x) && std::isnan(y)) continue;
    double e = std::abs(x - y) / (atol + rtol * std::abs(y));
    if (std::isnan(e)) return INFINITY;
    worst = std::max(worst, e);
  }
  return worst;
}

Graph SingleNodeGraph(const std::string& op_type, const std::vector<InputSpec>& inputs, const Attributes& attrs,
                      int num_outputs, int opset) {
  Graph g;
  g.opset = opset;
  Node n;
  n.name = op_type + "_0";
  n.op_type = op_type;
  n.opset = opset;
  n.attrs = attrs;
  for (const InputSpec& in : inputs) {
    if (in.name.empty()) {
      n.inputs.push_back(kNoValue);
      continue;
    }
    Value v;
    v.name = in.name;
    v.dtype = in.value.dtype();
    v.shape = in.value.shape();
    v.has_shape = true;
    if (in.constant) v.constant = in.value;
    ValueId id = g.AddValue(v);
    if (!in.constant) g.inputs.push_back(id);
    n.inputs.push_back(id);
  }
  for (int i = 0; i < num_outputs; ++i) {
    Value v;
    v.name = "out" + std::to_string(i);
    ValueId id = g.AddValue(v);
    n.outputs.push_back(id);
    g.outputs.push_back(id);
  }
  g.nodes.push_back(n);
  return g;
}

Result<std::vector<Tensor>> RunReferenceOp(const std::string& op_type, const std::vector<InputSpec>& inputs,
                                           const Attributes& attrs, int num_outputs, int opset) {
  Graph g = SingleNodeGraph(op_type, inputs, attrs, num_outputs, opset);
  InferOptions options;
  options.fold_constants = false;
  DX_RETURN_IF_ERROR(InferShapes(g, OpRegistry::Default(), options));
  const OpSchema* schema = OpRegistry::Default().Find(op_type);
  std::vector<const Tensor*> values;
  for (const InputSpec& in : inputs) values.push_back(in.name.empty() ? nullptr : &in.value);
  return RunReferenceNode(g, g.nodes[0], *schema, values);
}

std::string SourcePath(const std::string& relative) { return std::string(DEEPX_SOURCE_DIR) + "/" + relative; }

std::string ShellQuote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

CliResult RunCli(const std::vector<std::string>& args, const std::string& stderr_path) {
  std::string cmd = ShellQuote(DEEPX_CLI_PATH);
  for (const std::string& a : args) {  // appended piecewise: GCC 12 warns falsely (-Wrestrict) on " " + string
    cmd += ' ';
    cmd += ShellQuote(a);
  }
  cmd += " 2>";
  cmd += ShellQuote(stderr_path);
  CliResult r;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) r.out.append(buf, n);
  const int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream err(stderr_path);
  std::stringstream ss;
  ss << err.rdbuf();
  r.err = ss.str();
  return r;
}

}  // namespace deepx::testing
