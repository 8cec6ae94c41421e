// Runs the ONNX backend test suite (the model.onnx + test_data_set_*/{input,output}_N.pb directories that ONNX
// ships, packaged by Debian as libonnx-testdata) against DeepX and classifies every test.
//
// Classification, per test directory:
//   passed       the model loaded, every data set ran and every output matched (dtype, shape and values)
//   unsupported  loading or running failed with StatusCode::kUnimplemented: DeepX says honestly that it does not
//                support an op, attribute value or dtype the model uses
//   failed       anything else: a wrong result, a dtype/shape mismatch, any other error (including the loader
//                rejecting a valid model as InvalidArgument), a crash or running past the time cap
//
// By default each test runs in a forked child process, so a kernel that crashes or hangs costs one test, not the
// whole run, and the time cap is a real wall-clock limit.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "deepx/deepx.hpp"
#include "deepx/status.h"
#include "deepx/tensor.h"

namespace deepx::conformance {

inline constexpr const char* kDefaultDataRoot = "/usr/share/libonnx-testdata/data";

// The suites (subfolders of the data root) run when none are named.
std::vector<std::string> DefaultSuites();

enum class TestStatus { kPassed, kFailed, kUnsupported };
const char* TestStatusName(TestStatus s);  // "passed", "failed", "unsupported"

// The ONNX backend-test tolerance: |actual - expected| <= atol + rtol * |expected| for floating types (as numpy's
// assert_allclose), exact equality for integers and bool. NaN matches NaN; an infinity matches only itself.
struct CompareOptions {
  double rtol = 1e-3;
  double atol = 1e-7;
};

struct CompareResult {
  bool match = true;
  std::string message;  // empty on a match; otherwise what differs, e.g. "3 of 60 elements differ; first at ..."
};

// Compares one output. A dtype or shape difference is a mismatch, however close the values.
CompareResult CompareTensors(const Tensor& expected, const Tensor& actual, const CompareOptions& options = {});

struct TestCaseResult {
  std::string suite;                  // "node", "pytorch-converted", ...
  std::string name;                   // directory name, e.g. "test_conv_with_strides_padding"
  std::string dir;                    // full path of the test directory
  std::vector<std::string> op_types;  // distinct op types in the model (subgraphs included), sorted
  std::string primary_op;             // the op the test is about, from its name ("" if the model does not parse)
  TestStatus status = TestStatus::kFailed;
  std::string message;                // why it failed or is unsupported; empty when passed
  double seconds = 0;                 // wall time: load, session creation and all data sets
  int data_sets = 0;                  // data sets run to completion
};

struct StatusCounts {
  int passed = 0;
  int failed = 0;
  int unsupported = 0;
  int total() const { return passed + failed + unsupported; }
  void Add(TestStatus s);
};

struct SuiteReport {
  std::string data_root;
  std::vector<TestCaseResult> tests;  // in run order: suites as given, tests sorted by name
  StatusCounts totals;
  std::map<std::string, StatusCounts> by_op;          // a test counts under every op type of its model
  std::map<std::string, StatusCounts> by_primary_op;  // a test counts once, under its primary op
  double seconds = 0;
};

struct SuiteOptions {
  std::string data_root = kDefaultDataRoot;
  std::vector<std::string> suites;  // empty: DefaultSuites()
  std::string filter;               // run only tests whose name contains this substring ("" = all)
  CompareOptions compare;
  LoadOptions load;
  SessionOptions session;
  // Wall-clock cap per test (load + all data sets). With `isolate` the child is killed when it runs over;
  // without it the cap is checked between data sets only (one inference cannot be interrupted in-process).
  double time_limit_s = 120;
  // Run each test in a forked child process (crash and hang isolation). Off: in-process, for debuggers.
  bool isolate = true;
  // Called after each test (progress output).
  std::function<void(const TestCaseResult&)> on_result;
};

// Runs one test directory in this process (no isolation); the primary op is named from the model's ops and the
// ops DeepX registers.
TestCaseResult RunBackendTest(const std::string& dir, const std::string& suite, const SuiteOptions& options);

// Runs every selected test. Fails only when the data root or a named suite folder does not exist.
Result<SuiteReport> RunBackendSuite(const SuiteOptions& options);

// Distinct op types of the ONNX model file (non-default domains as "domain.Op"), or an error if it does not parse.
Result<std::vector<std::string>> ModelOpTypes(const std::string& model_path);

// The op a test is about, guessed from its name among the model's op types and a vocabulary of other op names
// (for "_expanded" models that no longer contain the op): "test_averagepool_2d_pads" -> "AveragePool",
// "test_operator_maxpool" -> "MaxPool", "test_BatchNorm2d_eval" -> "BatchNormalization". Falls back to the model's
// first non-Constant op when the name names a module ("test_Linear").
std::string PrimaryOpOf(const std::string& test_name, const std::vector<std::string>& op_types,
                        const std::vector<std::string>& vocabulary = {});

// Recomputes totals and the per-op tables from report.tests.
void Aggregate(SuiteReport& report);

// {"passed": N, "failed": N, "unsupported": N, "ops": {...}, "primary_ops": {...}, "tests": [...]}
std::string ReportToJson(const SuiteReport& report);
// JUnit XML: one <testsuite> per suite; failures as <failure>, unsupported as <skipped>.
std::string ReportToJUnitXml(const SuiteReport& report);

}  // namespace deepx::conformance
