// Unsqueeze: inserts size-1 dimensions at `axes`, which index the OUTPUT shape (attribute before opset 13,
// required constant input from 13).
#include <cstring>

#include "ops/tensor/tensor_ops.h"
#include "ops/tensor/tensor_util.h"

namespace deepx::tensor_ops {
namespace {

Status InferUnsqueeze(InferContext& ctx) {
  DX_RETURN_IF_ERROR(CheckKnownDtype(ctx.input_dtype(0), "data"));
  const Shape& in = ctx.input_shape(0);
  std::vector<int64_t> axes;
  if (ctx.opset() < 13) {
    if (!ctx.attrs().has("axes")) return InvalidArgument("attribute 'axes' is required");
    if (ctx.has_input(1)) return InvalidArgument("'axes' is an attribute before opset 13, not an input");
    DX_ASSIGN_OR_RETURN(axes, ctx.attrs().GetInts("axes"));
  } else {
    if (ctx.attrs().has("axes")) return InvalidArgument("'axes' is an input from opset 13, not an attribute");
    if (!ctx.has_input(1)) return InvalidArgument("input 'axes' is required from opset 13");
    DX_ASSIGN_OR_RETURN(axes, ConstantIntInput(ctx, 1, "axes"));
  }
  const int64_t out_rank = ctx.input_rank(0) + static_cast<int64_t>(axes.size());
  DX_ASSIGN_OR_RETURN(std::vector<int64_t> normalized, NormalizeAxes(axes, out_rank, "axes"));
  std::vector<bool> inserted(static_cast<size_t>(out_rank), false);
  for (int64_t a : normalized) inserted[static_cast<size_t>(a)] = true;
  Shape out;
  size_t next_in = 0;
  for (size_t i = 0; i < inserted.size(); ++i) out.push_back(inserted[i] ? 1 : in[next_in++]);
  ctx.SetOutput(0, ctx.input_dtype(0), out);
  return Status::Ok();
}

Status UnsqueezeKernel(KernelContext& ctx) {
  const Tensor& in = ctx.input(0);
  if (in.size_bytes()) std::memcpy(ctx.output(0).raw_data(), in.raw_data(), in.size_bytes());
  return Status::Ok();
}

}  // namespace

OpSchema UnsqueezeSchema() {
  return {.name = "Unsqueeze", .min_inputs = 1, .max_inputs = 2, .attributes = {"axes"}, .infer = InferUnsqueeze,
          .reference = UnsqueezeKernel, .cost = DataMovementCost};
}

}  // namespace deepx::tensor_ops
