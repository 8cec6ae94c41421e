#include "input_feeds.h"

#include <cerrno>
#include <cstdlib>
#include <random>

#include "io/tensor_file.h"
#include "runtime/backend.h"

namespace deepx::cli {
namespace {

// Index of the model input called `name`, or NotFound listing the inputs.
Result<size_t> InputIndex(const Model& model, const std::string& name, const std::string& option) {
  const auto& specs = model.inputs();
  for (size_t i = 0; i < specs.size(); ++i)
    if (specs[i].name == name) return i;
  std::string known;
  for (const TensorSpec& s : specs) known += (known.empty() ? "'" : ", '") + s.name + "'";
  return NotFound(option + ": the model has no input named '" + name + "' (inputs: " + known + ")");
}

// Splits "NAME=VALUE"; both parts non-empty.
Result<std::pair<std::string, std::string>> SplitAssignment(const std::string& arg, const std::string& option,
                                                            const std::string& what) {
  const size_t eq = arg.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == arg.size())
    return InvalidArgument(option + " '" + arg + "': expected NAME=" + what);
  return std::make_pair(arg.substr(0, eq), arg.substr(eq + 1));
}

bool ShapeMatches(const Shape& declared, const Shape& actual) {
  if (declared.size() != actual.size()) return false;
  for (size_t i = 0; i < declared.size(); ++i)
    if (declared[i] >= 0 && declared[i] != actual[i]) return false;
  return true;
}

// A tensor of `shape` with floats uniform in [0, 1) and everything else zero.
Tensor RandomTensor(DataType dtype, const Shape& shape, std::mt19937_64& rng) {
  Tensor t = Tensor::Zeros(dtype, shape);
  const int64_t n = t.num_elements();
  // 24 / 53 random bits give exactly representable values in [0, 1), the same on every standard library.
  if (dtype == DataType::kFloat32)
    for (int64_t i = 0; i < n; ++i) t.data<float>()[i] = static_cast<float>(rng() >> 40) * 0x1p-24f;
  if (dtype == DataType::kFloat64)
    for (int64_t i = 0; i < n; ++i) t.data<double>()[i] = static_cast<double>(rng() >> 11) * 0x1p-53;
  return t;
}

}  // namespace

std::string DeclaredShapeString(const Shape& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += shape[i] < 0 ? "?" : std::to_string(shape[i]);
  }
  return s + "]";
}

Result<std::map<std::string, Shape>> ParseInputShapes(const Model& model, const std::vector<std::string>& args) {
  std::map<std::string, Shape> shapes;
  for (const std::string& arg : args) {
    DX_ASSIGN_OR_RETURN(auto parts, SplitAssignment(arg, "--input-shape", "DIMS (e.g. 1,3,224,224)"));
    DX_ASSIGN_OR_RETURN(size_t index, InputIndex(model, parts.first, "--input-shape '" + arg + "'"));
    if (shapes.count(parts.first)) return InvalidArgument("--input-shape: input '" + parts.first + "' given twice");
    Shape shape;
    const std::string& dims = parts.second;
    size_t pos = 0;
    while (pos <= dims.size()) {
      size_t end = dims.find_first_of(",x", pos);
      if (end == std::string::npos) end = dims.size();
      const std::string token = dims.substr(pos, end - pos);
      errno = 0;
      char* stop = nullptr;
      const long long d = std::strtoll(token.c_str(), &stop, 10);
      if (token.empty() || *stop != '\0' || errno != 0 || d < 1 || d > (int64_t{1} << 32))
        return InvalidArgument("--input-shape '" + arg + "': '" + token + "' is not a positive dimension");
      shape.push_back(d);
      pos = end + 1;
    }
    if (!CheckedNumElements(shape, int64_t{1} << 34).ok())
      return InvalidArgument("--input-shape '" + arg + "': too many elements");
    const TensorSpec& spec = model.inputs()[index];
    if (!ShapeMatches(spec.shape, shape))
      return InvalidArgument("--input-shape '" + arg + "': input '" + spec.name + "' is declared " +
                             DeclaredShapeString(spec.shape));
    shapes[parts.first] = std::move(shape);
  }
  return shapes;
}

Result<std::vector<Feed>> LoadFeeds(const Model& model, const std::vector<std::string>& input_files,
                                    const std::vector<std::string>& input_shapes, uint64_t seed) {
  DX_ASSIGN_OR_RETURN(auto shapes, ParseInputShapes(model, input_shapes));
  const auto& specs = model.inputs();
  std::vector<bool> given(specs.size(), false);
  std::vector<Feed> feeds(specs.size());
  for (const std::string& arg : input_files) {
    DX_ASSIGN_OR_RETURN(auto parts, SplitAssignment(arg, "--input", "FILE (a .npy or .pb file)"));
    const auto& [name, file] = parts;
    DX_ASSIGN_OR_RETURN(size_t i, InputIndex(model, name, "--input '" + arg + "'"));
    if (given[i]) return InvalidArgument("--input: input '" + name + "' is given twice");
    DX_ASSIGN_OR_RETURN(Tensor t, LoadTensorFile(file));
    const TensorSpec& spec = specs[i];
    if (t.dtype() != spec.dtype || !ShapeMatches(spec.shape, t.shape()))
      return InvalidArgument("input '" + name + "' from '" + file + "' is " + DataTypeName(t.dtype()) + " " +
                             ShapeToString(t.shape()) + ", but the model wants " + DataTypeName(spec.dtype) + " " +
                             DeclaredShapeString(spec.shape));
    auto wanted = shapes.find(name);
    if (wanted != shapes.end() && wanted->second != t.shape())
      return InvalidArgument("input '" + name + "' from '" + file + "' is " + ShapeToString(t.shape()) +
                             ", but --input-shape says " + ShapeToString(wanted->second));
    feeds[i] = {name, std::move(t), file};
    given[i] = true;
  }
  std::mt19937_64 rng(seed);
  for (size_t i = 0; i < specs.size(); ++i) {
    if (given[i]) continue;
    const TensorSpec& spec = specs[i];
    Shape shape = spec.shape;
    auto wanted = shapes.find(spec.name);
    if (wanted != shapes.end()) shape = wanted->second;
    for (int64_t& d : shape)
      if (d < 0) d = 1;
    const bool is_float = spec.dtype == DataType::kFloat32 || spec.dtype == DataType::kFloat64;
    feeds[i] = {spec.name, RandomTensor(spec.dtype, shape, rng), is_float ? "random" : "zeros"};
  }
  return feeds;
}

std::string DefaultMeasurementBackend() {
  for (const std::string& name : AvailableBackends())
    if (name == "cpu") return name;
  return "reference";
}

std::vector<std::pair<std::string, Tensor>> NamedFeeds(const std::vector<Feed>& feeds) {
  std::vector<std::pair<std::string, Tensor>> named;
  for (const Feed& f : feeds) named.emplace_back(f.name, f.tensor);
  return named;
}

void AddModelRunOptions(CLI::App* cmd, ModelRunArgs* args) {
  cmd->add_option("model", args->model, "ONNX model file")->required();
  cmd->add_option("--backend", args->backend, "Processor to run on (default: cpu when built, else reference)");
  cmd->add_option("--threads", args->threads, "Worker threads (0: backend default)")
      ->check(CLI::Range(0, 4096))
      ->capture_default_str();
  cmd->add_option("-i,--input", args->inputs, "NAME=FILE: feed input NAME from a .npy or .pb tensor file (repeatable)")
      ->allow_extra_args(false)
      ->type_name("NAME=FILE");
  cmd->add_option("--input-shape", args->input_shapes,
                  "NAME=DIMS: shape of a random input with dynamic dims, e.g. x=4,3,224,224 (repeatable)")
      ->allow_extra_args(false)
      ->type_name("NAME=DIMS");
  cmd->add_option("--seed", args->seed, "Seed of the random inputs")->capture_default_str();
  cmd->add_option("--remote", args->remote_url, "URL of a KServe v2 server (http://host:port) to use as a processor");
  cmd->add_option("--token-file", args->token_file, "File holding the remote server's bearer token");
  cmd->add_option("--max-accuracy-drop", args->max_accuracy_drop,
                  "Compress the model at load (RLC) within this estimated top-1 accuracy drop, e.g. 0.05")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--calibration", args->calibration,
                  "Unlabelled input samples (.npy, batch on dim 0) for RLC's accuracy estimate");
}

SessionOptions SessionOptionsFor(const ModelRunArgs& args) {
  SessionOptions options;
  options.backend = args.backend;
  if (options.backend.empty()) options.backend = args.remote_url.empty() ? DefaultMeasurementBackend() : "remote";
  options.num_threads = args.threads;
  options.remote_url = args.remote_url;
  options.remote_token_file = args.token_file;
  return options;
}

}  // namespace deepx::cli
