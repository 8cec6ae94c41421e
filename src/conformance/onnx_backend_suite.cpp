#include "conformance/onnx_backend_suite.h"

#include <onnx/onnx_pb.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "onnx/tensor_proto.h"
#include "ops/op.h"

namespace deepx::conformance {
namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

Result<std::string> ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return IoError("cannot open '" + path.string() + "'");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return IoError("reading '" + path.string() + "' failed");
  return ss.str();
}

// Files or folders named <prefix><N><suffix> in `dir`, ordered by N (so input_10 follows input_9).
std::vector<fs::path> NumberedEntries(const fs::path& dir, const std::string& prefix, const std::string& suffix) {
  std::vector<std::pair<long, fs::path>> found;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() <= prefix.size() + suffix.size() || name.compare(0, prefix.size(), prefix) != 0 ||
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0)
      continue;
    const std::string digits = name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
    if (digits.size() > 9 || !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
      continue;
    found.emplace_back(std::stol(digits), entry.path());
  }
  std::sort(found.begin(), found.end());
  std::vector<fs::path> paths;
  for (auto& f : found) paths.push_back(std::move(f.second));
  return paths;
}

struct Outcome {
  TestStatus status = TestStatus::kPassed;
  std::string message;
};

// kUnimplemented is DeepX declining a valid model: "unsupported". Every other error is a failure.
Outcome Classify(const Status& s, const std::string& context) {
  return {s.code() == StatusCode::kUnimplemented ? TestStatus::kUnsupported : TestStatus::kFailed,
          context + ": " + s.ToString()};
}

Outcome Failed(std::string message) { return {TestStatus::kFailed, std::move(message)}; }

struct NamedTensor {
  std::string proto_name;
  Tensor tensor;
};

Result<NamedTensor> ReadTestTensor(const fs::path& path, const std::string& what) {
  DX_ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
  onnx::TensorProto proto;
  if (bytes.size() > static_cast<size_t>(INT32_MAX) || !proto.ParseFromString(bytes))
    return InvalidArgument(what + ": not a TensorProto (sequence/optional test data is not supported)");
  DX_ASSIGN_OR_RETURN(Tensor t, TensorFromProto(proto, what));
  return NamedTensor{proto.name(), std::move(t)};
}

// Pairs input_N.pb files with model inputs: by the TensorProto name when it names a model input, else by position.
// Position counts among Model::inputs(), which already leaves out initializers that some models list as inputs.
Result<std::vector<std::pair<std::string, Tensor>>> MatchInputs(const std::vector<TensorSpec>& specs,
                                                                std::vector<NamedTensor> files,
                                                                const std::string& set_name) {
  if (files.size() != specs.size())
    return InvalidArgument(set_name + " has " + std::to_string(files.size()) + " input files but the model has " +
                           std::to_string(specs.size()) + " inputs");
  std::vector<std::pair<std::string, Tensor>> feeds;
  std::set<std::string> used;
  std::set<std::string> spec_names;
  for (const auto& s : specs) spec_names.insert(s.name);
  for (size_t i = 0; i < files.size(); ++i) {
    std::string name = files[i].proto_name;
    if (name.empty() || !spec_names.count(name) || used.count(name)) name = specs[i].name;
    if (used.count(name))
      return InvalidArgument(set_name + ": input_" + std::to_string(i) + ".pb maps to input '" + name +
                             "' which is already fed");
    used.insert(name);
    feeds.emplace_back(name, std::move(files[i].tensor));
  }
  return feeds;
}

Outcome RunTestBody(const fs::path& dir, const SuiteOptions& options, Clock::time_point start, int* data_sets) {
  auto model = Model::Load((dir / "model.onnx").string(), options.load);
  if (!model.ok()) return Classify(model.status(), "loading model");
  auto session = Session::Create(*model, options.session);
  if (!session.ok()) return Classify(session.status(), "creating session");

  const auto sets = NumberedEntries(dir, "test_data_set_", "");
  if (sets.empty()) return Failed("no test_data_set_* folders in " + dir.string());
  for (const fs::path& set : sets) {
    const std::string set_name = set.filename().string();
    std::vector<NamedTensor> in_files;
    for (const fs::path& p : NumberedEntries(set, "input_", ".pb")) {
      auto t = ReadTestTensor(p, set_name + "/" + p.filename().string());
      if (!t.ok()) return Classify(t.status(), "reading test data");
      in_files.push_back(std::move(*t));
    }
    auto feeds = MatchInputs((*model)->inputs(), std::move(in_files), set_name);
    if (!feeds.ok()) return Failed(feeds.status().message());
    auto outputs = (*session)->Run(*feeds);
    if (!outputs.ok()) return Classify(outputs.status(), "running " + set_name);

    const auto out_files = NumberedEntries(set, "output_", ".pb");
    if (out_files.size() != outputs->size())
      return Failed(set_name + ": the model produced " + std::to_string(outputs->size()) + " outputs, the test has " +
                    std::to_string(out_files.size()));
    for (size_t i = 0; i < out_files.size(); ++i) {
      const std::string what = set_name + "/" + out_files[i].filename().string();
      auto expected = ReadTestTensor(out_files[i], what);
      // The model ran, so an expected output DeepX cannot even represent means a wrong result, not "unsupported".
      if (!expected.ok()) return Failed("reading expected output: " + expected.status().ToString());
      const auto& specs = (*model)->outputs();
      const std::string out_name = i < specs.size() ? specs[i].name : std::to_string(i);
      CompareResult cmp = CompareTensors(expected->tensor, (*outputs)[i], options.compare);
      if (!cmp.match) return Failed(set_name + " output " + std::to_string(i) + " '" + out_name + "': " + cmp.message);
    }
    ++*data_sets;
    if (SecondsSince(start) > options.time_limit_s)
      return Failed("over the time cap: " + std::to_string(SecondsSince(start)) + " s after " + set_name);
  }
  return {};
}

void CollectOps(const onnx::GraphProto& g, std::vector<std::string>& ops, std::set<std::string>& seen) {
  for (const auto& n : g.node()) {
    const std::string& d = n.domain();
    std::string op = (d.empty() || d == "ai.onnx") ? n.op_type() : d + "." + n.op_type();
    if (seen.insert(op).second) ops.push_back(op);
    for (const auto& a : n.attribute()) {
      if (a.has_g()) CollectOps(a.g(), ops, seen);
      for (const auto& sub : a.graphs()) CollectOps(sub, ops, seen);
    }
  }
}

std::string Normalize(const std::string& s) {
  std::string out;
  for (char c : s)
    if (std::isalnum(static_cast<unsigned char>(c))) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string FormatValue(const Tensor& t, int64_t i) {
  switch (t.dtype()) {
    case DataType::kFloat32:
    case DataType::kFloat64: {
      std::ostringstream ss;
      ss.precision(9);
      ss << t.GetAsDouble(i);
      return ss.str();
    }
    default: return std::to_string(t.GetAsInt64(i));
  }
}

// The multi-index of flat element i, e.g. "[0, 2, 1]", so a mismatch can be located in the tensor.
std::string IndexString(const Shape& shape, int64_t i) {
  std::vector<int64_t> idx(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    if (shape[d] > 0) {
      idx[d] = i % shape[d];
      i /= shape[d];
    }
  }
  return ShapeToString(idx);
}

// --- Child-process isolation -------------------------------------------------------------------------------

void AppendPod(std::string& buf, const void* p, size_t n) { buf.append(static_cast<const char*>(p), n); }

std::string SerializeOutcome(const TestCaseResult& r) {
  std::string buf;
  int32_t status = static_cast<int32_t>(r.status);
  int32_t sets = r.data_sets;
  uint32_t len = static_cast<uint32_t>(r.message.size());
  AppendPod(buf, &status, sizeof status);
  AppendPod(buf, &r.seconds, sizeof r.seconds);
  AppendPod(buf, &sets, sizeof sets);
  AppendPod(buf, &len, sizeof len);
  buf += r.message;
  return buf;
}

bool DeserializeOutcome(const std::string& buf, TestCaseResult& r) {
  const size_t header = sizeof(int32_t) * 2 + sizeof(double) + sizeof(uint32_t);
  if (buf.size() < header) return false;
  int32_t status, sets;
  uint32_t len;
  size_t off = 0;
  std::memcpy(&status, buf.data() + off, sizeof status), off += sizeof status;
  std::memcpy(&r.seconds, buf.data() + off, sizeof r.seconds), off += sizeof r.seconds;
  std::memcpy(&sets, buf.data() + off, sizeof sets), off += sizeof sets;
  std::memcpy(&len, buf.data() + off, sizeof len), off += sizeof len;
  if (status < 0 || status > 2 || buf.size() != off + len) return false;
  r.status = static_cast<TestStatus>(status);
  r.data_sets = sets;
  r.message = buf.substr(off);
  return true;
}

void WriteAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

// The last lines a crashing child wrote to stderr (an assertion or sanitizer report) say where it crashed.
std::string StderrTail(const std::string& err) {
  constexpr size_t kMax = 1500;
  std::string tail = err.size() > kMax ? "..." + err.substr(err.size() - kMax) : err;
  while (!tail.empty() && (tail.back() == '\n' || tail.back() == ' ')) tail.pop_back();
  return tail;
}

TestCaseResult RunIsolated(const std::string& dir, const std::string& suite, const SuiteOptions& options,
                           TestCaseResult base) {
  int out_pipe[2], err_pipe[2];
  if (pipe(out_pipe) != 0) return RunBackendTest(dir, suite, options);
  if (pipe(err_pipe) != 0) {
    close(out_pipe[0]), close(out_pipe[1]);
    return RunBackendTest(dir, suite, options);
  }
  const auto start = Clock::now();
  pid_t pid = fork();
  if (pid < 0) {
    close(out_pipe[0]), close(out_pipe[1]), close(err_pipe[0]), close(err_pipe[1]);
    return RunBackendTest(dir, suite, options);
  }
  if (pid == 0) {
    close(out_pipe[0]);
    close(err_pipe[0]);
    dup2(err_pipe[1], STDERR_FILENO);
    TestCaseResult r = RunBackendTest(dir, suite, options);
    WriteAll(out_pipe[1], SerializeOutcome(r));
    _exit(0);  // no atexit handlers or stdio flushes: they belong to the parent
  }
  close(out_pipe[1]);
  close(err_pipe[1]);

  std::string out, err;
  bool timed_out = false;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  int open_fds = 2;
  char chunk[4096];
  while (open_fds > 0) {
    const double left = options.time_limit_s - SecondsSince(start);
    if (left <= 0) {
      timed_out = true;
      break;
    }
    int ready = poll(fds, 2, static_cast<int>(std::min(left * 1000.0, 1e9)) + 1);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) break;
    for (int k = 0; k < 2; ++k) {
      if (fds[k].fd < 0 || !(fds[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = read(fds[k].fd, chunk, sizeof chunk);
      if (n > 0) {
        std::string& dst = k == 0 ? out : err;
        dst.append(chunk, static_cast<size_t>(n));
        if (k == 1 && err.size() > (1 << 20)) err.erase(0, err.size() - 4096);  // keep the tail only
      } else if (n == 0 || errno != EINTR) {
        close(fds[k].fd);
        fds[k].fd = -1;
        --open_fds;
      }
    }
  }
  if (timed_out) kill(pid, SIGKILL);
  for (auto& f : fds)
    if (f.fd >= 0) close(f.fd);
  int wstatus = 0;
  while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }

  TestCaseResult r = std::move(base);
  r.seconds = SecondsSince(start);
  if (timed_out) {
    r.status = TestStatus::kFailed;
    r.message = "timed out: killed after " + std::to_string(static_cast<int>(options.time_limit_s)) + " s";
    return r;
  }
  if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0 && DeserializeOutcome(out, r)) return r;
  r.status = TestStatus::kFailed;
  if (WIFSIGNALED(wstatus)) {
    const int sig = WTERMSIG(wstatus);
    r.message = "crashed with signal " + std::to_string(sig) + " (" + strsignal(sig) + ")";
  } else {
    r.message = "test process exited with code " + std::to_string(WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1) +
                " without a result";
  }
  const std::string tail = StderrTail(err);
  if (!tail.empty()) r.message += "; stderr: " + tail;
  return r;
}

// --- Report writers ----------------------------------------------------------------------------------------

nlohmann::ordered_json CountsJson(const StatusCounts& c) {
  return {{"passed", c.passed}, {"failed", c.failed}, {"unsupported", c.unsupported}};
}

std::string XmlEscape(const std::string& s) {
  std::string out;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        if (c < 0x20 && c != '\n' && c != '\t' && c != '\r') out += ' ';  // not allowed in XML 1.0
        else out += ch;
    }
  }
  return out;
}

}  // namespace

std::vector<std::string> DefaultSuites() { return {"node", "pytorch-converted", "pytorch-operator", "simple"}; }

const char* TestStatusName(TestStatus s) {
  switch (s) {
    case TestStatus::kPassed: return "passed";
    case TestStatus::kFailed: return "failed";
    case TestStatus::kUnsupported: return "unsupported";
  }
  return "?";
}

void StatusCounts::Add(TestStatus s) {
  switch (s) {
    case TestStatus::kPassed: ++passed; break;
    case TestStatus::kFailed: ++failed; break;
    case TestStatus::kUnsupported: ++unsupported; break;
  }
}

CompareResult CompareTensors(const Tensor& expected, const Tensor& actual, const CompareOptions& options) {
  if (expected.dtype() != actual.dtype())
    return {false, std::string("dtype ") + DataTypeName(actual.dtype()) + ", expected " +
                       DataTypeName(expected.dtype())};
  if (expected.shape() != actual.shape())
    return {false, "shape " + ShapeToString(actual.shape()) + ", expected " + ShapeToString(expected.shape())};
  if (!actual.is_host() || (actual.num_elements() > 0 && actual.raw_data() == nullptr))
    return {false, "output is not a host tensor"};

  const bool floating = expected.dtype() == DataType::kFloat32 || expected.dtype() == DataType::kFloat64;
  const int64_t n = expected.num_elements();
  int64_t bad = 0, first_bad = -1;
  double max_abs_err = 0;
  for (int64_t i = 0; i < n; ++i) {
    bool ok;
    if (floating) {
      const double e = expected.GetAsDouble(i), a = actual.GetAsDouble(i);
      if (std::isnan(e) || std::isnan(a)) {
        ok = std::isnan(e) && std::isnan(a);
      } else if (std::isinf(e) || std::isinf(a)) {
        ok = e == a;
      } else {
        const double err = std::fabs(a - e);
        ok = err <= options.atol + options.rtol * std::fabs(e);
        if (!ok) max_abs_err = std::max(max_abs_err, err);
      }
    } else {
      ok = expected.GetAsInt64(i) == actual.GetAsInt64(i);
    }
    if (!ok) {
      if (first_bad < 0) first_bad = i;
      ++bad;
    }
  }
  if (bad == 0) return {};
  std::string msg = std::to_string(bad) + " of " + std::to_string(n) + " elements differ; first at " +
                    IndexString(expected.shape(), first_bad) + ": got " + FormatValue(actual, first_bad) +
                    ", expected " + FormatValue(expected, first_bad);
  if (floating && max_abs_err > 0) {
    std::ostringstream ss;
    ss.precision(3);
    ss << "; max abs error " << max_abs_err << " (rtol " << options.rtol << ", atol " << options.atol << ")";
    msg += ss.str();
  }
  return {false, msg};
}

Result<std::vector<std::string>> ModelOpTypes(const std::string& model_path) {
  DX_ASSIGN_OR_RETURN(std::string bytes, ReadFile(model_path));
  onnx::ModelProto model;
  if (bytes.size() > static_cast<size_t>(INT32_MAX) || !model.ParseFromString(bytes))
    return InvalidArgument("'" + model_path + "' is not a valid ONNX model");
  std::vector<std::string> ops;
  std::set<std::string> seen;
  CollectOps(model.graph(), ops, seen);
  return ops;
}

std::string PrimaryOpOf(const std::string& test_name, const std::vector<std::string>& op_types,
                        const std::vector<std::string>& vocabulary) {
  std::string stripped = test_name;
  for (const char* prefix : {"test_", "operator_"})
    if (stripped.rfind(prefix, 0) == 0) stripped = stripped.substr(std::strlen(prefix));
  const std::string name = Normalize(stripped);
  auto bare = [](const std::string& op) { return op.substr(op.rfind('.') == std::string::npos ? 0 : op.rfind('.') + 1); };

  // Abbreviations the ONNX and PyTorch test names use for an op.
  static const std::pair<const char*, const char*> kAliases[] = {
      {"avgpool", "AveragePool"}, {"batchnorm", "BatchNormalization"}, {"nllloss", "NegativeLogLikelihoodLoss"},
      {"sce", "SoftmaxCrossEntropyLoss"}, {"layernorm", "LayerNormalization"}};

  // The longest op type of the model the name starts with: "reducesumsquare..." is ReduceSumSquare, not ReduceSum.
  std::string best;
  size_t best_len = 0;
  for (const auto& op : op_types) {
    const std::string o = Normalize(bare(op));
    if (!o.empty() && name.rfind(o, 0) == 0 && o.size() > best_len) best = op, best_len = o.size();
  }
  // An "_expanded" model no longer contains the op it stands for (LayerNormalization): look the name up in the
  // vocabulary too, but only whole words of it ("test_single_relu_model" is not about Sin).
  std::set<std::string> word_prefixes;
  std::string acc;
  for (size_t i = 0; i <= stripped.size(); ++i) {
    if (i == stripped.size() || stripped[i] == '_') word_prefixes.insert(acc);
    else acc += Normalize(std::string(1, stripped[i]));
  }
  for (const auto& op : vocabulary) {
    const std::string o = Normalize(bare(op));
    if (op != "Constant" && word_prefixes.count(o) && o.size() > best_len) best = op, best_len = o.size();
  }
  if (!best.empty()) return best;
  for (const auto& [alias, op] : kAliases)
    if (name.rfind(alias, 0) == 0) return op;
  // Other abbreviations ("batchnorm" for BatchNormalization): the longest common prefix of at least 4 letters.
  for (const auto& op : op_types) {
    const std::string o = Normalize(bare(op));
    size_t k = 0;
    while (k < o.size() && k < name.size() && o[k] == name[k]) ++k;
    if (k >= 4 && k > best_len) best = op, best_len = k;
  }
  if (!best.empty()) return best;
  // Names like "test_Linear" or "test_PixelShuffle" name a module, not an op: use the model's first op that
  // computes something (Constant nodes only feed it).
  for (const auto& op : op_types)
    if (op != "Constant") return op;
  return op_types.empty() ? "" : op_types.front();
}

TestCaseResult RunBackendTest(const std::string& dir, const std::string& suite, const SuiteOptions& options) {
  TestCaseResult r;
  r.suite = suite;
  r.dir = dir;
  r.name = fs::path(dir).filename().string();
  auto ops = ModelOpTypes((fs::path(dir) / "model.onnx").string());
  if (ops.ok()) r.op_types = std::move(*ops);
  r.primary_op = PrimaryOpOf(r.name, r.op_types, OpRegistry::Default().Names());
  const auto start = Clock::now();
  Outcome o = RunTestBody(dir, options, start, &r.data_sets);
  r.seconds = SecondsSince(start);
  r.status = o.status;
  r.message = std::move(o.message);
  return r;
}

Result<SuiteReport> RunBackendSuite(const SuiteOptions& options) {
  SuiteReport report;
  report.data_root = options.data_root;
  std::error_code ec;
  if (!fs::is_directory(options.data_root, ec))
    return NotFound("ONNX backend test data not found at '" + options.data_root +
                    "' (install the Debian package libonnx-testdata, or pass the data folder)");
  const auto suites = options.suites.empty() ? DefaultSuites() : options.suites;
  std::vector<std::pair<std::string, std::string>> tests;  // (suite, dir)
  for (const auto& suite : suites) {
    const fs::path suite_dir = fs::path(options.data_root) / suite;
    if (!fs::is_directory(suite_dir, ec))
      return NotFound("suite '" + suite + "' not found: no folder '" + suite_dir.string() + "'");
    std::vector<std::string> dirs;
    for (const auto& entry : fs::directory_iterator(suite_dir, ec)) {
      const std::string name = entry.path().filename().string();
      if (!entry.is_directory(ec) || !fs::exists(entry.path() / "model.onnx", ec)) continue;
      if (!options.filter.empty() && name.find(options.filter) == std::string::npos) continue;
      dirs.push_back(entry.path().string());
    }
    std::sort(dirs.begin(), dirs.end());
    for (auto& d : dirs) tests.emplace_back(suite, std::move(d));
  }

  // Op types first, for all tests: their union is the vocabulary that names the op of an "_expanded" test.
  std::vector<TestCaseResult> bases;
  std::vector<std::string> vocabulary = OpRegistry::Default().Names();
  std::set<std::string> known(vocabulary.begin(), vocabulary.end());
  for (const auto& [suite, dir] : tests) {
    TestCaseResult base;
    base.suite = suite;
    base.dir = dir;
    base.name = fs::path(dir).filename().string();
    auto ops = ModelOpTypes((fs::path(dir) / "model.onnx").string());
    if (ops.ok()) base.op_types = std::move(*ops);
    for (const auto& op : base.op_types)
      if (known.insert(op).second) vocabulary.push_back(op);
    bases.push_back(std::move(base));
  }

  const auto start = Clock::now();
  for (TestCaseResult& base : bases) {
    base.primary_op = PrimaryOpOf(base.name, base.op_types, vocabulary);
    TestCaseResult r;
    if (options.isolate) {
      r = RunIsolated(base.dir, base.suite, options, base);
    } else {
      r = RunBackendTest(base.dir, base.suite, options);
      r.primary_op = base.primary_op;
    }
    if (options.on_result) options.on_result(r);
    report.tests.push_back(std::move(r));
  }
  report.seconds = SecondsSince(start);
  Aggregate(report);
  return report;
}

void Aggregate(SuiteReport& report) {
  report.totals = {};
  report.by_op.clear();
  report.by_primary_op.clear();
  for (const auto& t : report.tests) {
    report.totals.Add(t.status);
    for (const auto& op : t.op_types) report.by_op[op].Add(t.status);
    report.by_primary_op[t.primary_op.empty() ? "(unparsed model)" : t.primary_op].Add(t.status);
  }
}

std::string ReportToJson(const SuiteReport& report) {
  nlohmann::ordered_json j;
  j["passed"] = report.totals.passed;
  j["failed"] = report.totals.failed;
  j["unsupported"] = report.totals.unsupported;
  j["total"] = report.totals.total();
  j["data_root"] = report.data_root;
  j["seconds"] = report.seconds;
  nlohmann::ordered_json ops = nlohmann::ordered_json::object();
  for (const auto& [op, c] : report.by_op) {
    ops[op] = CountsJson(c);
    auto it = report.by_primary_op.find(op);
    ops[op]["primary"] = CountsJson(it == report.by_primary_op.end() ? StatusCounts{} : it->second);
  }
  j["ops"] = std::move(ops);
  nlohmann::ordered_json primary = nlohmann::ordered_json::object();
  for (const auto& [op, c] : report.by_primary_op) primary[op] = CountsJson(c);
  j["primary_ops"] = std::move(primary);
  nlohmann::ordered_json tests = nlohmann::ordered_json::array();
  for (const auto& t : report.tests) {
    tests.push_back({{"suite", t.suite},
                     {"name", t.name},
                     {"status", TestStatusName(t.status)},
                     {"message", t.message},
                     {"primary_op", t.primary_op},
                     {"ops", t.op_types},
                     {"seconds", t.seconds},
                     {"data_sets", t.data_sets}});
  }
  j["tests"] = std::move(tests);
  // Messages may quote bytes from the model or a crash report: replace invalid UTF-8 instead of throwing.
  return j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

std::string ReportToJUnitXml(const SuiteReport& report) {
  std::map<std::string, std::vector<const TestCaseResult*>> by_suite;
  std::vector<std::string> order;
  for (const auto& t : report.tests) {
    if (!by_suite.count(t.suite)) order.push_back(t.suite);
    by_suite[t.suite].push_back(&t);
  }
  std::ostringstream x;
  x << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  x << "<testsuites name=\"onnx-backend\" tests=\"" << report.totals.total() << "\" failures=\""
    << report.totals.failed << "\" skipped=\"" << report.totals.unsupported << "\" time=\"" << report.seconds
    << "\">\n";
  for (const auto& suite : order) {
    const auto& tests = by_suite[suite];
    StatusCounts c;
    double seconds = 0;
    for (const auto* t : tests) c.Add(t->status), seconds += t->seconds;
    x << "  <testsuite name=\"" << XmlEscape(suite) << "\" tests=\"" << c.total() << "\" failures=\"" << c.failed
      << "\" skipped=\"" << c.unsupported << "\" time=\"" << seconds << "\">\n";
    for (const auto* t : tests) {
      x << "    <testcase classname=\"onnx." << XmlEscape(suite) << "\" name=\"" << XmlEscape(t->name)
        << "\" time=\"" << t->seconds << "\"";
      if (t->status == TestStatus::kPassed) {
        x << "/>\n";
        continue;
      }
      x << ">\n";
      if (t->status == TestStatus::kFailed)
        x << "      <failure message=\"" << XmlEscape(t->message) << "\"/>\n";
      else
        x << "      <skipped message=\"" << XmlEscape(t->message) << "\"/>\n";
      x << "    </testcase>\n";
    }
    x << "  </testsuite>\n";
  }
  x << "</testsuites>\n";
  return x.str();
}

}  // namespace deepx::conformance
