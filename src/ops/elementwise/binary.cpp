// Two-input broadcasting ops: arithmetic (Add, Sub, Mul, Div, Pow, Mod), comparisons (Equal, Less, Greater,
// LessOrEqual, GreaterOrEqual -> bool), logic (And, Or, Xor on bool), plus PRelu (unidirectional slope) and
// Where (three-way broadcast). The first group shares one infer and one kernel, driven by kBinaryOps.
//
// Before opset 7 the table's legacy ops broadcast only B onto A, and only with broadcast=1 (see ops/legacy.h);
// the kernel reads B with the equivalent numpy shape, so one code path serves both forms.
#include <cmath>
#include <string>
#include <type_traits>
#include <vector>

#include "ops/elementwise/broadcast.h"
#include "ops/elementwise/elementwise_util.h"
#include "ops/legacy.h"
#include "ops/op.h"

namespace deepx::elementwise {
namespace {

enum class BinOp { kAdd, kSub, kMul, kDiv, kPow, kMod, kEqual, kLess, kGreater, kLessOrEqual, kGreaterOrEqual,
                   kAnd, kOr, kXor };

struct BinaryOpInfo {
  const char* name;
  BinOp op;
  DtypeSet input_types;  // dtypes of input A (and of B, which must match, except for Pow's exponent)
  bool bool_output;
  bool legacy_broadcast;  // defined before opset 7, with the `broadcast` and `axis` attributes
  bool consumed_inputs;   // carried `consumed_inputs` before opset 6
};

const BinaryOpInfo kBinaryOps[] = {
    {"Add", BinOp::kAdd, kNumericTypes, false, true, true},
    {"Sub", BinOp::kSub, kNumericTypes, false, true, true},
    {"Mul", BinOp::kMul, kNumericTypes, false, true, true},
    {"Div", BinOp::kDiv, kNumericTypes, false, true, true},
    {"Pow", BinOp::kPow, kNumericTypes, false, true, false},
    {"Mod", BinOp::kMod, kNumericTypes, false, false, false},
    {"Equal", BinOp::kEqual, kAllTypes, true, true, false},
    {"Less", BinOp::kLess, kNumericTypes, true, true, false},
    {"Greater", BinOp::kGreater, kNumericTypes, true, true, false},
    {"LessOrEqual", BinOp::kLessOrEqual, kNumericTypes, true, false, false},
    {"GreaterOrEqual", BinOp::kGreaterOrEqual, kNumericTypes, true, false, false},
    {"And", BinOp::kAnd, kBoolType, true, true, false},
    {"Or", BinOp::kOr, kBoolType, true, true, false},
    {"Xor", BinOp::kXor, kBoolType, true, true, false},
};

const BinaryOpInfo* FindBinaryOp(const std::string& name) {
  for (const BinaryOpInfo& info : kBinaryOps)
    if (name == info.name) return &info;
  return nullptr;
}

// Applies f(a_elem, b_elem, out_elem&) over the broadcast output, reading B as `b_shape` (its own shape, or the
// numpy equivalent of a legacy broadcast). f returns false for a value the op cannot produce (integer division by
// zero), which becomes an InvalidArgument carrying `failure`.
template <typename TA, typename TB, typename TO, typename F>
Status BroadcastBinary(const Tensor& a, const Tensor& b, const Shape& b_shape, Tensor& out, const char* failure, F f) {
  const BroadcastIndexer ia(a.shape(), out.shape());
  const BroadcastIndexer ib(b_shape, out.shape());
  const TA* pa = a.data<TA>();
  const TB* pb = b.data<TB>();
  TO* po = out.data<TO>();
  const int64_t n = out.num_elements();
  for (int64_t i = 0; i < n; ++i) {
    if (!f(pa[ia(i)], pb[ib(i)], po[i])) return InvalidArgument(failure);
  }
  return Status::Ok();
}

template <typename T>
bool Arithmetic(BinOp op, T a, T b, T& out) {
  if constexpr (std::is_floating_point_v<T>) {
    switch (op) {
      case BinOp::kAdd: out = a + b; break;
      case BinOp::kSub: out = a - b; break;
      case BinOp::kMul: out = a * b; break;
      case BinOp::kDiv: out = a / b; break;
      default: return false;
    }
  } else {
    switch (op) {
      case BinOp::kAdd: out = WrapAdd(a, b); break;
      case BinOp::kSub: out = WrapSub(a, b); break;
      case BinOp::kMul: out = WrapMul(a, b); break;
      case BinOp::kDiv:
        if (b == 0) return false;
        // MIN / -1 overflows (and traps on x86); the wrapped result is MIN itself. C++ division truncates.
        if (std::is_signed_v<T> && b == static_cast<T>(-1)) {
          out = WrapSub(T{0}, a);
        } else {
          out = static_cast<T>(a / b);
        }
        break;
      default: return false;
    }
  }
  return true;
}

// ONNX Mod: with fmod=1 the remainder has the dividend's sign (C fmod / %), with fmod=0 the divisor's (Python).
template <typename T>
bool Modulo(bool c_fmod, T a, T b, T& out) {
  if constexpr (std::is_floating_point_v<T>) {
    out = std::fmod(a, b);
    return true;
  } else {
    if (b == 0) return false;
    T r = (std::is_signed_v<T> && b == static_cast<T>(-1)) ? T{0} : static_cast<T>(a % b);
    if (!c_fmod && r != 0 && ((r < 0) != (b < 0))) r = static_cast<T>(r + b);
    out = r;
    return true;
  }
}

// Integer power by squaring, wrapping on overflow. Negative exponents truncate 1/a^-e toward zero.
template <typename T>
T IntegerPower(T base, int64_t exponent) {
  if (exponent < 0) {
    if (base == 1) return 1;
    if constexpr (std::is_signed_v<T>) {
      if (base == -1) return (exponent % 2 == 0) ? T{1} : static_cast<T>(-1);
    }
    return 0;
  }
  T result = 1;
  T factor = base;
  uint64_t e = static_cast<uint64_t>(exponent);
  while (e) {
    if (e & 1) result = WrapMul(result, factor);
    factor = WrapMul(factor, factor);
    e >>= 1;
  }
  return result;
}

template <typename TA, typename TB>
TA Power(TA a, TB b) {
  if constexpr (!std::is_floating_point_v<TA> && !std::is_floating_point_v<TB>) {
    return IntegerPower(a, static_cast<int64_t>(b));
  } else {
    return SaturatingCast<TA>(std::pow(static_cast<double>(a), static_cast<double>(b)));
  }
}

template <typename T>
bool Compare(BinOp op, T a, T b) {
  switch (op) {
    case BinOp::kEqual: return a == b;
    case BinOp::kLess: return a < b;
    case BinOp::kGreater: return a > b;
    case BinOp::kLessOrEqual: return a <= b;
    case BinOp::kGreaterOrEqual: return a >= b;
    default: return false;
  }
}

Status BinaryInfer(InferContext& ctx) {
  const BinaryOpInfo* info = FindBinaryOp(ctx.node().op_type);
  if (!info) return Internal("no binary op table entry for " + ctx.node().op_type);
  const std::string op = info->name;
  const DataType ta = ctx.input_dtype(0), tb = ctx.input_dtype(1);
  DX_RETURN_IF_ERROR(CheckDtype(op, "input A '" + ctx.input_name(0) + "'", ta, info->input_types));
  if (info->op == BinOp::kPow) {
    DX_RETURN_IF_ERROR(CheckDtype(op, "exponent '" + ctx.input_name(1) + "'", tb, kNumericTypes));
  } else if (ta != tb) {
    return InvalidArgument(std::string("inputs must have the same dtype, got ") + DataTypeName(ta) + " and " +
                           DataTypeName(tb));
  }
  if (info->op == BinOp::kMod) {
    DX_ASSIGN_OR_RETURN(int64_t fmod, ctx.attrs().GetInt("fmod", 0));
    if (fmod != 0 && fmod != 1) return InvalidArgument("attribute 'fmod' must be 0 or 1, got " + std::to_string(fmod));
    if (fmod == 0 && InDtypeSet(ta, kFloatTypes))
      return InvalidArgument("Mod on floating-point inputs requires fmod=1");
  }
  if (info->consumed_inputs) DX_RETURN_IF_ERROR(CheckConsumedInputs(ctx));
  Shape out;
  if (info->legacy_broadcast && ctx.opset() < kNumpyBroadcastOpset) {
    DX_RETURN_IF_ERROR(LegacyBroadcastShape(ctx.attrs(), ctx.input_shape(0), ctx.input_shape(1)).status());
    out = ctx.input_shape(0);
  } else {
    if (info->legacy_broadcast) DX_RETURN_IF_ERROR(RejectLegacyBroadcastAttributes(ctx.attrs()));
    DX_ASSIGN_OR_RETURN(out, BroadcastShapes(ctx.input_shape(0), ctx.input_shape(1)));
  }
  ctx.SetOutput(0, info->bool_output ? DataType::kBool : ta, std::move(out));
  return Status::Ok();
}

Status BinaryKernel(KernelContext& ctx) {
  const BinaryOpInfo* info = FindBinaryOp(ctx.node.op_type);
  if (!info) return Internal("no binary op table entry for " + ctx.node.op_type);
  const BinOp op = info->op;
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(1);
  Tensor& out = ctx.output(0);
  Shape b_shape = b.shape();
  if (info->legacy_broadcast && ctx.opset() < kNumpyBroadcastOpset) {
    DX_ASSIGN_OR_RETURN(b_shape, LegacyBroadcastShape(ctx.attrs(), a.shape(), b.shape()));
  }
  Status status = Internal(std::string("unsupported dtype ") + DataTypeName(a.dtype()) + " for " + info->name);

  switch (op) {
    case BinOp::kAdd:
    case BinOp::kSub:
    case BinOp::kMul:
    case BinOp::kDiv:
      VisitNumeric(a.dtype(), [&](auto tag) {
        using T = decltype(tag);
        status = BroadcastBinary<T, T, T>(a, b, b_shape, out, "integer division by zero",
                                          [op](T x, T y, T& z) { return Arithmetic(op, x, y, z); });
      });
      break;
    case BinOp::kMod: {
      const bool c_fmod = ctx.attrs().Int("fmod", 0) != 0;
      VisitNumeric(a.dtype(), [&](auto tag) {
        using T = decltype(tag);
        status = BroadcastBinary<T, T, T>(a, b, b_shape, out, "integer modulo by zero",
                                          [c_fmod](T x, T y, T& z) { return Modulo(c_fmod, x, y, z); });
      });
      break;
    }
    case BinOp::kPow:
      VisitNumeric(a.dtype(), [&](auto base_tag) {
        VisitNumeric(b.dtype(), [&](auto exp_tag) {
          using TA = decltype(base_tag);
          using TB = decltype(exp_tag);
          status = BroadcastBinary<TA, TB, TA>(a, b, b_shape, out, "", [](TA x, TB y, TA& z) {
            z = Power(x, y);
            return true;
          });
        });
      });
      break;
    case BinOp::kEqual:
    case BinOp::kLess:
    case BinOp::kGreater:
    case BinOp::kLessOrEqual:
    case BinOp::kGreaterOrEqual:
      if (a.dtype() == DataType::kBool) {
        // Any non-zero byte is true; compare truth values, not bytes.
        auto compare_truth = [op](uint8_t x, uint8_t y, uint8_t& z) {
          z = Compare(op, x != 0, y != 0) ? 1 : 0;
          return true;
        };
        status = BroadcastBinary<uint8_t, uint8_t, uint8_t>(a, b, b_shape, out, "", compare_truth);
      } else {
        VisitNumeric(a.dtype(), [&](auto tag) {
          using T = decltype(tag);
          status = BroadcastBinary<T, T, uint8_t>(a, b, b_shape, out, "", [op](T x, T y, uint8_t& z) {
            z = Compare(op, x, y) ? 1 : 0;
            return true;
          });
        });
      }
      break;
    case BinOp::kAnd:
    case BinOp::kOr:
    case BinOp::kXor:
    {
      auto logic = [op](uint8_t x, uint8_t y, uint8_t& z) {
        const bool p = x != 0, q = y != 0;
        z = (op == BinOp::kAnd ? (p && q) : op == BinOp::kOr ? (p || q) : (p != q)) ? 1 : 0;
        return true;
      };
      status = BroadcastBinary<uint8_t, uint8_t, uint8_t>(a, b, b_shape, out, "", logic);
      break;
    }
  }
  return status;
}

// --- PRelu -------------------------------------------------------------------------------------------------------

// The shape the slope is read with. Normally the slope itself (unidirectional broadcast to X). Some older
// exporters emit a per-channel slope of shape [C] for X of shape [N, C, ...], which numpy rules would align
// with the last dimension; we accept it as [C, 1, ..., 1] since that is the only sensible meaning.
Result<Shape> PReluSlopeShape(const Shape& x, const Shape& slope) {
  Status direct = CheckUnidirectionalBroadcast(slope, x);
  if (direct.ok()) return slope;
  if (slope.size() == 1 && x.size() >= 2 && slope[0] == x[1]) {
    Shape channel(x.size() - 1, 1);
    channel[0] = slope[0];
    return channel;
  }
  return InvalidArgument("slope of shape " + ShapeToString(slope) + " cannot be broadcast to X of shape " +
                         ShapeToString(x));
}

Status PReluInfer(InferContext& ctx) {
  DX_RETURN_IF_ERROR(CheckConsumedInputs(ctx));
  const DataType t = ctx.input_dtype(0);
  DX_RETURN_IF_ERROR(CheckDtype("PRelu", "input X '" + ctx.input_name(0) + "'", t, kFloatTypes | kSignedIntTypes));
  if (ctx.input_dtype(1) != t)
    return InvalidArgument(std::string("slope must have X's dtype ") + DataTypeName(t) + ", got " +
                           DataTypeName(ctx.input_dtype(1)));
  DX_RETURN_IF_ERROR(PReluSlopeShape(ctx.input_shape(0), ctx.input_shape(1)).status());
  ctx.SetOutput(0, t, ctx.input_shape(0));
  return Status::Ok();
}

Status PReluKernel(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& slope = ctx.input(1);
  DX_ASSIGN_OR_RETURN(Shape slope_shape, PReluSlopeShape(x.shape(), slope.shape()));
  const BroadcastIndexer is(slope_shape, x.shape());
  Tensor& y = ctx.output(0);
  VisitNumeric(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* px = x.data<T>();
    const T* ps = slope.data<T>();
    T* py = y.data<T>();
    for (int64_t i = 0; i < x.num_elements(); ++i) {
      if constexpr (std::is_floating_point_v<T>) {
        py[i] = px[i] < 0 ? ps[is(i)] * px[i] : px[i];
      } else {
        py[i] = px[i] < 0 ? WrapMul(ps[is(i)], px[i]) : px[i];
      }
    }
  });
  return Status::Ok();
}

OpCost PReluCost(const CostContext& ctx) { return ElementwiseCost(ctx, 2.0); }

// --- Where -------------------------------------------------------------------------------------------------------

Status WhereInfer(InferContext& ctx) {
  if (ctx.input_dtype(0) != DataType::kBool)
    return InvalidArgument(std::string("condition must be bool, got ") + DataTypeName(ctx.input_dtype(0)));
  if (ctx.input_dtype(1) != ctx.input_dtype(2))
    return InvalidArgument(std::string("X and Y must have the same dtype, got ") + DataTypeName(ctx.input_dtype(1)) +
                           " and " + DataTypeName(ctx.input_dtype(2)));
  DX_ASSIGN_OR_RETURN(Shape out,
                      BroadcastShapes({ctx.input_shape(0), ctx.input_shape(1), ctx.input_shape(2)}));
  ctx.SetOutput(0, ctx.input_dtype(1), std::move(out));
  return Status::Ok();
}

Status WhereKernel(KernelContext& ctx) {
  const Tensor& cond = ctx.input(0);
  const Tensor& x = ctx.input(1);
  const Tensor& y = ctx.input(2);
  Tensor& out = ctx.output(0);
  const BroadcastIndexer ic(cond.shape(), out.shape());
  const BroadcastIndexer ix(x.shape(), out.shape());
  const BroadcastIndexer iy(y.shape(), out.shape());
  // Any dtype: move whole elements as bytes.
  const size_t size = DataTypeSize(out.dtype());
  const uint8_t* pc = cond.data<uint8_t>();
  const uint8_t* px = x.data<uint8_t>();
  const uint8_t* py = y.data<uint8_t>();
  uint8_t* po = out.data<uint8_t>();
  for (int64_t i = 0; i < out.num_elements(); ++i) {
    const uint8_t* src = pc[ic(i)] ? px + static_cast<size_t>(ix(i)) * size : py + static_cast<size_t>(iy(i)) * size;
    for (size_t k = 0; k < size; ++k) po[static_cast<size_t>(i) * size + k] = src[k];
  }
  return Status::Ok();
}

}  // namespace

void RegisterBinaryOps(OpRegistry& r) {
  for (const BinaryOpInfo& info : kBinaryOps) {
    std::vector<std::string> attributes;
    if (info.op == BinOp::kMod) attributes.push_back("fmod");
    if (info.legacy_broadcast) attributes.insert(attributes.end(), {"axis", "broadcast"});
    if (info.consumed_inputs) attributes.push_back("consumed_inputs");
    r.Register(OpSchema{info.name, 2, 2, 1, 1, attributes, BinaryInfer, BinaryKernel, nullptr});
  }
  r.Register(OpSchema{"PRelu", 2, 2, 1, 1, {"consumed_inputs"}, PReluInfer, PReluKernel, PReluCost});
  r.Register(OpSchema{"Where", 3, 3, 1, 1, {}, WhereInfer, WhereKernel, nullptr});
}

}  // namespace deepx::elementwise
