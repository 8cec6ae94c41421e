#include "ops/legacy.h"

#include <vector>

namespace deepx {

Status CheckConsumedInputs(const InferContext& ctx, int removed_in) {
  if (!ctx.attrs().has("consumed_inputs")) return Status::Ok();
  if (ctx.opset() >= removed_in) {
    return InvalidArgument("attribute 'consumed_inputs' was removed in opset " + std::to_string(removed_in) +
                           " (the model imports opset " + std::to_string(ctx.opset()) + ")");
  }
  return ctx.attrs().GetInts("consumed_inputs").status();
}

Result<Shape> LegacyBroadcastShape(const Attributes& attrs, const Shape& a, const Shape& b) {
  DX_ASSIGN_OR_RETURN(int64_t broadcast, attrs.GetInt("broadcast", 0));
  if (broadcast != 0 && broadcast != 1) {
    return InvalidArgument("attribute 'broadcast' must be 0 or 1, got " + std::to_string(broadcast));
  }
  DX_ASSIGN_OR_RETURN(int64_t axis, attrs.GetInt("axis", 0));
  if (broadcast == 0) {
    if (a != b) {
      return InvalidArgument("shapes " + ShapeToString(a) + " and " + ShapeToString(b) +
                             " differ and broadcast=0 (before opset 7 broadcasting needs broadcast=1)");
    }
    return b;
  }
  const int64_t rank_a = static_cast<int64_t>(a.size());
  const int64_t rank_b = static_cast<int64_t>(b.size());
  if (rank_b > rank_a) {
    return InvalidArgument("B of shape " + ShapeToString(b) + " has a higher rank than A of shape " + ShapeToString(a) +
                           "; legacy broadcasting only stretches B onto A");
  }
  int64_t start = rank_a - rank_b;  // suffix matching when axis is absent
  if (attrs.has("axis")) {
    // Caffe2 used -1 for "suffix"; for a 1-D B that is also what a numpy-style negative axis means.
    start = axis < 0 ? axis + rank_a : axis;
    if (start < 0 || start + rank_b > rank_a) {
      return InvalidArgument("axis " + std::to_string(axis) + " does not fit B of shape " + ShapeToString(b) +
                             " inside A of shape " + ShapeToString(a));
    }
  }
  for (int64_t i = 0; i < rank_b; ++i) {
    const int64_t da = a[static_cast<size_t>(start + i)];
    const int64_t db = b[static_cast<size_t>(i)];
    if (db != da && db != 1) {
      return InvalidArgument("B of shape " + ShapeToString(b) + " does not match A of shape " + ShapeToString(a) +
                             " at dimensions " + std::to_string(start) + ".." + std::to_string(start + rank_b - 1) +
                             " (broadcast=1" + (attrs.has("axis") ? ", axis=" + std::to_string(axis) : "") + ")");
    }
  }
  Shape numpy_b = b;
  numpy_b.resize(static_cast<size_t>(rank_a - start), 1);
  return numpy_b;
}

Status RejectLegacyBroadcastAttributes(const Attributes& attrs) {
  for (const char* name : {"broadcast", "axis"}) {
    if (attrs.has(name)) {
      return InvalidArgument(std::string("attribute '") + name +
                             "' exists only before opset 7; from opset 7 inputs broadcast numpy-style");
    }
  }
  return Status::Ok();
}

}  // namespace deepx
