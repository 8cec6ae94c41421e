// Runs the nn family's reference kernels on the ONNX backend test data Debian ships (single-node models only),
// reading the protobufs directly so these checks do not depend on the model loader.
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/attributes.h"
#include "test_util.h"

namespace deepx {
namespace {

namespace fs = std::filesystem;
const char* kDataRoot = "/usr/share/libonnx-testdata/data";

const std::set<std::string> kNnOps = {"Conv", "ConvTranspose", "Gemm", "MatMul", "MaxPool", "AveragePool",
                                      "GlobalAveragePool", "GlobalMaxPool", "BatchNormalization", "LRN",
                                      "InstanceNormalization", "Softmax", "LogSoftmax"};

template <typename Proto>
bool ReadProto(const fs::path& path, Proto& proto) {
  std::ifstream in(path, std::ios::binary);
  return in && proto.ParseFromIstream(&in);
}

// Only the dtypes these ops see in the test data.
bool ToTensor(const onnx::TensorProto& p, Tensor& out) {
  Shape shape(p.dims().begin(), p.dims().end());
  const DataType t = static_cast<DataType>(p.data_type());
  if (t != DataType::kFloat32 && t != DataType::kInt64 && t != DataType::kUInt8 && t != DataType::kInt8) return false;
  out = Tensor::Zeros(t, shape);
  const size_t bytes = out.size_bytes();
  if (p.has_raw_data()) {
    if (p.raw_data().size() != bytes) return false;
    std::memcpy(out.raw_data(), p.raw_data().data(), bytes);
  } else if (t == DataType::kFloat32) {
    if (static_cast<int64_t>(p.float_data_size()) != out.num_elements()) return false;
    std::memcpy(out.raw_data(), p.float_data().data(), bytes);
  } else if (t == DataType::kInt64) {
    if (static_cast<int64_t>(p.int64_data_size()) != out.num_elements()) return false;
    std::memcpy(out.raw_data(), p.int64_data().data(), bytes);
  } else {
    if (static_cast<int64_t>(p.int32_data_size()) != out.num_elements()) return false;
    for (int i = 0; i < p.int32_data_size(); ++i) static_cast<uint8_t*>(out.raw_data())[i] = p.int32_data(i);
  }
  return true;
}

Attributes ToAttributes(const onnx::NodeProto& node) {
  Attributes attrs;
  for (const auto& a : node.attribute()) {
    switch (a.type()) {
      case onnx::AttributeProto::FLOAT: attrs.set(a.name(), a.f()); break;
      case onnx::AttributeProto::INT: attrs.set(a.name(), static_cast<int64_t>(a.i())); break;
      case onnx::AttributeProto::STRING: attrs.set(a.name(), a.s()); break;
      case onnx::AttributeProto::FLOATS:
        attrs.set(a.name(), std::vector<float>(a.floats().begin(), a.floats().end()));
        break;
      case onnx::AttributeProto::INTS:
        attrs.set(a.name(), std::vector<int64_t>(a.ints().begin(), a.ints().end()));
        break;
      default: break;
    }
  }
  return attrs;
}

struct CaseResult {
  bool ran = false;  // false: not a single-node model of this family
  std::string failure;
};

CaseResult RunCase(const fs::path& dir) {
  CaseResult r;
  onnx::ModelProto model;
  if (!ReadProto(dir / "model.onnx", model)) return r;
  const onnx::GraphProto& g = model.graph();
  if (g.node_size() != 1 || !kNnOps.count(g.node(0).op_type())) return r;
  r.ran = true;
  const onnx::NodeProto& node = g.node(0);
  int opset = 0;
  for (const auto& imp : model.opset_import())
    if (imp.domain().empty() || imp.domain() == "ai.onnx") opset = static_cast<int>(imp.version());

  std::map<std::string, Tensor> values;
  for (const auto& init : g.initializer()) ToTensor(init, values[init.name()]);
  const fs::path data = dir / "test_data_set_0";
  int input_index = 0;
  for (const auto& in : g.input()) {
    if (values.count(in.name())) continue;
    onnx::TensorProto p;
    if (!ReadProto(data / ("input_" + std::to_string(input_index++) + ".pb"), p) || !ToTensor(p, values[in.name()])) {
      r.failure = "cannot read input " + in.name();
      return r;
    }
  }
  std::vector<testing::InputSpec> inputs;
  for (const std::string& name : node.input()) {
    if (name.empty()) {
      inputs.push_back({});
    } else {
      inputs.push_back({name, values[name]});
    }
  }
  auto outputs = testing::RunReferenceOp(node.op_type(), inputs, ToAttributes(node), node.output_size(), opset);
  if (!outputs.ok()) {
    r.failure = outputs.status().ToString();
    return r;
  }
  for (int i = 0; i < node.output_size(); ++i) {
    onnx::TensorProto p;
    Tensor expected;
    if (!ReadProto(data / ("output_" + std::to_string(i) + ".pb"), p) || !ToTensor(p, expected)) {
      r.failure = "cannot read output " + std::to_string(i);
      return r;
    }
    const Tensor& got = (*outputs)[static_cast<size_t>(i)];
    if (got.shape() != expected.shape()) {
      r.failure = "output " + std::to_string(i) + " shape " + ShapeToString(got.shape()) + ", expected " +
                  ShapeToString(expected.shape());
      return r;
    }
    const double err = testing::MaxScaledError(got, expected, 1e-5, 1e-3);
    if (err > 1.0) r.failure = "output " + std::to_string(i) + " scaled error " + std::to_string(err);
  }
  return r;
}

TEST(NnOnnxData, SingleNodeModelsMatchExpectedOutputs) {
  if (!fs::exists(kDataRoot)) GTEST_SKIP() << "no ONNX test data at " << kDataRoot;
  // Training-mode BatchNormalization is deliberately unsupported.
  const std::set<std::string> expect_unimplemented = {"test_batchnorm_epsilon_training_mode",
                                                      "test_batchnorm_example_training_mode"};
  int passed = 0;
  for (const char* suite : {"node", "pytorch-converted", "pytorch-operator"}) {
    const fs::path root = fs::path(kDataRoot) / suite;
    if (!fs::exists(root)) continue;
    std::vector<fs::path> dirs;
    for (const auto& e : fs::directory_iterator(root)) dirs.push_back(e.path());
    std::sort(dirs.begin(), dirs.end());
    for (const fs::path& dir : dirs) {
      const std::string name = dir.filename().string();
      CaseResult r = RunCase(dir);
      if (!r.ran) continue;
      if (expect_unimplemented.count(name)) {
        EXPECT_NE(r.failure.find("UNIMPLEMENTED"), std::string::npos) << name << ": " << r.failure;
        continue;
      }
      EXPECT_EQ(r.failure, "") << suite << "/" << name;
      if (r.failure.empty()) ++passed;
    }
  }
  std::printf("[ nn data  ] %d single-node cases passed\n", passed);
  EXPECT_GT(passed, 80);
}

}  // namespace
}  // namespace deepx
