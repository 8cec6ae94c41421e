#include "onnx/model_loader.h"

#include <fcntl.h>
#include <google/protobuf/io/coded_stream.h>
#include <unistd.h>
#include <onnx/onnx_pb.h>

#include <set>

#include "onnx/tensor_proto.h"
#include "ops/op.h"
#include "passes/shape_inference.h"

namespace deepx {
namespace {

Result<AttributeValue> ConvertAttribute(const onnx::AttributeProto& a, const std::string& what,
                                        const TensorProtoOptions& topts) {
  using A = onnx::AttributeProto;
  auto type = a.type();
  if (type == A::UNDEFINED) {  // very old exporters leave the type out: infer it from the field that is set
    if (a.has_f()) type = A::FLOAT;
    else if (a.has_i()) type = A::INT;
    else if (a.has_s()) type = A::STRING;
    else if (a.has_t()) type = A::TENSOR;
    else if (a.floats_size()) type = A::FLOATS;
    else if (a.ints_size()) type = A::INTS;
    else if (a.strings_size()) type = A::STRINGS;
    else return InvalidArgument(what + " has no type and no value");
  }
  switch (type) {
    case A::FLOAT: return AttributeValue(a.f());
    case A::INT: return AttributeValue(static_cast<int64_t>(a.i()));
    case A::STRING: return AttributeValue(a.s());
    case A::FLOATS: return AttributeValue(std::vector<float>(a.floats().begin(), a.floats().end()));
    case A::INTS: return AttributeValue(std::vector<int64_t>(a.ints().begin(), a.ints().end()));
    case A::STRINGS: return AttributeValue(std::vector<std::string>(a.strings().begin(), a.strings().end()));
    case A::TENSOR: {
      DX_ASSIGN_OR_RETURN(Tensor t, TensorFromProto(a.t(), what, topts));
      return AttributeValue(std::move(t));
    }
    default:
      return Unimplemented(what + " has kind " + A::AttributeType_Name(type) +
                           ", which DeepX does not support (subgraphs, sparse tensors and type protos)");
  }
}

Result<TensorSpec> ConvertValueInfo(const onnx::ValueInfoProto& vi, const std::string& what) {
  TensorSpec spec;
  spec.name = vi.name();
  if (!vi.has_type()) return spec;  // outputs may omit their type
  if (!vi.type().has_tensor_type())
    return Unimplemented(what + " '" + vi.name() + "' is not a tensor (sequences and maps are not supported)");
  const auto& tt = vi.type().tensor_type();
  if (tt.elem_type() != 0) {
    if (!IsKnownDataType(tt.elem_type()))
      return Unimplemented(what + " '" + vi.name() + "' has data type " + std::to_string(tt.elem_type()) +
                           ", which DeepX does not support");
    spec.dtype = static_cast<DataType>(tt.elem_type());
  }
  if (tt.has_shape()) {
    for (const auto& d : tt.shape().dim()) {
      if (d.has_dim_value()) {
        if (d.dim_value() < 0)
          return InvalidArgument(what + " '" + vi.name() + "' declares negative dimension " +
                                 std::to_string(d.dim_value()));
        spec.shape.push_back(d.dim_value());
      } else {
        spec.shape.push_back(-1);  // dim_param or unknown: dynamic
      }
    }
  }
  return spec;
}

}  // namespace

namespace {

// Protobuf accepts many byte strings, so a parse that succeeds is only the first check.
Status ParseModel(const void* data, size_t size, onnx::ModelProto& model) {
  if (size == 0) return InvalidArgument("model file is empty");
  if (size > static_cast<size_t>(INT32_MAX))
    return Unimplemented("model protobuf is larger than 2 GiB; store weights as external data");
  google::protobuf::io::CodedInputStream stream(static_cast<const uint8_t*>(data), static_cast<int>(size));
  stream.SetTotalBytesLimit(INT32_MAX);
  if (!model.ParseFromCodedStream(&stream) || !stream.ConsumedEntireMessage())
    return InvalidArgument("not a valid ONNX model: the protobuf does not parse (truncated or not an ONNX file)");
  return Status::Ok();
}

Result<LoadedOnnx> ConvertModel(onnx::ModelProto& model, const std::string& base_dir);

}  // namespace

Result<LoadedOnnx> LoadOnnx(const void* data, size_t size, const std::string& base_dir) {
  onnx::ModelProto model;
  DX_RETURN_IF_ERROR(ParseModel(data, size, model));
  return ConvertModel(model, base_dir);
}

Result<LoadedOnnx> LoadOnnxFile(const std::string& path, const std::string& base_dir) {
  // Streamed from the file: only the protobuf's own strings hold the weights, and those move into the tensors.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return IoError("cannot open '" + path + "'");
  onnx::ModelProto model;
  const bool parsed = model.ParseFromFileDescriptor(fd);
  ::close(fd);
  if (!parsed)
    return InvalidArgument("not a valid ONNX model: the protobuf does not parse (truncated or not an ONNX file)");
  return ConvertModel(model, base_dir);
}

namespace {

// 1. The parsed model: its weights move into tensors (see TensorFromProtoAdopting), leaving `model` emptied.
Result<LoadedOnnx> ConvertModel(onnx::ModelProto& model, const std::string& base_dir) {
  if (!model.has_graph()) return InvalidArgument("not a valid ONNX model: no graph (is this an ONNX file?)");
  if (model.ir_version() <= 0) return InvalidArgument("not a valid ONNX model: missing ir_version");

  // 2. Opset of the default domain.
  LoadedOnnx out;
  out.producer = model.producer_name();
  out.ir_version = model.ir_version();
  int64_t opset = -1;
  for (const auto& imp : model.opset_import()) {
    if (!imp.domain().empty() && imp.domain() != "ai.onnx") continue;
    if (opset >= 0) return InvalidArgument("model imports the default (ai.onnx) domain more than once");
    opset = imp.version();
  }
  if (opset < 0) {
    if (model.opset_import_size() > 0)
      return Unimplemented("model imports no default-domain (ai.onnx) opset; DeepX supports opsets " +
                           std::to_string(kMinOpset) + ".." + std::to_string(kMaxOpset));
    opset = 1;  // IR version 1/2 files without opset_import use opset 1
  }
  if (opset < kMinOpset || opset > kMaxOpset)
    return Unimplemented("model uses opset " + std::to_string(opset) + "; DeepX supports opsets " +
                         std::to_string(kMinOpset) + ".." + std::to_string(kMaxOpset));

  onnx::GraphProto& gp = *model.mutable_graph();
  Graph& g = out.graph;
  g.name = gp.name();
  g.opset = static_cast<int>(opset);
  TensorProtoOptions topts;
  topts.base_dir = base_dir;

  auto add_unique = [&](Value v, const std::string& what) -> Result<ValueId> {
    if (v.name.empty()) return InvalidArgument(what + " has an empty name");
    if (g.FindValue(v.name) != kNoValue) return InvalidArgument("duplicate name: " + what + " '" + v.name +
                                                                "' is defined more than once");
    return g.AddValue(std::move(v));
  };

  // 3. Initializers (weights).
  if (gp.sparse_initializer_size() > 0) return Unimplemented("sparse initializers are not supported");
  for (auto& init : *gp.mutable_initializer()) {
    const std::string what = "initializer '" + init.name() + "'";
    DX_ASSIGN_OR_RETURN(Tensor t, TensorFromProtoAdopting(init, what, topts));
    Value v;
    v.name = init.name();
    v.dtype = t.dtype();
    v.shape = t.shape();
    v.has_shape = true;
    v.constant = std::move(t);
    DX_RETURN_IF_ERROR(add_unique(std::move(v), "initializer").status());
  }

  // 4. Graph inputs. An input that has an initializer is a weight with a default (older exporters list weights
  //    as inputs); DeepX treats it as the constant.
  std::set<std::string> seen_inputs;
  for (const auto& in : gp.input()) {
    if (!seen_inputs.insert(in.name()).second)
      return InvalidArgument("duplicate name: graph input '" + in.name() + "' is listed twice");
    ValueId existing = g.FindValue(in.name());
    if (existing != kNoValue) continue;
    DX_ASSIGN_OR_RETURN(TensorSpec spec, ConvertValueInfo(in, "graph input"));
    if (!in.has_type() || spec.dtype == DataType::kUndefined)
      return InvalidArgument("graph input '" + in.name() + "' has no tensor type");
    if (!in.type().tensor_type().has_shape())
      return InvalidArgument("graph input '" + in.name() + "' has no shape (rank must be known)");
    Value v;
    v.name = spec.name;
    v.dtype = spec.dtype;
    v.shape = spec.shape;
    v.has_shape = true;
    DX_ASSIGN_OR_RETURN(ValueId id, add_unique(std::move(v), "graph input"));
    g.inputs.push_back(id);
    out.inputs.push_back(spec);
  }

  // 5. Nodes: create every output value first (so inputs may refer to later nodes; order is fixed by the sort),
  //    then resolve inputs.
  const OpRegistry& registry = OpRegistry::Default();
  std::set<std::string> node_names;
  g.nodes.reserve(static_cast<size_t>(gp.node_size()));
  for (int i = 0; i < gp.node_size(); ++i) {
    const auto& np = gp.node(i);
    Node n;
    n.op_type = np.op_type();
    n.domain = np.domain() == "ai.onnx" ? "" : np.domain();
    n.opset = g.opset;
    n.name = np.name().empty() ? np.op_type() + "_" + std::to_string(i) : np.name();
    // Names are diagnostic only in ONNX; make repeats unique so every message points at one node.
    if (!node_names.insert(n.name).second) {
      n.name += "#" + std::to_string(i);
      node_names.insert(n.name);
    }
    const std::string label = g.NodeLabel(n);
    if (n.op_type.empty()) return InvalidArgument("node #" + std::to_string(i) + " has an empty op_type");
    const OpSchema* schema = n.domain.empty() ? registry.Find(n.op_type) : nullptr;
    if (!schema)
      return Unimplemented(label + ": unknown op '" + (n.domain.empty() ? "" : n.domain + ".") + n.op_type + "'");
    for (const auto& a : np.attribute()) {
      const std::string what = label + ": attribute '" + a.name() + "'";
      if (a.name().empty()) return InvalidArgument(label + ": attribute with an empty name");
      if (a.name().rfind("deepx.", 0) == 0) return InvalidArgument(what + " uses the reserved prefix 'deepx.'");
      if (!a.ref_attr_name().empty()) return Unimplemented(what + " refers to a function attribute");
      if (n.attrs.has(a.name())) return InvalidArgument(what + " is given twice");
      DX_ASSIGN_OR_RETURN(AttributeValue v, ConvertAttribute(a, what, topts));
      n.attrs.set(a.name(), std::move(v));
    }
    for (const auto& o : np.output()) {
      if (o.empty()) {
        n.outputs.push_back(kNoValue);
        continue;
      }
      Value v;
      v.name = o;
      ValueId existing = g.FindValue(o);
      if (existing != kNoValue) {
        const Value& e = g.value(existing);
        std::string kind = e.is_constant() ? "an initializer" : "another node's output or a graph input";
        return InvalidArgument("duplicate name: " + label + " output '" + o + "' is also " + kind);
      }
      n.outputs.push_back(g.AddValue(std::move(v)));
    }
    g.nodes.push_back(std::move(n));
  }
  for (int i = 0; i < gp.node_size(); ++i) {
    Node& n = g.nodes[static_cast<size_t>(i)];
    for (const auto& in : gp.node(i).input()) {
      if (in.empty()) {
        n.inputs.push_back(kNoValue);
        continue;
      }
      ValueId id = g.FindValue(in);
      if (id == kNoValue)
        return InvalidArgument(g.NodeLabel(n) + ": input '" + in +
                               "' is not produced by any node, initializer or graph input");
      n.inputs.push_back(id);
    }
    DX_RETURN_IF_ERROR(ValidateNodeSignature(g, n, *registry.Find(n.op_type)));
  }

  // 6. Graph outputs must name existing values.
  std::set<std::string> seen_outputs;
  for (const auto& o : gp.output()) {
    ValueId id = g.FindValue(o.name());
    if (id == kNoValue)
      return InvalidArgument("graph output '" + o.name() + "' is not produced by any node or input");
    if (!seen_outputs.insert(o.name()).second)
      return InvalidArgument("duplicate name: graph output '" + o.name() + "' is listed twice");
    DX_ASSIGN_OR_RETURN(TensorSpec spec, ConvertValueInfo(o, "graph output"));
    g.outputs.push_back(id);
    out.outputs.push_back(spec);
  }
  if (g.outputs.empty()) return InvalidArgument("graph has no outputs");

  // 7. Order the nodes; this is where cycles are found.
  DX_RETURN_IF_ERROR(g.TopologicalSort());
  return out;
}

}  // namespace
}  // namespace deepx
