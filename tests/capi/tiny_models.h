// Tiny ONNX models written by the tests themselves, so the C API and CLI tests need no model files in the tree.
#pragma once

#include <onnx/onnx_pb.h>

#include <fstream>
#include <string>
#include <vector>

namespace deepx::testing {

inline void AddValueInfo(onnx::ValueInfoProto* v, const std::string& name, int elem_type,
                         const std::vector<std::string>& dims) {
  v->set_name(name);
  auto* tt = v->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(elem_type);
  auto* shape = tt->mutable_shape();
  for (const std::string& d : dims) {
    auto* dim = shape->add_dim();
    if (!d.empty() && d[0] >= '0' && d[0] <= '9') dim->set_dim_value(std::stoll(d));
    else dim->set_dim_param(d);
  }
}

inline void AddTinyFloatInitializer(onnx::GraphProto* g, const std::string& name, const std::vector<int64_t>& dims,
                                const std::vector<float>& values) {
  auto* t = g->add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t d : dims) t->add_dims(d);
  for (float v : values) t->add_float_data(v);
}

inline onnx::ModelProto NewModel() {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.set_producer_name("deepx-tests");
  auto* op = m.add_opset_import();
  op->set_domain("");
  op->set_version(13);
  return m;
}

// x: float [N, 4] -> Gemm(W [4, 3], B [3]) -> "logits" [N, 3] -> Softmax -> "probs" [N, 3].
// W is the identity on the first three features plus feature 3 added to every class; B = [0.5, 0, -0.5]. So
// x = [1, 2, 3, 4] gives logits [5.5, 6, 6.5].
inline onnx::ModelProto ClassifierModel() {
  onnx::ModelProto m = NewModel();
  auto* g = m.mutable_graph();
  g->set_name("tiny_classifier");
  AddValueInfo(g->add_input(), "x", onnx::TensorProto::FLOAT, {"N", "4"});
  AddTinyFloatInitializer(g, "W", {4, 3}, {1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1});
  AddTinyFloatInitializer(g, "B", {3}, {0.5f, 0, -0.5f});
  auto* gemm = g->add_node();
  gemm->set_name("fc");
  gemm->set_op_type("Gemm");
  gemm->add_input("x");
  gemm->add_input("W");
  gemm->add_input("B");
  gemm->add_output("logits");
  auto* sm = g->add_node();
  sm->set_name("softmax");
  sm->set_op_type("Softmax");
  sm->add_input("logits");
  sm->add_output("probs");
  AddValueInfo(g->add_output(), "logits", onnx::TensorProto::FLOAT, {"N", "3"});
  AddValueInfo(g->add_output(), "probs", onnx::TensorProto::FLOAT, {"N", "3"});
  return m;
}

// a: float [2, 3], b: int64 [3] -> Cast(b to float) + a -> "sum" [2, 3].
inline onnx::ModelProto MixedModel() {
  onnx::ModelProto m = NewModel();
  auto* g = m.mutable_graph();
  g->set_name("tiny_mixed");
  AddValueInfo(g->add_input(), "a", onnx::TensorProto::FLOAT, {"2", "3"});
  AddValueInfo(g->add_input(), "b", onnx::TensorProto::INT64, {"3"});
  auto* cast = g->add_node();
  cast->set_name("cast");
  cast->set_op_type("Cast");
  cast->add_input("b");
  cast->add_output("bf");
  auto* to = cast->add_attribute();
  to->set_name("to");
  to->set_type(onnx::AttributeProto::INT);
  to->set_i(onnx::TensorProto::FLOAT);
  auto* add = g->add_node();
  add->set_name("add");
  add->set_op_type("Add");
  add->add_input("a");
  add->add_input("bf");
  add->add_output("sum");
  AddValueInfo(g->add_output(), "sum", onnx::TensorProto::FLOAT, {"2", "3"});
  return m;
}

inline bool WriteModel(const onnx::ModelProto& m, const std::string& path) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  return out && m.SerializeToOstream(&out);
}

}  // namespace deepx::testing
