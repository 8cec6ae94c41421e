// Numpy-style broadcasting, shared by every op that combines tensors of different shapes.
//
// Multidirectional (Add, Where, Sum, ...): shapes are right-aligned, and each dimension pair must be equal or
// contain a 1. Unidirectional (PRelu's slope, Expand-like cases): only the first shape may be stretched; the
// result is the second shape unchanged.
#pragma once

#include <cstdint>
#include <vector>

#include "deepx/status.h"
#include "deepx/tensor.h"

namespace deepx {

// The broadcast shape of `a` and `b`, or InvalidArgument naming both shapes and the dimension that disagrees.
Result<Shape> BroadcastShapes(const Shape& a, const Shape& b);
// The broadcast shape of all `shapes` (at least one).
Result<Shape> BroadcastShapes(const std::vector<Shape>& shapes);

// Ok if `from` can be stretched to exactly `to`; InvalidArgument naming both shapes otherwise.
Status CheckUnidirectionalBroadcast(const Shape& from, const Shape& to);

// Maps a flat index of the broadcast output to the flat index of one input. The input shape must broadcast to
// the output shape (checked by BroadcastShapes / CheckUnidirectionalBroadcast beforehand).
class BroadcastIndexer {
 public:
  BroadcastIndexer(const Shape& input, const Shape& output);

  int64_t operator()(int64_t output_index) const;

 private:
  Shape output_;
  // Stride of the input for each output dimension; 0 where the input is broadcast (size 1 or absent).
  std::vector<int64_t> strides_;
};

}  // namespace deepx
