// Schemas of the tensor (data-movement and shape) ops, one per file in this folder; register.cpp registers them.
#pragma once

#include "ops/op.h"

namespace deepx::tensor_ops {

OpSchema FlattenSchema();
OpSchema ReshapeSchema();
OpSchema TransposeSchema();
OpSchema ConcatSchema();
OpSchema SplitSchema();
OpSchema SqueezeSchema();
OpSchema UnsqueezeSchema();
OpSchema PadSchema();
OpSchema ShapeSchema();
OpSchema SizeSchema();
OpSchema GatherSchema();
OpSchema GatherElementsSchema();
OpSchema SliceSchema();
OpSchema ConstantSchema();
OpSchema ConstantOfShapeSchema();
OpSchema ExpandSchema();
OpSchema TileSchema();
OpSchema RangeSchema();
OpSchema DepthToSpaceSchema();
OpSchema SpaceToDepthSchema();
OpSchema ResizeSchema();
OpSchema UpsampleSchema();

}  // namespace deepx::tensor_ops
