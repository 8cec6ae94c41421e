// Specialisation: from a model graph (dynamic dims allowed on inputs) to a graph with every shape concrete.
//
// InferShapes walks nodes in topological order, validates each against its OpSchema (input/output counts, allowed
// attributes, then the op's own `infer`), and sets output dtypes and shapes. Nodes whose inputs are all known
// constants are evaluated right away with their reference kernel, which is what lets shape arithmetic exported by
// PyTorch (Shape -> Gather -> Concat -> Reshape) resolve to constants. Every later stage — passes, planner,
// backends — sees static shapes only.
#pragma once

#include <map>
#include <string>

#include "core/graph.h"
#include "deepx/status.h"
#include "ops/op.h"

namespace deepx {

struct InferOptions {
  // Evaluate nodes whose inputs are all constant (constant folding during inference).
  bool fold_constants = true;
  // Largest tensor (elements) any node may produce; guards against shapes crafted to exhaust memory.
  int64_t max_elements = int64_t{1} << 30;
  // Largest output (elements) folded at specialisation; bigger constant results are computed at run time, so a
  // tiny file cannot make loading allocate gigabytes (ConstantOfShape([65536, 65536])).
  int64_t max_fold_elements = int64_t{1} << 24;
};

// Checks a node against its schema's signature: input/output counts and attribute names. The loader calls this
// for every node; InferShapes calls it again so graphs built by code get the same checks.
Status ValidateNodeSignature(const Graph& g, const Node& n, const OpSchema& schema);

// Infers (and optionally folds) every node of a graph whose input shapes are all concrete.
Status InferShapes(Graph& g, const OpRegistry& registry, const InferOptions& options = {});

// Runs one node's reference kernel on host tensors, allocating its outputs from the shapes in `g`.
Result<std::vector<Tensor>> RunReferenceNode(const Graph& g, const Node& n, const OpSchema& schema,
                                             const std::vector<const Tensor*>& inputs);

// Copies `model_graph`, gives its inputs the concrete shapes in `input_shapes` (by input name; inputs not named
// keep their declared shape with dynamic dims set to 1), and infers all shapes. Inputs named in `input_values`
// become constants with that value and leave the graph's input list: a model that feeds a Reshape target or Slice
// bounds from an input is specialised per value (see Session).
Result<Graph> SpecializeGraph(const Graph& model_graph, const std::map<std::string, Shape>& input_shapes,
                              const OpRegistry& registry, const InferOptions& options = {},
                              const std::map<std::string, Tensor>& input_values = {});

}  // namespace deepx
