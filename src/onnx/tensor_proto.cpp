#include "onnx/tensor_proto.h"

#include <onnx/onnx_pb.h>

#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace deepx {
namespace fs = std::filesystem;

namespace {

// Copies typed repeated-field values into the tensor's buffer, converting to the tensor's element type.
template <typename Field>
Status CopyTyped(const Field& field, Tensor& t, const std::string& what, const char* field_name) {
  const int64_t n = t.num_elements();
  if (static_cast<int64_t>(field.size()) != n) {
    return InvalidArgument(what + ": " + field_name + " has " + std::to_string(field.size()) + " values, expected " +
                           std::to_string(n) + " for shape " + ShapeToString(t.shape()));
  }
  for (int64_t i = 0; i < n; ++i) {
    auto v = field.Get(static_cast<int>(i));
    switch (t.dtype()) {
      case DataType::kFloat32: t.data<float>()[i] = static_cast<float>(v); break;
      case DataType::kFloat64: t.data<double>()[i] = static_cast<double>(v); break;
      case DataType::kInt64: t.data<int64_t>()[i] = static_cast<int64_t>(v); break;
      case DataType::kInt32: t.data<int32_t>()[i] = static_cast<int32_t>(v); break;
      case DataType::kInt8: t.data<int8_t>()[i] = static_cast<int8_t>(v); break;
      case DataType::kUInt8: t.data<uint8_t>()[i] = static_cast<uint8_t>(v); break;
      case DataType::kBool: t.data<uint8_t>()[i] = v != 0; break;
      case DataType::kUndefined: return Internal(what + ": undefined dtype");
    }
  }
  return Status::Ok();
}

// Resolves an external data location inside base_dir, refusing anything that would escape it.
Result<fs::path> ResolveExternalPath(const std::string& location, const std::string& base_dir,
                                     const std::string& what) {
  if (base_dir.empty()) return InvalidArgument(what + ": external data is not allowed for a model loaded from memory");
  if (location.empty()) return InvalidArgument(what + ": external data has an empty 'location'");
  fs::path rel(location);
  if (rel.is_absolute() || rel.has_root_name() || rel.has_root_directory())
    return InvalidArgument(what + ": external data location '" + location + "' must be relative to the model");
  for (const auto& part : rel)
    if (part == "..")
      return InvalidArgument(what + ": external data location '" + location + "' escapes the model directory");
  std::error_code ec;
  fs::path base = fs::weakly_canonical(fs::path(base_dir), ec);
  if (ec) return IoError(what + ": cannot resolve model directory '" + base_dir + "'");
  fs::path full = fs::weakly_canonical(base / rel, ec);
  if (ec) return IoError(what + ": cannot resolve external data '" + location + "'");
  // A symbolic link inside the directory may still point outside it: compare the canonical paths.
  auto [b, f] = std::mismatch(base.begin(), base.end(), full.begin(), full.end());
  if (b != base.end())
    return InvalidArgument(what + ": external data location '" + location + "' escapes the model directory");
  return full;
}

// Parses a whole decimal string as a non-negative int64 ("12abc", "-1" and "" are errors).
Result<int64_t> ParseNonNegative(const std::string& text, const std::string& what) {
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size() || text.empty() || v < 0)
    return InvalidArgument(what + " must be a non-negative integer, got '" + text + "'");
  return v;
}

// Where an external tensor's bytes are: validated against the file before anything is allocated.
struct ExternalRange {
  fs::path path;
  int64_t offset = 0;
};

Result<ExternalRange> LocateExternal(const onnx::TensorProto& proto, int64_t expected, const std::string& shape_text,
                                     const std::string& what, const TensorProtoOptions& options) {
  std::string location;
  int64_t offset = 0, length = -1;
  for (const auto& kv : proto.external_data()) {
    const std::string& k = kv.key();
    if (k == "location") {
      location = kv.value();
    } else if (k == "offset") {
      DX_ASSIGN_OR_RETURN(offset, ParseNonNegative(kv.value(), what + ": external data offset"));
    } else if (k == "length") {
      DX_ASSIGN_OR_RETURN(length, ParseNonNegative(kv.value(), what + ": external data length"));
    }
  }
  DX_ASSIGN_OR_RETURN(fs::path path, ResolveExternalPath(location, options.base_dir, what));
  if (length >= 0 && length != expected)
    return InvalidArgument(what + ": external data length " + std::to_string(length) + " does not match " +
                           std::to_string(expected) + " bytes for shape " + shape_text);
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return NotFound(what + ": external data file '" + location + "' not found");
  auto file_size = static_cast<int64_t>(fs::file_size(path, ec));
  if (ec) return IoError(what + ": cannot stat external data file '" + location + "'");
  if (offset > file_size || expected > file_size - offset)
    return InvalidArgument(what + ": external data file '" + location + "' has " + std::to_string(file_size) +
                           " bytes, too few for " + std::to_string(expected) + " at offset " + std::to_string(offset));
  return ExternalRange{path, offset};
}

}  // namespace

Result<Tensor> TensorFromProto(const onnx::TensorProto& proto, const std::string& what,
                               const TensorProtoOptions& options) {
  if (!IsKnownDataType(proto.data_type())) {
    return Unimplemented(what + ": data type " + std::to_string(proto.data_type()) +
                         " is not supported (supported: float32, float64, int64, int32, int8, uint8, bool)");
  }
  if (proto.has_segment()) return Unimplemented(what + ": segmented tensors are not supported");
  const auto dtype = static_cast<DataType>(proto.data_type());
  Shape shape(proto.dims().begin(), proto.dims().end());
  for (int64_t d : shape)
    if (d < 0) return InvalidArgument(what + ": negative dimension in shape " + ShapeToString(shape));
  auto count = CheckedNumElements(shape, options.max_elements);
  if (!count.ok()) return count.status().WithContext(what);

  // Check the data against the declared shape before allocating: a 40-byte file may declare a 128 GiB tensor.
  const size_t bytes = static_cast<size_t>(*count) * DataTypeSize(dtype);
  if (proto.data_location() == onnx::TensorProto_DataLocation_EXTERNAL) {
    DX_ASSIGN_OR_RETURN(ExternalRange range, LocateExternal(proto, static_cast<int64_t>(bytes),
                                                            DataTypeName(dtype) + std::string(" ") +
                                                                ShapeToString(shape), what, options));
    Tensor t = Tensor::Zeros(dtype, shape);
    std::ifstream in(range.path, std::ios::binary);
    in.seekg(range.offset);
    in.read(static_cast<char*>(t.raw_data()), static_cast<std::streamsize>(bytes));
    if (!in) return IoError(what + ": reading external data file '" + range.path.filename().string() + "' failed");
    return t;
  }
  if (proto.has_raw_data()) {
    if (proto.raw_data().size() != bytes) {
      return InvalidArgument(what + ": raw_data has " + std::to_string(proto.raw_data().size()) +
                             " bytes, expected " + std::to_string(bytes) + " for " + DataTypeName(dtype) + " " +
                             ShapeToString(shape));
    }
    Tensor t = Tensor::Zeros(dtype, shape);
    if (bytes) std::memcpy(t.raw_data(), proto.raw_data().data(), bytes);  // ONNX raw_data is little-endian
    if (dtype == DataType::kBool)  // normalise to 0/1 so kernels may treat bool bytes as truth values
      for (size_t i = 0; i < bytes; ++i) t.data<uint8_t>()[i] = t.data<uint8_t>()[i] != 0;
    return t;
  }
  // Typed fields: CopyTyped checks the element count first; the allocation below is bounded by the field's size.
  int64_t typed_count = 0;
  switch (dtype) {
    case DataType::kFloat32: typed_count = proto.float_data_size(); break;
    case DataType::kFloat64: typed_count = proto.double_data_size(); break;
    case DataType::kInt64: typed_count = proto.int64_data_size(); break;
    default: typed_count = proto.int32_data_size(); break;
  }
  if (typed_count != *count) {
    const char* field = dtype == DataType::kFloat32   ? "float_data"
                        : dtype == DataType::kFloat64 ? "double_data"
                        : dtype == DataType::kInt64   ? "int64_data"
                                                      : "int32_data";
    return InvalidArgument(what + ": " + field + " has " + std::to_string(typed_count) + " values, expected " +
                           std::to_string(*count) + " for shape " + ShapeToString(shape));
  }
  Tensor t = Tensor::Zeros(dtype, shape);
  switch (dtype) {
    case DataType::kFloat32:
      DX_RETURN_IF_ERROR(CopyTyped(proto.float_data(), t, what, "float_data"));
      break;
    case DataType::kFloat64: DX_RETURN_IF_ERROR(CopyTyped(proto.double_data(), t, what, "double_data")); break;
    case DataType::kInt64: DX_RETURN_IF_ERROR(CopyTyped(proto.int64_data(), t, what, "int64_data")); break;
    case DataType::kInt32:
    case DataType::kInt8:
    case DataType::kUInt8:
    case DataType::kBool: DX_RETURN_IF_ERROR(CopyTyped(proto.int32_data(), t, what, "int32_data")); break;
    case DataType::kUndefined: break;
  }
  return t;
}

namespace {

// A host buffer that owns a std::string taken from a TensorProto's raw_data.
class StringBuffer final : public Buffer {
 public:
  explicit StringBuffer(std::string&& bytes) : bytes_(std::move(bytes)) {}
  void* host_data() override { return bytes_.data(); }
  size_t size_bytes() const override { return bytes_.size(); }
  const std::string& location() const override {
    static const std::string kHost = "host";
    return kHost;
  }

 private:
  std::string bytes_;
};

}  // namespace

Result<Tensor> TensorFromProtoAdopting(onnx::TensorProto& proto, const std::string& what,
                                       const TensorProtoOptions& options) {
  const bool adoptable = proto.has_raw_data() && proto.data_location() != onnx::TensorProto_DataLocation_EXTERNAL &&
                         IsKnownDataType(proto.data_type()) &&
                         static_cast<DataType>(proto.data_type()) != DataType::kBool && !proto.raw_data().empty();
  if (!adoptable) {
    DX_ASSIGN_OR_RETURN(Tensor t, TensorFromProto(proto, what, options));
    std::string().swap(*proto.mutable_raw_data());
    return t;
  }
  // The checks of TensorFromProto for raw data, then the bytes move instead of being copied.
  DX_ASSIGN_OR_RETURN(Tensor checked_shape, [&]() -> Result<Tensor> {
    const auto dtype = static_cast<DataType>(proto.data_type());
    Shape shape(proto.dims().begin(), proto.dims().end());
    for (int64_t d : shape)
      if (d < 0) return InvalidArgument(what + ": negative dimension in shape " + ShapeToString(shape));
    auto count = CheckedNumElements(shape, options.max_elements);
    if (!count.ok()) return count.status().WithContext(what);
    if (proto.has_segment()) return Unimplemented(what + ": segmented tensors are not supported");
    const size_t bytes = static_cast<size_t>(*count) * DataTypeSize(dtype);
    if (proto.raw_data().size() != bytes)
      return InvalidArgument(what + ": raw_data has " + std::to_string(proto.raw_data().size()) +
                             " bytes, expected " + std::to_string(bytes) + " for " + DataTypeName(dtype) + " " +
                             ShapeToString(shape));
    return Tensor(dtype, shape, nullptr);
  }());
  auto buffer = std::make_shared<StringBuffer>(std::move(*proto.mutable_raw_data()));
  std::string().swap(*proto.mutable_raw_data());
  return Tensor(checked_shape.dtype(), checked_shape.shape(), std::move(buffer));
}

Result<Tensor> TensorFromProtoBytes(const void* data, size_t size, const std::string& what) {
  onnx::TensorProto proto;
  if (size > static_cast<size_t>(INT32_MAX) || !proto.ParseFromArray(data, static_cast<int>(size)))
    return InvalidArgument(what + ": not a valid ONNX TensorProto (truncated or wrong format)");
  return TensorFromProto(proto, what);
}

std::string TensorToProtoBytes(const Tensor& t, const std::string& name) {
  onnx::TensorProto proto;
  proto.set_name(name);
  proto.set_data_type(static_cast<int32_t>(t.dtype()));
  for (int64_t d : t.shape()) proto.add_dims(d);
  proto.set_raw_data(t.raw_data(), t.size_bytes());
  return proto.SerializeAsString();
}

}  // namespace deepx
