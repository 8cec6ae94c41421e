// Split: cuts the input along `axis` into one piece per output. Piece sizes come from the 'split' attribute
// (before opset 13), the optional constant 'split' input (13+), or are equal; opset 18's num_outputs lets the
// last piece be smaller when the dimension does not divide evenly. Split-1 (opset 1 only) took the sizes from
// the attribute or from an optional second input, and gave `axis` no default.
#include <cstring>
#include <limits>

#include "ops/tensor/tensor_ops.h"
#include "ops/tensor/tensor_util.h"

namespace deepx::tensor_ops {
namespace {

constexpr int kSplitInputOpset = 13;  // Split-13 moved 'split' to input 1
constexpr int kSplit2Opset = 2;       // Split-2 dropped Split-1's second input and defaulted axis to 0

Result<std::vector<int64_t>> SplitSizes(const InferContext& ctx, int64_t dim) {
  const int64_t outputs = static_cast<int64_t>(ctx.num_outputs());
  std::vector<int64_t> sizes;
  bool explicit_sizes = false;
  if (ctx.opset() < kSplit2Opset && ctx.has_input(1)) {
    if (ctx.attrs().has("split")) return InvalidArgument("'split' is given both as attribute and as input");
    DX_ASSIGN_OR_RETURN(sizes, ConstantIntInput(ctx, 1, "split"));
    explicit_sizes = true;
  } else if (ctx.opset() < kSplitInputOpset) {
    if (ctx.has_input(1)) return InvalidArgument("'split' is an attribute from opset 2 to 12, not an input");
    if (ctx.attrs().has("split")) {
      DX_ASSIGN_OR_RETURN(sizes, ctx.attrs().GetInts("split"));
      explicit_sizes = true;
    }
  } else {
    if (ctx.attrs().has("split")) return InvalidArgument("'split' is an input from opset 13, not an attribute");
    if (ctx.has_input(1)) {
      DX_ASSIGN_OR_RETURN(sizes, ConstantIntInput(ctx, 1, "split"));
      explicit_sizes = true;
    }
  }
  if (ctx.attrs().has("num_outputs")) {
    if (ctx.opset() < 18) return InvalidArgument("attribute 'num_outputs' exists only from opset 18");
    if (explicit_sizes) return InvalidArgument("num_outputs and the 'split' input cannot both be given");
    DX_ASSIGN_OR_RETURN(int64_t n, ctx.attrs().GetInt("num_outputs", 0));
    if (n != outputs) {
      return InvalidArgument("num_outputs is " + std::to_string(n) + " but the node has " +
                             std::to_string(outputs) + " outputs");
    }
  }

  if (explicit_sizes) {
    if (static_cast<int64_t>(sizes.size()) != outputs) {
      return InvalidArgument("split has " + std::to_string(sizes.size()) + " entries but the node has " +
                             std::to_string(outputs) + " outputs");
    }
    int64_t total = 0;
    for (int64_t s : sizes) {
      if (s < 0) return InvalidArgument("split " + ShapeToString(sizes) + " has a negative size");
      if (s > std::numeric_limits<int64_t>::max() - total) return InvalidArgument("split sizes overflow");
      total += s;
    }
    if (total != dim) {
      return InvalidArgument("split " + ShapeToString(sizes) + " sums to " + std::to_string(total) +
                             " but the split dimension is " + std::to_string(dim));
    }
    return sizes;
  }

  if (dim % outputs == 0) return std::vector<int64_t>(static_cast<size_t>(outputs), dim / outputs);
  if (ctx.opset() < 18) {
    return InvalidArgument("dimension " + std::to_string(dim) + " cannot be split into " +
                           std::to_string(outputs) + " equal parts");
  }
  // Opset 18: pieces of ceil(dim / n), the last one taking what is left.
  const int64_t piece = dim / outputs + 1;
  const int64_t last = dim - piece * (outputs - 1);
  if (last < 0) {
    return InvalidArgument("dimension " + std::to_string(dim) + " cannot be split into " +
                           std::to_string(outputs) + " parts of " + std::to_string(piece));
  }
  sizes.assign(static_cast<size_t>(outputs - 1), piece);
  sizes.push_back(last);
  return sizes;
}

Status InferSplit(InferContext& ctx) {
  DX_RETURN_IF_ERROR(CheckKnownDtype(ctx.input_dtype(0), "input"));
  const Shape& in = ctx.input_shape(0);
  if (ctx.opset() < kSplit2Opset && !ctx.attrs().has("axis")) {
    return Unimplemented("Split-1 (opset 1) without 'axis' has no defined default axis");
  }
  DX_ASSIGN_OR_RETURN(int64_t axis_attr, ctx.attrs().GetInt("axis", 0));
  DX_ASSIGN_OR_RETURN(int64_t axis, NormalizeAxis(axis_attr, ctx.input_rank(0)));
  for (size_t i = 0; i < ctx.num_outputs(); ++i) {
    if (!ctx.has_output(i)) return InvalidArgument("output " + std::to_string(i) + " is empty");
  }
  DX_ASSIGN_OR_RETURN(std::vector<int64_t> sizes, SplitSizes(ctx, in[static_cast<size_t>(axis)]));
  for (size_t i = 0; i < sizes.size(); ++i) {
    Shape s = in;
    s[static_cast<size_t>(axis)] = sizes[i];
    ctx.SetOutput(i, ctx.input_dtype(0), s);
  }
  return Status::Ok();
}

Status SplitKernel(KernelContext& ctx) {
  const Tensor& in = ctx.input(0);
  int64_t axis = ctx.attrs().Int("axis", 0);
  if (axis < 0) axis += in.rank();
  const size_t a = static_cast<size_t>(axis);
  const size_t es = DataTypeSize(in.dtype());
  const int64_t outer = DimProduct(in.shape(), 0, a);
  const auto* src = static_cast<const uint8_t*>(in.raw_data());

  // The piece sizes are the outputs' dimensions along the axis; per outer index each output takes one run.
  for (int64_t o = 0; o < outer; ++o) {
    for (Tensor* out : ctx.outputs) {
      const size_t run = static_cast<size_t>(DimProduct(out->shape(), a, out->shape().size())) * es;
      if (run == 0) continue;
      std::memcpy(static_cast<uint8_t*>(out->raw_data()) + static_cast<size_t>(o) * run, src, run);
      src += run;
    }
  }
  return Status::Ok();
}

}  // namespace

OpSchema SplitSchema() {
  return {.name = "Split", .min_inputs = 1, .max_inputs = 2, .min_outputs = 1,
          .max_outputs = std::numeric_limits<int>::max(), .attributes = {"axis", "split", "num_outputs"},
          .infer = InferSplit, .reference = SplitKernel, .cost = DataMovementCost};
}

}  // namespace deepx::tensor_ops
