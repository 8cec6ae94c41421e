#include "deepx/tensor.h"

#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>
#include <sstream>

namespace deepx {

const char* DataTypeName(DataType t) {
  switch (t) {
    case DataType::kFloat32: return "float32";
    case DataType::kUInt8: return "uint8";
    case DataType::kInt8: return "int8";
    case DataType::kInt32: return "int32";
    case DataType::kInt64: return "int64";
    case DataType::kBool: return "bool";
    case DataType::kFloat64: return "float64";
    case DataType::kUndefined: break;
  }
  return "undefined";
}

size_t DataTypeSize(DataType t) {
  switch (t) {
    case DataType::kFloat32: return 4;
    case DataType::kUInt8: return 1;
    case DataType::kInt8: return 1;
    case DataType::kInt32: return 4;
    case DataType::kInt64: return 8;
    case DataType::kBool: return 1;
    case DataType::kFloat64: return 8;
    case DataType::kUndefined: break;
  }
  return 0;
}

bool IsKnownDataType(int32_t code) {
  switch (static_cast<DataType>(code)) {
    case DataType::kFloat32:
    case DataType::kUInt8:
    case DataType::kInt8:
    case DataType::kInt32:
    case DataType::kInt64:
    case DataType::kBool:
    case DataType::kFloat64: return true;
    default: return false;
  }
}

std::string ShapeToString(const Shape& shape) {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < shape.size(); ++i) os << (i ? ", " : "") << shape[i];
  os << "]";
  return os.str();
}

Result<int64_t> CheckedNumElements(const Shape& shape, int64_t limit) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) return InvalidArgument("negative dimension in shape " + ShapeToString(shape));
    if (d != 0 && n > limit / d) {
      return OutOfRange("shape " + ShapeToString(shape) + " has more elements than the limit " +
                        std::to_string(limit));
    }
    n *= d;
  }
  return n;
}

int64_t NumElements(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

namespace {

class HostBuffer final : public Buffer {
 public:
  explicit HostBuffer(size_t bytes) : size_(bytes) {
    // aligned_alloc needs a size that is a multiple of the alignment, and a non-null result for 0 bytes.
    size_t rounded = (bytes + 63) / 64 * 64;
    if (rounded == 0) rounded = 64;
    data_ = std::aligned_alloc(64, rounded);
    if (!data_) throw std::bad_alloc();
    std::memset(data_, 0, rounded);
  }
  ~HostBuffer() override { std::free(data_); }
  void* host_data() override { return data_; }
  size_t size_bytes() const override { return size_; }
  const std::string& location() const override {
    static const std::string kHost = "host";
    return kHost;
  }

 private:
  void* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace

std::shared_ptr<Buffer> AllocateHostBuffer(size_t bytes) { return std::make_shared<HostBuffer>(bytes); }

Tensor::Tensor(DataType dtype, Shape shape, std::shared_ptr<Buffer> buffer)
    : dtype_(dtype), shape_(std::move(shape)), buffer_(std::move(buffer)) {}

Tensor Tensor::Zeros(DataType dtype, Shape shape) {
  size_t bytes = static_cast<size_t>(NumElements(shape)) * DataTypeSize(dtype);
  return Tensor(dtype, std::move(shape), AllocateHostBuffer(bytes));
}

Tensor Tensor::FromFloats(Shape shape, const std::vector<float>& values) {
  Tensor t = Zeros(DataType::kFloat32, std::move(shape));
  if (!values.empty()) std::memcpy(t.raw_data(), values.data(), std::min(values.size() * 4, t.size_bytes()));
  return t;
}

Tensor Tensor::FromInt64s(Shape shape, const std::vector<int64_t>& values) {
  Tensor t = Zeros(DataType::kInt64, std::move(shape));
  if (!values.empty()) std::memcpy(t.raw_data(), values.data(), std::min(values.size() * 8, t.size_bytes()));
  return t;
}

bool Tensor::is_host() const { return buffer_ && buffer_->host_data() != nullptr; }

Tensor Tensor::Reshaped(Shape shape) const { return Tensor(dtype_, std::move(shape), buffer_); }

Tensor Tensor::Clone() const {
  Tensor t = Zeros(dtype_, shape_);
  if (size_bytes()) std::memcpy(t.raw_data(), raw_data(), size_bytes());
  return t;
}

double Tensor::GetAsDouble(int64_t i) const {
  switch (dtype_) {
    case DataType::kFloat32: return data<float>()[i];
    case DataType::kUInt8: return data<uint8_t>()[i];
    case DataType::kInt8: return data<int8_t>()[i];
    case DataType::kInt32: return data<int32_t>()[i];
    case DataType::kInt64: return static_cast<double>(data<int64_t>()[i]);
    case DataType::kBool: return data<uint8_t>()[i] ? 1.0 : 0.0;
    case DataType::kFloat64: return data<double>()[i];
    case DataType::kUndefined: break;
  }
  return 0.0;
}

int64_t Tensor::GetAsInt64(int64_t i) const {
  if (dtype_ == DataType::kInt64) return data<int64_t>()[i];
  double v = GetAsDouble(i);
  if (!(v > static_cast<double>(std::numeric_limits<int64_t>::min()) &&
        v < static_cast<double>(std::numeric_limits<int64_t>::max())))
    return 0;
  return static_cast<int64_t>(v);
}

std::vector<int64_t> Tensor::ToInt64Vector() const {
  std::vector<int64_t> v(static_cast<size_t>(num_elements()));
  for (size_t i = 0; i < v.size(); ++i) v[i] = GetAsInt64(static_cast<int64_t>(i));
  return v;
}

}  // namespace deepx
