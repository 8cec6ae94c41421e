// ONNX ModelProto -> Graph.
//
// The model file is untrusted input. The loader checks everything the rest of DeepX relies on and reports the
// first problem naming the node or tensor: protobuf that does not parse (truncated, not ONNX), a missing graph,
// an unsupported opset, unknown ops and attributes, malformed tensors (see tensor_proto.h), duplicate value names,
// inputs nobody produces, cycles, and external data outside the model directory. Op-specific checks (attribute
// values, shapes) follow in shape inference.
#pragma once

#include <string>

#include "core/graph.h"
#include "deepx/deepx.hpp"
#include "deepx/status.h"

namespace deepx {

inline constexpr int kMinOpset = 1;
inline constexpr int kMaxOpset = 18;

struct LoadedOnnx {
  Graph graph;
  std::vector<TensorSpec> inputs;   // as declared (dynamic dims -1)
  std::vector<TensorSpec> outputs;  // as declared, dtype/shape possibly unknown
  std::string producer;
  int64_t ir_version = 0;
};

// `base_dir` resolves external data ("" forbids it).
Result<LoadedOnnx> LoadOnnx(const void* data, size_t size, const std::string& base_dir);
// Same, streaming the file (the caller checked that it exists, is regular and within size limits), so a large
// model's weights are held once: the protobuf's buffers become the tensors'.
Result<LoadedOnnx> LoadOnnxFile(const std::string& path, const std::string& base_dir);

}  // namespace deepx
