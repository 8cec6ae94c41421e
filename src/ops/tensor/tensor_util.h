// Helpers shared by the tensor (data-movement) ops: axis handling, reading small integer inputs, n-d index
// iteration and the data-movement cost model.
//
// Data-movement kernels are dtype-generic: they copy DataTypeSize(dtype) bytes per element and never look at
// the values, so one kernel serves float, int and bool tensors alike.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "deepx/status.h"
#include "deepx/tensor.h"
#include "ops/op.h"

namespace deepx::tensor_ops {

// 0 flops; bytes of every input and output once.
OpCost DataMovementCost(const CostContext& ctx);

// Maps an axis in [-rank, rank) to [0, rank); `what` names it in the error ("axis", "perm[2]").
Result<int64_t> NormalizeAxis(int64_t axis, int64_t rank, const std::string& what = "axis");

// Normalizes a list of axes against `rank`, rejecting out-of-range and duplicate entries.
Result<std::vector<int64_t>> NormalizeAxes(const std::vector<int64_t>& axes, int64_t rank, const std::string& what);

// The values of a scalar or 1-D int32/int64 tensor (shape, axes, pads, repeats, ...).
Result<std::vector<int64_t>> ReadIntTensor(const Tensor& t, const std::string& what);

// For `infer`: input i as integers. The input must be a known constant: a value computed at run time would make
// the output shape data-dependent, which DeepX does not support (Unimplemented).
Result<std::vector<int64_t>> ConstantIntInput(const InferContext& ctx, size_t i, const std::string& what);

// Requires a dtype with a known element size (every DataType but kUndefined).
Status CheckKnownDtype(DataType dtype, const std::string& what);

// Row-major strides, in elements.
std::vector<int64_t> RowMajorStrides(const Shape& shape);

// Steps a row-major multi-index to the next element (last axis fastest); false after the last element.
bool NextIndex(std::vector<int64_t>& index, const Shape& shape);

// Product of shape[begin, end).
int64_t DimProduct(const Shape& shape, size_t begin, size_t end);

// Writes `value` converted to `dtype` into one element at `dst` (for fill values given as float attributes).
void StoreAsDtype(double value, DataType dtype, void* dst);

}  // namespace deepx::tensor_ops
