#include "ops/elementwise/elementwise_util.h"
#include "ops/op.h"
#include "ops/register_ops.h"

namespace deepx {

void RegisterElementwiseOps(OpRegistry& r) {
  elementwise::RegisterBinaryOps(r);
  elementwise::RegisterVariadicOps(r);
  elementwise::RegisterUnaryOps(r);
  elementwise::RegisterClipOp(r);
  elementwise::RegisterReduceOps(r);
  elementwise::RegisterCastOps(r);
  elementwise::RegisterIdentityOps(r);
}

}  // namespace deepx
