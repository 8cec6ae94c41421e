// `deepx run MODEL`: one inference with inputs from files or seeded random data; prints or saves the outputs.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "commands.h"
#include "deepx/deepx.hpp"
#include "input_feeds.h"
#include "io/tensor_file.h"

namespace deepx::cli {
namespace {

using json = nlohmann::json;

struct RunArgs : ModelRunArgs {
  std::string output_dir;
  bool json = false;
  int top_k = 5;
  std::string labels_file;  // class names for top-k: JSON ("class_names" or "labels" list) or one per line
};

// Class names from a JSON file ({"class_names": [...]}, {"labels": [...]} or a bare list) or a text file with one
// name per line.
Result<std::vector<std::string>> LoadLabels(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFound("labels file '" + path + "' cannot be opened");
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  std::vector<std::string> labels;
  const size_t first = text.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && (text[first] == '{' || text[first] == '[')) {
    json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded()) return InvalidArgument("labels file '" + path + "' is not valid JSON");
    const json* list = &doc;
    if (doc.is_object()) {
      if (doc.contains("class_names")) list = &doc["class_names"];
      else if (doc.contains("labels")) list = &doc["labels"];
      else return InvalidArgument("labels file '" + path + "' has no \"class_names\" or \"labels\" list");
    }
    if (!list->is_array()) return InvalidArgument("labels in '" + path + "' must be a list of strings");
    for (const json& v : *list) {
      if (!v.is_string()) return InvalidArgument("labels in '" + path + "' must be a list of strings");
      labels.push_back(v.get<std::string>());
    }
  } else {
    std::string line;
    std::istringstream lines(text);
    while (std::getline(lines, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (!line.empty()) labels.push_back(line);
    }
  }
  if (labels.empty()) return InvalidArgument("labels file '" + path + "' lists no labels");
  return labels;
}

constexpr int kMaxFirstValues = 8;

std::string FormatValue(double v) {
  std::ostringstream os;
  os << std::setprecision(6) << v;
  return os.str();
}

double Milliseconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

bool IsFloat(DataType t) { return t == DataType::kFloat32 || t == DataType::kFloat64; }


struct Stats {
  double min = 0, max = 0, mean = 0;
  int64_t nan_count = 0;
};

Stats ComputeStats(const Tensor& t) {
  Stats s;
  const int64_t n = t.num_elements();
  double sum = 0;
  bool first = true;
  for (int64_t i = 0; i < n; ++i) {
    const double v = t.GetAsDouble(i);
    if (std::isnan(v)) {
      ++s.nan_count;
      continue;
    }
    s.min = first ? v : std::min(s.min, v);
    s.max = first ? v : std::max(s.max, v);
    first = false;
    sum += v;
  }
  const int64_t counted = n - s.nan_count;
  s.mean = counted ? sum / static_cast<double>(counted) : std::nan("");
  return s;
}

struct Ranked {
  int64_t index;
  double prob;
};

// Top-k classes of each row of a [N, C] float output. Rows that are already probability distributions are used
// as they are; others (logits) go through a softmax first.
std::vector<std::vector<Ranked>> TopK(const Tensor& t, int k, bool* applied_softmax) {
  const int64_t rows = t.dim(0), classes = t.dim(1);
  const int64_t keep = std::min<int64_t>(k, classes);
  std::vector<std::vector<Ranked>> result;
  *applied_softmax = false;
  for (int64_t r = 0; r < rows; ++r) {
    std::vector<double> p(static_cast<size_t>(classes));
    double sum = 0;
    bool in_unit = true;
    for (int64_t c = 0; c < classes; ++c) {
      p[c] = t.GetAsDouble(r * classes + c);
      sum += p[c];
      in_unit = in_unit && p[c] >= 0 && p[c] <= 1;
    }
    if (!in_unit || std::abs(sum - 1.0) > 1e-3) {
      *applied_softmax = true;
      const double mx = *std::max_element(p.begin(), p.end());
      double z = 0;
      for (double& v : p) z += (v = std::exp(v - mx));
      for (double& v : p) v /= z;
    }
    std::vector<Ranked> ranked;
    for (int64_t c = 0; c < classes; ++c) ranked.push_back({c, p[c]});
    std::partial_sort(ranked.begin(), ranked.begin() + keep, ranked.end(), [](const Ranked& a, const Ranked& b) {
      return a.prob > b.prob || (a.prob == b.prob && a.index < b.index);
    });
    ranked.resize(static_cast<size_t>(keep));
    result.push_back(std::move(ranked));
  }
  return result;
}

// An output name as a safe file name: no directory separators, no "..".
std::string FileNameFor(const std::string& name) {
  std::string s;
  for (char c : name) s += (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.') ? c : '_';
  if (s.empty() || s.find_first_not_of('.') == std::string::npos) s = "output_" + s;
  return s;
}

json ShapeJson(const Shape& s) { return json(std::vector<int64_t>(s.begin(), s.end())); }

json NumberJson(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

Status Run(const RunArgs& args) {
  using Clock = std::chrono::steady_clock;
  auto t0 = Clock::now();
  DX_ASSIGN_OR_RETURN(std::shared_ptr<const Model> model, LoadModelForRun(args));
  const double load_ms = Milliseconds(Clock::now() - t0);

  SessionOptions options = SessionOptionsFor(args);
  t0 = Clock::now();
  DX_ASSIGN_OR_RETURN(std::unique_ptr<Session> session, Session::Create(model, options));
  const double session_ms = Milliseconds(Clock::now() - t0);

  std::vector<std::string> labels;
  if (!args.labels_file.empty()) {
    DX_ASSIGN_OR_RETURN(labels, LoadLabels(args.labels_file));
  }
  DX_ASSIGN_OR_RETURN(std::vector<Feed> feeds, LoadFeeds(*model, args.inputs, args.input_shapes, args.seed));
  std::vector<std::pair<std::string, Tensor>> named;
  for (const Feed& f : feeds) named.emplace_back(f.name, f.tensor);
  t0 = Clock::now();
  DX_ASSIGN_OR_RETURN(std::vector<Tensor> outputs, session->Run(named));
  const double run_ms = Milliseconds(Clock::now() - t0);

  std::vector<std::string> written(outputs.size());
  if (!args.output_dir.empty()) {
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::create_directories(args.output_dir, ec);
    if (ec) return IoError("cannot create output directory '" + args.output_dir + "': " + ec.message());
    for (size_t i = 0; i < outputs.size(); ++i) {
      written[i] = (fs::path(args.output_dir) / (FileNameFor(model->outputs()[i].name) + ".npy")).string();
      DX_RETURN_IF_ERROR(SaveTensorFile(written[i], outputs[i]));
    }
  }

  json doc;
  std::ostringstream text;
  doc["model"] = args.model;
  doc["producer"] = model->producer();
  doc["opset"] = model->opset();
  doc["backend"] = options.backend;
  text << "model: " << args.model << " (producer '" << model->producer() << "', opset " << model->opset() << ")\n"
       << "backend: " << options.backend << "\n"
       << "inputs:\n";
  doc["inputs"] = json::array();
  for (const Feed& f : feeds) {
    doc["inputs"].push_back({{"name", f.name}, {"dtype", DataTypeName(f.tensor.dtype())},
                             {"shape", ShapeJson(f.tensor.shape())}, {"source", f.source}});
    text << "  " << f.name << ": " << DataTypeName(f.tensor.dtype()) << " " << ShapeToString(f.tensor.shape())
         << (f.source == "random"  ? " random (seed " + std::to_string(args.seed) + ")"
             : f.source == "zeros" ? " zeros"
                                   : " from '" + f.source + "'")
         << "\n";
  }
  text << "outputs:\n";
  doc["outputs"] = json::array();
  for (size_t i = 0; i < outputs.size(); ++i) {
    const Tensor& t = outputs[i];
    const std::string& name = model->outputs()[i].name;
    json out = {{"name", name}, {"dtype", DataTypeName(t.dtype())}, {"shape", ShapeJson(t.shape())}};
    text << "  " << name << ": " << DataTypeName(t.dtype()) << " " << ShapeToString(t.shape()) << "\n";
    const int64_t n = t.num_elements();
    if (n > 0) {
      const Stats s = ComputeStats(t);
      out["stats"] = {{"min", NumberJson(s.min)}, {"max", NumberJson(s.max)}, {"mean", NumberJson(s.mean)},
                      {"nan_count", s.nan_count}};
      text << "    min " << FormatValue(s.min) << "  max " << FormatValue(s.max) << "  mean " << FormatValue(s.mean)
           << (s.nan_count ? "  NaNs " + std::to_string(s.nan_count) : "") << "\n";
    }
    json first = json::array();
    text << "    values:";
    for (int64_t j = 0; j < std::min<int64_t>(n, kMaxFirstValues); ++j) {
      first.push_back(NumberJson(t.GetAsDouble(j)));
      text << (j ? ", " : " ") << FormatValue(t.GetAsDouble(j));
    }
    text << (n > kMaxFirstValues ? ", ... (" + std::to_string(n) + " values)" : "") << "\n";
    out["first_values"] = first;
    if (args.top_k > 0 && IsFloat(t.dtype()) && t.rank() == 2 && t.dim(1) > 1 && t.dim(0) > 0) {
      bool softmax = false;
      auto rows = TopK(t, args.top_k, &softmax);
      json topk = json::array();
      text << "    top-" << rows[0].size() << (softmax ? " (softmax of the values)" : " (values are probabilities)")
           << ":\n";
      for (size_t r = 0; r < rows.size(); ++r) {
        json row = json::array();
        text << "      row " << r << ":";
        for (size_t j = 0; j < rows[r].size(); ++j) {
          const int64_t index = rows[r][j].index;
          const bool named = index < static_cast<int64_t>(labels.size());
          json entry = {{"index", index}, {"prob", NumberJson(rows[r][j].prob)}};
          if (named) entry["label"] = labels[static_cast<size_t>(index)];
          row.push_back(entry);
          text << (j ? ", " : " ") << index;
          if (named) text << " " << labels[static_cast<size_t>(index)];
          text << " (" << std::fixed << std::setprecision(4) << rows[r][j].prob << std::defaultfloat << ")";
        }
        text << "\n";
        topk.push_back(row);
      }
      out["topk"] = topk;
      out["topk_softmax_applied"] = softmax;
    }
    if (!written[i].empty()) {
      out["file"] = written[i];
      text << "    saved to " << written[i] << "\n";
    }
    doc["outputs"].push_back(out);
  }
  doc["timing"] = {{"load_ms", load_ms}, {"session_ms", session_ms}, {"first_run_ms", run_ms}};
  text << "timing: load " << std::fixed << std::setprecision(2) << load_ms << " ms, session " << session_ms
       << " ms, first run " << run_ms << " ms\n";

  if (args.json) std::cout << doc.dump(2) << "\n";
  else std::cout << text.str();
  return Status::Ok();
}

}  // namespace

void AddRunCommand(CLI::App& app) {
  auto args = std::make_shared<RunArgs>();
  auto* cmd = app.add_subcommand("run", "Run one inference and print (or save) the outputs");
  cmd->footer(
      "Inputs not given with --input get random data: floats uniform in [0, 1) from --seed, integers zero,\n"
      "dynamic dimensions 1. Outputs shaped [N, C] also show their top-k classes.\n"
      "Exit codes: 0 success, 1 model/input/runtime error, 2 usage error.");
  AddModelRunOptions(cmd, args.get());
  cmd->add_option("-o,--output", args->output_dir, "Write each output to DIR/<output name>.npy")->type_name("DIR");
  cmd->add_flag("--json", args->json, "Print one JSON object instead of text");
  cmd->add_option("--top-k", args->top_k, "Classes to show per row of [N, C] outputs (0: none)")
      ->check(CLI::Range(0, 1 << 20))
      ->capture_default_str();
  cmd->add_option("--labels", args->labels_file,
                  "Class names for top-k: JSON with a \"class_names\" or \"labels\" list, or one name per line")
      ->type_name("FILE");
  cmd->callback([args] {
    Status s = Run(*args);
    if (!s.ok()) {
      std::cerr << "deepx run: error: " << s.ToString() << "\n";
      SetExitCode(1);
      return;
    }
    SetExitCode(0);
  });
}

}  // namespace deepx::cli
