// DepthToSpace: moves blocks of channels into blocksize x blocksize spatial tiles, [N, C, H, W] ->
// [N, C/(b*b), H*b, W*b]. DCR mode (default) takes the tile position from the outer channel bits, CRD from the
// inner ones:
//   DCR: out[n, c, h*b+i, w*b+j] = in[n, (i*b + j) * (C/(b*b)) + c, h, w]
//   CRD: out[n, c, h*b+i, w*b+j] = in[n, c * b*b + i*b + j, h, w]
#include <cstring>

#include "ops/tensor/tensor_ops.h"
#include "ops/tensor/tensor_util.h"

namespace deepx::tensor_ops {
namespace {

Status InferDepthToSpace(InferContext& ctx) {
  DX_RETURN_IF_ERROR(CheckKnownDtype(ctx.input_dtype(0), "input"));
  const Shape& in = ctx.input_shape(0);
  if (in.size() != 4) return InvalidArgument("input must be 4-D [N, C, H, W], got " + ShapeToString(in));
  if (!ctx.attrs().has("blocksize")) return InvalidArgument("attribute 'blocksize' is required");
  DX_ASSIGN_OR_RETURN(int64_t b, ctx.attrs().GetInt("blocksize", 0));
  DX_ASSIGN_OR_RETURN(std::string mode, ctx.attrs().GetString("mode", "DCR"));
  if (mode != "DCR" && mode != "CRD") return InvalidArgument("mode must be DCR or CRD, got '" + mode + "'");
  if (b <= 0 || b > (int64_t{1} << 20)) return InvalidArgument("blocksize must be positive, got " +
                                                               std::to_string(b));
  if (in[1] % (b * b) != 0) {
    return InvalidArgument("channels " + std::to_string(in[1]) + " are not divisible by blocksize^2 = " +
                           std::to_string(b * b));
  }
  DX_ASSIGN_OR_RETURN(int64_t h, CheckedNumElements({in[2], b}));
  DX_ASSIGN_OR_RETURN(int64_t w, CheckedNumElements({in[3], b}));
  ctx.SetOutput(0, ctx.input_dtype(0), {in[0], in[1] / (b * b), h, w});
  return Status::Ok();
}

Status DepthToSpaceKernel(KernelContext& ctx) {
  const Tensor& in = ctx.input(0);
  Tensor& out = ctx.output(0);
  const int64_t b = ctx.attrs().Int("blocksize", 1);
  const bool crd = ctx.attrs().String("mode", "DCR") == "CRD";
  const int64_t N = out.dim(0), C = out.dim(1), H = in.dim(2), W = in.dim(3);
  const size_t es = DataTypeSize(in.dtype());
  const auto* src = static_cast<const uint8_t*>(in.raw_data());
  auto* dst = static_cast<uint8_t*>(out.raw_data());

  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t oh = 0; oh < H * b; ++oh)
        for (int64_t ow = 0; ow < W * b; ++ow) {
          const int64_t h = oh / b, i = oh % b, w = ow / b, j = ow % b;
          const int64_t ic = crd ? c * b * b + i * b + j : (i * b + j) * C + c;
          const int64_t src_index = ((n * C * b * b + ic) * H + h) * W + w;
          const int64_t dst_index = ((n * C + c) * H * b + oh) * W * b + ow;
          std::memcpy(dst + dst_index * es, src + src_index * es, es);
        }
  return Status::Ok();
}

}  // namespace

OpSchema DepthToSpaceSchema() {
  return {.name = "DepthToSpace", .attributes = {"blocksize", "mode"}, .infer = InferDepthToSpace,
          .reference = DepthToSpaceKernel, .cost = DataMovementCost};
}

}  // namespace deepx::tensor_ops
