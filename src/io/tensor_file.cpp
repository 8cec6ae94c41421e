#include "io/tensor_file.h"

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "io/npy.h"
#include "onnx/tensor_proto.h"

namespace deepx {
namespace {

enum class FileKind { kNpy, kPb, kUnknown };

FileKind KindOf(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  if (ext == ".npy") return FileKind::kNpy;
  if (ext == ".pb") return FileKind::kPb;
  return FileKind::kUnknown;
}

Status UnknownExtension(const std::string& path) {
  return InvalidArgument("tensor file '" + path + "' has an unknown extension (expected .npy or .pb)");
}

}  // namespace

Result<Tensor> LoadTensorFile(const std::string& path) {
  const FileKind kind = KindOf(path);
  if (kind == FileKind::kUnknown) return UnknownExtension(path);
  DX_ASSIGN_OR_RETURN(std::string bytes, ReadWholeFile(path, kMaxTensorFileBytes));
  const std::string what = "file '" + path + "'";
  if (kind == FileKind::kNpy) return ParseNpy(bytes.data(), bytes.size(), what);
  return TensorFromProtoBytes(bytes.data(), bytes.size(), what);
}

Status SaveTensorFile(const std::string& path, const Tensor& t, const std::string& name) {
  const FileKind kind = KindOf(path);
  if (kind == FileKind::kUnknown) return UnknownExtension(path);
  if (kind == FileKind::kNpy) return WriteNpyFile(path, t);
  if (t.empty() || !t.is_host() || t.dtype() == DataType::kUndefined)
    return InvalidArgument("writing '" + path + "': the tensor is unset, not in host memory or has no dtype");
  return WriteWholeFile(path, TensorToProtoBytes(t, name));
}

}  // namespace deepx
