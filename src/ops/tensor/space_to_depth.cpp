// SpaceToDepth: the inverse of DepthToSpace in DCR order, [N, C, H, W] -> [N, C*b*b, H/b, W/b]:
//   out[n, (i*b + j) * C + c, h, w] = in[n, c, h*b+i, w*b+j]
#include <cstring>

#include "ops/tensor/tensor_ops.h"
#include "ops/tensor/tensor_util.h"

namespace deepx::tensor_ops {
namespace {

Status InferSpaceToDepth(InferContext& ctx) {
  DX_RETURN_IF_ERROR(CheckKnownDtype(ctx.input_dtype(0), "input"));
  const Shape& in = ctx.input_shape(0);
  if (in.size() != 4) return InvalidArgument("input must be 4-D [N, C, H, W], got " + ShapeToString(in));
  if (!ctx.attrs().has("blocksize")) return InvalidArgument("attribute 'blocksize' is required");
  DX_ASSIGN_OR_RETURN(int64_t b, ctx.attrs().GetInt("blocksize", 0));
  if (b <= 0 || b > (int64_t{1} << 20)) return InvalidArgument("blocksize must be positive, got " +
                                                               std::to_string(b));
  if (in[2] % b != 0 || in[3] % b != 0) {
    return InvalidArgument("spatial size " + std::to_string(in[2]) + "x" + std::to_string(in[3]) +
                           " is not divisible by blocksize " + std::to_string(b));
  }
  DX_ASSIGN_OR_RETURN(int64_t c, CheckedNumElements({in[1], b, b}));
  ctx.SetOutput(0, ctx.input_dtype(0), {in[0], c, in[2] / b, in[3] / b});
  return Status::Ok();
}

Status SpaceToDepthKernel(KernelContext& ctx) {
  const Tensor& in = ctx.input(0);
  Tensor& out = ctx.output(0);
  const int64_t b = ctx.attrs().Int("blocksize", 1);
  const int64_t N = in.dim(0), C = in.dim(1), H = out.dim(2), W = out.dim(3);
  const size_t es = DataTypeSize(in.dtype());
  const auto* src = static_cast<const uint8_t*>(in.raw_data());
  auto* dst = static_cast<uint8_t*>(out.raw_data());

  for (int64_t n = 0; n < N; ++n)
    for (int64_t oc = 0; oc < C * b * b; ++oc)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t w = 0; w < W; ++w) {
          const int64_t c = oc % C, i = oc / C / b, j = oc / C % b;
          const int64_t src_index = ((n * C + c) * H * b + h * b + i) * W * b + w * b + j;
          const int64_t dst_index = ((n * C * b * b + oc) * H + h) * W + w;
          std::memcpy(dst + dst_index * es, src + src_index * es, es);
        }
  return Status::Ok();
}

}  // namespace

OpSchema SpaceToDepthSchema() {
  return {.name = "SpaceToDepth", .attributes = {"blocksize"}, .infer = InferSpaceToDepth,
          .reference = SpaceToDepthKernel, .cost = DataMovementCost};
}

}  // namespace deepx::tensor_ops
