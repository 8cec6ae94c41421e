#include "ops/nn/nn_common.h"
#include "ops/op.h"
#include "ops/register_ops.h"

namespace deepx {

void RegisterNnOps(OpRegistry& r) {
  r.Register(ConvSchema());
  r.Register(ConvTransposeSchema());
  r.Register(GemmSchema());
  r.Register(MatMulSchema());
  r.Register(MaxPoolSchema());
  r.Register(AveragePoolSchema());
  r.Register(GlobalAveragePoolSchema());
  r.Register(GlobalMaxPoolSchema());
  r.Register(BatchNormalizationSchema());
  r.Register(LrnSchema());
  r.Register(InstanceNormalizationSchema());
  r.Register(SoftmaxSchema());
  r.Register(LogSoftmaxSchema());
}

}  // namespace deepx
