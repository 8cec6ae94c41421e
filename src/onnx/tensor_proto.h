// Conversion of ONNX TensorProto (initializers, Constant values, .pb tensor files) into DeepX tensors.
//
// Every field is checked: dtype, non-negative dims whose product does not overflow, the byte count of raw_data or
// the element count of typed fields, and external data locations, which must stay inside the model's directory
// (a model file must not be able to read /etc/passwd or ../secrets).
#pragma once

#include <string>

#include "deepx/status.h"
#include "deepx/tensor.h"

namespace onnx {
class TensorProto;
}

namespace deepx {

struct TensorProtoOptions {
  // Directory that external data paths are resolved against; empty forbids external data.
  std::string base_dir;
  // Largest tensor accepted, in elements.
  int64_t max_elements = int64_t{1} << 34;
};

// `what` names the tensor in messages, e.g. "initializer 'conv1.weight'".
Result<Tensor> TensorFromProto(const onnx::TensorProto& proto, const std::string& what,
                               const TensorProtoOptions& options = {});

// Like TensorFromProto, but takes over the proto's raw_data buffer instead of copying it (the proto is left
// without data): loading a 500 MB model then holds its weights once, not twice. Such tensors are 16-byte
// aligned (malloc), not 64.
Result<Tensor> TensorFromProtoAdopting(onnx::TensorProto& proto, const std::string& what,
                                       const TensorProtoOptions& options = {});

// Parses a serialized TensorProto (an ONNX test-data .pb file).
Result<Tensor> TensorFromProtoBytes(const void* data, size_t size, const std::string& what);

// Serializes a host tensor as TensorProto bytes (raw_data, little-endian).
std::string TensorToProtoBytes(const Tensor& t, const std::string& name);

}  // namespace deepx
