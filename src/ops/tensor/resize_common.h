// Shared by Resize (opset 10+) and its predecessor Upsample (7..9): 4-D NCHW resizing of H and W with nearest or
// (bi)linear interpolation.
#pragma once

#include <vector>

#include "core/attributes.h"
#include "deepx/status.h"
#include "deepx/tensor.h"

namespace deepx::tensor_ops {

enum class ResizeCoordMode { kHalfPixel, kPytorchHalfPixel, kAlignCorners, kAsymmetric };
enum class ResizeNearestMode { kRoundPreferFloor, kRoundPreferCeil, kFloor, kCeil };

struct ResizeParams {
  bool linear = false;  // else nearest
  ResizeCoordMode coord = ResizeCoordMode::kHalfPixel;
  ResizeNearestMode nearest = ResizeNearestMode::kRoundPreferFloor;
  std::vector<double> scales;  // per axis, as used by the coordinate transform
  // Per axis, input length * scale before flooring to the output length. align_corners and pytorch_half_pixel
  // use this unrounded length, as the ONNX reference does (it differs from the output length when downscaling
  // by a scale that does not divide evenly).
  std::vector<double> resized_len;
  Shape out;
};

// `scales` / `sizes` are the values of those inputs (nullptr or an empty tensor when not given); shared by infer
// (with constants) and the kernel. `legacy` selects Upsample / Resize-10 behaviour: asymmetric coordinates and
// floor rounding, with no coordinate or rounding attributes.
Result<ResizeParams> ParseResize(const Attributes& attrs, bool legacy, const Shape& in, const Tensor* scales,
                                 const Tensor* sizes);

// The reference resize of a 4-D tensor; `out` is preallocated with p.out.
void ResizeReference(const ResizeParams& p, const Tensor& in, Tensor& out);

}  // namespace deepx::tensor_ops
