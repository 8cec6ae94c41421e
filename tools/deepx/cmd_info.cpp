// `deepx info MODEL`: the model's interface and a per-layer table of shapes, parameters, FLOPs and bytes.
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "commands.h"
#include "deepx/deepx.hpp"

namespace deepx::cli {
namespace {

using json = nlohmann::json;

struct InfoArgs {
  std::string model;
  bool json = false;
  std::vector<std::string> input_shapes;  // NAME=D0,D1,...
};

std::string DeclaredShape(const Shape& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += shape[i] < 0 ? "?" : std::to_string(shape[i]);
  }
  return s + "]";
}

// 1234567 -> "1.23M": FLOPs and bytes span many orders of magnitude and exact counts are in --json.
std::string Human(double v) {
  const char* units[] = {"", "K", "M", "G", "T", "P"};
  int u = 0;
  while (v >= 1000 && u < 5) {
    v /= 1000;
    ++u;
  }
  char buf[32];
  if (u == 0) std::snprintf(buf, sizeof(buf), "%.0f", v);
  else std::snprintf(buf, sizeof(buf), "%.2f%s", v, units[u]);
  return buf;
}

Result<int64_t> ParseDim(const std::string& text, const std::string& arg) {
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos)
    return InvalidArgument("--input-shape '" + arg + "': '" + text + "' is not a positive integer");
  int64_t v = 0;
  for (char c : text) {
    if (v > (std::numeric_limits<int64_t>::max() - (c - '0')) / 10)
      return InvalidArgument("--input-shape '" + arg + "': dimension '" + text + "' is too large");
    v = v * 10 + (c - '0');
  }
  if (v == 0) return InvalidArgument("--input-shape '" + arg + "': dimensions must be positive");
  return v;
}

// Parses NAME=D0,D1,... options into concrete input shapes, checked against the declared ones.
Result<std::map<std::string, Shape>> ParseInputShapes(const Model& model, const std::vector<std::string>& args) {
  std::map<std::string, Shape> shapes;
  for (const std::string& arg : args) {
    const size_t eq = arg.find('=');
    if (eq == std::string::npos || eq == 0)
      return InvalidArgument("--input-shape '" + arg + "': expected NAME=D0,D1,... (e.g. input=1,3,224,224)");
    const std::string name = arg.substr(0, eq);
    const TensorSpec* spec = nullptr;
    for (const TensorSpec& s : model.inputs())
      if (s.name == name) spec = &s;
    if (spec == nullptr) {
      std::string known;
      for (const TensorSpec& s : model.inputs()) known += (known.empty() ? "'" : ", '") + s.name + "'";
      return NotFound("--input-shape '" + arg + "': the model has no input named '" + name + "' (inputs: " + known +
                      ")");
    }
    if (shapes.count(name)) return InvalidArgument("--input-shape: input '" + name + "' is given twice");
    Shape shape;
    const std::string dims = arg.substr(eq + 1);
    if (!dims.empty()) {
      size_t start = 0;
      while (true) {
        const size_t comma = dims.find(',', start);
        DX_ASSIGN_OR_RETURN(int64_t d, ParseDim(dims.substr(start, comma - start), arg));
        shape.push_back(d);
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
    }
    bool agrees = shape.size() == spec->shape.size();
    for (size_t i = 0; agrees && i < shape.size(); ++i) agrees = spec->shape[i] < 0 || spec->shape[i] == shape[i];
    if (!agrees)
      return InvalidArgument("--input-shape '" + arg + "': shape " + ShapeToString(shape) +
                             " does not fit the declared " + DeclaredShape(spec->shape));
    shapes[name] = shape;
  }
  return shapes;
}

std::string ShapesText(const std::vector<Shape>& shapes) {
  std::string s;
  for (const Shape& sh : shapes) s += (s.empty() ? "" : " ") + ShapeToString(sh);
  return s;
}

json SpecJson(const TensorSpec& s) {
  return {{"name", s.name}, {"dtype", DataTypeName(s.dtype)}, {"shape", std::vector<int64_t>(s.shape)}};
}

Status Info(const InfoArgs& args) {
  DX_ASSIGN_OR_RETURN(std::shared_ptr<const Model> model, Model::Load(args.model));
  DX_ASSIGN_OR_RETURN(auto shapes, ParseInputShapes(*model, args.input_shapes));
  auto summary_or = model->Summarize(shapes);
  if (!summary_or.ok()) return summary_or.status().WithContext("summarising '" + args.model + "'");
  const ModelSummary& summary = *summary_or;

  // The concrete shapes the table was computed for: given ones, else declared with dynamic dims 1.
  std::vector<std::pair<std::string, Shape>> used;
  for (const TensorSpec& s : model->inputs()) {
    Shape shape = s.shape;
    if (shapes.count(s.name)) shape = shapes[s.name];
    for (int64_t& d : shape)
      if (d < 0) d = 1;
    used.emplace_back(s.name, shape);
  }

  if (args.json) {
    json doc;
    doc["model"] = args.model;
    doc["producer"] = model->producer();
    doc["opset"] = model->opset();
    doc["inputs"] = json::array();
    for (const TensorSpec& s : model->inputs()) doc["inputs"].push_back(SpecJson(s));
    doc["outputs"] = json::array();
    for (const TensorSpec& s : model->outputs()) doc["outputs"].push_back(SpecJson(s));
    json used_json = json::object();
    for (const auto& [name, shape] : used) used_json[name] = std::vector<int64_t>(shape);
    doc["input_shapes"] = used_json;
    doc["layers"] = json::array();
    for (const LayerInfo& l : summary.layers) {
      json outs = json::array();
      for (const Shape& s : l.output_shapes) outs.push_back(std::vector<int64_t>(s));
      doc["layers"].push_back({{"name", l.name},
                               {"op", l.op_type},
                               {"output_shapes", outs},
                               {"params", l.params},
                               {"flops", l.flops},
                               {"bytes_read", l.bytes_read},
                               {"bytes_written", l.bytes_written}});
    }
    doc["totals"] = {{"layers", summary.layers.size()},
                     {"params", summary.total_params},
                     {"flops", summary.total_flops},
                     {"bytes", summary.total_bytes}};
    std::cout << doc.dump(2) << "\n";
    return Status::Ok();
  }

  std::ostringstream os;
  os << "model:    " << args.model << "\n"
     << "producer: " << (model->producer().empty() ? "(none)" : model->producer()) << "\n"
     << "opset:    " << model->opset() << "\n";
  auto print_specs = [&os](const char* title, const std::vector<TensorSpec>& specs) {
    os << title << ":\n";
    size_t w = 0;
    for (const TensorSpec& s : specs) w = std::max(w, s.name.size());
    for (const TensorSpec& s : specs)
      os << "  " << s.name << std::string(w - s.name.size() + 2, ' ') << DataTypeName(s.dtype) << " "
         << DeclaredShape(s.shape) << "\n";
  };
  print_specs("inputs", model->inputs());
  print_specs("outputs", model->outputs());

  os << "\nlayers for";
  for (const auto& [name, shape] : used) os << " " << name << "=" << ShapeToString(shape);
  os << ":\n";
  std::vector<std::vector<std::string>> rows = {{"#", "name", "op", "output shape", "params", "FLOPs", "bytes"}};
  for (size_t i = 0; i < summary.layers.size(); ++i) {
    const LayerInfo& l = summary.layers[i];
    rows.push_back({std::to_string(i), l.name, l.op_type, ShapesText(l.output_shapes), Human(double(l.params)),
                    Human(l.flops), Human(l.bytes_read + l.bytes_written)});
  }
  rows.push_back({"", "total", "", "", Human(double(summary.total_params)), Human(summary.total_flops),
                  Human(summary.total_bytes)});
  std::vector<size_t> widths(rows[0].size(), 0);
  for (const auto& r : rows)
    for (size_t c = 0; c < r.size(); ++c) widths[c] = std::max(widths[c], r[c].size());
  for (size_t ri = 0; ri < rows.size(); ++ri) {
    const auto& r = rows[ri];
    if (ri + 1 == rows.size()) {
      size_t total = 0;
      for (size_t w : widths) total += w + 2;
      os << "  " << std::string(total - 2, '-') << "\n";
    }
    std::string line = " ";
    for (size_t c = 0; c < r.size(); ++c) {
      const size_t pad = widths[c] - r[c].size();
      // Numbers right-aligned, text left-aligned.
      if (c == 0 || c >= 4) line += " " + std::string(pad, ' ') + r[c] + " ";
      else line += " " + r[c] + std::string(pad, ' ') + " ";
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    os << line << "\n";
  }
  os << "\ntotals: " << summary.layers.size() << " layers, " << summary.total_params << " parameters, "
     << Human(summary.total_flops) << " FLOPs, " << Human(summary.total_bytes) << " bytes moved\n";
  std::cout << os.str();
  return Status::Ok();
}

}  // namespace

void AddInfoCommand(CLI::App& app) {
  auto args = std::make_shared<InfoArgs>();
  auto* cmd = app.add_subcommand("info", "Show a model's inputs, outputs and per-layer shapes, parameters and FLOPs");
  cmd->footer(
      "Dynamic dimensions are shown as '?' (-1 in --json) and count as 1 in the layer table unless\n"
      "--input-shape gives them. Exit codes: 0 success, 1 model error, 2 usage error.");
  cmd->add_option("model", args->model, "ONNX model file")->required();
  cmd->add_flag("--json", args->json, "Print one JSON object instead of text");
  cmd->add_option("--input-shape", args->input_shapes, "NAME=D0,D1,...: concrete shape of an input (repeatable)")
      ->allow_extra_args(false)
      ->type_name("NAME=DIMS");
  cmd->callback([args] {
    Status s = Info(*args);
    if (!s.ok()) {
      std::cerr << "deepx info: error: " << s.ToString() << "\n";
      SetExitCode(1);
      return;
    }
    SetExitCode(0);
  });
}

}  // namespace deepx::cli
