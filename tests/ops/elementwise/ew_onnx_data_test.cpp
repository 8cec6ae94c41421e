// Runs the elementwise family's reference kernels on the ONNX backend node tests Debian ships (single-node models
// only), reading the protobufs directly so the check does not depend on the model loader. Every input is given
// as a constant, which is how ReduceSum's 'axes' input (a graph input in these tests) becomes resolvable.
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/attributes.h"
#include "ops/op.h"
#include "test_util.h"

namespace deepx {
namespace {

namespace fs = std::filesystem;
const char* kNodeDir = "/usr/share/libonnx-testdata/data/node";

bool ReadModel(const fs::path& path, onnx::ModelProto& m) {
  std::ifstream in(path, std::ios::binary);
  return in && m.ParseFromIstream(&in);
}

bool ReadTensor(const fs::path& path, onnx::TensorProto& t) {
  std::ifstream in(path, std::ios::binary);
  return in && t.ParseFromIstream(&in);
}

// Converts a TensorProto of a dtype DeepX holds; false for anything else.
bool ToTensor(const onnx::TensorProto& p, Tensor& out) {
  if (!IsKnownDataType(p.data_type())) return false;
  const DataType t = static_cast<DataType>(p.data_type());
  const Shape shape(p.dims().begin(), p.dims().end());
  // Optional/sequence protos misread as tensors have nonsense dims.
  if (!CheckedNumElements(shape, int64_t{1} << 26).ok()) return false;
  out = Tensor::Zeros(t, shape);
  const int64_t n = out.num_elements();
  if (p.has_raw_data()) {
    if (p.raw_data().size() != out.size_bytes()) return false;
    std::memcpy(out.raw_data(), p.raw_data().data(), out.size_bytes());
    return true;
  }
  const int64_t stored = t == DataType::kFloat32   ? p.float_data_size()
                         : t == DataType::kFloat64 ? p.double_data_size()
                         : t == DataType::kInt64   ? p.int64_data_size()
                                                   : p.int32_data_size();
  if (stored != n) return false;
  for (int64_t i = 0; i < n; ++i) {
    switch (t) {
      case DataType::kFloat32: out.data<float>()[i] = p.float_data(static_cast<int>(i)); break;
      case DataType::kFloat64: out.data<double>()[i] = p.double_data(static_cast<int>(i)); break;
      case DataType::kInt64: out.data<int64_t>()[i] = p.int64_data(static_cast<int>(i)); break;
      case DataType::kInt32: out.data<int32_t>()[i] = p.int32_data(static_cast<int>(i)); break;
      case DataType::kInt8: out.data<int8_t>()[i] = static_cast<int8_t>(p.int32_data(static_cast<int>(i))); break;
      case DataType::kUInt8:
      case DataType::kBool: out.data<uint8_t>()[i] = static_cast<uint8_t>(p.int32_data(static_cast<int>(i))); break;
      default: return false;
    }
  }
  return true;
}

bool ToAttributes(const onnx::NodeProto& node, Attributes& attrs) {
  for (const onnx::AttributeProto& a : node.attribute()) {
    switch (a.type()) {
      case onnx::AttributeProto::INT: attrs.set(a.name(), static_cast<int64_t>(a.i())); break;
      case onnx::AttributeProto::FLOAT: attrs.set(a.name(), a.f()); break;
      case onnx::AttributeProto::STRING: attrs.set(a.name(), a.s()); break;
      case onnx::AttributeProto::INTS:
        attrs.set(a.name(), std::vector<int64_t>(a.ints().begin(), a.ints().end()));
        break;
      case onnx::AttributeProto::FLOATS:
        attrs.set(a.name(), std::vector<float>(a.floats().begin(), a.floats().end()));
        break;
      default: return false;
    }
  }
  return true;
}

const std::set<std::string>& ElementwiseOps() {
  static const std::set<std::string> ops = [] {
    // Everything this family registers (the registry also holds other families' ops).
    std::set<std::string> s = {"Add", "Sub", "Mul", "Div", "Pow", "Mod", "Equal", "Less", "Greater", "LessOrEqual",
                               "GreaterOrEqual", "And", "Or", "Xor", "PRelu", "Where", "Sum", "Max", "Min", "Mean",
                               "Clip", "ArgMax", "ArgMin", "Cast", "CastLike", "Identity", "Dropout"};
    for (const char* u : {"Sqrt", "Exp", "Log", "Neg", "Abs", "Reciprocal", "Floor", "Ceil", "Round", "Sign", "Erf",
                          "Sin", "Cos", "Tan", "Asin", "Acos", "Atan", "Sinh", "Cosh", "Asinh", "Acosh", "Atanh",
                          "Softplus", "Softsign", "Not", "Relu", "LeakyRelu", "Elu", "Selu", "Sigmoid", "HardSigmoid",
                          "HardSwish", "Tanh", "ThresholdedRelu", "Celu", "Mish"})
      s.insert(u);
    for (const char* r : {"ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
                          "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare"})
      s.insert(r);
    return s;
  }();
  return ops;
}

// Runs one test directory. Returns "" on success, "skip: ..." when it uses something DeepX does not hold (a
// dtype, an Unimplemented feature), or a failure description.
std::string RunCase(const fs::path& dir) {
  onnx::ModelProto model;
  if (!ReadModel(dir / "model.onnx", model)) return "skip: unreadable model";
  const onnx::GraphProto& g = model.graph();
  if (g.node_size() != 1 || !ElementwiseOps().count(g.node(0).op_type())) return "skip: not ours";
  const onnx::NodeProto& node = g.node(0);
  if (!node.domain().empty() && node.domain() != "ai.onnx") return "skip: domain";
  int opset = 0;
  for (const auto& imp : model.opset_import())
    if (imp.domain().empty() || imp.domain() == "ai.onnx") opset = static_cast<int>(imp.version());
  Attributes attrs;
  if (!ToAttributes(node, attrs)) return "skip: attribute kind";

  const fs::path data = dir / "test_data_set_0";
  std::map<std::string, int> input_index;
  for (int i = 0; i < g.input_size(); ++i) input_index[g.input(i).name()] = i;
  std::vector<testing::InputSpec> inputs;
  for (const std::string& name : node.input()) {
    if (name.empty()) {
      inputs.push_back({"", Tensor()});
      continue;
    }
    auto it = input_index.find(name);
    if (it == input_index.end()) return "skip: input from initializer";
    onnx::TensorProto tp;
    if (!ReadTensor(data / ("input_" + std::to_string(it->second) + ".pb"), tp)) return "skip: input not a tensor";
    Tensor t;
    if (!ToTensor(tp, t)) return "skip: input dtype " + std::to_string(tp.data_type());
    inputs.push_back({name, t, true});
  }
  std::vector<Tensor> expected;
  for (int i = 0; i < node.output_size(); ++i) {
    onnx::TensorProto tp;
    if (!ReadTensor(data / ("output_" + std::to_string(i) + ".pb"), tp)) return "skip: output not a tensor";
    Tensor t;
    if (!ToTensor(tp, t)) return "skip: output dtype " + std::to_string(tp.data_type());
    expected.push_back(t);
  }

  auto got = testing::RunReferenceOp(node.op_type(), inputs, attrs, node.output_size(), opset);
  if (!got.ok()) {
    if (got.status().code() == StatusCode::kUnimplemented) return "skip: " + got.status().ToString();
    return got.status().ToString();
  }
  for (size_t i = 0; i < expected.size(); ++i) {
    const Tensor& y = got.value()[i];
    if (y.dtype() != expected[i].dtype() || y.shape() != expected[i].shape())
      return "output " + std::to_string(i) + ": got " + DataTypeName(y.dtype()) + " " + ShapeToString(y.shape()) +
             ", want " + DataTypeName(expected[i].dtype()) + " " + ShapeToString(expected[i].shape());
    const double err = testing::MaxScaledError(y, expected[i], 1e-5, 1e-4);
    if (err > 1) return "output " + std::to_string(i) + ": max scaled error " + std::to_string(err);
  }
  return "";
}

TEST(ElementwiseOnnxData, NodeTestsPass) {
  if (!fs::exists(kNodeDir)) GTEST_SKIP() << "no ONNX test data at " << kNodeDir;
  int passed = 0, skipped = 0;
  std::vector<std::string> skips;
  for (const auto& entry : fs::directory_iterator(kNodeDir)) {
    const std::string result = RunCase(entry.path());
    const std::string name = entry.path().filename().string();
    if (result.empty()) {
      ++passed;
    } else if (result.rfind("skip: not ours", 0) == 0) {
      continue;
    } else if (result.rfind("skip:", 0) == 0) {
      ++skipped;
      skips.push_back(name + " (" + result + ")");
    } else {
      ADD_FAILURE() << name << ": " << result;
    }
  }
  std::string skip_list;
  for (const std::string& s : skips) skip_list += "\n  " + s;
  std::cout << "elementwise ONNX node tests: " << passed << " passed, " << skipped << " skipped" << skip_list << "\n";
  // The data set holds a few hundred of these; a silent zero would mean the harness is broken.
  EXPECT_GT(passed, 200);
}

}  // namespace
}  // namespace deepx
