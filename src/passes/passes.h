// Graph passes. Each is a function Graph& -> Status that keeps the graph's meaning (outputs equal within float
// rounding) and its topological order. Run by Model::Load (shape-independent passes) and by specialisation
// (FoldConstants, after InferShapes has computed constant values).
#pragma once

#include "core/graph.h"
#include "deepx/status.h"

namespace deepx {

// Drops nodes whose outputs InferShapes already evaluated to constants, then dead code.
Status FoldConstants(Graph& g);

// Turns Constant nodes into constant values (what initializers are), so that shape-independent passes see
// their payloads: PyTorch exports Clip's min/max (ReLU6) as Constant nodes, which activation fusion needs.
Status MaterializeConstantNodes(Graph& g);

// Removes Identity nodes, inference-mode Dropout nodes (their first output aliases their input) and Pad nodes
// whose pads are all constant zeros. Graph output names are preserved.
Status RemoveIdentityNodes(Graph& g);

// Folds an inference BatchNormalization into the Conv (or ConvTranspose) feeding it when the conv's weights,
// bias and the BN parameters are constants and the conv output has no other reader.
Status FoldConvBatchNorm(Graph& g);

// Fuses Relu, LeakyRelu, Clip (constant bounds), Sigmoid, HardSigmoid, HardSwish, Tanh into the Conv,
// ConvTranspose, Gemm or MatMul producing their input when that output has no other reader
// (see ops/fused_activation.h).
Status FuseActivations(Graph& g);

// The shape-independent passes in order: MaterializeConstantNodes, RemoveIdentityNodes, FoldConvBatchNorm,
// FuseActivations.
Status OptimizeModelGraph(Graph& g);

}  // namespace deepx
