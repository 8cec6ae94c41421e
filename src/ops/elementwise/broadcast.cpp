#include "ops/elementwise/broadcast.h"

#include <algorithm>
#include <string>

namespace deepx {

Result<Shape> BroadcastShapes(const Shape& a, const Shape& b) {
  const size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (size_t i = 0; i < rank; ++i) {
    // Right-aligned: dimension i of the output counts from the end of each shape.
    const size_t from_end = rank - 1 - i;
    const int64_t da = from_end < a.size() ? a[a.size() - 1 - from_end] : 1;
    const int64_t db = from_end < b.size() ? b[b.size() - 1 - from_end] : 1;
    if (da == db || db == 1) {
      out[i] = da;
    } else if (da == 1) {
      out[i] = db;
    } else {
      return InvalidArgument("shapes " + ShapeToString(a) + " and " + ShapeToString(b) +
                             " are not broadcastable: output dimension " + std::to_string(i) + " would be " +
                             std::to_string(da) + " vs " + std::to_string(db));
    }
  }
  return out;
}

Result<Shape> BroadcastShapes(const std::vector<Shape>& shapes) {
  if (shapes.empty()) return InvalidArgument("broadcasting needs at least one shape");
  Shape out = shapes[0];
  for (size_t i = 1; i < shapes.size(); ++i) {
    DX_ASSIGN_OR_RETURN(out, BroadcastShapes(out, shapes[i]));
  }
  return out;
}

Status CheckUnidirectionalBroadcast(const Shape& from, const Shape& to) {
  bool ok = from.size() <= to.size();
  for (size_t i = 0; ok && i < from.size(); ++i) {
    const int64_t df = from[from.size() - 1 - i];
    const int64_t dt = to[to.size() - 1 - i];
    ok = df == dt || df == 1;
  }
  if (!ok) {
    return InvalidArgument("shape " + ShapeToString(from) + " cannot be broadcast to shape " + ShapeToString(to));
  }
  return Status::Ok();
}

BroadcastIndexer::BroadcastIndexer(const Shape& input, const Shape& output)
    : output_(output), strides_(output.size(), 0) {
  const size_t offset = output.size() - std::min(input.size(), output.size());
  int64_t stride = 1;
  for (size_t i = input.size(); i-- > 0;) {
    const size_t out_dim = offset + i;
    if (out_dim < output.size() && input[i] != 1) strides_[out_dim] = stride;
    stride *= input[i];
  }
}

int64_t BroadcastIndexer::operator()(int64_t output_index) const {
  int64_t input_index = 0;
  for (size_t d = output_.size(); d-- > 0;) {
    const int64_t extent = output_[d];
    if (extent == 0) return 0;  // an empty output has no elements to map
    input_index += (output_index % extent) * strides_[d];
    output_index /= extent;
  }
  return input_index;
}

}  // namespace deepx
