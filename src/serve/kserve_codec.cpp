#include "serve/kserve_codec.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>

namespace deepx::serve {
namespace {

using json = nlohmann::json;

// Nested "data" arrays deeper than this are refused (they would only serve to exhaust the stack).
constexpr int kMaxDataDepth = 32;

struct DtypeName {
  DataType type;
  const char* name;
};
constexpr DtypeName kDtypes[] = {
    {DataType::kFloat32, "FP32"}, {DataType::kFloat64, "FP64"}, {DataType::kInt64, "INT64"},
    {DataType::kInt32, "INT32"},  {DataType::kInt8, "INT8"},    {DataType::kUInt8, "UINT8"},
    {DataType::kBool, "BOOL"},
};
// Protocol types DeepX does not hold.
constexpr const char* kUnheld[] = {"FP16", "BF16", "BYTES", "INT16", "UINT16", "UINT32", "UINT64"};

// Appends the leaves of a (possibly nested) JSON array; false when nesting is too deep or a leaf is an object.
bool Flatten(const json& a, std::vector<const json*>& leaves, int depth) {
  if (depth > kMaxDataDepth) return false;
  for (const json& e : a) {
    if (e.is_array()) {
      if (!Flatten(e, leaves, depth + 1)) return false;
    } else if (e.is_object()) {
      return false;
    } else {
      leaves.push_back(&e);
    }
  }
  return true;
}

template <typename T>
bool FromJsonNumber(const json& v, T& out) {
  if constexpr (std::is_floating_point_v<T>) {
    if (v.is_number()) {
      const double d = v.get<double>();
      // Out-of-range double -> float conversion is undefined behaviour: saturate to infinity instead.
      if (d > static_cast<double>(std::numeric_limits<T>::max())) out = std::numeric_limits<T>::infinity();
      else if (d < static_cast<double>(std::numeric_limits<T>::lowest())) out = -std::numeric_limits<T>::infinity();
      else out = static_cast<T>(d);
      return true;
    }
    if (v.is_null()) {  // non-finite values travel as null in JSON (binary keeps them exactly)
      out = std::numeric_limits<T>::quiet_NaN();
      return true;
    }
    return false;
  } else if constexpr (std::is_same_v<T, bool>) {
    if (v.is_boolean()) out = v.get<bool>();
    else if (v.is_number_integer()) out = v.get<int64_t>() != 0;
    else return false;
    return true;
  } else {
    if (v.is_number_unsigned()) {
      const uint64_t u = v.get<uint64_t>();
      if (u > static_cast<uint64_t>(std::numeric_limits<T>::max())) return false;
      out = static_cast<T>(u);
      return true;
    }
    if (!v.is_number_integer()) return false;
    const int64_t i = v.get<int64_t>();
    if (i < static_cast<int64_t>(std::numeric_limits<T>::min()) ||
        i > static_cast<int64_t>(std::numeric_limits<T>::max()))
      return false;
    out = static_cast<T>(i);
    return true;
  }
}

template <typename T>
Status FillFromJson(const std::vector<const json*>& leaves, Tensor& t, const std::string& name) {
  T* dst = t.data<T>();
  for (size_t i = 0; i < leaves.size(); ++i)
    if (!FromJsonNumber<T>(*leaves[i], dst[i]))
      return InvalidArgument("tensor '" + name + "': data element " + std::to_string(i) + " (" +
                             leaves[i]->dump() + ") is not a valid " + DataTypeName(t.dtype()));
  return Status::Ok();
}

template <typename T>
json ToJsonArray(const Tensor& t) {
  json a = json::array();
  const T* src = t.data<T>();
  const int64_t n = t.num_elements();
  for (int64_t i = 0; i < n; ++i) {
    if constexpr (std::is_floating_point_v<T>) {
      if (!std::isfinite(src[i])) {
        a.push_back(nullptr);
        continue;
      }
      a.push_back(static_cast<double>(src[i]));
    } else if constexpr (std::is_same_v<T, bool>) {
      a.push_back(static_cast<bool>(src[i]));
    } else {
      a.push_back(static_cast<int64_t>(src[i]));
    }
  }
  return a;
}

Result<json> TensorHeader(const NamedTensor& nt) {
  const Tensor& t = nt.tensor;
  if (!t.is_host()) return InvalidArgument("tensor '" + nt.name + "' is not in host memory");
  const char* dt = KServeDatatype(t.dtype());
  if (dt == nullptr)
    return Unimplemented("tensor '" + nt.name + "': dtype " + DataTypeName(t.dtype()) + " has no protocol name");
  json j;
  j["name"] = nt.name;
  j["datatype"] = dt;
  j["shape"] = t.shape();
  return j;
}

Result<json> TensorData(const Tensor& t) {
  switch (t.dtype()) {
    case DataType::kFloat32: return ToJsonArray<float>(t);
    case DataType::kFloat64: return ToJsonArray<double>(t);
    case DataType::kInt64: return ToJsonArray<int64_t>(t);
    case DataType::kInt32: return ToJsonArray<int32_t>(t);
    case DataType::kInt8: return ToJsonArray<int8_t>(t);
    case DataType::kUInt8: return ToJsonArray<uint8_t>(t);
    case DataType::kBool: return ToJsonArray<bool>(t);
    default: return Unimplemented(std::string("no JSON encoding for ") + DataTypeName(t.dtype()));
  }
}

// Encodes `tensors` into `list`, appending binary payloads to `binary_tail` where `binary[i]`.
Status EncodeTensors(const std::vector<NamedTensor>& tensors, const std::vector<bool>& binary, json& list,
                     std::string& binary_tail) {
  list = json::array();
  for (size_t i = 0; i < tensors.size(); ++i) {
    DX_ASSIGN_OR_RETURN(json j, TensorHeader(tensors[i]));
    const Tensor& t = tensors[i].tensor;
    if (binary[i]) {
      j["parameters"]["binary_data_size"] = t.size_bytes();
      binary_tail.append(static_cast<const char*>(t.raw_data()), t.size_bytes());
    } else {
      DX_ASSIGN_OR_RETURN(j["data"], TensorData(t));
    }
    list.push_back(std::move(j));
  }
  return Status::Ok();
}

WireBody Finish(const json& header, std::string binary_tail) {
  WireBody out;
  out.body = header.dump();
  if (!binary_tail.empty()) {
    out.header_length = out.body.size();
    out.body += binary_tail;
  }
  return out;
}

// Splits a body into its JSON header (parsed) and the binary region after it.
Result<std::pair<json, std::string_view>> SplitBody(std::string_view body, std::optional<size_t> header_length) {
  std::string_view head = body, tail;
  if (header_length) {
    if (*header_length > body.size())
      return InvalidArgument(std::string(kHeaderLengthHeader) + " (" + std::to_string(*header_length) +
                             ") exceeds the body size (" + std::to_string(body.size()) + ")");
    head = body.substr(0, *header_length);
    tail = body.substr(*header_length);
  }
  json doc = json::parse(head.begin(), head.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return InvalidArgument("body is not valid JSON");
  if (!doc.is_object()) return InvalidArgument("body must be a JSON object");
  return std::make_pair(std::move(doc), tail);
}

// Decodes one tensor object; binary payloads are consumed from `tail` at `*offset`.
Result<NamedTensor> DecodeTensor(const json& j, std::string_view tail, size_t* offset, const char* what) {
  if (!j.is_object()) return InvalidArgument(std::string(what) + " entries must be objects");
  if (!j.contains("name") || !j["name"].is_string()) return InvalidArgument(std::string(what) + " entry lacks a name");
  NamedTensor nt;
  nt.name = j["name"].get<std::string>();
  const std::string label = std::string(what) + " '" + nt.name + "'";
  if (!j.contains("datatype") || !j["datatype"].is_string()) return InvalidArgument(label + " lacks a datatype");
  auto dtype_or = DataTypeFromKServe(j["datatype"].get<std::string>());
  if (!dtype_or.ok()) return dtype_or.status().WithContext(label);
  const DataType dtype = *dtype_or;
  if (!j.contains("shape") || !j["shape"].is_array()) return InvalidArgument(label + " lacks a shape");
  if (j["shape"].size() > 16) return InvalidArgument(label + ": rank " + std::to_string(j["shape"].size()) + " > 16");
  Shape shape;
  for (const json& d : j["shape"]) {
    if (!d.is_number_integer() || (d.is_number_integer() && !d.is_number_unsigned() && d.get<int64_t>() < 0))
      return InvalidArgument(label + ": shape dimensions must be non-negative integers, got " + j["shape"].dump());
    if (d.is_number_unsigned() && d.get<uint64_t>() > (uint64_t{1} << 40))
      return InvalidArgument(label + ": dimension " + d.dump() + " is too large");
    shape.push_back(d.get<int64_t>());
  }
  auto numel = CheckedNumElements(shape, int64_t{1} << 40);
  if (!numel.ok()) return numel.status().WithContext(label);
  const uint64_t bytes = static_cast<uint64_t>(*numel) * DataTypeSize(dtype);

  const json* params = j.contains("parameters") && j["parameters"].is_object() ? &j["parameters"] : nullptr;
  if (params && params->contains("binary_data_size")) {
    const json& s = (*params)["binary_data_size"];
    if (!s.is_number_unsigned() && !(s.is_number_integer() && s.get<int64_t>() >= 0))
      return InvalidArgument(label + ": binary_data_size must be a non-negative integer");
    const uint64_t size = s.get<uint64_t>();
    if (size != bytes)
      return InvalidArgument(label + ": binary_data_size " + std::to_string(size) + " does not match shape " +
                             ShapeToString(shape) + " of " + j["datatype"].get<std::string>() + " (" +
                             std::to_string(bytes) + " bytes)");
    if (size > tail.size() - *offset)
      return InvalidArgument(label + ": binary data is truncated (" + std::to_string(size) + " bytes declared, " +
                             std::to_string(tail.size() - *offset) + " left in the body)");
    nt.tensor = Tensor::Zeros(dtype, shape);
    if (size > 0) std::memcpy(nt.tensor.raw_data(), tail.data() + *offset, size);
    *offset += size;
    return nt;
  }
  if (!j.contains("data") || !j["data"].is_array())
    return InvalidArgument(label + " has neither \"data\" nor parameters.binary_data_size");
  std::vector<const json*> leaves;
  if (!Flatten(j["data"], leaves, 0)) return InvalidArgument(label + ": \"data\" is nested too deeply or holds objects");
  if (static_cast<int64_t>(leaves.size()) != *numel)
    return InvalidArgument(label + ": \"data\" has " + std::to_string(leaves.size()) + " elements but shape " +
                           ShapeToString(shape) + " needs " + std::to_string(*numel));
  nt.tensor = Tensor::Zeros(dtype, shape);
  switch (dtype) {
    case DataType::kFloat32: DX_RETURN_IF_ERROR(FillFromJson<float>(leaves, nt.tensor, nt.name)); break;
    case DataType::kFloat64: DX_RETURN_IF_ERROR(FillFromJson<double>(leaves, nt.tensor, nt.name)); break;
    case DataType::kInt64: DX_RETURN_IF_ERROR(FillFromJson<int64_t>(leaves, nt.tensor, nt.name)); break;
    case DataType::kInt32: DX_RETURN_IF_ERROR(FillFromJson<int32_t>(leaves, nt.tensor, nt.name)); break;
    case DataType::kInt8: DX_RETURN_IF_ERROR(FillFromJson<int8_t>(leaves, nt.tensor, nt.name)); break;
    case DataType::kUInt8: DX_RETURN_IF_ERROR(FillFromJson<uint8_t>(leaves, nt.tensor, nt.name)); break;
    case DataType::kBool: DX_RETURN_IF_ERROR(FillFromJson<bool>(leaves, nt.tensor, nt.name)); break;
    default: return Unimplemented(label + ": dtype not supported");
  }
  return nt;
}

Result<std::vector<NamedTensor>> DecodeTensorList(const json& doc, const char* key, std::string_view tail,
                                                  const char* what) {
  if (!doc.contains(key) || !doc[key].is_array()) return InvalidArgument(std::string("body lacks an \"") + key + "\" array");
  std::vector<NamedTensor> out;
  size_t offset = 0;
  for (const json& j : doc[key]) {
    DX_ASSIGN_OR_RETURN(NamedTensor nt, DecodeTensor(j, tail, &offset, what));
    out.push_back(std::move(nt));
  }
  if (offset != tail.size())
    return InvalidArgument("body has " + std::to_string(tail.size() - offset) +
                           " bytes of binary data that no tensor declares");
  return out;
}

bool TrueParam(const json& j, const char* name) {
  return j.contains("parameters") && j["parameters"].is_object() && j["parameters"].contains(name) &&
         j["parameters"][name].is_boolean() && j["parameters"][name].get<bool>();
}

}  // namespace

const char* KServeDatatype(DataType t) {
  for (const DtypeName& d : kDtypes)
    if (d.type == t) return d.name;
  return nullptr;
}

Result<DataType> DataTypeFromKServe(const std::string& name) {
  for (const DtypeName& d : kDtypes)
    if (name == d.name) return d.type;
  for (const char* u : kUnheld)
    if (name == u) return Unimplemented("datatype " + name + " is not supported by DeepX");
  return InvalidArgument("unknown datatype '" + name.substr(0, 32) + "'");
}

Result<WireBody> EncodeInferRequest(const std::vector<NamedTensor>& inputs,
                                    const std::vector<std::string>& output_names, bool binary, bool binary_output) {
  json doc;
  std::string tail;
  DX_RETURN_IF_ERROR(EncodeTensors(inputs, std::vector<bool>(inputs.size(), binary), doc["inputs"], tail));
  if (!output_names.empty()) {
    doc["outputs"] = json::array();
    for (const std::string& n : output_names) {
      json o;
      o["name"] = n;
      if (binary_output) o["parameters"]["binary_data"] = true;
      doc["outputs"].push_back(std::move(o));
    }
  }
  if (binary_output) doc["parameters"]["binary_data_output"] = true;
  return Finish(doc, std::move(tail));
}

Result<InferRequest> DecodeInferRequest(std::string_view body, std::optional<size_t> header_length) {
  DX_ASSIGN_OR_RETURN(auto split, SplitBody(body, header_length));
  const json& doc = split.first;
  InferRequest req;
  if (doc.contains("id")) {
    if (!doc["id"].is_string()) return InvalidArgument("\"id\" must be a string");
    req.id = doc["id"].get<std::string>();
  }
  DX_ASSIGN_OR_RETURN(req.inputs, DecodeTensorList(doc, "inputs", split.second, "input"));
  req.binary_output = TrueParam(doc, "binary_data_output");
  if (doc.contains("outputs")) {
    if (!doc["outputs"].is_array()) return InvalidArgument("\"outputs\" must be an array");
    for (const json& o : doc["outputs"]) {
      if (!o.is_object() || !o.contains("name") || !o["name"].is_string())
        return InvalidArgument("each requested output needs a name");
      req.requested_outputs.push_back(o["name"].get<std::string>());
      if (TrueParam(o, "binary_data")) req.binary_outputs.insert(req.requested_outputs.back());
    }
  }
  return req;
}

Result<WireBody> EncodeInferResponse(const std::string& model_name, const std::string& id,
                                     const std::vector<NamedTensor>& outputs, const std::vector<bool>& binary) {
  json doc;
  doc["model_name"] = model_name;
  doc["model_version"] = "1";
  if (!id.empty()) doc["id"] = id;
  std::string tail;
  DX_RETURN_IF_ERROR(EncodeTensors(outputs, binary, doc["outputs"], tail));
  WireBody out = Finish(doc, std::move(tail));
  // A binary response whose payloads are all empty still announces its header length, so clients that asked for
  // binary see the same framing.
  bool any_binary = false;
  for (bool b : binary) any_binary |= b;
  if (any_binary && !out.header_length) out.header_length = out.body.size();
  return out;
}

Result<std::vector<NamedTensor>> DecodeInferResponse(std::string_view body, std::optional<size_t> header_length) {
  DX_ASSIGN_OR_RETURN(auto split, SplitBody(body, header_length));
  if (split.first.contains("error") && split.first["error"].is_string())
    return InvalidArgument("server error: " + split.first["error"].get<std::string>());
  return DecodeTensorList(split.first, "outputs", split.second, "output");
}

Result<std::optional<size_t>> ParseHeaderLength(const std::string& value, bool present) {
  if (!present) return std::optional<size_t>();
  if (value.empty() || value.size() > 19) return InvalidArgument(std::string("malformed ") + kHeaderLengthHeader);
  size_t n = 0;
  for (char c : value) {
    if (c < '0' || c > '9') return InvalidArgument(std::string("malformed ") + kHeaderLengthHeader);
    n = n * 10 + static_cast<size_t>(c - '0');
  }
  return std::optional<size_t>(n);
}

std::string ErrorJson(const std::string& message) {
  json j;
  j["error"] = message;
  // Messages may quote bytes of a malformed request: never let an invalid UTF-8 sequence throw here.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string Base64Encode(std::string_view bytes) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t v = uint32_t{static_cast<unsigned char>(bytes[i])} << 16 |
                       uint32_t{static_cast<unsigned char>(bytes[i + 1])} << 8 | static_cast<unsigned char>(bytes[i + 2]);
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i < bytes.size()) {
    uint32_t v = uint32_t{static_cast<unsigned char>(bytes[i])} << 16;
    if (i + 1 < bytes.size()) v |= uint32_t{static_cast<unsigned char>(bytes[i + 1])} << 8;
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

Result<std::string> Base64Decode(std::string_view text) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
  };
  std::string out;
  out.reserve(text.size() / 4 * 3);
  uint32_t acc = 0;
  int bits = 0;
  size_t pad = 0;
  for (char c : text) {
    if (c == '=') {
      ++pad;
      continue;
    }
    if (c == '\n' || c == '\r') continue;
    const int v = value(c);
    if (v < 0 || pad > 0) return InvalidArgument("invalid base64");
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  if (pad > 2) return InvalidArgument("invalid base64 padding");
  return out;
}

}  // namespace deepx::serve
