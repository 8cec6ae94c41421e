// AveragePool: N-dimensional average pooling with strides, pads/auto_pad, ceil_mode, count_include_pad (and
// dilations, which opset 19 added).
#include <algorithm>
#include <string>
#include <vector>

#include "ops/nn/nn_common.h"

namespace deepx {
namespace {

Result<nn::Window> Geometry(const Attributes& attrs, const Shape& x) {
  if (x.size() < 3) return InvalidArgument("X must have rank >= 3 ([N, C, D1, ...]), got " + ShapeToString(x));
  const size_t nd = x.size() - 2;
  DX_ASSIGN_OR_RETURN(std::vector<int64_t> kernel, nn::GetKernelShape(attrs, nd));
  DX_ASSIGN_OR_RETURN(int64_t ceil_mode, attrs.GetInt("ceil_mode", 0));
  DX_ASSIGN_OR_RETURN(int64_t count_include_pad, attrs.GetInt("count_include_pad", 0));
  if (count_include_pad != 0 && count_include_pad != 1) {
    return InvalidArgument("count_include_pad must be 0 or 1, got " + std::to_string(count_include_pad));
  }
  return nn::ResolveWindow(attrs, std::vector<int64_t>(x.begin() + 2, x.end()), kernel, ceil_mode != 0);
}

Status InferAveragePool(InferContext& ctx) {
  DX_RETURN_IF_ERROR(nn::RequireFloat(ctx, 0, "X"));
  const Shape& x = ctx.input_shape(0);
  DX_ASSIGN_OR_RETURN(nn::Window win, Geometry(ctx.attrs(), x));
  Shape y = {x[0], x[1]};
  y.insert(y.end(), win.out.begin(), win.out.end());
  ctx.SetOutput(0, DataType::kFloat32, y);
  return Status::Ok();
}

Status AveragePoolKernel(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  DX_ASSIGN_OR_RETURN(nn::Window win, Geometry(ctx.attrs(), x.shape()));
  const bool include_pad = ctx.attrs().Int("count_include_pad", 0) == 1;
  const size_t nd = win.rank();
  const int64_t planes = x.dim(0) * x.dim(1);
  const int64_t in_size = nn::Product(win.in, 0, nd);
  const int64_t out_size = nn::Product(win.out, 0, nd);
  const int64_t k_size = nn::Product(win.kernel, 0, nd);
  const float* xd = x.data<float>();
  float* yd = ctx.output(0).data<float>();
  std::vector<int64_t> o(nd, 0), k(nd, 0);
  for (int64_t plane = 0; plane < planes; ++plane) {
    std::fill(o.begin(), o.end(), 0);
    for (int64_t op = 0; op < out_size; ++op, nn::NextIndex(o, win.out)) {
      double sum = 0;
      int64_t count = 0;
      std::fill(k.begin(), k.end(), 0);
      for (int64_t kp = 0; kp < k_size; ++kp, nn::NextIndex(k, win.kernel)) {
        bool inside = true, in_padded = true;
        int64_t offset = 0;
        for (size_t d = 0; d < nd; ++d) {
          const int64_t pos = o[d] * win.strides[d] - win.pad_begin[d] + k[d] * win.dilations[d];
          inside = inside && pos >= 0 && pos < win.in[d];
          // With ceil_mode a window may run past the trailing padding; those positions never count.
          in_padded = in_padded && pos >= -win.pad_begin[d] && pos < win.in[d] + win.pad_end[d];
          offset = offset * win.in[d] + pos;
        }
        if (inside) {
          sum += xd[plane * in_size + offset];
          ++count;
        } else if (include_pad && in_padded) {
          ++count;
        }
      }
      yd[plane * out_size + op] = count > 0 ? static_cast<float>(sum / static_cast<double>(count)) : 0.0f;
    }
  }
  return Status::Ok();
}

OpCost AveragePoolCost(const CostContext& ctx) {
  const std::vector<int64_t> k = ctx.attrs().Ints("kernel_shape");
  return nn::CostWithFlops(ctx, static_cast<double>(NumElements(ctx.outputs[0]->shape)) *
                                    static_cast<double>(nn::Product(k, 0, k.size())));
}

}  // namespace

OpSchema AveragePoolSchema() {
  return OpSchema{.name = "AveragePool",
                  .min_inputs = 1,
                  .max_inputs = 1,
                  .min_outputs = 1,
                  .max_outputs = 1,
                  .attributes = {"auto_pad", "ceil_mode", "count_include_pad", "dilations", "kernel_shape", "pads",
                                 "strides"},
                  .infer = InferAveragePool,
                  .reference = AveragePoolKernel,
                  .cost = AveragePoolCost};
}

}  // namespace deepx
