// Tensor files: NumPy .npy and ONNX TensorProto .pb, chosen by extension.
//
// Used by `deepx run --input NAME=FILE` and `--output DIR`, and by tests. Files are untrusted: errors name the file
// and say what is wrong (see npy.h and onnx/tensor_proto.h for the checks).
#pragma once

#include <string>

#include "deepx/status.h"
#include "deepx/tensor.h"

namespace deepx {

// Largest tensor file accepted by LoadTensorFile, in bytes.
inline constexpr int64_t kMaxTensorFileBytes = int64_t{1} << 34;

// Loads a ".npy" or ".pb" file (extension compared case-insensitively); other extensions are InvalidArgument.
Result<Tensor> LoadTensorFile(const std::string& path);

// Saves a host tensor as ".npy" or ".pb" by extension; `name` becomes the TensorProto name of a .pb file.
Status SaveTensorFile(const std::string& path, const Tensor& t, const std::string& name = "");

}  // namespace deepx
