// Dense tensors: an element type, a shape and a reference-counted buffer.
//
// Tensors are cheap to copy (the buffer is shared). A buffer lives in one processor's memory; host buffers are
// 64-byte aligned so optimised kernels may use aligned vector loads. Tensors of other processors (GPU, remote)
// are reached through their backend, never dereferenced on the host.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "deepx/status.h"

namespace deepx {

// Element types, numbered as ONNX TensorProto.DataType so conversion is the identity.
enum class DataType : int32_t {
  kUndefined = 0,
  kFloat32 = 1,
  kUInt8 = 2,
  kInt8 = 3,
  kInt32 = 6,
  kInt64 = 7,
  kBool = 9,
  kFloat64 = 11,
};

const char* DataTypeName(DataType t);  // "float32", "int64", ...
size_t DataTypeSize(DataType t);       // bytes per element; 0 for kUndefined
bool IsKnownDataType(int32_t onnx_code);

using Shape = std::vector<int64_t>;

std::string ShapeToString(const Shape& shape);  // "[1, 3, 224, 224]"

// Number of elements, or an error if a dimension is negative or the product overflows `limit`.
Result<int64_t> CheckedNumElements(const Shape& shape, int64_t limit = int64_t{1} << 40);

// Number of elements of a shape already validated by CheckedNumElements.
int64_t NumElements(const Shape& shape);

// A block of memory owned by one processor.
class Buffer {
 public:
  virtual ~Buffer() = default;
  // Host-addressable memory, or nullptr when the buffer lives on another processor.
  virtual void* host_data() = 0;
  virtual size_t size_bytes() const = 0;
  // Which processor's memory this is: "host" for plain system memory.
  virtual const std::string& location() const = 0;
};

// Allocates `bytes` of zeroed, 64-byte aligned host memory.
std::shared_ptr<Buffer> AllocateHostBuffer(size_t bytes);

class Tensor {
 public:
  Tensor() = default;
  Tensor(DataType dtype, Shape shape, std::shared_ptr<Buffer> buffer);

  // A zero-filled host tensor. The shape must already be validated (see CheckedNumElements).
  static Tensor Zeros(DataType dtype, Shape shape);
  // A host tensor holding a copy of `values`.
  static Tensor FromFloats(Shape shape, const std::vector<float>& values);
  static Tensor FromInt64s(Shape shape, const std::vector<int64_t>& values);
  static Tensor Scalar(float v) { return FromFloats({}, {v}); }

  bool empty() const { return buffer_ == nullptr; }
  DataType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  int64_t rank() const { return static_cast<int64_t>(shape_.size()); }
  int64_t dim(int64_t i) const { return shape_[static_cast<size_t>(i)]; }
  int64_t num_elements() const { return NumElements(shape_); }
  size_t size_bytes() const { return static_cast<size_t>(num_elements()) * DataTypeSize(dtype_); }
  bool is_host() const;
  const std::shared_ptr<Buffer>& buffer() const { return buffer_; }

  // Host pointers; valid only when is_host().
  void* raw_data() { return buffer_ ? buffer_->host_data() : nullptr; }
  const void* raw_data() const { return buffer_ ? buffer_->host_data() : nullptr; }
  template <typename T> T* data() { return static_cast<T*>(raw_data()); }
  template <typename T> const T* data() const { return static_cast<const T*>(raw_data()); }

  // A tensor sharing this buffer with another shape of the same element count (Reshape, Flatten, ...).
  Tensor Reshaped(Shape shape) const;
  // A deep host copy.
  Tensor Clone() const;

  // Element i converted to double / int64, whatever the dtype (slow; for shapes, tests and printing).
  double GetAsDouble(int64_t i) const;
  int64_t GetAsInt64(int64_t i) const;
  std::vector<int64_t> ToInt64Vector() const;

 private:
  DataType dtype_ = DataType::kUndefined;
  Shape shape_;
  std::shared_ptr<Buffer> buffer_;
};

}  // namespace deepx
