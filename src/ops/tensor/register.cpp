#include "ops/op.h"
#include "ops/register_ops.h"
#include "ops/tensor/tensor_ops.h"

namespace deepx {

void RegisterTensorOps(OpRegistry& r) {
  using namespace tensor_ops;  // NOLINT: every schema function of the family
  for (OpSchema (*make)() : {FlattenSchema, ReshapeSchema, TransposeSchema, ConcatSchema, SplitSchema,
                             SqueezeSchema, UnsqueezeSchema, PadSchema, ShapeSchema, SizeSchema, GatherSchema,
                             GatherElementsSchema, SliceSchema, ConstantSchema, ConstantOfShapeSchema, ExpandSchema,
                             TileSchema, RangeSchema, DepthToSpaceSchema, SpaceToDepthSchema,
                             ResizeSchema, UpsampleSchema}) {
    r.Register(make());
  }
}

}  // namespace deepx
