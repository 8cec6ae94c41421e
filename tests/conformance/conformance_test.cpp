// The ONNX backend conformance runner: its comparison and classification rules on handmade cases, then the real
// suite from Debian's libonnx-testdata (skipped when the package is not installed).
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "conformance/onnx_backend_suite.h"
#include "onnx/tensor_proto.h"

namespace deepx::conformance {
namespace {

namespace fs = std::filesystem;

// --- CompareTensors ------------------------------------------------------------------------------------------

TEST(ConformanceCompare, WithinToleranceMatches) {
  // atol 1e-7 + rtol 1e-3 * |100| = 0.1000001: 100.09 is close to 100, 100.2 is not.
  auto expected = Tensor::FromFloats({2}, {100.0f, 1.0f});
  EXPECT_TRUE(CompareTensors(expected, Tensor::FromFloats({2}, {100.09f, 1.0009f})).match);
  auto r = CompareTensors(expected, Tensor::FromFloats({2}, {100.2f, 1.0f}));
  EXPECT_FALSE(r.match);
  EXPECT_NE(r.message.find("1 of 2 elements differ"), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("first at [0]"), std::string::npos) << r.message;
}

TEST(ConformanceCompare, AbsoluteToleranceNearZero) {
  // Expected 0: only atol applies, so 5e-8 passes and 1e-6 fails.
  auto zero = Tensor::FromFloats({1}, {0.0f});
  EXPECT_TRUE(CompareTensors(zero, Tensor::FromFloats({1}, {5e-8f})).match);
  EXPECT_FALSE(CompareTensors(zero, Tensor::FromFloats({1}, {1e-6f})).match);
}

TEST(ConformanceCompare, NanEqualsNanAndInfinitiesMustMatch) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  auto expected = Tensor::FromFloats({3}, {nan, inf, -inf});
  EXPECT_TRUE(CompareTensors(expected, Tensor::FromFloats({3}, {nan, inf, -inf})).match);
  EXPECT_FALSE(CompareTensors(expected, Tensor::FromFloats({3}, {0.0f, inf, -inf})).match);  // NaN expected
  EXPECT_FALSE(CompareTensors(Tensor::FromFloats({1}, {1.0f}), Tensor::FromFloats({1}, {nan})).match);
  EXPECT_FALSE(CompareTensors(expected, Tensor::FromFloats({3}, {nan, -inf, -inf})).match);  // wrong sign
  EXPECT_FALSE(CompareTensors(expected, Tensor::FromFloats({3}, {nan, 3e38f, -inf})).match);  // finite vs inf
}

TEST(ConformanceCompare, ShapeMismatchFailsEvenWithSameValues) {
  auto r = CompareTensors(Tensor::FromFloats({2, 3}, {1, 2, 3, 4, 5, 6}), Tensor::FromFloats({3, 2}, {1, 2, 3, 4, 5, 6}));
  EXPECT_FALSE(r.match);
  EXPECT_NE(r.message.find("shape [3, 2], expected [2, 3]"), std::string::npos) << r.message;
  // A scalar and a one-element vector differ too.
  EXPECT_FALSE(CompareTensors(Tensor::FromFloats({}, {1}), Tensor::FromFloats({1}, {1})).match);
}

TEST(ConformanceCompare, DtypeMismatchFails) {
  auto r = CompareTensors(Tensor::FromInt64s({2}, {1, 2}), Tensor::FromFloats({2}, {1, 2}));
  EXPECT_FALSE(r.match);
  EXPECT_NE(r.message.find("dtype float32, expected int64"), std::string::npos) << r.message;
}

TEST(ConformanceCompare, IntegersMustBeExact) {
  EXPECT_TRUE(CompareTensors(Tensor::FromInt64s({3}, {1, -2, 3}), Tensor::FromInt64s({3}, {1, -2, 3})).match);
  // 1000 vs 1001 is within rtol 1e-3 for floats but integers compare exactly.
  auto r = CompareTensors(Tensor::FromInt64s({2, 2}, {0, 0, 0, 1000}), Tensor::FromInt64s({2, 2}, {0, 0, 0, 1001}));
  EXPECT_FALSE(r.match);
  EXPECT_NE(r.message.find("first at [1, 1]: got 1001, expected 1000"), std::string::npos) << r.message;
}

TEST(ConformanceCompare, EmptyTensorsMatch) {
  EXPECT_TRUE(CompareTensors(Tensor::Zeros(DataType::kFloat32, {0, 3}), Tensor::Zeros(DataType::kFloat32, {0, 3})).match);
}

// --- PrimaryOpOf -------------------------------------------------------------------------------------------

TEST(ConformancePrimaryOp, FromTestName) {
  EXPECT_EQ(PrimaryOpOf("test_averagepool_2d_pads", {"AveragePool"}), "AveragePool");
  // The longest match wins: ReduceSumSquare, not ReduceSum.
  EXPECT_EQ(PrimaryOpOf("test_reduce_sum_square_default", {"ReduceSum", "ReduceSumSquare"}), "ReduceSumSquare");
  EXPECT_EQ(PrimaryOpOf("test_gather_elements_0", {"Gather", "GatherElements"}), "GatherElements");
  EXPECT_EQ(PrimaryOpOf("test_operator_maxpool", {"Pad", "MaxPool"}), "MaxPool");
  EXPECT_EQ(PrimaryOpOf("test_batchnorm_epsilon", {"BatchNormalization"}), "BatchNormalization");
  EXPECT_EQ(PrimaryOpOf("test_BatchNorm2d_eval", {"Unsqueeze", "BatchNormalization"}), "BatchNormalization");
  EXPECT_EQ(PrimaryOpOf("test_Linear", {"Constant", "MatMul", "Add"}), "MatMul");  // a module: first non-Constant
  // An "_expanded" model holds only the primitive ops; the vocabulary names the op it expands.
  EXPECT_EQ(PrimaryOpOf("test_layer_normalization_2d_axis0_expanded", {"Constant", "ReduceMean", "Sub"},
                        {"Relu", "LayerNormalization"}),
            "LayerNormalization");
  // The model's own op wins over a shorter vocabulary match.
  EXPECT_EQ(PrimaryOpOf("test_reduce_sum_square_default", {"ReduceSumSquare"}, {"ReduceSum"}), "ReduceSumSquare");
  EXPECT_EQ(PrimaryOpOf("test_x", {}), "");
  // Vocabulary matches take whole words only: not Sin for "single", not Add for "addmm".
  EXPECT_EQ(PrimaryOpOf("test_single_relu_model", {"Relu"}, {"Sin"}), "Relu");
  EXPECT_EQ(PrimaryOpOf("test_operator_addmm", {"Gemm"}, {"Add"}), "Gemm");
  EXPECT_EQ(PrimaryOpOf("test_constant_pad", {"Pad"}, {"Constant"}), "Pad");
  EXPECT_EQ(PrimaryOpOf("test_AvgPool1d", {"Unsqueeze", "AveragePool", "Squeeze"}), "AveragePool");
}

// --- Classification on handmade test folders ---------------------------------------------------------------

// A temporary folder, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    path_ = fs::temp_directory_path() / ("deepx_conformance_" + std::to_string(::getpid()) + "_" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

void WriteBytes(const fs::path& path, const std::string& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out << bytes;
}

void AddTensorValueInfo(onnx::ValueInfoProto* vi, const std::string& name, const Shape& shape) {
  vi->set_name(name);
  auto* tt = vi->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(onnx::TensorProto::FLOAT);
  for (int64_t d : shape) tt->mutable_shape()->add_dim()->set_dim_value(d);
}

struct NodeSpec {
  std::string op_type;
  std::vector<std::string> inputs;
  std::vector<std::string> outputs;
};

// A float32 model: graph inputs (name, shape), optional initializers (also listed as graph inputs, as old
// exporters do), nodes, and one output.
std::string MakeModel(const std::vector<std::pair<std::string, Shape>>& inputs,
                      const std::vector<std::pair<std::string, Tensor>>& initializers, const std::vector<NodeSpec>& nodes,
                      const std::string& output, const Shape& output_shape) {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.set_producer_name("conformance_test");
  auto* opset = m.add_opset_import();
  opset->set_domain("");
  opset->set_version(13);
  auto* g = m.mutable_graph();
  g->set_name("g");
  for (const auto& [name, shape] : inputs) AddTensorValueInfo(g->add_input(), name, shape);
  for (const auto& [name, t] : initializers) {
    AddTensorValueInfo(g->add_input(), name, t.shape());
    g->add_initializer()->ParseFromString(TensorToProtoBytes(t, name));
  }
  for (const auto& n : nodes) {
    auto* node = g->add_node();
    node->set_op_type(n.op_type);
    for (const auto& i : n.inputs) node->add_input(i);
    for (const auto& o : n.outputs) node->add_output(o);
  }
  AddTensorValueInfo(g->add_output(), output, output_shape);
  return m.SerializeAsString();
}

// Writes <root>/<name>/model.onnx and test_data_set_0 with the given input and output tensors.
fs::path MakeTestDir(const fs::path& root, const std::string& name, const std::string& model,
                     const std::vector<std::pair<std::string, Tensor>>& inputs, const Tensor& output) {
  const fs::path dir = root / name;
  WriteBytes(dir / "model.onnx", model);
  for (size_t i = 0; i < inputs.size(); ++i)
    WriteBytes(dir / "test_data_set_0" / ("input_" + std::to_string(i) + ".pb"),
               TensorToProtoBytes(inputs[i].second, inputs[i].first));
  WriteBytes(dir / "test_data_set_0" / "output_0.pb", TensorToProtoBytes(output, "y"));
  return dir;
}

std::string ReluModel() { return MakeModel({{"x", {2, 2}}}, {}, {{"Relu", {"x"}, {"y"}}}, "y", {2, 2}); }

SuiteOptions InProcess() {
  SuiteOptions o;
  o.isolate = false;
  return o;
}

TEST(ConformanceClassify, CorrectOutputPasses) {
  TempDir tmp;
  auto dir = MakeTestDir(tmp.path(), "test_relu", ReluModel(), {{"x", Tensor::FromFloats({2, 2}, {-1, 2, -3, 4})}},
                         Tensor::FromFloats({2, 2}, {0, 2, 0, 4}));
  TestCaseResult r = RunBackendTest(dir.string(), "handmade", InProcess());
  EXPECT_EQ(r.status, TestStatus::kPassed) << r.message;
  EXPECT_EQ(r.name, "test_relu");
  EXPECT_EQ(r.op_types, std::vector<std::string>{"Relu"});
  EXPECT_EQ(r.primary_op, "Relu");
  EXPECT_EQ(r.data_sets, 1);
}

TEST(ConformanceClassify, WrongValueFails) {
  TempDir tmp;
  auto dir = MakeTestDir(tmp.path(), "test_relu", ReluModel(), {{"x", Tensor::FromFloats({2, 2}, {-1, 2, -3, 4})}},
                         Tensor::FromFloats({2, 2}, {0, 2, 0, 5}));
  TestCaseResult r = RunBackendTest(dir.string(), "handmade", InProcess());
  EXPECT_EQ(r.status, TestStatus::kFailed);
  EXPECT_NE(r.message.find("test_data_set_0 output 0 'y': 1 of 4 elements differ"), std::string::npos) << r.message;
}

TEST(ConformanceClassify, WrongShapeFails) {
  TempDir tmp;
  auto dir = MakeTestDir(tmp.path(), "test_relu", ReluModel(), {{"x", Tensor::FromFloats({2, 2}, {-1, 2, -3, 4})}},
                         Tensor::FromFloats({4}, {0, 2, 0, 4}));
  TestCaseResult r = RunBackendTest(dir.string(), "handmade", InProcess());
  EXPECT_EQ(r.status, TestStatus::kFailed);
  EXPECT_NE(r.message.find("shape [2, 2], expected [4]"), std::string::npos) << r.message;
}

TEST(ConformanceClassify, UnknownOpIsUnsupported) {
  TempDir tmp;
  auto model = MakeModel({{"x", {2}}}, {}, {{"NoSuchOpForConformance", {"x"}, {"y"}}}, "y", {2});
  auto dir = MakeTestDir(tmp.path(), "test_nosuchop", model, {{"x", Tensor::FromFloats({2}, {1, 2})}},
                         Tensor::FromFloats({2}, {1, 2}));
  TestCaseResult r = RunBackendTest(dir.string(), "handmade", InProcess());
  EXPECT_EQ(r.status, TestStatus::kUnsupported) << r.message;
  EXPECT_NE(r.message.find("NoSuchOpForConformance"), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("UNIMPLEMENTED"), std::string::npos) << r.message;
}

TEST(ConformanceClassify, ModelTheLoaderRejectsFails) {
  // A truncated model is InvalidArgument from the loader: that is a failure, not "unsupported".
  TempDir tmp;
  std::string model = ReluModel();
  auto dir = MakeTestDir(tmp.path(), "test_truncated", model.substr(0, model.size() / 2),
                         {{"x", Tensor::FromFloats({2, 2}, {-1, 2, -3, 4})}}, Tensor::FromFloats({2, 2}, {0, 2, 0, 4}));
  TestCaseResult r = RunBackendTest(dir.string(), "handmade", InProcess());
  EXPECT_EQ(r.status, TestStatus::kFailed);
  EXPECT_NE(r.message.find("loading model: INVALID_ARGUMENT"), std::string::npos) << r.message;
}

TEST(ConformanceClassify, InputsMatchedByNameAndInitializersSkipped) {
  // y = a - b + w, where w is an initializer the model also lists as a graph input. The input files come in the
  // order (b, a): only matching by TensorProto name gives the expected result.
  TempDir tmp;
  auto model = MakeModel({{"a", {2}}, {"b", {2}}}, {{"w", Tensor::FromFloats({2}, {100, 200})}},
                         {{"Sub", {"a", "b"}, {"d"}}, {"Add", {"d", "w"}, {"y"}}}, "y", {2});
  auto dir = MakeTestDir(tmp.path(), "test_sub_add", model,
                         {{"b", Tensor::FromFloats({2}, {1, 2})}, {"a", Tensor::FromFloats({2}, {10, 20})}},
                         Tensor::FromFloats({2}, {109, 218}));
  TestCaseResult r = RunBackendTest(dir.string(), "handmade", InProcess());
  EXPECT_EQ(r.status, TestStatus::kPassed) << r.message;
  EXPECT_EQ(r.primary_op, "Sub");
}

TEST(ConformanceClassify, UnnamedInputsMatchedByPosition) {
  TempDir tmp;
  auto model = MakeModel({{"a", {2}}, {"b", {2}}}, {}, {{"Sub", {"a", "b"}, {"y"}}}, "y", {2});
  auto dir = MakeTestDir(tmp.path(), "test_sub", model,
                         {{"", Tensor::FromFloats({2}, {10, 20})}, {"", Tensor::FromFloats({2}, {1, 2})}},
                         Tensor::FromFloats({2}, {9, 18}));
  TestCaseResult r = RunBackendTest(dir.string(), "handmade", InProcess());
  EXPECT_EQ(r.status, TestStatus::kPassed) << r.message;
}

TEST(ConformanceClassify, MissingInputFileFails) {
  TempDir tmp;
  auto model = MakeModel({{"a", {2}}, {"b", {2}}}, {}, {{"Sub", {"a", "b"}, {"y"}}}, "y", {2});
  auto dir = MakeTestDir(tmp.path(), "test_sub", model, {{"a", Tensor::FromFloats({2}, {10, 20})}},
                         Tensor::FromFloats({2}, {9, 18}));
  TestCaseResult r = RunBackendTest(dir.string(), "handmade", InProcess());
  EXPECT_EQ(r.status, TestStatus::kFailed);
  EXPECT_NE(r.message.find("1 input files but the model has 2 inputs"), std::string::npos) << r.message;
}

TEST(ConformanceClassify, SuiteAggregatesAndIsolatesEachTest) {
  // Three tests in a suite folder, run in child processes: one passes, one fails, one is unsupported.
  TempDir tmp;
  const fs::path suite = tmp.path() / "mini";
  const auto x = Tensor::FromFloats({2, 2}, {-1, 2, -3, 4});
  MakeTestDir(suite, "test_relu", ReluModel(), {{"x", x}}, Tensor::FromFloats({2, 2}, {0, 2, 0, 4}));
  MakeTestDir(suite, "test_relu_wrong", ReluModel(), {{"x", x}}, Tensor::FromFloats({2, 2}, {1, 2, 0, 4}));
  MakeTestDir(suite, "test_nosuchop",
              MakeModel({{"x", {2, 2}}}, {}, {{"NoSuchOpForConformance", {"x"}, {"y"}}}, "y", {2, 2}), {{"x", x}}, x);
  WriteBytes(suite / "not_a_test" / "README", "no model here");

  SuiteOptions options;
  options.data_root = tmp.path().string();
  options.suites = {"mini"};
  int callbacks = 0;
  options.on_result = [&](const TestCaseResult&) { ++callbacks; };
  auto report = RunBackendSuite(options);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ASSERT_EQ(report->tests.size(), 3u);
  EXPECT_EQ(callbacks, 3);
  EXPECT_EQ(report->tests[0].name, "test_nosuchop");  // sorted by name
  EXPECT_EQ(report->tests[0].status, TestStatus::kUnsupported) << report->tests[0].message;
  EXPECT_EQ(report->tests[1].status, TestStatus::kPassed) << report->tests[1].message;
  EXPECT_EQ(report->tests[2].status, TestStatus::kFailed);
  EXPECT_EQ(report->totals.passed, 1);
  EXPECT_EQ(report->totals.failed, 1);
  EXPECT_EQ(report->totals.unsupported, 1);
  EXPECT_EQ(report->by_op["Relu"].passed, 1);
  EXPECT_EQ(report->by_op["Relu"].failed, 1);
  EXPECT_EQ(report->by_primary_op["NoSuchOpForConformance"].unsupported, 1);

  const std::string json = ReportToJson(*report);
  EXPECT_NE(json.find("\"passed\": 1"), std::string::npos) << json;
  EXPECT_NE(json.find("\"Relu\""), std::string::npos) << json;
  const std::string xml = ReportToJUnitXml(*report);
  EXPECT_NE(xml.find("<failure message="), std::string::npos) << xml;
  EXPECT_NE(xml.find("<skipped message="), std::string::npos) << xml;

  // The filter selects by substring; an unknown suite is an error.
  options.filter = "wrong";
  auto filtered = RunBackendSuite(options);
  ASSERT_TRUE(filtered.ok());
  ASSERT_EQ(filtered->tests.size(), 1u);
  EXPECT_EQ(filtered->tests[0].name, "test_relu_wrong");
  options.suites = {"nope"};
  auto missing = RunBackendSuite(options);
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
}

TEST(ConformanceClassify, TimeCapFailsTheTest) {
  TempDir tmp;
  auto dir = MakeTestDir(tmp.path() / "mini", "test_relu", ReluModel(),
                         {{"x", Tensor::FromFloats({2, 2}, {-1, 2, -3, 4})}}, Tensor::FromFloats({2, 2}, {0, 2, 0, 4}));
  SuiteOptions options;
  options.time_limit_s = 1e-9;
  // In-process the cap is checked after each data set.
  options.isolate = false;
  TestCaseResult r = RunBackendTest(dir.string(), "mini", options);
  EXPECT_EQ(r.status, TestStatus::kFailed);
  EXPECT_NE(r.message.find("over the time cap"), std::string::npos) << r.message;
  // Isolated, the child is killed.
  options.isolate = true;
  options.data_root = tmp.path().string();
  options.suites = {"mini"};
  auto report = RunBackendSuite(options);
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(report->tests.size(), 1u);
  EXPECT_EQ(report->tests[0].status, TestStatus::kFailed);
  EXPECT_NE(report->tests[0].message.find("timed out"), std::string::npos) << report->tests[0].message;
}

// --- The real ONNX backend suite -----------------------------------------------------------------------------

// Every test of the Debian-packaged ONNX backend suite must pass or be honestly unsupported; a wrong result or an
// unexpected error for a supported op is a failure listed here. DEEPX_ONNX_TESTDATA overrides the data folder.
TEST(OnnxBackendSuite, NoFailuresAndEnoughPasses) {
  SuiteOptions options;
  if (const char* root = std::getenv("DEEPX_ONNX_TESTDATA")) options.data_root = root;
  if (!fs::is_directory(options.data_root)) GTEST_SKIP() << "no ONNX test data at " << options.data_root;
  auto report = RunBackendSuite(options);
  ASSERT_TRUE(report.ok()) << report.status().ToString();

  std::map<std::string, std::vector<const TestCaseResult*>> failures_by_op;
  for (const auto& t : report->tests)
    if (t.status == TestStatus::kFailed) failures_by_op[t.primary_op].push_back(&t);
  std::ostringstream list;
  for (const auto& [op, tests] : failures_by_op) {
    list << op << ":\n";
    for (const auto* t : tests) list << "  " << t->suite << "/" << t->name << ": " << t->message << "\n";
  }
  const auto& totals = report->totals;
  EXPECT_EQ(totals.failed, 0) << totals.failed << " failing ONNX backend tests:\n" << list.str();
  EXPECT_GE(totals.passed, 300) << "passed " << totals.passed << ", unsupported " << totals.unsupported << " of "
                                << totals.total();
  std::cout << "[ conformance ] passed " << totals.passed << ", failed " << totals.failed << ", unsupported "
            << totals.unsupported << " of " << totals.total() << " in " << report->seconds << " s\n";
}

}  // namespace
}  // namespace deepx::conformance
