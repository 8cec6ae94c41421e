// Internals behind deepx::Model, shared with the session and tools.
#pragma once

#include <map>
#include <string>

#include "core/graph.h"
#include "deepx/deepx.hpp"

namespace deepx {

// Inputs with at most this many elements may be fixed to their values when the graph cannot be specialised from
// shapes alone (a Reshape target, Slice bounds or Resize scales fed as inputs).
inline constexpr int64_t kMaxValueSpecialisedElements = 64;

struct Model::Impl {
  Graph graph;  // loaded and optimised by shape-independent passes; inputs may have dynamic dims
  std::vector<TensorSpec> inputs;
  std::vector<TensorSpec> outputs;
  std::string producer;
  // Shapes depend on the values of some small inputs (a Reshape target fed as an input): the model could not be
  // specialised from shapes alone at load, and sessions fix those inputs by value.
  bool shapes_depend_on_input_values = false;
};

// Specialises the model graph to concrete input shapes and runs the shape-dependent passes (constant folding,
// dead-code removal). Dynamic dims of inputs not named in `input_shapes` become 1.
// Inputs named in `input_values` are fixed to those values (see SpecializeGraph).
Result<Graph> SpecializeModel(const Model& model, const std::map<std::string, Shape>& input_shapes,
                              const std::map<std::string, Tensor>& input_values = {});

}  // namespace deepx
