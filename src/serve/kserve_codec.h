// KServe v2 / Open Inference Protocol tensors on the wire, shared by `deepx serve` and the remote backend.
//
// An infer request or response is a JSON object whose "inputs"/"outputs" list tensors as
//   {"name": "x", "datatype": "FP32", "shape": [1, 3], "data": [1.0, 2.0, 3.0]}        (JSON, row-major)
// or, with the binary tensor extension (as Triton implements it), as
//   {"name": "x", "datatype": "FP32", "shape": [1, 3], "parameters": {"binary_data_size": 12}}
// with the raw little-endian bytes appended after the JSON, in tensor order; the HTTP header
// Inference-Header-Content-Length gives the JSON's length. Everything decoded here is untrusted: declared sizes are
// checked against the body before anything is allocated, and every failure is INVALID_ARGUMENT naming the tensor.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "deepx/status.h"
#include "deepx/tensor.h"

namespace deepx::serve {

inline constexpr const char* kHeaderLengthHeader = "Inference-Header-Content-Length";

// "FP32", "INT64", ... for a DeepX dtype; nullptr for one the protocol has no name for.
const char* KServeDatatype(DataType t);
// The DeepX dtype of a protocol name; UNIMPLEMENTED for a protocol type DeepX does not hold (FP16, BYTES, ...),
// INVALID_ARGUMENT for an unknown name.
Result<DataType> DataTypeFromKServe(const std::string& name);

struct NamedTensor {
  std::string name;
  Tensor tensor;
};

// A decoded infer request.
struct InferRequest {
  std::string id;
  std::vector<NamedTensor> inputs;
  std::vector<std::string> requested_outputs;  // empty: every output
  bool binary_output = false;                  // request "parameters": {"binary_data_output": true}
  std::set<std::string> binary_outputs;        // outputs asking {"parameters": {"binary_data": true}}
};

// An HTTP body plus the JSON header's length when binary tensors follow it (nullopt: the body is pure JSON).
struct WireBody {
  std::string body;
  std::optional<size_t> header_length;
};

// `binary`: every tensor travels in the binary extension (the remote backend's default), else as JSON data.
// `binary_output` asks the server to answer in binary too.
Result<WireBody> EncodeInferRequest(const std::vector<NamedTensor>& inputs,
                                    const std::vector<std::string>& output_names, bool binary, bool binary_output);
// `header_length`: the Inference-Header-Content-Length header, when present.
Result<InferRequest> DecodeInferRequest(std::string_view body, std::optional<size_t> header_length);

// `binary(i)`: whether output i travels in the binary extension.
Result<WireBody> EncodeInferResponse(const std::string& model_name, const std::string& id,
                                     const std::vector<NamedTensor>& outputs, const std::vector<bool>& binary);
Result<std::vector<NamedTensor>> DecodeInferResponse(std::string_view body, std::optional<size_t> header_length);

// Parses a header value as a byte count; nullopt for an absent header, INVALID_ARGUMENT for a malformed one.
Result<std::optional<size_t>> ParseHeaderLength(const std::string& value, bool present);

// {"error": message} as a JSON string.
std::string ErrorJson(const std::string& message);

std::string Base64Encode(std::string_view bytes);
Result<std::string> Base64Decode(std::string_view text);

}  // namespace deepx::serve
