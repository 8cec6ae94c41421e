// Softmax and LogSoftmax. Before opset 13 the input is coerced to 2-D at `axis` (default 1) and normalised over
// the flattened trailing dims; from opset 13 normalisation runs along the single dim `axis` (default -1). Both
// views reduce to [outer, length, inner] blocks, which the shared kernel walks; the max is subtracted first so
// large inputs do not overflow exp().
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "ops/nn/nn_common.h"

namespace deepx {
namespace {

struct SoftmaxBlocks {
  int64_t outer = 1, length = 1, inner = 1;
};

Result<SoftmaxBlocks> Blocks(const Attributes& attrs, int opset, const Shape& x) {
  const bool coerce_2d = opset < 13;
  DX_ASSIGN_OR_RETURN(int64_t axis, attrs.GetInt("axis", coerce_2d ? 1 : -1));
  const int64_t rank = static_cast<int64_t>(x.size());
  if (rank == 0) return InvalidArgument("input must have rank >= 1, got a scalar");
  DX_ASSIGN_OR_RETURN(axis, nn::NormalizeAxis(axis, rank, "axis"));
  const size_t ax = static_cast<size_t>(axis);
  SoftmaxBlocks b;
  b.outer = nn::Product(x, 0, ax);
  if (coerce_2d) {
    b.length = nn::Product(x, ax, x.size());
  } else {
    b.length = x[ax];
    b.inner = nn::Product(x, ax + 1, x.size());
  }
  return b;
}

Status InferSoftmax(InferContext& ctx) {
  DX_RETURN_IF_ERROR(nn::RequireFloat(ctx, 0, "input"));
  DX_RETURN_IF_ERROR(Blocks(ctx.attrs(), ctx.opset(), ctx.input_shape(0)).status());
  ctx.SetOutput(0, DataType::kFloat32, ctx.input_shape(0));
  return Status::Ok();
}

template <bool kLog>
Status SoftmaxKernel(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  DX_ASSIGN_OR_RETURN(SoftmaxBlocks b, Blocks(ctx.attrs(), ctx.opset(), x.shape()));
  const float* xd = x.data<float>();
  float* yd = ctx.output(0).data<float>();
  for (int64_t o = 0; o < b.outer; ++o) {
    for (int64_t i = 0; i < b.inner; ++i) {
      const int64_t base = o * b.length * b.inner + i;
      auto at = [&](int64_t j) { return base + j * b.inner; };
      float max = -std::numeric_limits<float>::infinity();
      for (int64_t j = 0; j < b.length; ++j) max = std::max(max, xd[at(j)]);
      double sum = 0;
      for (int64_t j = 0; j < b.length; ++j) sum += std::exp(static_cast<double>(xd[at(j)]) - max);
      const double log_sum = std::log(sum);
      for (int64_t j = 0; j < b.length; ++j) {
        const double shifted = static_cast<double>(xd[at(j)]) - max;
        yd[at(j)] = static_cast<float>(kLog ? shifted - log_sum : std::exp(shifted) / sum);
      }
    }
  }
  return Status::Ok();
}

OpCost SoftmaxCost(const CostContext& ctx) {
  // max, subtract, exp, sum, divide: about five operations per element.
  return nn::CostWithFlops(ctx, 5.0 * static_cast<double>(NumElements(ctx.inputs[0]->shape)));
}

OpSchema MakeSchema(const char* name, KernelFn kernel) {
  return OpSchema{.name = name,
                  .min_inputs = 1,
                  .max_inputs = 1,
                  .min_outputs = 1,
                  .max_outputs = 1,
                  .attributes = {"axis"},
                  .infer = InferSoftmax,
                  .reference = kernel,
                  .cost = SoftmaxCost};
}

}  // namespace

OpSchema SoftmaxSchema() { return MakeSchema("Softmax", SoftmaxKernel<false>); }
OpSchema LogSoftmaxSchema() { return MakeSchema("LogSoftmax", SoftmaxKernel<true>); }

}  // namespace deepx
