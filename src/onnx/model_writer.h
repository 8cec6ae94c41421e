// Graph -> ONNX ModelProto: the inverse of model_loader.h, for `deepx compress` (a compressed model that other
// runtimes load) and for the remote backend (a block of a plan shipped to a server as a standalone model).
//
// The written model uses only standard ONNX: activations that the fusion pass folded into their producer
// (ops/fused_activation.h) are written back as their own nodes, so any graph DeepX holds — loaded, optimised or
// specialised — can be written. Constant values read by nodes become initializers; graph inputs keep their shapes
// (-1 is written as a symbolic dimension "N<i>").
#pragma once

#include <string>

#include "core/graph.h"
#include "deepx/status.h"

namespace deepx {

struct OnnxWriteOptions {
  std::string producer_name = "deepx";
  std::string producer_version = "0.1";
  // Written when the graph's own name is empty.
  std::string graph_name = "deepx_graph";
};

// Serialized ModelProto bytes. Fails for graphs protobuf cannot hold in one message (> 2 GiB).
Result<std::string> SerializeOnnx(const Graph& g, const OnnxWriteOptions& options = {});
// Writes SerializeOnnx(g) to `path`.
Status SaveOnnx(const Graph& g, const std::string& path, const OnnxWriteOptions& options = {});

}  // namespace deepx
