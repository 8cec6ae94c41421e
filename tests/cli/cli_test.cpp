// Runs the built `deepx` binary (DEEPX_CLI_PATH) on tiny models and checks exit codes, messages and JSON.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "capi/tiny_models.h"
#include "io/npy.h"
#include "test_util.h"

namespace deepx {
namespace {
namespace fs = std::filesystem;
using json = nlohmann::json;

using testing::CliResult;

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("deepx_cli_test_" + std::to_string(getpid()));
    fs::create_directories(dir_);
    classifier_ = Path("classifier.onnx");
    mixed_ = Path("mixed.onnx");
    ASSERT_TRUE(testing::WriteModel(testing::ClassifierModel(), classifier_));
    ASSERT_TRUE(testing::WriteModel(testing::MixedModel(), mixed_));
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  CliResult Run(const std::vector<std::string>& args) const { return testing::RunCli(args, Path("stderr.txt")); }

  // Runs and parses stdout as one JSON object, failing the test when it is not.
  json RunJson(const std::vector<std::string>& args) const {
    CliResult r = Run(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    json doc = json::parse(r.out, nullptr, /*allow_exceptions=*/false);
    EXPECT_FALSE(doc.is_discarded()) << "stdout is not JSON:\n" << r.out;
    return doc;
  }

  std::string WriteNpy(const std::string& name, const Tensor& t) const {
    const std::string path = Path(name);
    EXPECT_TRUE(WriteNpyFile(path, t).ok());
    return path;
  }

  // Expects exit code 1 and a "deepx run: error:" line containing `fragment`.
  void ExpectRunError(const std::vector<std::string>& args, const std::string& fragment) const {
    CliResult r = Run(args);
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(r.err.rfind("deepx run: error: ", 0), 0u) << r.err;
    EXPECT_NE(r.err.find(fragment), std::string::npos) << "stderr: " << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
  }

  fs::path dir_;
  std::string classifier_, mixed_;
};

TEST_F(CliTest, RunWithAnNpyInputPrintsJson) {
  const std::string x = WriteNpy("x.npy", Tensor::FromFloats({1, 4}, {1, 2, 3, 4}));
  json doc = RunJson({"run", classifier_, "--input", "x=" + x, "--json", "--top-k", "2"});
  ASSERT_TRUE(doc.is_object());
  EXPECT_EQ(doc["inputs"][0]["name"], "x");
  EXPECT_EQ(doc["inputs"][0]["source"], x);
  ASSERT_EQ(doc["outputs"].size(), 2u);
  const json& logits = doc["outputs"][0];
  EXPECT_EQ(logits["name"], "logits");
  EXPECT_EQ(logits["dtype"], "float32");
  EXPECT_EQ(logits["shape"], json({1, 3}));
  // logits = [5.5, 6, 6.5] (see tiny_models.h).
  EXPECT_NEAR(logits["stats"]["min"].get<double>(), 5.5, 1e-6);
  EXPECT_NEAR(logits["stats"]["max"].get<double>(), 6.5, 1e-6);
  EXPECT_NEAR(logits["stats"]["mean"].get<double>(), 6.0, 1e-6);
  EXPECT_NEAR(logits["first_values"][1].get<double>(), 6.0, 1e-6);
  // Logits get a softmax: the best class is 2 with e^0 / (e^-1 + e^-0.5 + e^0).
  const double denom = std::exp(-1.0) + std::exp(-0.5) + 1.0;
  ASSERT_EQ(logits["topk"].size(), 1u);
  ASSERT_EQ(logits["topk"][0].size(), 2u);
  EXPECT_EQ(logits["topk"][0][0]["index"], 2);
  EXPECT_NEAR(logits["topk"][0][0]["prob"].get<double>(), 1.0 / denom, 1e-6);
  EXPECT_EQ(logits["topk"][0][1]["index"], 1);
  EXPECT_EQ(logits["topk_softmax_applied"], true);
  // Probabilities are ranked as they are, giving the same numbers.
  const json& probs = doc["outputs"][1];
  EXPECT_EQ(probs["topk_softmax_applied"], false);
  EXPECT_NEAR(probs["topk"][0][0]["prob"].get<double>(), 1.0 / denom, 1e-6);
  EXPECT_TRUE(doc["timing"].contains("load_ms"));
  EXPECT_TRUE(doc["timing"].contains("first_run_ms"));
}

TEST_F(CliTest, RunTextOutputShowsShapesStatsAndTopK) {
  const std::string x = WriteNpy("x.npy", Tensor::FromFloats({1, 4}, {1, 2, 3, 4}));
  CliResult r = Run({"run", classifier_, "-i", "x=" + x});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("logits: float32 [1, 3]"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("min 5.5  max 6.5  mean 6"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("row 0: 2 ("), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("timing: load"), std::string::npos) << r.out;
}

TEST_F(CliTest, RandomInputsAreSeededAndDynamicDimsAreOne) {
  json a = RunJson({"run", classifier_, "--json", "--seed", "7"});
  json b = RunJson({"run", classifier_, "--json", "--seed", "7"});
  json c = RunJson({"run", classifier_, "--json", "--seed", "8"});
  EXPECT_EQ(a["inputs"][0]["source"], "random");
  EXPECT_EQ(a["inputs"][0]["shape"], json({1, 4}));
  EXPECT_EQ(a["outputs"][0]["first_values"], b["outputs"][0]["first_values"]);
  EXPECT_NE(a["outputs"][0]["first_values"], c["outputs"][0]["first_values"]);
  // Inputs are in [0, 1): logits = x W + B stay within [B, B + 2).
  const json& v = a["outputs"][0]["first_values"];
  EXPECT_GE(v[0].get<double>(), 0.5);
  EXPECT_LT(v[0].get<double>(), 2.5);
}

TEST_F(CliTest, IntegerInputsDefaultToZeros) {
  const std::string a = WriteNpy("a.npy", Tensor::FromFloats({2, 3}, {1, 2, 3, 4, 5, 6}));
  json doc = RunJson({"run", mixed_, "--input", "a=" + a, "--json"});
  EXPECT_EQ(doc["inputs"][1]["name"], "b");
  EXPECT_EQ(doc["inputs"][1]["dtype"], "int64");
  EXPECT_EQ(doc["inputs"][1]["source"], "zeros");
  // b is zeros, so sum == a.
  EXPECT_EQ(doc["outputs"][0]["first_values"], json({1.0, 2.0, 3.0, 4.0, 5.0, 6.0}));
  // [2, 3] is classifier-shaped, so it gets a top-k too.
  EXPECT_EQ(doc["outputs"][0]["topk"].size(), 2u);
}

TEST_F(CliTest, OutputDirReceivesNpyFiles) {
  const std::string x = WriteNpy("x.npy", Tensor::FromFloats({2, 4}, {1, 2, 3, 4, 0, 0, 0, 0}));
  const std::string out = Path("out/nested");
  CliResult r = Run({"run", classifier_, "--input", "x=" + x, "--output", out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto logits = ReadNpyFile(out + "/logits.npy");
  ASSERT_TRUE(logits.ok()) << logits.status().ToString();
  EXPECT_EQ(logits->shape(), (Shape{2, 3}));
  EXPECT_NEAR(logits->data<float>()[2], 6.5f, 1e-6);
  EXPECT_NEAR(logits->data<float>()[3], 0.5f, 1e-6);
  EXPECT_TRUE(fs::exists(out + "/probs.npy"));
}

TEST_F(CliTest, BadInputFilesAreErrors) {
  const std::string good = WriteNpy("good.npy", Tensor::FromFloats({1, 4}, {1, 2, 3, 4}));
  // Truncated: the last 4 bytes of data are missing.
  auto bytes = NpyBytes(Tensor::FromFloats({1, 4}, {1, 2, 3, 4}));
  ASSERT_TRUE(bytes.ok());
  ASSERT_TRUE(WriteWholeFile(Path("cut.npy"), bytes->substr(0, bytes->size() - 4)).ok());
  ExpectRunError({"run", classifier_, "--input", "x=" + Path("cut.npy")}, "truncated");
  ExpectRunError({"run", classifier_, "--input", "x=" + Path("cut.npy")}, "cut.npy");
  const std::string ints = WriteNpy("ints.npy", Tensor::FromInt64s({1, 4}, {1, 2, 3, 4}));
  ExpectRunError({"run", classifier_, "--input", "x=" + ints}, "is int64 [1, 4], but the model wants float32 [?, 4]");
  const std::string wide = WriteNpy("wide.npy", Tensor::FromFloats({1, 5}, {1, 2, 3, 4, 5}));
  ExpectRunError({"run", classifier_, "--input", "x=" + wide}, "wants float32 [?, 4]");
  ExpectRunError({"run", classifier_, "--input", "y=" + good}, "no input named 'y' (inputs: 'x')");
  ExpectRunError({"run", classifier_, "--input", good}, "expected NAME=FILE");
  ExpectRunError({"run", classifier_, "--input", "x="}, "expected NAME=FILE");
  ExpectRunError({"run", classifier_, "--input", "x=" + good, "--input", "x=" + good}, "given twice");
  ExpectRunError({"run", classifier_, "--input", "x=" + Path("missing.npy")}, "missing.npy' does not exist");
  ExpectRunError({"run", classifier_, "--input", "x=" + Path("x.txt")}, "unknown extension");
}

TEST_F(CliTest, ModelAndBackendErrors) {
  ExpectRunError({"run", Path("nope.onnx")}, "does not exist");
  {
    std::ofstream junk(Path("junk.onnx"));
    junk << "not a model";
  }
  ExpectRunError({"run", Path("junk.onnx")}, "junk.onnx");
  ExpectRunError({"run", classifier_, "--backend", "warp-drive"}, "unknown backend 'warp-drive'");
}

TEST_F(CliTest, UsageErrorsAndHelp) {
  CliResult help = Run({"run", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("--input"), std::string::npos) << help.out;
  EXPECT_NE(help.out.find("--top-k"), std::string::npos) << help.out;
  CliResult info_help = Run({"info", "--help"});
  EXPECT_EQ(info_help.exit_code, 0);
  EXPECT_NE(info_help.out.find("--input-shape"), std::string::npos) << info_help.out;
  // Usage errors must not look like success or a model error (main maps CLI11 parse errors to its exit codes).
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"run"}, {"run", classifier_, "--bogus"}, {"run", classifier_, "--top-k", "-1"}, {"info"}}) {
    CliResult r = Run(args);
    EXPECT_EQ(r.exit_code, 2) << args.back();
    EXPECT_FALSE(r.err.empty());
  }
}

TEST_F(CliTest, InfoJsonDescribesTheModel) {
  json doc = RunJson({"info", classifier_, "--json"});
  EXPECT_EQ(doc["opset"], 13);
  EXPECT_EQ(doc["producer"], "deepx-tests");
  EXPECT_EQ(doc["inputs"][0]["name"], "x");
  EXPECT_EQ(doc["inputs"][0]["shape"], json({-1, 4}));
  EXPECT_EQ(doc["outputs"][1]["name"], "probs");
  EXPECT_EQ(doc["input_shapes"]["x"], json({1, 4}));
  ASSERT_EQ(doc["layers"].size(), 2u);
  EXPECT_EQ(doc["layers"][0]["name"], "fc");
  EXPECT_EQ(doc["layers"][0]["op"], "Gemm");
  EXPECT_EQ(doc["layers"][0]["output_shapes"], json({{1, 3}}));
  EXPECT_EQ(doc["layers"][0]["params"], 15);  // W [4, 3] + B [3]
  EXPECT_EQ(doc["layers"][1]["op"], "Softmax");
  EXPECT_EQ(doc["totals"]["params"], 15);
  EXPECT_GT(doc["totals"]["flops"].get<double>(), 0);

  json batch = RunJson({"info", classifier_, "--json", "--input-shape", "x=8,4"});
  EXPECT_EQ(batch["input_shapes"]["x"], json({8, 4}));
  EXPECT_EQ(batch["layers"][0]["output_shapes"], json({{8, 3}}));
  EXPECT_GT(batch["totals"]["flops"].get<double>(), doc["totals"]["flops"].get<double>());
}

TEST_F(CliTest, InfoTextShowsTheTable) {
  CliResult r = Run({"info", classifier_});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("x  float32 [?, 4]"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("opset:    13"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Gemm"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Softmax"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("total"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("15 parameters"), std::string::npos) << r.out;
}

TEST_F(CliTest, InfoErrors) {
  auto expect_error = [&](const std::vector<std::string>& args, const std::string& fragment) {
    CliResult r = Run(args);
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(r.err.rfind("deepx info: error: ", 0), 0u) << r.err;
    EXPECT_NE(r.err.find(fragment), std::string::npos) << r.err;
  };
  expect_error({"info", classifier_, "--input-shape", "y=1,4"}, "no input named 'y'");
  expect_error({"info", classifier_, "--input-shape", "x=1,5"}, "does not fit the declared [?, 4]");
  expect_error({"info", classifier_, "--input-shape", "x=1,a"}, "'a' is not a positive integer");
  expect_error({"info", classifier_, "--input-shape", "x=0,4"}, "must be positive");
  expect_error({"info", classifier_, "--input-shape", "1,4"}, "expected NAME=D0,D1");
  expect_error({"info", Path("nope.onnx")}, "does not exist");
}

}  // namespace
}  // namespace deepx
