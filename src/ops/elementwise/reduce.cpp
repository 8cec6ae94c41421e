// Reductions (ReduceSum, ReduceMean, ReduceMax, ... , ArgMax, ArgMin).
//
// The reduced axes come from the 'axes' attribute, or from an optional constant input once the op's opset moved
// them there (ReduceSum in 13, the others in 18). An empty axes list reduces everything, unless
// noop_with_empty_axes=1, which makes the op an identity.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "ops/elementwise/elementwise_util.h"
#include "ops/op.h"

namespace deepx::elementwise {
namespace {

enum class ReduceKind { kSum, kMean, kMax, kMin, kProd, kL1, kL2, kLogSum, kLogSumExp, kSumSquare };

struct ReduceOpInfo {
  const char* name;
  ReduceKind kind;
  int axes_input_opset;  // from this opset on, axes is input 1 instead of an attribute
  DtypeSet types;
};

const ReduceOpInfo kReduceOps[] = {
    {"ReduceSum", ReduceKind::kSum, 13, kFloatTypes | kIntTypes},
    {"ReduceMean", ReduceKind::kMean, 18, kFloatTypes | kIntTypes},
    {"ReduceMax", ReduceKind::kMax, 18, kNumericTypes},
    {"ReduceMin", ReduceKind::kMin, 18, kNumericTypes},
    {"ReduceProd", ReduceKind::kProd, 18, kFloatTypes | kIntTypes},
    {"ReduceL1", ReduceKind::kL1, 18, kFloatTypes | kIntTypes},
    {"ReduceL2", ReduceKind::kL2, 18, kFloatTypes},
    {"ReduceLogSum", ReduceKind::kLogSum, 18, kFloatTypes},
    {"ReduceLogSumExp", ReduceKind::kLogSumExp, 18, kFloatTypes},
    {"ReduceSumSquare", ReduceKind::kSumSquare, 18, kFloatTypes | kIntTypes},
};

const ReduceOpInfo* FindReduceOp(const std::string& name) {
  for (const ReduceOpInfo& info : kReduceOps)
    if (name == info.name) return &info;
  return nullptr;
}

Result<bool> GetBoolAttr(const Attributes& attrs, const std::string& name, int64_t default_value) {
  DX_ASSIGN_OR_RETURN(int64_t v, attrs.GetInt(name, default_value));
  if (v != 0 && v != 1) return InvalidArgument("attribute '" + name + "' must be 0 or 1, got " + std::to_string(v));
  return v == 1;
}

// Which input dimensions are reduced; all false means identity (noop_with_empty_axes).
struct ReducePlan {
  std::vector<bool> reduced;
  bool keepdims = true;
};

// Resolves the reduced axes from the attribute or `axes_input` (nullptr when absent). Shared by infer and the
// kernel, so both always agree.
Result<ReducePlan> ResolveReduce(const ReduceOpInfo& info, const Attributes& attrs, int opset, int64_t rank,
                                 const Tensor* axes_input, bool has_axes_input) {
  ReducePlan plan;
  DX_ASSIGN_OR_RETURN(plan.keepdims, GetBoolAttr(attrs, "keepdims", 1));
  DX_ASSIGN_OR_RETURN(bool noop_with_empty_axes, GetBoolAttr(attrs, "noop_with_empty_axes", 0));
  std::vector<int64_t> axes;
  if (opset >= info.axes_input_opset) {
    if (attrs.has("axes"))
      return InvalidArgument(std::string(info.name) + " from opset " + std::to_string(info.axes_input_opset) +
                             " takes axes as input 1, not as an attribute");
    if (has_axes_input) {
      if (!axes_input)
        return Unimplemented("a non-constant 'axes' input is not supported (the output shape would depend on it)");
      if (axes_input->dtype() != DataType::kInt64)
        return InvalidArgument(std::string("'axes' input must be int64, got ") + DataTypeName(axes_input->dtype()));
      if (axes_input->rank() > 1)
        return InvalidArgument("'axes' input must be 1-D, got shape " + ShapeToString(axes_input->shape()));
      axes = axes_input->ToInt64Vector();
    }
  } else {
    if (has_axes_input)
      return InvalidArgument(std::string(info.name) + " before opset " + std::to_string(info.axes_input_opset) +
                             " takes axes as an attribute, not an input");
    DX_ASSIGN_OR_RETURN(axes, attrs.GetInts("axes", {}));
  }

  plan.reduced.assign(static_cast<size_t>(rank), false);
  if (axes.empty()) {
    if (!noop_with_empty_axes) plan.reduced.assign(static_cast<size_t>(rank), true);
    return plan;
  }
  for (int64_t axis : axes) {
    DX_ASSIGN_OR_RETURN(int64_t a, NormalizeAxis(axis, rank, "axis"));
    if (plan.reduced[static_cast<size_t>(a)])
      return InvalidArgument("axis " + std::to_string(axis) + " is listed more than once in 'axes'");
    plan.reduced[static_cast<size_t>(a)] = true;
  }
  return plan;
}

Shape ReducedShape(const Shape& in, const ReducePlan& plan) {
  Shape out;
  for (size_t d = 0; d < in.size(); ++d) {
    if (!plan.reduced[d]) {
      out.push_back(in[d]);
    } else if (plan.keepdims) {
      out.push_back(1);
    }
  }
  return out;
}

// Maps an input flat index to the flat index of the output element it reduces into.
class ReduceIndexer {
 public:
  ReduceIndexer(const Shape& in, const ReducePlan& plan) : in_(in), stride_(in.size(), 0) {
    // Output strides per input dimension; reduced dimensions contribute nothing.
    int64_t s = 1;
    for (size_t d = in.size(); d-- > 0;) {
      if (plan.reduced[d]) continue;
      stride_[d] = s;
      s *= in[d];
    }
  }

  int64_t operator()(int64_t input_index) const {
    int64_t o = 0;
    for (size_t d = in_.size(); d-- > 0;) {
      o += (input_index % in_[d]) * stride_[d];
      input_index /= in_[d];
    }
    return o;
  }

 private:
  Shape in_;
  std::vector<int64_t> stride_;
};

template <typename T>
void ReduceFloat(ReduceKind kind, const Tensor& x, const ReduceIndexer& to_out, int64_t count, Tensor& y) {
  const T* px = x.data<T>();
  const int64_t n = x.num_elements(), m = y.num_elements();
  double init = 0;
  if (kind == ReduceKind::kMax) init = -INFINITY;
  if (kind == ReduceKind::kMin) init = INFINITY;
  if (kind == ReduceKind::kProd) init = 1;
  std::vector<double> acc(static_cast<size_t>(m), init);
  // LogSumExp subtracts each group's maximum before exponentiating so large inputs do not overflow.
  std::vector<double> group_max(static_cast<size_t>(m), -INFINITY);
  if (kind == ReduceKind::kLogSumExp) {
    for (int64_t i = 0; i < n; ++i) {
      double& g = group_max[static_cast<size_t>(to_out(i))];
      g = std::max(g, static_cast<double>(px[i]));
    }
  }
  for (int64_t i = 0; i < n; ++i) {
    const size_t o = static_cast<size_t>(to_out(i));
    const double v = px[i];
    double& a = acc[o];
    switch (kind) {
      case ReduceKind::kSum:
      case ReduceKind::kMean:
      case ReduceKind::kLogSum: a += v; break;
      case ReduceKind::kMax: a = (std::isnan(a) || std::isnan(v)) ? NAN : std::max(a, v); break;
      case ReduceKind::kMin: a = (std::isnan(a) || std::isnan(v)) ? NAN : std::min(a, v); break;
      case ReduceKind::kProd: a *= v; break;
      case ReduceKind::kL1: a += std::fabs(v); break;
      case ReduceKind::kL2:
      case ReduceKind::kSumSquare: a += v * v; break;
      case ReduceKind::kLogSumExp: a += std::exp(v - group_max[o]); break;
    }
  }
  T* py = y.data<T>();
  for (int64_t o = 0; o < m; ++o) {
    double a = acc[static_cast<size_t>(o)];
    switch (kind) {
      case ReduceKind::kMean: a = a / static_cast<double>(count); break;  // 0/0 = NaN for an empty set
      case ReduceKind::kL2: a = std::sqrt(a); break;
      case ReduceKind::kLogSum: a = std::log(a); break;
      case ReduceKind::kLogSumExp: {
        const double g = group_max[static_cast<size_t>(o)];
        a = std::isinf(g) ? g : g + std::log(a);  // all -inf (or empty): -inf; any +inf: +inf
        break;
      }
      default: break;
    }
    py[o] = static_cast<T>(a);
  }
}

template <typename T>
void ReduceInteger(ReduceKind kind, const Tensor& x, const ReduceIndexer& to_out, int64_t count, Tensor& y) {
  const T* px = x.data<T>();
  const int64_t n = x.num_elements(), m = y.num_elements();
  int64_t init = 0;
  if (kind == ReduceKind::kMax) init = std::numeric_limits<T>::lowest();
  if (kind == ReduceKind::kMin) init = std::numeric_limits<T>::max();
  if (kind == ReduceKind::kProd) init = 1;
  std::vector<int64_t> acc(static_cast<size_t>(m), init);
  for (int64_t i = 0; i < n; ++i) {
    int64_t& a = acc[static_cast<size_t>(to_out(i))];
    const int64_t v = px[i];
    switch (kind) {
      case ReduceKind::kSum:
      case ReduceKind::kMean: a = WrapAdd(a, v); break;
      case ReduceKind::kMax: a = std::max(a, v); break;
      case ReduceKind::kMin: a = std::min(a, v); break;
      case ReduceKind::kProd: a = WrapMul(a, v); break;
      case ReduceKind::kL1: a = WrapAdd(a, v < 0 ? WrapSub(int64_t{0}, v) : v); break;
      case ReduceKind::kSumSquare: a = WrapAdd(a, WrapMul(v, v)); break;
      default: break;  // float-only kinds are rejected by infer
    }
  }
  T* py = y.data<T>();
  for (int64_t o = 0; o < m; ++o) {
    int64_t a = acc[static_cast<size_t>(o)];
    if (kind == ReduceKind::kMean) a = count > 0 ? a / count : 0;
    py[o] = static_cast<T>(a);  // wraps for narrow types, like the accumulation would have
  }
}

Status ReduceInfer(InferContext& ctx) {
  const ReduceOpInfo* info = FindReduceOp(ctx.node().op_type);
  if (!info) return Internal("no reduce op table entry for " + ctx.node().op_type);
  const DataType t = ctx.input_dtype(0);
  DX_RETURN_IF_ERROR(CheckDtype(info->name, "input '" + ctx.input_name(0) + "'", t, info->types));
  DX_ASSIGN_OR_RETURN(ReducePlan plan, ResolveReduce(*info, ctx.attrs(), ctx.opset(), ctx.input_rank(0),
                                                     ctx.input_constant(1), ctx.has_input(1)));
  ctx.SetOutput(0, t, ReducedShape(ctx.input_shape(0), plan));
  return Status::Ok();
}

Status ReduceKernel(KernelContext& ctx) {
  const ReduceOpInfo* info = FindReduceOp(ctx.node.op_type);
  if (!info) return Internal("no reduce op table entry for " + ctx.node.op_type);
  const Tensor& x = ctx.input(0);
  const Tensor* axes = ctx.has_input(1) ? &ctx.input(1) : nullptr;
  DX_ASSIGN_OR_RETURN(ReducePlan plan,
                      ResolveReduce(*info, ctx.attrs(), ctx.opset(), x.rank(), axes, ctx.has_input(1)));
  int64_t count = 1;
  for (size_t d = 0; d < plan.reduced.size(); ++d)
    if (plan.reduced[d]) count *= x.dim(static_cast<int64_t>(d));
  const ReduceIndexer to_out(x.shape(), plan);
  Tensor& y = ctx.output(0);
  VisitNumeric(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) {
      ReduceFloat<T>(info->kind, x, to_out, count, y);
    } else {
      ReduceInteger<T>(info->kind, x, to_out, count, y);
    }
  });
  return Status::Ok();
}

OpCost ReduceCost(const CostContext& ctx) {
  OpCost c = ElementwiseCost(ctx, 0.0);
  if (ctx.inputs[0]) c.flops = static_cast<double>(NumElements(ctx.inputs[0]->shape));
  return c;
}

// --- ArgMax / ArgMin ---------------------------------------------------------------------------------------------

Status ArgInfer(InferContext& ctx) {
  const std::string& op = ctx.node().op_type;
  DX_RETURN_IF_ERROR(CheckDtype(op, "input '" + ctx.input_name(0) + "'", ctx.input_dtype(0), kNumericTypes));
  const Shape& in = ctx.input_shape(0);
  DX_ASSIGN_OR_RETURN(int64_t axis_attr, ctx.attrs().GetInt("axis", 0));
  DX_ASSIGN_OR_RETURN(int64_t axis, NormalizeAxis(axis_attr, ctx.input_rank(0), "axis"));
  DX_ASSIGN_OR_RETURN(bool keepdims, GetBoolAttr(ctx.attrs(), "keepdims", 1));
  DX_RETURN_IF_ERROR(GetBoolAttr(ctx.attrs(), "select_last_index", 0).status());
  if (in[static_cast<size_t>(axis)] == 0)
    return InvalidArgument(op + " over axis " + std::to_string(axis) + " of size 0 has no index to return");
  Shape out;
  for (size_t d = 0; d < in.size(); ++d) {
    if (static_cast<int64_t>(d) != axis) {
      out.push_back(in[d]);
    } else if (keepdims) {
      out.push_back(1);
    }
  }
  ctx.SetOutput(0, DataType::kInt64, std::move(out));
  return Status::Ok();
}

Status ArgKernel(KernelContext& ctx) {
  const bool is_max = ctx.node.op_type == "ArgMax";
  const Tensor& x = ctx.input(0);
  int64_t axis = ctx.attrs().Int("axis", 0);
  if (axis < 0) axis += x.rank();
  const bool last = ctx.attrs().Int("select_last_index", 0) == 1;
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= x.dim(d);
  for (int64_t d = axis + 1; d < x.rank(); ++d) inner *= x.dim(d);
  const int64_t extent = x.dim(axis);
  int64_t* py = ctx.output(0).data<int64_t>();
  VisitNumeric(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* px = x.data<T>();
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t i = 0; i < inner; ++i) {
        int64_t best = 0;
        T best_value = px[o * extent * inner + i];
        for (int64_t k = 1; k < extent; ++k) {
          const T v = px[(o * extent + k) * inner + i];
          // Strict comparison keeps the first extreme; non-strict moves to the last one on ties.
          const bool better = is_max ? (last ? v >= best_value : v > best_value)
                                     : (last ? v <= best_value : v < best_value);
          if (better) {
            best = k;
            best_value = v;
          }
        }
        py[o * inner + i] = best;
      }
    }
  });
  return Status::Ok();
}

}  // namespace

void RegisterReduceOps(OpRegistry& r) {
  for (const ReduceOpInfo& info : kReduceOps) {
    r.Register(OpSchema{info.name, 1, 2, 1, 1, {"axes", "keepdims", "noop_with_empty_axes"}, ReduceInfer,
                        ReduceKernel, ReduceCost});
  }
  for (const char* name : {"ArgMax", "ArgMin"}) {
    r.Register(OpSchema{name, 1, 1, 1, 1, {"axis", "keepdims", "select_last_index"}, ArgInfer, ArgKernel, ReduceCost});
  }
}

}  // namespace deepx::elementwise
