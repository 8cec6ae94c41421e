// One-input elementwise ops: math functions and activations, driven by kUnaryOps. The reference computes every
// floating-point function in double and rounds once, so it is at least as accurate as any float32 backend.
#include <algorithm>
#include <cmath>
#include <string>
#include <type_traits>
#include <vector>

#include "ops/elementwise/elementwise_util.h"
#include "ops/legacy.h"
#include "ops/op.h"

namespace deepx::elementwise {
namespace {

// Float attributes an op reads, in the order its function receives them.
struct UnaryParam {
  const char* name;
  float default_value;
};

// Integer variants, for the few ops defined on integers.
enum class IntUnary { kNone, kNeg, kAbs, kSign, kRelu };

using UnaryFn = double (*)(double x, const double* params);

struct UnaryOpInfo {
  const char* name;
  UnaryFn fn;  // nullptr for Not
  std::vector<UnaryParam> params;
  IntUnary int_kind;
  DtypeSet types;
  double flops;  // per element, for the cost model; transcendental functions count as a few flops
};

double Softplus(double x) {
  // log(1 + e^x) without overflow for large x.
  return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
}

const DtypeSet kFloatOnly = kFloatTypes;

const std::vector<UnaryOpInfo>& UnaryOps() {
  static const std::vector<UnaryOpInfo> ops = {
      {"Sqrt", [](double x, const double*) { return std::sqrt(x); }, {}, IntUnary::kNone, kFloatOnly, 4},
      {"Exp", [](double x, const double*) { return std::exp(x); }, {}, IntUnary::kNone, kFloatOnly, 4},
      {"Log", [](double x, const double*) { return std::log(x); }, {}, IntUnary::kNone, kFloatOnly, 4},
      {"Neg", [](double x, const double*) { return -x; }, {}, IntUnary::kNeg, kFloatOnly | kSignedIntTypes, 1},
      {"Abs", [](double x, const double*) { return std::fabs(x); }, {}, IntUnary::kAbs, kNumericTypes, 1},
      {"Reciprocal", [](double x, const double*) { return 1.0 / x; }, {}, IntUnary::kNone, kFloatOnly, 1},
      {"Floor", [](double x, const double*) { return std::floor(x); }, {}, IntUnary::kNone, kFloatOnly, 1},
      {"Ceil", [](double x, const double*) { return std::ceil(x); }, {}, IntUnary::kNone, kFloatOnly, 1},
      // Round half to even, as ONNX specifies; nearbyint uses the default round-to-nearest-even mode.
      {"Round", [](double x, const double*) { return std::nearbyint(x); }, {}, IntUnary::kNone, kFloatOnly, 1},
      {"Sign",
       [](double x, const double*) { return std::isnan(x) ? x : x > 0 ? 1.0 : x < 0 ? -1.0 : 0.0; },
       {},
       IntUnary::kSign,
       kNumericTypes,
       1},
      {"Erf", [](double x, const double*) { return std::erf(x); }, {}, IntUnary::kNone, kFloatOnly, 4},
      {"Sin", [](double x, const double*) { return std::sin(x); }, {}, IntUnary::kNone, kFloatOnly, 4},
      {"Cos", [](double x, const double*) { return std::cos(x); }, {}, IntUnary::kNone, kFloatOnly, 4},
      {"Tan", [](double x, const double*) { return std::tan(x); }, {}, IntUnary::kNone, kFloatOnly, 4},
      {"Asin", [](double x, const double*) { return std::asin(x); }, {}, IntUnary::kNone, kFloatOnly, 4},
      {"Acos", [](double x, const double*) { return std::acos(x); }, {}, IntUnary::kNone, kFloatOnly, 4},
      {"Atan", [](double x, const double*) { return std::atan(x); }, {}, IntUnary::kNone, kFloatOnly, 4},
      {"Sinh", [](double x, const double*) { return std::sinh(x); }, {}, IntUnary::kNone, kFloatOnly, 4},
      {"Cosh", [](double x, const double*) { return std::cosh(x); }, {}, IntUnary::kNone, kFloatOnly, 4},
      {"Asinh", [](double x, const double*) { return std::asinh(x); }, {}, IntUnary::kNone, kFloatOnly, 4},
      {"Acosh", [](double x, const double*) { return std::acosh(x); }, {}, IntUnary::kNone, kFloatOnly, 4},
      {"Atanh", [](double x, const double*) { return std::atanh(x); }, {}, IntUnary::kNone, kFloatOnly, 4},
      {"Tanh", [](double x, const double*) { return std::tanh(x); }, {}, IntUnary::kNone, kFloatOnly, 4},
      {"Softplus", [](double x, const double*) { return Softplus(x); }, {}, IntUnary::kNone, kFloatOnly, 6},
      {"Softsign", [](double x, const double*) { return x / (1.0 + std::fabs(x)); }, {}, IntUnary::kNone,
       kFloatOnly, 3},
      {"Not", nullptr, {}, IntUnary::kNone, kBoolType, 1},
      // x < 0 ? 0 : x keeps NaN as NaN.
      {"Relu", [](double x, const double*) { return x < 0 ? 0.0 : x; }, {}, IntUnary::kRelu, kNumericTypes, 1},
      {"LeakyRelu", [](double x, const double* p) { return x < 0 ? p[0] * x : x; }, {{"alpha", 0.01f}},
       IntUnary::kNone, kFloatOnly, 2},
      {"Elu", [](double x, const double* p) { return x < 0 ? p[0] * std::expm1(x) : x; }, {{"alpha", 1.0f}},
       IntUnary::kNone, kFloatOnly, 5},
      {"Selu",
       [](double x, const double* p) { return x <= 0 ? p[1] * p[0] * std::expm1(x) : p[1] * x; },
       {{"alpha", 1.67326319217681884765625f}, {"gamma", 1.05070102214813232421875f}},
       IntUnary::kNone,
       kFloatOnly,
       6},
      {"Sigmoid", [](double x, const double*) { return 1.0 / (1.0 + std::exp(-x)); }, {}, IntUnary::kNone,
       kFloatOnly, 6},
      {"HardSigmoid", [](double x, const double* p) { return std::clamp(p[0] * x + p[1], 0.0, 1.0); },
       {{"alpha", 0.2f}, {"beta", 0.5f}}, IntUnary::kNone, kFloatOnly, 4},
      {"HardSwish", [](double x, const double*) { return x * std::clamp(x / 6.0 + 0.5, 0.0, 1.0); }, {},
       IntUnary::kNone, kFloatOnly, 5},
      {"ThresholdedRelu", [](double x, const double* p) { return x > p[0] ? x : 0.0; }, {{"alpha", 1.0f}},
       IntUnary::kNone, kFloatOnly, 1},
      {"Celu",
       [](double x, const double* p) { return std::max(0.0, x) + std::min(0.0, p[0] * std::expm1(x / p[0])); },
       {{"alpha", 1.0f}},
       IntUnary::kNone,
       kFloatOnly,
       7},
      {"Mish", [](double x, const double*) { return x * std::tanh(Softplus(x)); }, {}, IntUnary::kNone, kFloatOnly,
       12},
  };
  return ops;
}

const UnaryOpInfo* FindUnaryOp(const std::string& name) {
  for (const UnaryOpInfo& info : UnaryOps())
    if (name == info.name) return &info;
  return nullptr;
}

// Ops whose opset-1 version carried the `consumed_inputs` hint (dropped in opset 6).
bool HadConsumedInputs(const std::string& name) {
  static const char* const kNames[] = {"Abs", "Ceil", "Elu", "Exp", "Floor", "HardSigmoid", "LeakyRelu", "Log",
                                       "Neg", "Reciprocal", "Relu", "Selu", "Sigmoid", "Sqrt", "Tanh"};
  for (const char* n : kNames)
    if (name == n) return true;
  return false;
}

// A parameter's default for the node's opset. Selu-1 used four-digit constants; Selu-6 switched to the float32
// values of the exact SELU constants.
float ParamDefault(const UnaryOpInfo& info, const UnaryParam& p, int opset) {
  if (opset < 6 && std::string(info.name) == "Selu") {
    if (std::string(p.name) == "alpha") return 1.6732f;
    if (std::string(p.name) == "gamma") return 1.0507f;
  }
  return p.default_value;
}

template <typename T>
T IntegerUnary(IntUnary kind, T x) {
  switch (kind) {
    case IntUnary::kNeg: return WrapSub(T{0}, x);
    case IntUnary::kAbs: return x < 0 ? WrapSub(T{0}, x) : x;  // |MIN| wraps to MIN, as in two's complement
    case IntUnary::kSign: return static_cast<T>(x > 0 ? 1 : x < 0 ? -1 : 0);
    case IntUnary::kRelu: return x < 0 ? T{0} : x;
    case IntUnary::kNone: break;
  }
  return x;
}

Status UnaryInfer(InferContext& ctx) {
  const UnaryOpInfo* info = FindUnaryOp(ctx.node().op_type);
  if (!info) return Internal("no unary op table entry for " + ctx.node().op_type);
  const DataType t = ctx.input_dtype(0);
  DX_RETURN_IF_ERROR(CheckDtype(info->name, "input '" + ctx.input_name(0) + "'", t, info->types));
  if (HadConsumedInputs(info->name)) DX_RETURN_IF_ERROR(CheckConsumedInputs(ctx));
  for (const UnaryParam& p : info->params) {
    DX_ASSIGN_OR_RETURN(float v, ctx.attrs().GetFloat(p.name, ParamDefault(*info, p, ctx.opset())));
    if (!std::isfinite(v)) return InvalidArgument(std::string("attribute '") + p.name + "' must be finite");
  }
  if (std::string(info->name) == "Celu" && ctx.attrs().Float("alpha", 1.0f) == 0.0f)
    return InvalidArgument("Celu attribute 'alpha' must be non-zero");
  ctx.SetOutput(0, t, ctx.input_shape(0));
  return Status::Ok();
}

Status UnaryKernel(KernelContext& ctx) {
  const UnaryOpInfo* info = FindUnaryOp(ctx.node.op_type);
  if (!info) return Internal("no unary op table entry for " + ctx.node.op_type);
  const Tensor& x = ctx.input(0);
  Tensor& y = ctx.output(0);
  const int64_t n = x.num_elements();
  if (x.dtype() == DataType::kBool) {  // Not
    const uint8_t* px = x.data<uint8_t>();
    uint8_t* py = y.data<uint8_t>();
    for (int64_t i = 0; i < n; ++i) py[i] = px[i] ? 0 : 1;
    return Status::Ok();
  }
  double params[2] = {0, 0};
  for (size_t k = 0; k < info->params.size() && k < 2; ++k)
    params[k] = ctx.attrs().Float(info->params[k].name, ParamDefault(*info, info->params[k], ctx.opset()));
  VisitNumeric(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* px = x.data<T>();
    T* py = y.data<T>();
    if constexpr (std::is_floating_point_v<T>) {
      for (int64_t i = 0; i < n; ++i) py[i] = static_cast<T>(info->fn(static_cast<double>(px[i]), params));
    } else {
      for (int64_t i = 0; i < n; ++i) py[i] = IntegerUnary(info->int_kind, px[i]);
    }
  });
  return Status::Ok();
}

OpCost UnaryCost(const CostContext& ctx) {
  const UnaryOpInfo* info = FindUnaryOp(ctx.node.op_type);
  return ElementwiseCost(ctx, info ? info->flops : 1.0);
}

}  // namespace

void RegisterUnaryOps(OpRegistry& r) {
  for (const UnaryOpInfo& info : UnaryOps()) {
    std::vector<std::string> attributes;
    for (const UnaryParam& p : info.params) attributes.push_back(p.name);
    if (HadConsumedInputs(info.name)) attributes.push_back("consumed_inputs");
    r.Register(OpSchema{info.name, 1, 1, 1, 1, attributes, UnaryInfer, UnaryKernel, UnaryCost});
  }
}

}  // namespace deepx::elementwise
