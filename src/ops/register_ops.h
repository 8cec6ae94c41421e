// One registration function per op family; each lives beside its ops. Adding an op: write its file, add it to
// its family's Register function.
#pragma once

namespace deepx {

class OpRegistry;

void RegisterNnOps(OpRegistry& r);           // src/ops/nn: Conv, ConvTranspose, Gemm, MatMul, pools, norms
void RegisterElementwiseOps(OpRegistry& r);  // src/ops/elementwise: arithmetic, activations, reductions, Cast
void RegisterTensorOps(OpRegistry& r);       // src/ops/tensor: Reshape, Transpose, Concat, Gather, Slice, ...

inline void RegisterAllOps(OpRegistry& r) {
  RegisterNnOps(r);
  RegisterElementwiseOps(r);
  RegisterTensorOps(r);
}

}  // namespace deepx
