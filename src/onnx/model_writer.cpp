#include "onnx/model_writer.h"

#include <onnx/onnx_pb.h>

#include <fstream>
#include <map>
#include <set>

#include "ops/fused_activation.h"

namespace deepx {
namespace {

void SetTensor(onnx::TensorProto* proto, const Tensor& t, const std::string& name) {
  proto->set_name(name);
  proto->set_data_type(static_cast<int32_t>(t.dtype()));
  for (int64_t d : t.shape()) proto->add_dims(d);
  proto->set_raw_data(t.raw_data(), t.size_bytes());
}

void SetValueInfo(onnx::ValueInfoProto* vi, const Value& v, bool with_shape) {
  vi->set_name(v.name);
  auto* tt = vi->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(static_cast<int32_t>(v.dtype));
  if (!with_shape || !v.has_shape) return;
  auto* shape = tt->mutable_shape();
  for (size_t i = 0; i < v.shape.size(); ++i) {
    if (v.shape[i] < 0) shape->add_dim()->set_dim_param("N" + std::to_string(i));
    else shape->add_dim()->set_dim_value(v.shape[i]);
  }
}

void SetAttribute(onnx::AttributeProto* a, const std::string& name, const AttributeValue& value) {
  using A = onnx::AttributeProto;
  a->set_name(name);
  if (auto* i = std::get_if<int64_t>(&value)) {
    a->set_type(A::INT), a->set_i(*i);
  } else if (auto* f = std::get_if<float>(&value)) {
    a->set_type(A::FLOAT), a->set_f(*f);
  } else if (auto* s = std::get_if<std::string>(&value)) {
    a->set_type(A::STRING), a->set_s(*s);
  } else if (auto* is = std::get_if<std::vector<int64_t>>(&value)) {
    a->set_type(A::INTS);
    for (int64_t x : *is) a->add_ints(x);
  } else if (auto* fs = std::get_if<std::vector<float>>(&value)) {
    a->set_type(A::FLOATS);
    for (float x : *fs) a->add_floats(x);
  } else if (auto* ss = std::get_if<std::vector<std::string>>(&value)) {
    a->set_type(A::STRINGS);
    for (const auto& x : *ss) a->add_strings(x);
  } else if (auto* t = std::get_if<Tensor>(&value)) {
    a->set_type(A::TENSOR);
    SetTensor(a->mutable_t(), *t, "");
  }
}

// Names not yet used by the graph, for the values that unfusing activations introduces.
class NameMaker {
 public:
  explicit NameMaker(const Graph& g) {
    for (const Value& v : g.values) used_.insert(v.name);
    for (const Node& n : g.nodes) used_.insert(n.name);
  }
  std::string Make(const std::string& base) {
    std::string name = base;
    for (int i = 1; used_.count(name); ++i) name = base + "_" + std::to_string(i);
    used_.insert(name);
    return name;
  }

 private:
  std::set<std::string> used_;
};

}  // namespace

Result<std::string> SerializeOnnx(const Graph& g, const OnnxWriteOptions& options) {
  onnx::ModelProto model;
  model.set_ir_version(8);
  model.set_producer_name(options.producer_name);
  model.set_producer_version(options.producer_version);
  std::map<std::string, int> opsets = {{"", g.opset}};
  for (const Node& n : g.nodes) {
    auto [it, inserted] = opsets.emplace(n.domain, n.opset);
    if (!inserted && n.opset > it->second) it->second = n.opset;
  }
  for (const auto& [domain, version] : opsets) {
    auto* op = model.add_opset_import();
    op->set_domain(domain);
    op->set_version(version);
  }

  onnx::GraphProto* graph = model.mutable_graph();
  graph->set_name(g.name.empty() ? options.graph_name : g.name);
  NameMaker names(g);
  std::set<ValueId> initializers;
  std::vector<std::pair<std::string, Tensor>> extra_initializers;

  for (const Node& n : g.nodes) {
    for (const auto& [key, value] : n.attrs.all())
      if (key.rfind("deepx.", 0) == 0 && key != kFusedActivationAttr && key != kFusedActivationParamsAttr)
        return Unimplemented(g.NodeLabel(n) + " carries internal attribute '" + key +
                             "', which has no ONNX equivalent");
    const FusedActivation act = GetFusedActivation(n.attrs);
    onnx::NodeProto* np = graph->add_node();
    np->set_name(n.name);
    np->set_op_type(n.op_type);
    if (!n.domain.empty()) np->set_domain(n.domain);
    for (ValueId in : n.inputs) {
      np->add_input(in == kNoValue ? "" : g.value(in).name);
      if (in != kNoValue && g.value(in).is_constant()) initializers.insert(in);
    }
    for (size_t i = 0; i < n.outputs.size(); ++i) {
      const ValueId out = n.outputs[i];
      if (out == kNoValue) {
        np->add_output("");
        continue;
      }
      if (i != 0 || act.none()) {
        np->add_output(g.value(out).name);
        continue;
      }
      // The fused activation becomes its own node again, writing the original output name.
      const std::string pre = names.Make(g.value(out).name + "_preact");
      np->add_output(pre);
      onnx::NodeProto* an = graph->add_node();
      an->set_name(names.Make(n.name + "_" + act.kind));
      an->set_op_type(act.kind);
      an->add_input(pre);
      an->add_output(g.value(out).name);
      if (act.kind == "LeakyRelu" && !act.params.empty()) {
        SetAttribute(an->add_attribute(), "alpha", act.params[0]);
      } else if (act.kind == "HardSigmoid" && act.params.size() >= 2) {
        SetAttribute(an->add_attribute(), "alpha", act.params[0]);
        SetAttribute(an->add_attribute(), "beta", act.params[1]);
      } else if (act.kind == "Clip" && act.params.size() >= 2) {
        if (g.opset < 11) {
          SetAttribute(an->add_attribute(), "min", act.params[0]);
          SetAttribute(an->add_attribute(), "max", act.params[1]);
        } else {
          for (int b = 0; b < 2; ++b) {
            const std::string bound = names.Make(an->name() + (b == 0 ? "_min" : "_max"));
            an->add_input(bound);
            extra_initializers.emplace_back(bound, Tensor::Scalar(act.params[static_cast<size_t>(b)]));
          }
        }
      }
    }
    for (const auto& [key, value] : n.attrs.all())
      if (key.rfind("deepx.", 0) != 0) SetAttribute(np->add_attribute(), key, value);
  }

  for (ValueId in : g.inputs) SetValueInfo(graph->add_input(), g.value(in), true);
  for (ValueId out : g.outputs) {
    const Value& v = g.value(out);
    if (v.is_constant()) initializers.insert(out);  // an output folded to a constant is still an output
    SetValueInfo(graph->add_output(), v, true);
  }
  for (ValueId id : initializers) {
    const Value& v = g.value(id);
    if (!v.constant.is_host())
      return Unimplemented("constant '" + v.name + "' is not in host memory and cannot be written");
    SetTensor(graph->add_initializer(), v.constant, v.name);
  }
  for (const auto& [name, t] : extra_initializers) SetTensor(graph->add_initializer(), t, name);

  const size_t bytes = model.ByteSizeLong();
  if (bytes > static_cast<size_t>(INT32_MAX))
    return ResourceExhausted("model of " + std::to_string(bytes >> 20) +
                             " MiB exceeds protobuf's 2 GiB message limit");
  return model.SerializeAsString();
}

Status SaveOnnx(const Graph& g, const std::string& path, const OnnxWriteOptions& options) {
  DX_ASSIGN_OR_RETURN(std::string bytes, SerializeOnnx(g, options));
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return NotFound("cannot open '" + path + "' for writing");
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) return Internal("writing '" + path + "' failed");
  return Status::Ok();
}

}  // namespace deepx
