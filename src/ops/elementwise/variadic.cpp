// Variadic broadcasting ops: Sum, Max, Min, Mean over 1..N inputs of one dtype. Before opset 8 they did not
// broadcast: every input must have the same shape.
#include <climits>
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

constexpr int kVariadicBroadcastOpset = 8;

DtypeSet VariadicTypes(const std::string& op) { return op == "Mean" ? kFloatTypes : kNumericTypes; }

Status VariadicInfer(InferContext& ctx) {
  const std::string& op = ctx.node().op_type;
  std::vector<Shape> shapes;
  for (size_t i = 0; i < ctx.num_inputs(); ++i) {
    if (!ctx.has_input(i)) return InvalidArgument("input " + std::to_string(i) + " is empty; " + op +
                                                  " takes no optional inputs");
    if (ctx.input_dtype(i) != ctx.input_dtype(0))
      return InvalidArgument("all inputs must have the same dtype; input 0 is " +
                             std::string(DataTypeName(ctx.input_dtype(0))) + ", input " + std::to_string(i) +
                             " is " + DataTypeName(ctx.input_dtype(i)));
    shapes.push_back(ctx.input_shape(i));
  }
  DX_RETURN_IF_ERROR(CheckDtype(op, "input '" + ctx.input_name(0) + "'", ctx.input_dtype(0), VariadicTypes(op)));
  DX_RETURN_IF_ERROR(CheckConsumedInputs(ctx));
  if (ctx.opset() < kVariadicBroadcastOpset) {
    for (size_t i = 1; i < shapes.size(); ++i) {
      if (shapes[i] != shapes[0])
        return InvalidArgument("input " + std::to_string(i) + " has shape " + ShapeToString(shapes[i]) +
                               " but input 0 has " + ShapeToString(shapes[0]) + "; " + op +
                               " broadcasts only from opset 8");
    }
  }
  DX_ASSIGN_OR_RETURN(Shape out, BroadcastShapes(shapes));
  ctx.SetOutput(0, ctx.input_dtype(0), std::move(out));
  return Status::Ok();
}

template <typename T>
T Combine(const std::string& op, T acc, T v) {
  if constexpr (std::is_floating_point_v<T>) {
    // Max/Min propagate NaN, as numpy does, rather than depending on argument order.
    if (op == "Max") return (std::isnan(acc) || std::isnan(v)) ? NAN : (v > acc ? v : acc);
    if (op == "Min") return (std::isnan(acc) || std::isnan(v)) ? NAN : (v < acc ? v : acc);
    return acc + v;  // Sum, Mean
  } else {
    if (op == "Max") return v > acc ? v : acc;
    if (op == "Min") return v < acc ? v : acc;
    return WrapAdd(acc, v);
  }
}

Status VariadicKernel(KernelContext& ctx) {
  const std::string& op = ctx.node.op_type;
  Tensor& out = ctx.output(0);
  const int64_t n = out.num_elements();
  VisitNumeric(out.dtype(), [&](auto tag) {
    using T = decltype(tag);
    T* po = out.data<T>();
    for (size_t k = 0; k < ctx.inputs.size(); ++k) {
      const Tensor& in = ctx.input(k);
      const BroadcastIndexer index(in.shape(), out.shape());
      const T* pi = in.data<T>();
      for (int64_t i = 0; i < n; ++i) po[i] = k == 0 ? pi[index(i)] : Combine(op, po[i], pi[index(i)]);
    }
    if constexpr (std::is_floating_point_v<T>) {
      if (op == "Mean") {
        for (int64_t i = 0; i < n; ++i) po[i] = static_cast<T>(po[i] / static_cast<T>(ctx.inputs.size()));
      }
    }
  });
  return Status::Ok();
}

OpCost VariadicCost(const CostContext& ctx) {
  // One combine per extra input per output element.
  const double per_output = ctx.inputs.size() > 1 ? static_cast<double>(ctx.inputs.size() - 1) : 1.0;
  return ElementwiseCost(ctx, per_output);
}

}  // namespace

void RegisterVariadicOps(OpRegistry& r) {
  for (const char* name : {"Sum", "Max", "Min", "Mean"}) {
    r.Register(OpSchema{name, 1, INT_MAX, 1, 1, {"consumed_inputs"}, VariadicInfer, VariadicKernel, VariadicCost});
  }
}

}  // namespace deepx::elementwise
