// MaxPool: N-dimensional max pooling with strides, pads/auto_pad, dilations and ceil_mode; the optional Indices
// output holds flat indices into X (row-major, or column-major over the spatial dims when storage_order=1).
#include <algorithm>
#include <limits>
#include <string>
#include <vector>

#include "ops/nn/nn_common.h"

namespace deepx {
namespace {

bool IsPoolableType(DataType t) { return t == DataType::kFloat32 || t == DataType::kUInt8 || t == DataType::kInt8; }

Result<nn::Window> Geometry(const Attributes& attrs, const Shape& x) {
  if (x.size() < 3) return InvalidArgument("X must have rank >= 3 ([N, C, D1, ...]), got " + ShapeToString(x));
  const size_t nd = x.size() - 2;
  DX_ASSIGN_OR_RETURN(std::vector<int64_t> kernel, nn::GetKernelShape(attrs, nd));
  DX_ASSIGN_OR_RETURN(int64_t ceil_mode, attrs.GetInt("ceil_mode", 0));
  DX_ASSIGN_OR_RETURN(int64_t storage_order, attrs.GetInt("storage_order", 0));
  if (storage_order != 0 && storage_order != 1) {
    return InvalidArgument("storage_order must be 0 or 1, got " + std::to_string(storage_order));
  }
  return nn::ResolveWindow(attrs, std::vector<int64_t>(x.begin() + 2, x.end()), kernel, ceil_mode != 0);
}

Status InferMaxPool(InferContext& ctx) {
  const DataType t = ctx.input_dtype(0);
  if (!IsPoolableType(t)) return Unimplemented(std::string("X must be float32, uint8 or int8, got ") + DataTypeName(t));
  const Shape& x = ctx.input_shape(0);
  DX_ASSIGN_OR_RETURN(nn::Window win, Geometry(ctx.attrs(), x));
  Shape y = {x[0], x[1]};
  y.insert(y.end(), win.out.begin(), win.out.end());
  ctx.SetOutput(0, t, y);
  ctx.SetOutput(1, DataType::kInt64, y);
  return Status::Ok();
}

template <typename T>
void MaxPoolTyped(const nn::Window& win, bool column_major, const Tensor& x, Tensor& y, Tensor* indices) {
  const size_t nd = win.rank();
  const int64_t planes = x.dim(0) * x.dim(1);
  const int64_t in_size = nn::Product(win.in, 0, nd);
  const int64_t out_size = nn::Product(win.out, 0, nd);
  const int64_t k_size = nn::Product(win.kernel, 0, nd);
  const T* xd = x.data<T>();
  T* yd = y.data<T>();
  int64_t* id = indices ? indices->data<int64_t>() : nullptr;
  std::vector<int64_t> o(nd, 0), k(nd, 0), pos(nd, 0);
  for (int64_t plane = 0; plane < planes; ++plane) {
    std::fill(o.begin(), o.end(), 0);
    for (int64_t op = 0; op < out_size; ++op, nn::NextIndex(o, win.out)) {
      T best = std::numeric_limits<T>::lowest();
      if constexpr (std::numeric_limits<T>::has_infinity) best = -std::numeric_limits<T>::infinity();
      int64_t best_index = -1;
      std::fill(k.begin(), k.end(), 0);
      for (int64_t kp = 0; kp < k_size; ++kp, nn::NextIndex(k, win.kernel)) {
        bool inside = true;
        int64_t offset = 0;
        for (size_t d = 0; d < nd && inside; ++d) {
          pos[d] = o[d] * win.strides[d] - win.pad_begin[d] + k[d] * win.dilations[d];
          inside = pos[d] >= 0 && pos[d] < win.in[d];
          offset = offset * win.in[d] + pos[d];
        }
        if (!inside) continue;
        const T v = xd[plane * in_size + offset];
        if (best_index < 0 || v > best) {
          best = v;
          if (column_major) {
            offset = 0;
            for (size_t d = nd; d-- > 0;) offset = offset * win.in[d] + pos[d];
          }
          best_index = offset;
        }
      }
      yd[plane * out_size + op] = best;
      // A window entirely in padding has no element; point at the plane's first one rather than outside X.
      if (id) id[plane * out_size + op] = plane * in_size + (best_index < 0 ? 0 : best_index);
    }
  }
}

Status MaxPoolKernel(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  DX_ASSIGN_OR_RETURN(nn::Window win, Geometry(ctx.attrs(), x.shape()));
  const bool column_major = ctx.attrs().Int("storage_order", 0) == 1;
  Tensor* indices = ctx.outputs.size() > 1 && !ctx.output(1).empty() ? &ctx.output(1) : nullptr;
  switch (x.dtype()) {
    case DataType::kFloat32: MaxPoolTyped<float>(win, column_major, x, ctx.output(0), indices); break;
    case DataType::kUInt8: MaxPoolTyped<uint8_t>(win, column_major, x, ctx.output(0), indices); break;
    case DataType::kInt8: MaxPoolTyped<int8_t>(win, column_major, x, ctx.output(0), indices); break;
    default: return Internal("MaxPool kernel reached with unsupported dtype");
  }
  return Status::Ok();
}

OpCost MaxPoolCost(const CostContext& ctx) {
  const std::vector<int64_t> k = ctx.attrs().Ints("kernel_shape");
  return nn::CostWithFlops(ctx, static_cast<double>(NumElements(ctx.outputs[0]->shape)) *
                                    static_cast<double>(nn::Product(k, 0, k.size())));
}

}  // namespace

OpSchema MaxPoolSchema() {
  return OpSchema{.name = "MaxPool",
                  .min_inputs = 1,
                  .max_inputs = 1,
                  .min_outputs = 1,
                  .max_outputs = 2,
                  .attributes = {"auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order",
                                 "strides"},
                  .infer = InferMaxPool,
                  .reference = MaxPoolKernel,
                  .cost = MaxPoolCost};
}

}  // namespace deepx
