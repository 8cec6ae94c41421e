// Conv: N-dimensional grouped convolution (1D/2D/3D/...), with dilations, strides, pads/auto_pad, optional bias
// and an optional fused activation.
#include <algorithm>
#include <string>
#include <vector>

#include "ops/fused_activation.h"
#include "ops/nn/nn_common.h"

namespace deepx {
namespace {

// Checks shapes and attributes; returns the resolved window. Shared by infer and the kernel.
Result<nn::Window> ConvGeometry(const Attributes& attrs, const Shape& x, const Shape& w) {
  if (x.size() < 3) return InvalidArgument("X must have rank >= 3 ([N, C, D1, ...]), got " + ShapeToString(x));
  if (w.size() != x.size()) {
    return InvalidArgument("W must have the rank of X (" + std::to_string(x.size()) + "), got " + ShapeToString(w));
  }
  DX_ASSIGN_OR_RETURN(int64_t group, attrs.GetInt("group", 1));
  const int64_t c = x[1], m = w[0];
  if (group < 1 || group > c) {
    return InvalidArgument("group must be in [1, " + std::to_string(c) + "] (input channels), got " +
                           std::to_string(group));
  }
  if (c % group != 0 || m % group != 0) {
    return InvalidArgument("group " + std::to_string(group) + " must divide input channels " + std::to_string(c) +
                           " and output channels " + std::to_string(m));
  }
  if (w[1] * group != c) {
    return InvalidArgument("W " + ShapeToString(w) + " expects " + std::to_string(w[1] * group) +
                           " input channels (W[1] * group), X has " + std::to_string(c));
  }
  std::vector<int64_t> kernel(w.begin() + 2, w.end());
  for (int64_t k : kernel) {
    if (k < 1 || k > nn::kMaxWindowValue) return InvalidArgument("W has a bad kernel size " + ShapeToString(w));
  }
  if (attrs.has("kernel_shape")) {
    DX_ASSIGN_OR_RETURN(std::vector<int64_t> ks, attrs.GetInts("kernel_shape"));
    if (ks != kernel) {
      return InvalidArgument("kernel_shape " + nn::JoinInts(ks) + " does not match W's spatial dims " +
                             nn::JoinInts(kernel));
    }
  }
  std::vector<int64_t> in(x.begin() + 2, x.end());
  return nn::ResolveWindow(attrs, in, kernel, /*ceil_mode=*/false);
}

Status InferConv(InferContext& ctx) {
  DX_RETURN_IF_ERROR(nn::RequireFloat(ctx, 0, "X"));
  DX_RETURN_IF_ERROR(nn::RequireFloat(ctx, 1, "W"));
  const Shape& x = ctx.input_shape(0);
  const Shape& w = ctx.input_shape(1);
  DX_ASSIGN_OR_RETURN(nn::Window win, ConvGeometry(ctx.attrs(), x, w));
  if (ctx.has_input(2)) {
    DX_RETURN_IF_ERROR(nn::RequireFloat(ctx, 2, "B"));
    if (ctx.input_shape(2) != Shape{w[0]}) {
      return InvalidArgument("B must have shape [" + std::to_string(w[0]) + "], got " +
                             ShapeToString(ctx.input_shape(2)));
    }
  }
  DX_RETURN_IF_ERROR(nn::ValidateFusedActivation(ctx.attrs()));
  Shape y = {x[0], w[0]};
  y.insert(y.end(), win.out.begin(), win.out.end());
  ctx.SetOutput(0, DataType::kFloat32, y);
  return Status::Ok();
}

Status ConvKernel(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& w = ctx.input(1);
  DX_ASSIGN_OR_RETURN(nn::Window win, ConvGeometry(ctx.attrs(), x.shape(), w.shape()));
  const Tensor* bias = ctx.has_input(2) ? &ctx.input(2) : nullptr;
  Tensor& y = ctx.output(0);
  const int64_t group = ctx.attrs().Int("group", 1);
  const int64_t batch = x.dim(0), c_in = x.dim(1), c_out = w.dim(0);
  const int64_t cg_in = c_in / group, cg_out = c_out / group;
  const size_t nd = win.rank();
  const int64_t in_size = nn::Product(win.in, 0, nd);
  const int64_t out_size = nn::Product(win.out, 0, nd);
  const int64_t k_size = nn::Product(win.kernel, 0, nd);
  const float* xd = x.data<float>();
  const float* wd = w.data<float>();
  float* yd = y.data<float>();

  std::vector<int64_t> o(nd, 0), k(nd, 0);
  for (int64_t n = 0; n < batch; ++n) {
    for (int64_t oc = 0; oc < c_out; ++oc) {
      const int64_t g = oc / cg_out;
      float* y_plane = yd + (n * c_out + oc) * out_size;
      std::fill(o.begin(), o.end(), 0);
      for (int64_t op = 0; op < out_size; ++op, nn::NextIndex(o, win.out)) {
        double acc = bias ? bias->data<float>()[oc] : 0.0;
        for (int64_t ic = 0; ic < cg_in; ++ic) {
          const float* x_plane = xd + (n * c_in + g * cg_in + ic) * in_size;
          const float* w_kernel = wd + (oc * cg_in + ic) * k_size;
          std::fill(k.begin(), k.end(), 0);
          for (int64_t kp = 0; kp < k_size; ++kp, nn::NextIndex(k, win.kernel)) {
            int64_t offset = 0;
            bool inside = true;
            for (size_t d = 0; d < nd && inside; ++d) {
              const int64_t pos = o[d] * win.strides[d] - win.pad_begin[d] + k[d] * win.dilations[d];
              inside = pos >= 0 && pos < win.in[d];
              offset = offset * win.in[d] + pos;
            }
            if (inside) acc += static_cast<double>(x_plane[offset]) * w_kernel[kp];
          }
        }
        y_plane[op] = static_cast<float>(acc);
      }
    }
  }
  ApplyFusedActivation(GetFusedActivation(ctx.attrs()), yd, y.num_elements());
  return Status::Ok();
}

OpCost ConvCost(const CostContext& ctx) {
  // Each output element is a dot product over (Cin/group) * prod(kernel) = prod(W.shape[1:]) weights.
  const Shape& w = ctx.inputs[1]->shape;
  const double macs = static_cast<double>(NumElements(ctx.outputs[0]->shape)) *
                      static_cast<double>(nn::Product(w, 1, w.size()));
  return nn::CostWithFlops(ctx, 2.0 * macs);
}

}  // namespace

OpSchema ConvSchema() {
  return OpSchema{.name = "Conv",
                  .min_inputs = 2,
                  .max_inputs = 3,
                  .min_outputs = 1,
                  .max_outputs = 1,
                  .attributes = {"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"},
                  .infer = InferConv,
                  .reference = ConvKernel,
                  .cost = ConvCost};
}

}  // namespace deepx
