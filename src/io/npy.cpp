#include "io/npy.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string_view>

namespace deepx {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicSize = 6;

// The npy header is a Python dict literal such as
//   {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
// written by numpy's repr. We accept exactly that grammar (either quote style, any key order, optional trailing
// commas, spaces anywhere) and nothing that needs a Python evaluator.
class HeaderParser {
 public:
  explicit HeaderParser(std::string_view text) : s_(text) {}

  struct Header {
    std::string descr;
    bool fortran_order = false;
    Shape shape;
  };

  Result<Header> Parse() {
    Header h;
    bool have_descr = false, have_order = false, have_shape = false;
    SkipSpace();
    if (!Consume('{')) return Error("header is not a dict (expected '{')");
    while (true) {
      SkipSpace();
      if (Consume('}')) break;
      DX_ASSIGN_OR_RETURN(std::string key, ParseString("key"));
      SkipSpace();
      if (!Consume(':')) return Error("expected ':' after key '" + key + "'");
      SkipSpace();
      if (key == "descr") {
        if (have_descr) return Error("duplicate key 'descr'");
        if (Peek() == '[') return Unimplemented("structured dtypes (a list 'descr') are not supported");
        DX_ASSIGN_OR_RETURN(h.descr, ParseString("'descr' value"));
        have_descr = true;
      } else if (key == "fortran_order") {
        if (have_order) return Error("duplicate key 'fortran_order'");
        DX_ASSIGN_OR_RETURN(h.fortran_order, ParseBool());
        have_order = true;
      } else if (key == "shape") {
        if (have_shape) return Error("duplicate key 'shape'");
        DX_ASSIGN_OR_RETURN(h.shape, ParseShape());
        have_shape = true;
      } else {
        return Error("unexpected key '" + key + "' (expected 'descr', 'fortran_order', 'shape')");
      }
      SkipSpace();
      if (Consume(',')) continue;
      if (Consume('}')) break;
      return Error("expected ',' or '}' after the value of '" + key + "'");
    }
    // numpy pads the header with spaces and ends it with '\n'; nothing else may follow the dict.
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\n' || s_[pos_] == '\r' || s_[pos_] == '\t' ||
                                s_[pos_] == '\0'))
      ++pos_;
    if (pos_ != s_.size()) return Error("unexpected text after the header dict");
    if (!have_descr) return Error("header has no 'descr'");
    if (!have_order) return Error("header has no 'fortran_order'");
    if (!have_shape) return Error("header has no 'shape'");
    return h;
  }

 private:
  static Status Error(const std::string& m) { return InvalidArgument("malformed header: " + m); }

  char Peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  bool Consume(char c) {
    if (Peek() != c || pos_ >= s_.size()) return false;
    ++pos_;
    return true;
  }
  void SkipSpace() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) ++pos_;
  }

  Result<std::string> ParseString(const char* what) {
    const char quote = Peek();
    if (quote != '\'' && quote != '"') return Error(std::string(what) + " is not a quoted string");
    ++pos_;
    std::string out;
    while (pos_ < s_.size() && s_[pos_] != quote) {
      if (s_[pos_] == '\\') return Error(std::string(what) + " uses escape sequences, which npy headers never need");
      out.push_back(s_[pos_++]);
    }
    if (!Consume(quote)) return Error(std::string(what) + " is an unterminated string");
    return out;
  }

  Result<bool> ParseBool() {
    if (s_.substr(pos_, 4) == "True") {
      pos_ += 4;
      return true;
    }
    if (s_.substr(pos_, 5) == "False") {
      pos_ += 5;
      return false;
    }
    return Error("'fortran_order' must be True or False");
  }

  Result<int64_t> ParseDim() {
    if (Peek() == '-') return Error("shape has a negative dimension");
    if (Peek() < '0' || Peek() > '9') return Error("shape entries must be non-negative integers");
    int64_t v = 0;
    while (Peek() >= '0' && Peek() <= '9') {
      const int digit = Peek() - '0';
      if (v > (std::numeric_limits<int64_t>::max() - digit) / 10) return Error("shape dimension overflows int64");
      v = v * 10 + digit;
      ++pos_;
    }
    Consume('L');  // Python 2 long literals, found in old files
    return v;
  }

  Result<Shape> ParseShape() {
    if (!Consume('(')) return Error("'shape' must be a tuple");
    Shape shape;
    bool saw_comma = false;
    while (true) {
      SkipSpace();
      if (Consume(')')) break;
      if (shape.size() >= 64) return Error("shape has more than 64 dimensions");
      DX_ASSIGN_OR_RETURN(int64_t d, ParseDim());
      shape.push_back(d);
      SkipSpace();
      if (Consume(',')) {
        saw_comma = true;
        continue;
      }
      if (Consume(')')) break;
      return Error("expected ',' or ')' in 'shape'");
    }
    // "(3)" is the integer 3 in Python, not a tuple; numpy itself would refuse it.
    if (shape.size() == 1 && !saw_comma) return Error("'shape' must be a tuple: write (3,) for one dimension");
    return shape;
  }

  std::string_view s_;
  size_t pos_ = 0;
};

// Maps a descr such as '<f4' to a dtype. Byte order is irrelevant for 1-byte types, so any prefix works there.
Result<DataType> DescrToDataType(const std::string& descr) {
  if (descr.size() >= 2) {
    const char order = descr[0];
    const std::string code = descr.substr(1);
    const bool one_byte = code == "u1" || code == "i1" || code == "b1";
    if (one_byte && (order == '|' || order == '<' || order == '>' || order == '=')) {
      if (code == "u1") return DataType::kUInt8;
      if (code == "i1") return DataType::kInt8;
      return DataType::kBool;
    }
    // '=' is native order; DeepX only builds for little-endian hosts.
    if (order == '<' || order == '=') {
      if (code == "f4") return DataType::kFloat32;
      if (code == "f8") return DataType::kFloat64;
      if (code == "i8") return DataType::kInt64;
      if (code == "i4") return DataType::kInt32;
    }
    if (order == '>') return Unimplemented("big-endian dtype '" + descr + "' is not supported");
  }
  return Unimplemented("dtype '" + descr +
                       "' is not supported (supported: <f4, <f8, <i8, <i4, |u1, |i1, |b1)");
}

const char* DataTypeToDescr(DataType t) {
  switch (t) {
    case DataType::kFloat32: return "<f4";
    case DataType::kFloat64: return "<f8";
    case DataType::kInt64: return "<i8";
    case DataType::kInt32: return "<i4";
    case DataType::kUInt8: return "|u1";
    case DataType::kInt8: return "|i1";
    case DataType::kBool: return "|b1";
    case DataType::kUndefined: break;
  }
  return nullptr;
}

uint32_t ReadLittleEndian(const unsigned char* p, int bytes) {
  uint32_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

}  // namespace

Result<Tensor> ParseNpy(const void* data, size_t size, const std::string& what) {
  auto fail = [&](const Status& s) { return s.WithContext(what); };
  const auto* bytes = static_cast<const unsigned char*>(data);
  if (size < kMagicSize + 2 || (data == nullptr && size != 0))
    return fail(InvalidArgument("too short to be a .npy file (" + std::to_string(size) + " bytes)"));
  if (std::memcmp(bytes, kMagic, kMagicSize) != 0) return fail(InvalidArgument("not a .npy file (bad magic)"));
  const int major = bytes[6], minor = bytes[7];
  if (major < 1 || major > 3 || minor != 0)
    return fail(Unimplemented("unsupported .npy format version " + std::to_string(major) + "." +
                              std::to_string(minor) + " (supported: 1.0, 2.0, 3.0)"));
  const size_t len_bytes = major == 1 ? 2 : 4;
  const size_t prefix = kMagicSize + 2 + len_bytes;
  if (size < prefix) return fail(InvalidArgument("truncated header (file ends inside the header length)"));
  const size_t header_len = ReadLittleEndian(bytes + kMagicSize + 2, static_cast<int>(len_bytes));
  if (header_len > size - prefix)
    return fail(InvalidArgument("header length " + std::to_string(header_len) + " runs past the end of the file (" +
                                std::to_string(size) + " bytes)"));
  std::string_view text(reinterpret_cast<const char*>(bytes + prefix), header_len);
  auto header = HeaderParser(text).Parse();
  if (!header.ok()) return fail(header.status());
  auto dtype_or = DescrToDataType(header->descr);
  if (!dtype_or.ok()) return fail(dtype_or.status());
  const DataType dtype = *dtype_or;
  if (header->fortran_order)
    return fail(Unimplemented("Fortran-order arrays are not supported; save with numpy.ascontiguousarray"));
  auto count = CheckedNumElements(header->shape);
  if (!count.ok()) return fail(InvalidArgument("bad shape " + ShapeToString(header->shape) + ": " +
                                               count.status().message()));
  const size_t data_offset = prefix + header_len;
  const size_t available = size - data_offset;
  // *count <= 2^40 and element sizes <= 8, so this cannot overflow.
  const size_t needed = static_cast<size_t>(*count) * DataTypeSize(dtype);
  if (available < needed)
    return fail(InvalidArgument("data is truncated: " + std::string(DataTypeName(dtype)) + " " +
                                ShapeToString(header->shape) + " needs " + std::to_string(needed) +
                                " bytes, the file has " + std::to_string(available)));
  if (available > needed)
    return fail(InvalidArgument(std::to_string(available - needed) + " bytes of trailing data after the " +
                                std::to_string(needed) + " bytes that " + ShapeToString(header->shape) + " needs"));
  Tensor t = Tensor::Zeros(dtype, header->shape);
  if (needed) std::memcpy(t.raw_data(), bytes + data_offset, needed);
  if (dtype == DataType::kBool)  // normalise so kernels may treat bool bytes as truth values
    for (size_t i = 0; i < needed; ++i) t.data<uint8_t>()[i] = t.data<uint8_t>()[i] != 0;
  return t;
}

Result<std::string> ReadWholeFile(const std::string& path, int64_t max_bytes) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(path, ec)) return NotFound("file '" + path + "' does not exist");
  if (!fs::is_regular_file(path, ec)) return InvalidArgument("'" + path + "' is not a regular file");
  const auto size = fs::file_size(path, ec);
  if (ec) return IoError("cannot read the size of '" + path + "': " + ec.message());
  if (size > static_cast<uintmax_t>(max_bytes))
    return ResourceExhausted("file '" + path + "' is " + std::to_string(size) + " bytes, over the limit of " +
                             std::to_string(max_bytes));
  std::string bytes(static_cast<size_t>(size), '\0');
  std::ifstream in(path, std::ios::binary);
  if (!in || !in.read(bytes.data(), static_cast<std::streamsize>(size))) return IoError("cannot read '" + path + "'");
  return bytes;
}

Status WriteWholeFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return IoError("cannot open '" + path + "' for writing");
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) return IoError("writing '" + path + "' failed");
  return Status::Ok();
}

Result<Tensor> ReadNpyFile(const std::string& path) {
  DX_ASSIGN_OR_RETURN(std::string bytes, ReadWholeFile(path, int64_t{1} << 40));
  return ParseNpy(bytes.data(), bytes.size(), "file '" + path + "'");
}

Result<std::string> NpyBytes(const Tensor& t) {
  const char* descr = DataTypeToDescr(t.dtype());
  if (descr == nullptr) return InvalidArgument("cannot write a tensor of undefined dtype as .npy");
  if (t.empty()) return InvalidArgument("cannot write an unset tensor as .npy");
  if (!t.is_host()) return InvalidArgument("cannot write a tensor that is not in host memory");
  std::string dict = std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': (";
  for (size_t i = 0; i < t.shape().size(); ++i) {
    dict += std::to_string(t.shape()[i]);
    dict += t.shape().size() == 1 ? "," : (i + 1 < t.shape().size() ? ", " : "");
  }
  dict += "), }";
  // Pad with spaces and end with '\n' so the data starts 64-byte aligned, as numpy does.
  const bool v2 = dict.size() + 1 + 10 > 65535;
  const size_t prefix = v2 ? 12 : 10;
  size_t total = prefix + dict.size() + 1;
  total = (total + 63) / 64 * 64;
  const size_t header_len = total - prefix;
  dict.append(header_len - dict.size() - 1, ' ');
  dict.push_back('\n');

  std::string out(kMagic, kMagicSize);
  out.push_back(static_cast<char>(v2 ? 2 : 1));
  out.push_back(0);
  for (size_t i = 0; i < (v2 ? 4u : 2u); ++i) out.push_back(static_cast<char>((header_len >> (8 * i)) & 0xff));
  out += dict;
  if (t.size_bytes()) out.append(static_cast<const char*>(t.raw_data()), t.size_bytes());
  return out;
}

Status WriteNpyFile(const std::string& path, const Tensor& t) {
  auto bytes = NpyBytes(t);
  if (!bytes.ok()) return bytes.status().WithContext("writing '" + path + "'");
  return WriteWholeFile(path, *bytes);
}

}  // namespace deepx
