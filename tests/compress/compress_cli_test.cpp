// `deepx compress` through the built binary (DEEPX_CLI_PATH): output file, report, JSON and error messages.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "deepx/deepx.hpp"
#include "io/npy.h"
#include "test_util.h"

namespace deepx {
namespace {
namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr const char* kFc = "/classifier/classifier.0/Gemm";

using Outcome = testing::CliResult;

class CompressCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("deepx_compress_cli_" + std::to_string(getpid()));
    fs::create_directories(dir_);
    model_ = testing::SourcePath("models/fashion_mnist_cnn.onnx");
    out_ = (dir_ / "out.onnx").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  Outcome Run(const std::vector<std::string>& args) const {
    return testing::RunCli(args, (dir_ / "stderr.txt").string());
  }

  void ExpectError(const std::vector<std::string>& extra, const std::string& fragment, int code = 1) const {
    std::vector<std::string> args = {"compress", model_, "-o", out_, "-q"};
    args.insert(args.end(), extra.begin(), extra.end());
    const Outcome r = Run(args);
    EXPECT_EQ(r.exit_code, code) << r.err;
    EXPECT_NE(r.err.find(fragment), std::string::npos) << "stderr: " << r.err;
  }

  fs::path dir_;
  std::string model_, out_;
};

TEST_F(CompressCli, ExplicitRanksWriteALoadableModelAndJson) {
  const Outcome r = Run({"compress", model_, "-o", out_, "-q", "--json", "--ranks", std::string(kFc) + "=12"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json doc = json::parse(r.out, nullptr, false);
  ASSERT_FALSE(doc.is_discarded()) << r.out;
  for (const char* key : {"layers", "params_before", "params_after", "estimated_accuracy_drop", "timing"})
    EXPECT_TRUE(doc.contains(key)) << key;
  EXPECT_EQ(doc["params_before"].get<int64_t>() - doc["params_after"].get<int64_t>(), 3136 * 128 - 12 * (3136 + 128));
  bool found = false;
  for (const json& l : doc["layers"])
    if (l["name"] == kFc) {
      found = true;
      EXPECT_EQ(l["rank"], 12);
      EXPECT_GT(l["relative_error"].get<double>(), 0.0);
    }
  EXPECT_TRUE(found);
  auto m = Model::Load(out_);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ((*m)->outputs()[0].dtype, DataType::kFloat32);
  auto summary = (*m)->Summarize();
  ASSERT_TRUE(summary.ok());
  EXPECT_EQ(summary->total_params, doc["params_after"].get<int64_t>());
}

TEST_F(CompressCli, AccuracyBoundWithCalibrationPrintsTheReport) {
  const Outcome r = Run({"compress", model_, "-o", out_, "--max-accuracy-drop", "0.02", "--calibration",
                         testing::SourcePath("models/samples/fashion_batch8.npy")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("estimated top-1 drop:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(kFc), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("rlc: "), std::string::npos) << "progress lines expected on stderr: " << r.err;
  EXPECT_TRUE(fs::exists(out_));
}

TEST_F(CompressCli, BadInputsAreClearErrors) {
  ExpectError({"--ranks", std::string(kFc) + "=0,nope=3"}, "no node named 'nope'");
  ExpectError({"--ranks", "/features/features.3/MaxPool=2"}, "cannot be factored");
  ExpectError({"--ranks", std::string(kFc) + "=500"}, "out of range: use 1..128");
  ExpectError({"--ranks", std::string(kFc) + "=-2"}, "negative");
  ExpectError({"--ranks", std::string(kFc) + "=abc"}, "is not an integer");
  ExpectError({"--ranks", "fc1"}, "is not NAME=K");
  ExpectError({"--ranks", std::string(kFc) + "=4,"}, "is not NAME=K");
  ExpectError({"--ranks", std::string(kFc) + "=4," + kFc + "=5"}, "twice");
  ExpectError({"--weight-budget-mb", "0.01"}, "smallest achievable is");
  const std::string bad = (dir_ / "bad.npy").string();
  ASSERT_TRUE(WriteNpyFile(bad, Tensor::Zeros(DataType::kFloat32, {4, 28, 28})).ok());
  ExpectError({"--max-accuracy-drop", "0.01", "--calibration", bad}, "do not fit input 'input'");
  ExpectError({}, "give --max-accuracy-drop, --weight-budget-mb or --ranks", 2);
}

TEST_F(CompressCli, RunAppliesRlcInMemory) {
  const Outcome r = Run({"run", model_, "--max-accuracy-drop", "0.02", "--calibration",
                         testing::SourcePath("models/samples/fashion_batch8.npy"), "--input",
                         "input=" + testing::SourcePath("models/samples/fashion_batch8.npy"), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("estimated top-1 drop"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace deepx
