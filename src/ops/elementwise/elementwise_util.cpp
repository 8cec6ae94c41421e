#include "ops/elementwise/elementwise_util.h"

namespace deepx::elementwise {

std::string DtypeSetToString(DtypeSet set) {
  static const DataType kOrder[] = {DataType::kFloat32, DataType::kFloat64, DataType::kInt8, DataType::kUInt8,
                                    DataType::kInt32,   DataType::kInt64,   DataType::kBool};
  std::string s;
  for (DataType t : kOrder) {
    if (!InDtypeSet(t, set)) continue;
    if (!s.empty()) s += ", ";
    s += DataTypeName(t);
  }
  return s;
}

Status CheckDtype(const std::string& op, const std::string& what, DataType t, DtypeSet allowed) {
  if (InDtypeSet(t, allowed)) return Status::Ok();
  return Unimplemented(what + " has dtype " + DataTypeName(t) + "; " + op + " supports " +
                       DtypeSetToString(allowed));
}

Result<int64_t> NormalizeAxis(int64_t axis, int64_t rank, const std::string& what) {
  if (axis < -rank || axis >= rank) {
    return InvalidArgument(what + " " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank) +
                           " (valid: " + std::to_string(-rank) + ".." + std::to_string(rank - 1) + ")");
  }
  return axis < 0 ? axis + rank : axis;
}

}  // namespace deepx::elementwise
