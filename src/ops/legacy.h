// Support for the operator forms of ONNX opsets 1..6, which older exporters (PyTorch 0.3/0.4, Caffe2) still
// produce: the `consumed_inputs` hint and the explicit `broadcast`/`axis` broadcasting of binary ops, replaced by
// numpy-style broadcasting in opset 7.
#pragma once

#include <string>

#include "core/attributes.h"
#include "deepx/status.h"
#include "deepx/tensor.h"
#include "ops/op.h"

namespace deepx {

// Most ops dropped `consumed_inputs` in opset 6 (Reshape in 5).
inline constexpr int kConsumedInputsRemovedOpset = 6;
// Opset 7 replaced `broadcast`/`axis` with numpy-style (multidirectional) broadcasting.
inline constexpr int kNumpyBroadcastOpset = 7;

// `consumed_inputs` marked inputs the op could overwrite in place, a hint for Caffe2's memory planner with no
// effect on results, so it is accepted and ignored while the opset still defines it. Ok when absent; when
// present it must be a list of ints and the opset must be older than `removed_in`.
Status CheckConsumedInputs(const InferContext& ctx, int removed_in = kConsumedInputsRemovedOpset);

// Before opset 7, binary ops broadcast only with broadcast=1, and only B, onto A: B's shape must equal a contiguous
// run of A's dimensions (dims of 1 stretch) starting at `axis`, or ending at A's last dimension when `axis` is
// absent. With broadcast=0 (the default) the shapes must be equal. Returns the shape to read B with in numpy terms:
// B's dims followed by as many 1s as A has dimensions after the matched run. The output has A's shape.
// `attrs` must be the node's; errors are InvalidArgument naming both shapes.
Result<Shape> LegacyBroadcastShape(const Attributes& attrs, const Shape& a, const Shape& b);

// For opset >= 7: InvalidArgument if the node still carries `broadcast` or `axis` (they no longer exist, and
// silently applying numpy rules instead could give a different answer).
Status RejectLegacyBroadcastAttributes(const Attributes& attrs);

}  // namespace deepx
