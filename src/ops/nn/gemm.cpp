// Gemm: Y = alpha * op(A) * op(B) + beta * C, with op = optional transpose, C broadcast to [M, N], and an
// optional fused activation. Before opset 7, C broadcast only with the attribute broadcast=1 and otherwise had to
// be exactly [M, N].
#include <string>
#include <vector>

#include "ops/fused_activation.h"
#include "ops/legacy.h"
#include "ops/nn/nn_common.h"

namespace deepx {
namespace {

struct GemmDims {
  int64_t m = 0, k = 0, n = 0;
};

Result<GemmDims> Dims(const Attributes& attrs, const Shape& a, const Shape& b) {
  if (a.size() != 2) return InvalidArgument("A must be 2-D, got " + ShapeToString(a));
  if (b.size() != 2) return InvalidArgument("B must be 2-D, got " + ShapeToString(b));
  DX_ASSIGN_OR_RETURN(int64_t trans_a, attrs.GetInt("transA", 0));
  DX_ASSIGN_OR_RETURN(int64_t trans_b, attrs.GetInt("transB", 0));
  GemmDims d;
  d.m = trans_a ? a[1] : a[0];
  d.k = trans_a ? a[0] : a[1];
  const int64_t kb = trans_b ? b[1] : b[0];
  d.n = trans_b ? b[0] : b[1];
  if (kb != d.k) {
    return InvalidArgument("inner dims differ: op(A) is " + std::to_string(d.m) + "x" + std::to_string(d.k) +
                           ", op(B) is " + std::to_string(kb) + "x" + std::to_string(d.n) + " (transA=" +
                           std::to_string(trans_a) + ", transB=" + std::to_string(trans_b) + ")");
  }
  return d;
}

Status InferGemm(InferContext& ctx) {
  DX_RETURN_IF_ERROR(nn::RequireFloat(ctx, 0, "A"));
  DX_RETURN_IF_ERROR(nn::RequireFloat(ctx, 1, "B"));
  DX_ASSIGN_OR_RETURN(GemmDims d, Dims(ctx.attrs(), ctx.input_shape(0), ctx.input_shape(1)));
  DX_RETURN_IF_ERROR(ctx.attrs().GetFloat("alpha", 1.0f).status());
  DX_RETURN_IF_ERROR(ctx.attrs().GetFloat("beta", 1.0f).status());
  int64_t broadcast = 1;
  if (ctx.opset() < kNumpyBroadcastOpset) {
    DX_ASSIGN_OR_RETURN(broadcast, ctx.attrs().GetInt("broadcast", 0));
    if (broadcast != 0 && broadcast != 1)
      return InvalidArgument("attribute 'broadcast' must be 0 or 1, got " + std::to_string(broadcast));
  } else if (ctx.attrs().has("broadcast")) {
    return InvalidArgument("attribute 'broadcast' exists only before opset 7; from opset 7 C always broadcasts");
  }
  if (ctx.has_input(2)) {
    DX_RETURN_IF_ERROR(nn::RequireFloat(ctx, 2, "C"));
    const Shape& c = ctx.input_shape(2);
    const Shape target = {d.m, d.n};
    if (broadcast == 0 && c != target) {
      return InvalidArgument("C " + ShapeToString(c) + " must be " + ShapeToString(target) +
                             " when broadcast=0 (before opset 7 C broadcasts only with broadcast=1)");
    }
    // Unidirectional broadcast: right-aligned, each dim of C is 1 or the matching dim of [M, N].
    bool ok = c.size() <= 2;
    for (size_t i = 0; ok && i < c.size(); ++i) {
      const int64_t t = target[2 - c.size() + i];
      ok = c[i] == 1 || c[i] == t;
    }
    if (!ok) return InvalidArgument("C " + ShapeToString(c) + " cannot broadcast to " + ShapeToString(target));
  }
  DX_RETURN_IF_ERROR(nn::ValidateFusedActivation(ctx.attrs()));
  ctx.SetOutput(0, DataType::kFloat32, {d.m, d.n});
  return Status::Ok();
}

Status GemmKernel(KernelContext& ctx) {
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(1);
  DX_ASSIGN_OR_RETURN(GemmDims d, Dims(ctx.attrs(), a.shape(), b.shape()));
  const bool trans_a = ctx.attrs().Int("transA", 0) != 0;
  const bool trans_b = ctx.attrs().Int("transB", 0) != 0;
  const float alpha = ctx.attrs().Float("alpha", 1.0f);
  const float beta = ctx.attrs().Float("beta", 1.0f);
  const float* ad = a.data<float>();
  const float* bd = b.data<float>();
  float* yd = ctx.output(0).data<float>();

  // C's strides over (row, col): 0 along broadcast dims.
  const float* cd = nullptr;
  int64_t c_row_stride = 0, c_col_stride = 0;
  if (ctx.has_input(2)) {
    const Tensor& c = ctx.input(2);
    cd = c.data<float>();
    const int64_t rows = c.rank() == 2 ? c.dim(0) : 1;
    const int64_t cols = c.rank() >= 1 ? c.dim(c.rank() - 1) : 1;
    c_col_stride = cols == 1 ? 0 : 1;
    c_row_stride = rows == 1 ? 0 : cols;
  }
  for (int64_t i = 0; i < d.m; ++i) {
    for (int64_t j = 0; j < d.n; ++j) {
      double acc = 0;
      for (int64_t p = 0; p < d.k; ++p) {
        const float av = trans_a ? ad[p * d.m + i] : ad[i * d.k + p];
        const float bv = trans_b ? bd[j * d.k + p] : bd[p * d.n + j];
        acc += static_cast<double>(av) * bv;
      }
      double v = alpha * acc;
      if (cd) v += static_cast<double>(beta) * cd[i * c_row_stride + j * c_col_stride];
      yd[i * d.n + j] = static_cast<float>(v);
    }
  }
  ApplyFusedActivation(GetFusedActivation(ctx.attrs()), yd, d.m * d.n);
  return Status::Ok();
}

OpCost GemmCost(const CostContext& ctx) {
  const Shape& y = ctx.outputs[0]->shape;
  const Shape& a = ctx.inputs[0]->shape;
  const int64_t k = ctx.attrs().Int("transA", 0) ? a[0] : a[1];
  const double mn = static_cast<double>(NumElements(y));
  // Multiply-adds of the product, then the alpha scale and the C term per output.
  return nn::CostWithFlops(ctx, 2.0 * mn * static_cast<double>(k) + (ctx.inputs.size() > 2 ? 2.0 : 1.0) * mn);
}

}  // namespace

OpSchema GemmSchema() {
  return OpSchema{.name = "Gemm",
                  .min_inputs = 2,
                  .max_inputs = 3,
                  .min_outputs = 1,
                  .max_outputs = 1,
                  // "broadcast" is from opset 6 and older (see the top of the file).
                  .attributes = {"alpha", "beta", "broadcast", "transA", "transB"},
                  .infer = InferGemm,
                  .reference = GemmKernel,
                  .cost = GemmCost};
}

}  // namespace deepx
