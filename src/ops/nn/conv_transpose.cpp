// ConvTranspose: N-dimensional grouped transposed convolution (the gradient of Conv), with strides, dilations,
// pads/auto_pad, output_padding, output_shape, optional bias and an optional fused activation.
#include <algorithm>
#include <string>
#include <vector>

#include "ops/fused_activation.h"
#include "ops/nn/nn_common.h"

namespace deepx {
namespace {

struct TransposeGeometry {
  std::vector<int64_t> in, kernel, strides, dilations, pad_begin, out;
};

int64_t FloorDiv2(int64_t v) { return v >= 0 ? v / 2 : -((-v + 1) / 2); }

Result<TransposeGeometry> Geometry(const Attributes& attrs, const Shape& x, const Shape& w) {
  if (x.size() < 3) return InvalidArgument("X must have rank >= 3 ([N, C, D1, ...]), got " + ShapeToString(x));
  if (w.size() != x.size()) {
    return InvalidArgument("W must have the rank of X (" + std::to_string(x.size()) + "), got " + ShapeToString(w));
  }
  DX_ASSIGN_OR_RETURN(int64_t group, attrs.GetInt("group", 1));
  if (group < 1 || group > x[1]) {
    return InvalidArgument("group must be in [1, " + std::to_string(x[1]) + "] (input channels), got " +
                           std::to_string(group));
  }
  if (x[1] % group != 0) {
    return InvalidArgument("group " + std::to_string(group) + " must divide input channels " + std::to_string(x[1]));
  }
  if (w[0] != x[1]) {
    return InvalidArgument("W " + ShapeToString(w) + " must have X's " + std::to_string(x[1]) +
                           " input channels as its first dim");
  }
  const size_t nd = x.size() - 2;
  TransposeGeometry g;
  g.in.assign(x.begin() + 2, x.end());
  g.kernel.assign(w.begin() + 2, w.end());
  for (int64_t k : g.kernel) {
    if (k < 1 || k > nn::kMaxWindowValue) return InvalidArgument("W has a bad kernel size " + ShapeToString(w));
  }
  if (attrs.has("kernel_shape")) {
    DX_ASSIGN_OR_RETURN(std::vector<int64_t> ks, attrs.GetInts("kernel_shape"));
    if (ks != g.kernel) {
      return InvalidArgument("kernel_shape " + nn::JoinInts(ks) + " does not match W's spatial dims " +
                             nn::JoinInts(g.kernel));
    }
  }
  DX_ASSIGN_OR_RETURN(g.strides, nn::GetSpatialInts(attrs, "strides", nd, 1, 1, nn::kMaxWindowValue));
  DX_ASSIGN_OR_RETURN(g.dilations, nn::GetSpatialInts(attrs, "dilations", nd, 1, 1, nn::kMaxWindowValue));
  DX_ASSIGN_OR_RETURN(std::vector<int64_t> out_pad,
                      nn::GetSpatialInts(attrs, "output_padding", nd, 0, 0, nn::kMaxWindowValue));
  for (size_t i = 0; i < nd; ++i) {
    if (out_pad[i] >= std::max(g.strides[i], g.dilations[i])) {
      return InvalidArgument("output_padding " + nn::JoinInts(out_pad) +
                             " must be smaller than the stride or dilation of its dim");
    }
  }
  DX_ASSIGN_OR_RETURN(nn::AutoPad auto_pad, nn::ParseAutoPad(attrs));
  std::vector<int64_t> out_shape;
  if (attrs.has("output_shape")) {
    DX_ASSIGN_OR_RETURN(out_shape, attrs.GetInts("output_shape"));
    // Some exporters give the full [N, C, D1, ...] shape rather than the spatial dims only.
    if (out_shape.size() == nd + 2) out_shape.erase(out_shape.begin(), out_shape.begin() + 2);
    if (out_shape.size() != nd) {
      return InvalidArgument("output_shape must have " + std::to_string(nd) + " values, got " +
                             nn::JoinInts(out_shape));
    }
    for (int64_t v : out_shape) {
      if (v < 1 || v > nn::kMaxPadValue) return InvalidArgument("bad output_shape " + nn::JoinInts(out_shape));
    }
  }
  std::vector<int64_t> pads(2 * nd, 0);
  if (auto_pad == nn::AutoPad::kNotSet && out_shape.empty()) {
    DX_ASSIGN_OR_RETURN(pads, nn::GetSpatialInts(attrs, "pads", 2 * nd, 0, 0, nn::kMaxPadValue));
  }
  g.pad_begin.resize(nd);
  g.out.resize(nd);
  for (size_t i = 0; i < nd; ++i) {
    const int64_t full = g.strides[i] * (g.in[i] - 1) + out_pad[i] + (g.kernel[i] - 1) * g.dilations[i] + 1;
    const bool same = auto_pad == nn::AutoPad::kSameUpper || auto_pad == nn::AutoPad::kSameLower;
    if (!out_shape.empty() || same) {
      g.out[i] = out_shape.empty() ? g.in[i] * g.strides[i] : out_shape[i];
      // total may be negative (output larger than the full result): the extra rows read as zeros at the end.
      const int64_t total = full - g.out[i];
      g.pad_begin[i] = auto_pad == nn::AutoPad::kSameUpper ? FloorDiv2(total) : total - FloorDiv2(total);
    } else {
      g.pad_begin[i] = pads[i];
      g.out[i] = full - pads[i] - pads[i + nd];
      if (g.out[i] < 1) {
        return InvalidArgument("pads " + nn::JoinInts(pads) + " leave no output in spatial dim " +
                               std::to_string(i));
      }
    }
  }
  return g;
}

Status InferConvTranspose(InferContext& ctx) {
  DX_RETURN_IF_ERROR(nn::RequireFloat(ctx, 0, "X"));
  DX_RETURN_IF_ERROR(nn::RequireFloat(ctx, 1, "W"));
  const Shape& x = ctx.input_shape(0);
  const Shape& w = ctx.input_shape(1);
  DX_ASSIGN_OR_RETURN(TransposeGeometry g, Geometry(ctx.attrs(), x, w));
  auto c_out_or = CheckedNumElements({w[1], ctx.attrs().Int("group", 1)});
  if (!c_out_or.ok()) return InvalidArgument("output channels W[1] * group overflow");
  const int64_t c_out = *c_out_or;
  if (ctx.has_input(2)) {
    DX_RETURN_IF_ERROR(nn::RequireFloat(ctx, 2, "B"));
    if (ctx.input_shape(2) != Shape{c_out}) {
      return InvalidArgument("B must have shape [" + std::to_string(c_out) + "], got " +
                             ShapeToString(ctx.input_shape(2)));
    }
  }
  DX_RETURN_IF_ERROR(nn::ValidateFusedActivation(ctx.attrs()));
  Shape y = {x[0], c_out};
  y.insert(y.end(), g.out.begin(), g.out.end());
  ctx.SetOutput(0, DataType::kFloat32, y);
  return Status::Ok();
}

Status ConvTransposeKernel(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& w = ctx.input(1);
  DX_ASSIGN_OR_RETURN(TransposeGeometry g, Geometry(ctx.attrs(), x.shape(), w.shape()));
  Tensor& y = ctx.output(0);
  const int64_t group = ctx.attrs().Int("group", 1);
  const int64_t batch = x.dim(0), c_in = x.dim(1), cg_in = c_in / group, cg_out = w.dim(1);
  const int64_t c_out = cg_out * group;
  const size_t nd = g.in.size();
  const int64_t in_size = nn::Product(g.in, 0, nd);
  const int64_t out_size = nn::Product(g.out, 0, nd);
  const int64_t k_size = nn::Product(g.kernel, 0, nd);
  const float* xd = x.data<float>();
  const float* wd = w.data<float>();

  // Every input element scatters into the outputs its kernel window covers.
  std::vector<double> acc(static_cast<size_t>(y.num_elements()), 0.0);
  std::vector<int64_t> i_idx(nd, 0), k(nd, 0);
  for (int64_t n = 0; n < batch; ++n) {
    for (int64_t c = 0; c < c_in; ++c) {
      const int64_t grp = c / cg_in;
      const float* x_plane = xd + (n * c_in + c) * in_size;
      std::fill(i_idx.begin(), i_idx.end(), 0);
      for (int64_t ip = 0; ip < in_size; ++ip, nn::NextIndex(i_idx, g.in)) {
        const double xv = x_plane[ip];
        std::fill(k.begin(), k.end(), 0);
        for (int64_t kp = 0; kp < k_size; ++kp, nn::NextIndex(k, g.kernel)) {
          int64_t offset = 0;
          bool inside = true;
          for (size_t d = 0; d < nd && inside; ++d) {
            const int64_t pos = i_idx[d] * g.strides[d] + k[d] * g.dilations[d] - g.pad_begin[d];
            inside = pos >= 0 && pos < g.out[d];
            offset = offset * g.out[d] + pos;
          }
          if (!inside) continue;
          for (int64_t om = 0; om < cg_out; ++om) {
            const int64_t oc = grp * cg_out + om;
            acc[static_cast<size_t>((n * c_out + oc) * out_size + offset)] +=
                xv * wd[(c * cg_out + om) * k_size + kp];
          }
        }
      }
    }
  }
  float* yd = y.data<float>();
  const float* bias = ctx.has_input(2) ? ctx.input(2).data<float>() : nullptr;
  for (int64_t i = 0; i < y.num_elements(); ++i) {
    const int64_t oc = (i / out_size) % c_out;
    yd[i] = static_cast<float>(acc[static_cast<size_t>(i)] + (bias ? bias[oc] : 0.0));
  }
  ApplyFusedActivation(GetFusedActivation(ctx.attrs()), yd, y.num_elements());
  return Status::Ok();
}

OpCost ConvTransposeCost(const CostContext& ctx) {
  // Each input element multiplies (Cout/group) * prod(kernel) = prod(W.shape[1:]) weights.
  const Shape& w = ctx.inputs[1]->shape;
  const double macs = static_cast<double>(NumElements(ctx.inputs[0]->shape)) *
                      static_cast<double>(nn::Product(w, 1, w.size()));
  return nn::CostWithFlops(ctx, 2.0 * macs);
}

}  // namespace

OpSchema ConvTransposeSchema() {
  return OpSchema{.name = "ConvTranspose",
                  .min_inputs = 2,
                  .max_inputs = 3,
                  .min_outputs = 1,
                  .max_outputs = 1,
                  .attributes = {"auto_pad", "dilations", "group", "kernel_shape", "output_padding", "output_shape",
                                 "pads", "strides"},
                  .infer = InferConvTranspose,
                  .reference = ConvTransposeKernel,
                  .cost = ConvTransposeCost};
}

}  // namespace deepx
