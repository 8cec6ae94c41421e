#include "ops/nn/nn_common.h"

#include <algorithm>

#include "ops/fused_activation.h"

namespace deepx {


namespace nn {

std::string JoinInts(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}

Result<AutoPad> ParseAutoPad(const Attributes& attrs) {
  DX_ASSIGN_OR_RETURN(std::string s, attrs.GetString("auto_pad", "NOTSET"));
  if (s == "NOTSET" || s.empty()) return AutoPad::kNotSet;
  if (s == "SAME_UPPER") return AutoPad::kSameUpper;
  if (s == "SAME_LOWER") return AutoPad::kSameLower;
  if (s == "VALID") return AutoPad::kValid;
  return InvalidArgument("auto_pad must be NOTSET, SAME_UPPER, SAME_LOWER or VALID, got '" + s + "'");
}

Result<std::vector<int64_t>> GetSpatialInts(const Attributes& attrs, const std::string& name, size_t rank,
                                            int64_t fill, int64_t min_value, int64_t max_value) {
  if (!attrs.has(name)) return std::vector<int64_t>(rank, fill);
  DX_ASSIGN_OR_RETURN(std::vector<int64_t> v, attrs.GetInts(name));
  if (v.size() != rank) {
    return InvalidArgument(name + " must have " + std::to_string(rank) + " values (one per spatial dim), got " +
                           std::to_string(v.size()));
  }
  for (int64_t x : v) {
    if (x < min_value || x > max_value) {
      return InvalidArgument(name + " values must be in [" + std::to_string(min_value) + ", " +
                             std::to_string(max_value) + "], got " + JoinInts(v));
    }
  }
  return v;
}

Result<std::vector<int64_t>> GetKernelShape(const Attributes& attrs, size_t rank) {
  if (!attrs.has("kernel_shape")) return InvalidArgument("attribute kernel_shape is required");
  DX_ASSIGN_OR_RETURN(std::vector<int64_t> kernel, GetSpatialInts(attrs, "kernel_shape", rank, 1, 1, kMaxWindowValue));
  // Bounds the window volume, so loops over it cannot overflow their counters.
  if (!CheckedNumElements(kernel).ok()) return InvalidArgument("kernel_shape " + JoinInts(kernel) + " is too large");
  return kernel;
}

Result<Window> ResolveWindow(const Attributes& attrs, const std::vector<int64_t>& in_spatial,
                             const std::vector<int64_t>& kernel, bool ceil_mode) {
  const size_t nd = in_spatial.size();
  Window w;
  w.in = in_spatial;
  w.kernel = kernel;
  if (kernel.size() != nd) {
    return InvalidArgument("kernel has " + std::to_string(kernel.size()) + " spatial dims, input has " +
                           std::to_string(nd));
  }
  DX_ASSIGN_OR_RETURN(w.strides, GetSpatialInts(attrs, "strides", nd, 1, 1, kMaxWindowValue));
  DX_ASSIGN_OR_RETURN(w.dilations, GetSpatialInts(attrs, "dilations", nd, 1, 1, kMaxWindowValue));
  DX_ASSIGN_OR_RETURN(AutoPad auto_pad, ParseAutoPad(attrs));
  std::vector<int64_t> pads(2 * nd, 0);
  // auto_pad wins over explicit pads: exporters sometimes emit both, with zero pads.
  if (auto_pad == AutoPad::kNotSet) {
    DX_ASSIGN_OR_RETURN(pads, GetSpatialInts(attrs, "pads", 2 * nd, 0, 0, kMaxPadValue));
  }
  w.pad_begin.assign(pads.begin(), pads.begin() + static_cast<std::ptrdiff_t>(nd));
  w.pad_end.assign(pads.begin() + static_cast<std::ptrdiff_t>(nd), pads.end());
  w.out.resize(nd);
  for (size_t i = 0; i < nd; ++i) {
    const int64_t in = in_spatial[i], s = w.strides[i];
    const int64_t eff = (kernel[i] - 1) * w.dilations[i] + 1;
    if (auto_pad == AutoPad::kSameUpper || auto_pad == AutoPad::kSameLower) {
      w.out[i] = (in + s - 1) / s;
      const int64_t total = std::max<int64_t>(0, (w.out[i] - 1) * s + eff - in);
      // The odd unit of padding goes at the end for SAME_UPPER, at the beginning for SAME_LOWER.
      w.pad_begin[i] = auto_pad == AutoPad::kSameUpper ? total / 2 : total - total / 2;
      w.pad_end[i] = total - w.pad_begin[i];
      continue;
    }
    const int64_t avail = in + w.pad_begin[i] + w.pad_end[i] - eff;
    if (avail < 0) {
      return InvalidArgument("window of extent " + std::to_string(eff) + " (kernel " + std::to_string(kernel[i]) +
                             ", dilation " + std::to_string(w.dilations[i]) + ") is larger than padded input dim " +
                             std::to_string(i) + " of size " + std::to_string(in + w.pad_begin[i] + w.pad_end[i]));
    }
    if (ceil_mode) {
      w.out[i] = (avail + s - 1) / s + 1;
      // A window starting entirely in the trailing padding would see no input at all.
      if ((w.out[i] - 1) * s >= in + w.pad_begin[i]) --w.out[i];
    } else {
      w.out[i] = avail / s + 1;
    }
  }
  return w;
}

Status RequireFloat(const InferContext& ctx, size_t i, const char* what) {
  if (ctx.input_dtype(i) != DataType::kFloat32) {
    return Unimplemented(std::string(what) + " must be float32, got " + DataTypeName(ctx.input_dtype(i)));
  }
  return Status::Ok();
}

bool NextIndex(std::vector<int64_t>& index, const std::vector<int64_t>& dims) {
  for (size_t i = dims.size(); i-- > 0;) {
    if (++index[i] < dims[i]) return true;
    index[i] = 0;
  }
  return false;
}

int64_t Product(const std::vector<int64_t>& dims, size_t begin, size_t end) {
  int64_t p = 1;
  for (size_t i = begin; i < end && i < dims.size(); ++i) p *= dims[i];
  return p;
}

Result<int64_t> NormalizeAxis(int64_t axis, int64_t rank, const char* what) {
  if (axis < -rank || axis >= rank) {
    return InvalidArgument(std::string(what) + " " + std::to_string(axis) + " is out of range for rank " +
                           std::to_string(rank));
  }
  return axis < 0 ? axis + rank : axis;
}

Status ValidateFusedActivation(const Attributes& attrs) {
  FusedActivation act = GetFusedActivation(attrs);
  if (!act.none() && !IsFusableActivation(act.kind)) {
    return InvalidArgument("unknown fused activation '" + act.kind + "'");
  }
  return Status::Ok();
}

OpCost CostWithFlops(const CostContext& ctx, double flops) {
  OpCost c = ElementwiseCost(ctx, 0.0);
  c.flops = flops;
  return c;
}

}  // namespace nn
}  // namespace deepx
