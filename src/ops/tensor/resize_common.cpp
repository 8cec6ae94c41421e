#include "ops/tensor/resize_common.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace deepx::tensor_ops {
namespace {

Result<ResizeCoordMode> ParseCoordMode(const std::string& s) {
  if (s == "half_pixel") return ResizeCoordMode::kHalfPixel;
  if (s == "pytorch_half_pixel") return ResizeCoordMode::kPytorchHalfPixel;
  if (s == "align_corners") return ResizeCoordMode::kAlignCorners;
  if (s == "asymmetric") return ResizeCoordMode::kAsymmetric;
  if (s == "tf_half_pixel_for_nn" || s == "tf_crop_and_resize" || s == "half_pixel_symmetric") {
    return Unimplemented("coordinate_transformation_mode '" + s + "' is not supported");
  }
  return InvalidArgument("unknown coordinate_transformation_mode '" + s + "'");
}

Result<ResizeNearestMode> ParseNearestMode(const std::string& s) {
  if (s == "round_prefer_floor") return ResizeNearestMode::kRoundPreferFloor;
  if (s == "round_prefer_ceil") return ResizeNearestMode::kRoundPreferCeil;
  if (s == "floor") return ResizeNearestMode::kFloor;
  if (s == "ceil") return ResizeNearestMode::kCeil;
  return InvalidArgument("unknown nearest_mode '" + s + "'");
}

// Position in the input of output coordinate x along one axis.
double SourceCoord(ResizeCoordMode mode, int64_t x, double scale, double out_len, int64_t in_len) {
  switch (mode) {
    case ResizeCoordMode::kHalfPixel: return (static_cast<double>(x) + 0.5) / scale - 0.5;
    case ResizeCoordMode::kPytorchHalfPixel:
      return out_len > 1 ? (static_cast<double>(x) + 0.5) / scale - 0.5 : 0.0;
    case ResizeCoordMode::kAlignCorners:
      return out_len == 1 ? 0.0
                          : static_cast<double>(x) * static_cast<double>(in_len - 1) /
                                (out_len - 1);
    case ResizeCoordMode::kAsymmetric: return static_cast<double>(x) / scale;
  }
  return 0.0;
}

int64_t NearestIndex(ResizeNearestMode mode, double x, int64_t in_len) {
  double r = 0;
  switch (mode) {
    case ResizeNearestMode::kRoundPreferFloor: r = (x - std::floor(x) == 0.5) ? std::floor(x) : std::round(x); break;
    case ResizeNearestMode::kRoundPreferCeil: r = (x - std::floor(x) == 0.5) ? std::ceil(x) : std::round(x); break;
    case ResizeNearestMode::kFloor: r = std::floor(x); break;
    case ResizeNearestMode::kCeil: r = std::ceil(x); break;
  }
  return std::clamp<int64_t>(static_cast<int64_t>(r), 0, in_len - 1);
}

// Linear interpolation taps along one axis: out[x] = (1 - w) * in[lo] + w * in[hi].
struct Taps {
  std::vector<int64_t> lo, hi;
  std::vector<double> w;
};

Taps LinearTaps(const ResizeParams& p, size_t axis, int64_t in_len) {
  Taps t;
  const int64_t out_len = p.out[axis];
  for (int64_t x = 0; x < out_len; ++x) {
    // Clamping to the input keeps the border value outside it, as edge padding would.
    const double s = std::clamp(SourceCoord(p.coord, x, p.scales[axis], p.resized_len[axis], in_len), 0.0,
                                static_cast<double>(in_len - 1));
    const int64_t lo = static_cast<int64_t>(std::floor(s));
    t.lo.push_back(lo);
    t.hi.push_back(std::min(lo + 1, in_len - 1));
    t.w.push_back(s - static_cast<double>(lo));
  }
  return t;
}

}  // namespace

Result<ResizeParams> ParseResize(const Attributes& attrs, bool legacy, const Shape& in, const Tensor* scales,
                                 const Tensor* sizes) {
  ResizeParams p;
  if (in.size() != 4) return Unimplemented("only 4-D NCHW input is supported, got " + ShapeToString(in));
  DX_ASSIGN_OR_RETURN(std::string mode, attrs.GetString("mode", "nearest"));
  if (mode == "linear" || mode == "bilinear") {
    p.linear = true;
  } else if (mode == "cubic") {
    return Unimplemented("mode 'cubic' is not supported");
  } else if (mode != "nearest") {
    return InvalidArgument("mode must be nearest, linear or cubic, got '" + mode + "'");
  }
  if (legacy) {
    p.coord = ResizeCoordMode::kAsymmetric;
    p.nearest = ResizeNearestMode::kFloor;
  } else {
    DX_ASSIGN_OR_RETURN(std::string coord, attrs.GetString("coordinate_transformation_mode", "half_pixel"));
    DX_ASSIGN_OR_RETURN(p.coord, ParseCoordMode(coord));
    DX_ASSIGN_OR_RETURN(std::string nearest, attrs.GetString("nearest_mode", "round_prefer_floor"));
    DX_ASSIGN_OR_RETURN(p.nearest, ParseNearestMode(nearest));
    DX_ASSIGN_OR_RETURN(int64_t antialias, attrs.GetInt("antialias", 0));
    if (antialias != 0) return Unimplemented("antialias is not supported");
    if (attrs.has("axes")) return Unimplemented("attribute 'axes' is not supported");
    DX_ASSIGN_OR_RETURN(std::string policy, attrs.GetString("keep_aspect_ratio_policy", "stretch"));
    if (policy != "stretch") return Unimplemented("keep_aspect_ratio_policy '" + policy + "' is not supported");
  }

  const bool has_scales = scales && scales->num_elements() > 0;
  const bool has_sizes = sizes && sizes->num_elements() > 0;
  if (has_scales == has_sizes) return InvalidArgument("exactly one of scales and sizes must be given");
  p.scales.resize(4);
  p.resized_len.resize(4);
  p.out.resize(4);
  if (has_scales) {
    if (scales->dtype() != DataType::kFloat32) {
      return InvalidArgument(std::string("scales must be float32, got ") + DataTypeName(scales->dtype()));
    }
    if (scales->num_elements() != 4) {
      return InvalidArgument("scales must have 4 values, got " + std::to_string(scales->num_elements()));
    }
    for (size_t i = 0; i < 4; ++i) {
      const double s = scales->GetAsDouble(static_cast<int64_t>(i));
      if (!(s > 0) || !std::isfinite(s)) return InvalidArgument("scales must be positive, got " + std::to_string(s));
      p.resized_len[i] = static_cast<double>(in[i]) * s;
      if (p.resized_len[i] > static_cast<double>(int64_t{1} << 40)) {
        return OutOfRange("scaled dimension is too large");
      }
      p.scales[i] = s;
      p.out[i] = static_cast<int64_t>(std::floor(p.resized_len[i]));
    }
  } else {
    if (sizes->dtype() != DataType::kInt64) {
      return InvalidArgument(std::string("sizes must be int64, got ") + DataTypeName(sizes->dtype()));
    }
    if (sizes->num_elements() != 4) {
      return InvalidArgument("sizes must have 4 values, got " + std::to_string(sizes->num_elements()));
    }
    for (size_t i = 0; i < 4; ++i) {
      p.out[i] = sizes->GetAsInt64(static_cast<int64_t>(i));
      if (p.out[i] < 0) return InvalidArgument("sizes must not be negative");
      p.resized_len[i] = static_cast<double>(p.out[i]);
      // An empty input axis has no defined scale; it can only stay empty (checked below).
      p.scales[i] = in[i] > 0 ? static_cast<double>(p.out[i]) / static_cast<double>(in[i]) : 1.0;
    }
  }
  if (p.out[0] != in[0] || p.out[1] != in[1]) {
    return Unimplemented("resizing the N or C axis is not supported (input " + ShapeToString(in) + ", output " +
                         ShapeToString(p.out) + ")");
  }
  for (size_t i = 2; i < 4; ++i) {
    if (in[i] == 0 && p.out[i] != 0) return InvalidArgument("cannot resize an empty axis to a non-empty one");
  }
  return p;
}

void ResizeReference(const ResizeParams& p, const Tensor& in, Tensor& out) {
  const int64_t NC = in.dim(0) * in.dim(1);
  const int64_t H = in.dim(2), W = in.dim(3), OH = p.out[2], OW = p.out[3];
  if (NC * OH * OW == 0) return;

  if (!p.linear) {
    std::vector<int64_t> ys, xs;
    for (int64_t y = 0; y < OH; ++y) {
      ys.push_back(NearestIndex(p.nearest, SourceCoord(p.coord, y, p.scales[2], p.resized_len[2], H), H));
    }
    for (int64_t x = 0; x < OW; ++x) {
      xs.push_back(NearestIndex(p.nearest, SourceCoord(p.coord, x, p.scales[3], p.resized_len[3], W), W));
    }
    const size_t es = DataTypeSize(in.dtype());
    const auto* src = static_cast<const uint8_t*>(in.raw_data());
    auto* dst = static_cast<uint8_t*>(out.raw_data());
    for (int64_t c = 0; c < NC; ++c)
      for (int64_t y = 0; y < OH; ++y)
        for (int64_t x = 0; x < OW; ++x) {
          std::memcpy(dst + ((c * OH + y) * OW + x) * es, src + ((c * H + ys[y]) * W + xs[x]) * es, es);
        }
    return;
  }

  const Taps ty = LinearTaps(p, 2, H), tx = LinearTaps(p, 3, W);
  const float* src = in.data<float>();
  float* dst = out.data<float>();
  for (int64_t c = 0; c < NC; ++c) {
    const float* plane = src + c * H * W;
    for (int64_t y = 0; y < OH; ++y)
      for (int64_t x = 0; x < OW; ++x) {
        const double top = (1 - tx.w[x]) * plane[ty.lo[y] * W + tx.lo[x]] + tx.w[x] * plane[ty.lo[y] * W + tx.hi[x]];
        const double bottom =
            (1 - tx.w[x]) * plane[ty.hi[y] * W + tx.lo[x]] + tx.w[x] * plane[ty.hi[y] * W + tx.hi[x]];
        dst[(c * OH + y) * OW + x] = static_cast<float>((1 - ty.w[y]) * top + ty.w[y] * bottom);
      }
  }
}

}  // namespace deepx::tensor_ops
