// Typed status and result for every fallible DeepX call.
//
// DeepX treats model files, tensor files and requests as untrusted input, so errors are ordinary values,
// not exceptions: a Status carries a code a program can branch on and a message a person can act on,
// naming the node, tensor or file at fault. No exception crosses the public API.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>

namespace deepx {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // malformed model/tensor/request: the input is wrong
  kUnimplemented,       // well-formed but uses an op, attribute value or dtype DeepX does not support
  kNotFound,            // a named file, tensor, node or processor does not exist
  kOutOfRange,          // an index, rank or size outside what is allowed
  kResourceExhausted,   // memory or another limit would be exceeded
  kFailedPrecondition,  // the call is valid but not in this state
  kIoError,             // the operating system failed a read or write
  kUnavailable,         // a processor or remote server is not reachable now
  kDeadlineExceeded,    // a timeout expired
  kUnauthenticated,     // missing or wrong credentials
  kInternal,            // a DeepX bug: an invariant did not hold
};

const char* StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // "INVALID_ARGUMENT: node 'conv1' (Conv): ..."; "OK" when ok.
  std::string ToString() const;

  // Prefixes the message with context, innermost last: "loading 'm.onnx': node 'x': bad pads".
  Status WithContext(const std::string& context) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
inline Status Unimplemented(std::string m) { return {StatusCode::kUnimplemented, std::move(m)}; }
inline Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status OutOfRange(std::string m) { return {StatusCode::kOutOfRange, std::move(m)}; }
inline Status ResourceExhausted(std::string m) { return {StatusCode::kResourceExhausted, std::move(m)}; }
inline Status FailedPrecondition(std::string m) { return {StatusCode::kFailedPrecondition, std::move(m)}; }
inline Status IoError(std::string m) { return {StatusCode::kIoError, std::move(m)}; }
inline Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

// A value or the Status explaining why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design, like absl::StatusOr
  Result(Status status) : status_(std::move(status)) {  // NOLINT
    assert(!status_.ok() && "a Result built from a Status must carry an error");
    if (status_.ok()) status_ = Internal("Result constructed from an OK status");
  }

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }

  T& value() & { assert(ok()); return *value_; }
  const T& value() const& { assert(ok()); return *value_; }
  T&& value() && { assert(ok()); return std::move(*value_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace deepx

#define DX_CONCAT_INNER(a, b) a##b
#define DX_CONCAT(a, b) DX_CONCAT_INNER(a, b)

// Returns the Status of `expr` from the enclosing function if it is an error.
#define DX_RETURN_IF_ERROR(expr)                    \
  do {                                              \
    ::deepx::Status dx_status_ = (expr);            \
    if (!dx_status_.ok()) return dx_status_;        \
  } while (0)

// Like DX_RETURN_IF_ERROR, adding context (a std::string expression) to the message.
#define DX_RETURN_IF_ERROR_CTX(expr, ctx)                           \
  do {                                                              \
    ::deepx::Status dx_status_ = (expr);                            \
    if (!dx_status_.ok()) return dx_status_.WithContext(ctx);       \
  } while (0)

// `DX_ASSIGN_OR_RETURN(auto x, MakeX());` binds the value or returns the error.
#define DX_ASSIGN_OR_RETURN(lhs, expr) DX_ASSIGN_OR_RETURN_IMPL(DX_CONCAT(dx_result_, __LINE__), lhs, expr)
#define DX_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return tmp.status();            \
  lhs = std::move(tmp).value()
