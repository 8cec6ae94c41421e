#include "passes/passes.h"

namespace deepx {

Status OptimizeModelGraph(Graph& g) {
  DX_RETURN_IF_ERROR(MaterializeConstantNodes(g));
  DX_RETURN_IF_ERROR(RemoveIdentityNodes(g));
  DX_RETURN_IF_ERROR(FoldConvBatchNorm(g));
  DX_RETURN_IF_ERROR(FuseActivations(g));
  g.RemoveDeadCode();
  return Status::Ok();
}

}  // namespace deepx
