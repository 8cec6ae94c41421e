#include "ops/op.h"
#include "ops/register_ops.h"

namespace deepx {

void RegisterNnOps(OpRegistry& r) { (void)r; }

}  // namespace deepx
