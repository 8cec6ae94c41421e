// Tile: repeats the input repeats[i] times along each axis i (repeats is a constant int64 input). Tile-1 (opsets
// 1..5) repeated along a single axis: inputs (input, tiles, axis), both scalars, i.e. repeats of 1 except `tiles`
// at `axis`.
#include <cstring>

#include "ops/tensor/tensor_ops.h"
#include "ops/tensor/tensor_util.h"

namespace deepx::tensor_ops {
namespace {

constexpr int kRepeatsOpset = 6;

// Tile-1's (tiles, axis) as a repeats vector.
Result<std::vector<int64_t>> LegacyRepeats(const InferContext& ctx) {
  if (!ctx.has_input(2)) return InvalidArgument("Tile before opset 6 takes three inputs: input, tiles, axis");
  DX_ASSIGN_OR_RETURN(std::vector<int64_t> tiles, ConstantIntInput(ctx, 1, "tiles"));
  DX_ASSIGN_OR_RETURN(std::vector<int64_t> axis, ConstantIntInput(ctx, 2, "axis"));
  if (tiles.size() != 1 || axis.size() != 1) {
    return InvalidArgument("tiles and axis must each hold one value, got " + std::to_string(tiles.size()) + " and " +
                           std::to_string(axis.size()));
  }
  DX_ASSIGN_OR_RETURN(int64_t a, NormalizeAxis(axis[0], ctx.input_rank(0)));
  std::vector<int64_t> repeats(static_cast<size_t>(ctx.input_rank(0)), 1);
  repeats[static_cast<size_t>(a)] = tiles[0];
  return repeats;
}

Status InferTile(InferContext& ctx) {
  DX_RETURN_IF_ERROR(CheckKnownDtype(ctx.input_dtype(0), "input"));
  std::vector<int64_t> repeats;
  if (ctx.opset() < kRepeatsOpset) {
    DX_ASSIGN_OR_RETURN(repeats, LegacyRepeats(ctx));
  } else {
    if (ctx.has_input(2)) return InvalidArgument("Tile from opset 6 takes two inputs: input, repeats");
    if (ctx.input_dtype(1) != DataType::kInt64) {
      return InvalidArgument(std::string("repeats must be int64, got ") + DataTypeName(ctx.input_dtype(1)));
    }
    DX_ASSIGN_OR_RETURN(repeats, ConstantIntInput(ctx, 1, "repeats"));
  }
  const Shape& in = ctx.input_shape(0);
  if (repeats.size() != in.size()) {
    return InvalidArgument("repeats has " + std::to_string(repeats.size()) + " values but the input has rank " +
                           std::to_string(in.size()));
  }
  Shape out(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (repeats[i] < 0) return InvalidArgument("repeats " + ShapeToString(repeats) + " has a negative value");
    // Check this dimension alone for overflow; the caller checks the total element count.
    DX_ASSIGN_OR_RETURN(int64_t d, CheckedNumElements({in[i], repeats[i]}));
    out[i] = d;
  }
  ctx.SetOutput(0, ctx.input_dtype(0), out);
  return Status::Ok();
}

Status TileKernel(KernelContext& ctx) {
  const Tensor& in = ctx.input(0);
  Tensor& out = ctx.output(0);
  const std::vector<int64_t> in_strides = RowMajorStrides(in.shape());
  const size_t es = DataTypeSize(in.dtype());
  const auto* src = static_cast<const uint8_t*>(in.raw_data());
  auto* dst = static_cast<uint8_t*>(out.raw_data());

  std::vector<int64_t> index(out.shape().size(), 0);
  const int64_t n = out.num_elements();
  for (int64_t o = 0; o < n; ++o) {
    int64_t offset = 0;
    for (size_t d = 0; d < index.size(); ++d) offset += (index[d] % in.shape()[d]) * in_strides[d];
    std::memcpy(dst + o * es, src + offset * es, es);
    NextIndex(index, out.shape());
  }
  return Status::Ok();
}

}  // namespace

OpSchema TileSchema() {
  return {.name = "Tile", .min_inputs = 2, .max_inputs = 3, .infer = InferTile, .reference = TileKernel,
          .cost = DataMovementCost};
}

}  // namespace deepx::tensor_ops
