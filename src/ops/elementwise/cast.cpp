// Cast and CastLike between float32, float64, int8, uint8, int32, int64 and bool.
//
// Floating point to integer truncates toward zero; out-of-range values saturate and NaN becomes 0 (ONNX leaves
// these undefined; we only need them to be deterministic and free of C++ undefined behaviour). Anything to bool
// is "non-zero"; bool to anything is 0 or 1. Cast-1 (opsets 1..5) named the target type with a string ("FLOAT",
// "INT64", ...: the TensorProto.DataType enum names) instead of its number.
#include <cctype>
#include <string>
#include <type_traits>

#include "ops/elementwise/elementwise_util.h"
#include "ops/op.h"

namespace deepx::elementwise {
namespace {

// ONNX TensorProto.DataType names, for messages about types DeepX cannot hold.
std::string OnnxTypeName(int64_t code) {
  static const char* kNames[] = {"UNDEFINED", "FLOAT",     "UINT8",      "INT8",     "UINT16",        "INT16",
                                 "INT32",     "INT64",     "STRING",     "BOOL",     "FLOAT16",       "DOUBLE",
                                 "UINT32",    "UINT64",    "COMPLEX64",  "COMPLEX128", "BFLOAT16",    "FLOAT8E4M3FN",
                                 "FLOAT8E4M3FNUZ", "FLOAT8E5M2", "FLOAT8E5M2FNUZ", "UINT4", "INT4"};
  if (code >= 0 && code < static_cast<int64_t>(sizeof(kNames) / sizeof(kNames[0]))) return kNames[code];
  return "type code " + std::to_string(code);
}

// Like VisitNumeric, but bool too (as its uint8_t storage, flagged so conversions treat it as truth values).
template <typename Fn>
void VisitStorage(DataType t, Fn&& fn) {
  if (t == DataType::kBool) {
    fn(uint8_t{}, true);
    return;
  }
  VisitNumeric(t, [&](auto tag) { fn(tag, false); });
}

template <typename S, typename D>
D ConvertOne(S v, bool src_bool, bool dst_bool) {
  if (dst_bool) return v != 0 ? D{1} : D{0};
  if (src_bool) return v != 0 ? D{1} : D{0};
  if constexpr (std::is_floating_point_v<S> && !std::is_floating_point_v<D>) {
    return SaturatingCast<D>(static_cast<double>(v));
  } else {
    return static_cast<D>(v);  // integer narrowing wraps modulo 2^n (defined since C++20)
  }
}

Status ConvertTensor(const Tensor& in, Tensor& out) {
  const int64_t n = in.num_elements();
  VisitStorage(in.dtype(), [&](auto src_tag, bool src_bool) {
    VisitStorage(out.dtype(), [&](auto dst_tag, bool dst_bool) {
      using S = decltype(src_tag);
      using D = decltype(dst_tag);
      const S* ps = in.data<S>();
      D* pd = out.data<D>();
      for (int64_t i = 0; i < n; ++i) pd[i] = ConvertOne<S, D>(ps[i], src_bool, dst_bool);
    });
  });
  return Status::Ok();
}

constexpr int kCastNumericToOpset = 6;

// The type code a Cast-1 type name stands for (names as in OnnxTypeName, any case).
Result<int64_t> TypeCodeFromName(const std::string& name) {
  std::string upper = name;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (int64_t code = 1; code < 64; ++code) {
    const std::string known = OnnxTypeName(code);
    if (known.rfind("type code", 0) == 0) break;
    if (known == upper) return code;
  }
  return InvalidArgument("attribute 'to' names no ONNX data type: '" + name + "'");
}

Result<int64_t> TargetType(const InferContext& ctx) {
  if (!ctx.attrs().has("to")) return InvalidArgument("missing required attribute 'to'");
  if (ctx.opset() < kCastNumericToOpset) {
    DX_ASSIGN_OR_RETURN(std::string name, ctx.attrs().GetString("to", ""));
    return TypeCodeFromName(name);
  }
  return ctx.attrs().GetInt("to", 0);
}

Status CastInfer(InferContext& ctx) {
  DX_ASSIGN_OR_RETURN(int64_t to, TargetType(ctx));
  if (to < 0 || to > 1000 || !IsKnownDataType(static_cast<int32_t>(to)))
    return Unimplemented("Cast to " + OnnxTypeName(to) + " is not supported");
  DX_RETURN_IF_ERROR(CheckDtype("Cast", "input '" + ctx.input_name(0) + "'", ctx.input_dtype(0), kAllTypes));
  ctx.SetOutput(0, static_cast<DataType>(to), ctx.input_shape(0));
  return Status::Ok();
}

Status CastLikeInfer(InferContext& ctx) {
  DX_RETURN_IF_ERROR(CheckDtype("CastLike", "input '" + ctx.input_name(0) + "'", ctx.input_dtype(0), kAllTypes));
  DX_RETURN_IF_ERROR(
      CheckDtype("CastLike", "target_type input '" + ctx.input_name(1) + "'", ctx.input_dtype(1), kAllTypes));
  ctx.SetOutput(0, ctx.input_dtype(1), ctx.input_shape(0));
  return Status::Ok();
}

Status CastKernel(KernelContext& ctx) { return ConvertTensor(ctx.input(0), ctx.output(0)); }

OpCost CastCost(const CostContext& ctx) { return ElementwiseCost(ctx, 0.0); }

}  // namespace

void RegisterCastOps(OpRegistry& r) {
  r.Register(OpSchema{"Cast", 1, 1, 1, 1, {"to", "saturate"}, CastInfer, CastKernel, CastCost});
  r.Register(OpSchema{"CastLike", 2, 2, 1, 1, {"saturate"}, CastLikeInfer, CastKernel, CastCost});
}

}  // namespace deepx::elementwise
