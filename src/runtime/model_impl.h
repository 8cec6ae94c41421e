// Internals behind deepx::Model, shared with the session and tools.
#pragma once

#include <map>
#include <string>

#include "core/graph.h"
#include "deepx/deepx.hpp"

namespace deepx {

struct Model::Impl {
  Graph graph;  // loaded and optimised by shape-independent passes; inputs may have dynamic dims
  std::vector<TensorSpec> inputs;
  std::vector<TensorSpec> outputs;
  std::string producer;
};

// Specialises the model graph to concrete input shapes and runs the shape-dependent passes (constant folding,
// dead-code removal). Dynamic dims of inputs not named in `input_shapes` become 1.
Result<Graph> SpecializeModel(const Model& model, const std::map<std::string, Shape>& input_shapes);

}  // namespace deepx
