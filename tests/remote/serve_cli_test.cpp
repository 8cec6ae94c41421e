// `deepx serve` as a subprocess (DEEPX_CLI_PATH): it prints where it listens, serves --models DIR with a token,
// `deepx run --remote` gets the reference's answers through it, curl-free raw requests get 401/4xx, and SIGTERM
// stops it with exit code 0.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "io/npy.h"
#include "test_util.h"

namespace deepx {
namespace {

namespace fs = std::filesystem;

// Runs the CLI, returning its exit code; stdout/stderr go to files.
int RunCli(const std::vector<std::string>& args, const fs::path& log) {
  std::string cmd = testing::ShellQuote(DEEPX_CLI_PATH);
  for (const std::string& a : args) cmd += " " + testing::ShellQuote(a);
  cmd += " > " + testing::ShellQuote(log.string()) + " 2>&1";
  const int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string Slurp(const fs::path& p) {
  std::ifstream f(p);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

class ServeCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("deepx_serve_cli_test_" + std::to_string(getpid()));
    fs::create_directories(dir_ / "models");
    fs::copy_file(testing::SourcePath("models/fashion_mnist_cnn.onnx"), dir_ / "models" / "fashion.onnx");
    token_file_ = (dir_ / "token").string();
    std::ofstream(token_file_) << "cli-test-token\n";
  }
  void TearDown() override {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    fs::remove_all(dir_);
  }

  // Starts `deepx serve` and reads the port from its first line; false if it did not come up.
  bool StartServer(const std::vector<std::string>& extra) {
    int out[2];
    if (pipe(out) != 0) return false;
    std::vector<std::string> args = {DEEPX_CLI_PATH, "serve", "--port", "0", "--models", (dir_ / "models").string(),
                                     "--token-file", token_file_, "--backend", "reference"};
    args.insert(args.end(), extra.begin(), extra.end());
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], STDOUT_FILENO);
      close(out[0]);
      close(out[1]);
      std::vector<char*> argv;
      for (std::string& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(out[1]);
    std::string line;
    char c;
    while (read(out[0], &c, 1) == 1 && c != '\n') line += c;
    close(out[0]);
    const size_t colon = line.rfind("127.0.0.1:");
    if (colon == std::string::npos) {
      ADD_FAILURE() << "unexpected first line: " << line;
      return false;
    }
    port_ = std::stoi(line.substr(colon + 10));
    url_ = "http://127.0.0.1:" + std::to_string(port_);
    return port_ > 0;
  }

  fs::path dir_;
  std::string token_file_, url_;
  pid_t pid_ = -1;
  int port_ = 0;
};

TEST_F(ServeCliTest, ServesADirectoryAndRunMatchesTheReference) {
  ASSERT_TRUE(StartServer({"--allow-upload"}));
  httplib::Client anon("127.0.0.1", port_);
  auto live = anon.Get("/v2/health/live");
  ASSERT_TRUE(live);
  EXPECT_EQ(live->status, 200);
  auto meta = anon.Get("/v2/models/fashion");
  ASSERT_TRUE(meta);
  EXPECT_EQ(meta->status, 401);
  EXPECT_EQ(meta->body.find("fashion"), std::string::npos);
  httplib::Client c("127.0.0.1", port_);
  c.set_bearer_token_auth("cli-test-token");
  auto ok = c.Get("/v2/models/fashion");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(nlohmann::json::parse(ok->body)["inputs"][0]["datatype"], "FP32");
  auto bad = c.Post("/v2/models/fashion/infer", "{\"inputs\": [", "application/json");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);

  // The bundled CNN on real images: through the server (the remote backend uploads the block) and locally.
  const std::string batch = testing::SourcePath("models/samples/fashion_batch8.npy");
  const std::string model = testing::SourcePath("models/fashion_mnist_cnn.onnx");
  ASSERT_EQ(RunCli({"run", model, "--input", "input=" + batch, "--remote", url_, "--token-file", token_file_,
                    "--output", (dir_ / "remote").string()},
                   dir_ / "remote.log"),
            0)
      << Slurp(dir_ / "remote.log");
  ASSERT_EQ(RunCli({"run", model, "--input", "input=" + batch, "--backend", "reference", "--output",
                    (dir_ / "local").string()},
                   dir_ / "local.log"),
            0)
      << Slurp(dir_ / "local.log");
  auto got = ReadNpyFile((dir_ / "remote" / "logits.npy").string());
  auto want = ReadNpyFile((dir_ / "local" / "logits.npy").string());
  ASSERT_TRUE(got.ok() && want.ok());
  ASSERT_EQ(got->shape(), want->shape());
  double diff = 0, scale = 0;
  for (int64_t i = 0; i < want->num_elements(); ++i) {
    diff = std::max(diff, std::abs(got->GetAsDouble(i) - want->GetAsDouble(i)));
    scale = std::max(scale, std::abs(want->GetAsDouble(i)));
  }
  EXPECT_LE(diff / scale, 1e-4);

  // A wrong token fails the run with a clear message and exit code 1.
  const std::string wrong = (dir_ / "wrong").string();
  std::ofstream(wrong) << "nope";
  EXPECT_EQ(RunCli({"run", model, "--remote", url_, "--token-file", wrong}, dir_ / "wrong.log"), 1);
  EXPECT_NE(Slurp(dir_ / "wrong.log").find("UNAUTHENTICATED"), std::string::npos) << Slurp(dir_ / "wrong.log");

  // SIGTERM stops it cleanly.
  ASSERT_EQ(kill(pid_, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid_, &status, 0), pid_);
  pid_ = -1;
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

TEST_F(ServeCliTest, BadArgumentsFailWithAMessage) {
  EXPECT_EQ(RunCli({"serve", "--port", "0", "--models", (dir_ / "nonexistent").string()}, dir_ / "a.log"), 1);
  EXPECT_NE(Slurp(dir_ / "a.log").find("nonexistent"), std::string::npos) << Slurp(dir_ / "a.log");
  EXPECT_EQ(RunCli({"serve", "--port", "0", "--token-file", (dir_ / "no_token").string()}, dir_ / "b.log"), 1);
  EXPECT_NE(Slurp(dir_ / "b.log").find("no_token"), std::string::npos) << Slurp(dir_ / "b.log");
}

}  // namespace
}  // namespace deepx
