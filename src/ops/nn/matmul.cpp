// MatMul with numpy semantics: 1-D operands are promoted (and the added dim dropped again), leading batch dims
// broadcast; optional fused activation.
#include <algorithm>
#include <string>
#include <vector>

#include "ops/fused_activation.h"
#include "ops/nn/nn_common.h"

namespace deepx {
namespace {

// Operands as [batch..., rows, cols] after 1-D promotion, and the broadcast batch shape.
struct MatMulPlan {
  Shape a, b;    // promoted shapes, both of rank batch.size() + 2
  Shape batch;   // broadcast batch dims
  int64_t m = 0, k = 0, n = 0;
  Shape out;     // the op's output shape (promoted dims removed)
};

Result<MatMulPlan> Plan(const Shape& a_in, const Shape& b_in) {
  if (a_in.empty() || b_in.empty()) return InvalidArgument("MatMul operands must have rank >= 1, not be scalars");
  MatMulPlan p;
  p.a = a_in;
  p.b = b_in;
  if (a_in.size() == 1) p.a.insert(p.a.begin(), 1);
  if (b_in.size() == 1) p.b.push_back(1);
  p.m = p.a[p.a.size() - 2];
  p.k = p.a.back();
  p.n = p.b.back();
  if (p.b[p.b.size() - 2] != p.k) {
    return InvalidArgument("inner dims differ: A " + ShapeToString(a_in) + " x B " + ShapeToString(b_in));
  }
  const size_t batch_rank = std::max(p.a.size(), p.b.size()) - 2;
  p.a.insert(p.a.begin(), batch_rank + 2 - p.a.size(), 1);
  p.b.insert(p.b.begin(), batch_rank + 2 - p.b.size(), 1);
  for (size_t i = 0; i < batch_rank; ++i) {
    if (p.a[i] != p.b[i] && p.a[i] != 1 && p.b[i] != 1) {
      return InvalidArgument("batch dims do not broadcast: A " + ShapeToString(a_in) + " x B " +
                             ShapeToString(b_in));
    }
    p.batch.push_back(p.a[i] == 1 ? p.b[i] : p.a[i]);
  }
  p.out = p.batch;
  if (a_in.size() > 1) p.out.push_back(p.m);
  if (b_in.size() > 1) p.out.push_back(p.n);
  return p;
}

Status InferMatMul(InferContext& ctx) {
  DX_RETURN_IF_ERROR(nn::RequireFloat(ctx, 0, "A"));
  DX_RETURN_IF_ERROR(nn::RequireFloat(ctx, 1, "B"));
  DX_ASSIGN_OR_RETURN(MatMulPlan p, Plan(ctx.input_shape(0), ctx.input_shape(1)));
  DX_RETURN_IF_ERROR(nn::ValidateFusedActivation(ctx.attrs()));
  ctx.SetOutput(0, DataType::kFloat32, p.out);
  return Status::Ok();
}

// Offset of the matrix selected by a broadcast batch index in an operand with batch dims `dims`.
int64_t MatrixOffset(const std::vector<int64_t>& index, const Shape& dims, int64_t matrix_size) {
  int64_t off = 0;
  for (size_t i = 0; i < index.size(); ++i) off = off * dims[i] + (dims[i] == 1 ? 0 : index[i]);
  return off * matrix_size;
}

Status MatMulKernel(KernelContext& ctx) {
  DX_ASSIGN_OR_RETURN(MatMulPlan p, Plan(ctx.input(0).shape(), ctx.input(1).shape()));
  const float* ad = ctx.input(0).data<float>();
  const float* bd = ctx.input(1).data<float>();
  Tensor& y = ctx.output(0);
  float* yd = y.data<float>();
  const int64_t batch_count = nn::Product(p.batch, 0, p.batch.size());
  std::vector<int64_t> index(p.batch.size(), 0);
  for (int64_t bi = 0; bi < batch_count; ++bi, nn::NextIndex(index, p.batch)) {
    const float* am = ad + MatrixOffset(index, p.a, p.m * p.k);
    const float* bm = bd + MatrixOffset(index, p.b, p.k * p.n);
    float* ym = yd + bi * p.m * p.n;
    for (int64_t i = 0; i < p.m; ++i) {
      for (int64_t j = 0; j < p.n; ++j) {
        double acc = 0;
        for (int64_t q = 0; q < p.k; ++q) acc += static_cast<double>(am[i * p.k + q]) * bm[q * p.n + j];
        ym[i * p.n + j] = static_cast<float>(acc);
      }
    }
  }
  ApplyFusedActivation(GetFusedActivation(ctx.attrs()), yd, y.num_elements());
  return Status::Ok();
}

OpCost MatMulCost(const CostContext& ctx) {
  const Shape& a = ctx.inputs[0]->shape;
  const double k = a.empty() ? 0.0 : static_cast<double>(a.back());
  return nn::CostWithFlops(ctx, 2.0 * k * static_cast<double>(NumElements(ctx.outputs[0]->shape)));
}

}  // namespace

OpSchema MatMulSchema() {
  return OpSchema{.name = "MatMul",
                  .min_inputs = 2,
                  .max_inputs = 2,
                  .min_outputs = 1,
                  .max_outputs = 1,
                  .attributes = {},
                  .infer = InferMatMul,
                  .reference = MatMulKernel,
                  .cost = MatMulCost};
}

}  // namespace deepx
