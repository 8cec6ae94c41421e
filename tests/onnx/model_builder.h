// Small helpers to build ONNX ModelProto objects by hand for loader tests.
//
// Header-only on purpose: the test CMake globs *_test.cpp files only, so a separate .cpp would not be compiled.
// The builders produce *valid* pieces; each test then breaks exactly one thing, so a failure points at one check.
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <unistd.h>
#include <vector>

#include "deepx/deepx.hpp"

namespace deepx::testing {

inline constexpr int32_t kOnnxFloat = onnx::TensorProto_DataType_FLOAT;
inline constexpr int32_t kOnnxInt64 = onnx::TensorProto_DataType_INT64;

// A model with IR version 8 and the default-domain opset `opset`, holding an empty graph named "g".
inline onnx::ModelProto MakeModel(int64_t opset = 17) {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.set_producer_name("deepx-tests");
  auto* imp = m.add_opset_import();
  imp->set_domain("");
  imp->set_version(opset);
  m.mutable_graph()->set_name("g");
  return m;
}

inline void SetTensorType(onnx::ValueInfoProto* vi, int32_t elem_type, const std::vector<int64_t>& dims) {
  auto* tt = vi->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(elem_type);
  auto* shape = tt->mutable_shape();
  for (int64_t d : dims) shape->add_dim()->set_dim_value(d);
}

inline onnx::ValueInfoProto* AddInput(onnx::GraphProto* g, const std::string& name, int32_t elem_type,
                                      const std::vector<int64_t>& dims) {
  auto* vi = g->add_input();
  vi->set_name(name);
  SetTensorType(vi, elem_type, dims);
  return vi;
}

// Graph outputs may leave their type out; DeepX infers it.
inline onnx::ValueInfoProto* AddOutput(onnx::GraphProto* g, const std::string& name) {
  auto* vi = g->add_output();
  vi->set_name(name);
  return vi;
}

// A float initializer stored as little-endian raw_data (the form exporters use).
inline onnx::TensorProto* AddFloatInitializer(onnx::GraphProto* g, const std::string& name,
                                              const std::vector<int64_t>& dims, const std::vector<float>& values) {
  auto* t = g->add_initializer();
  t->set_name(name);
  t->set_data_type(kOnnxFloat);
  for (int64_t d : dims) t->add_dims(d);
  t->set_raw_data(std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float)));
  return t;
}

// An int64 initializer stored in the typed int64_data field.
inline onnx::TensorProto* AddInt64Initializer(onnx::GraphProto* g, const std::string& name,
                                              const std::vector<int64_t>& dims, const std::vector<int64_t>& values) {
  auto* t = g->add_initializer();
  t->set_name(name);
  t->set_data_type(kOnnxInt64);
  for (int64_t d : dims) t->add_dims(d);
  for (int64_t v : values) t->add_int64_data(v);
  return t;
}

inline onnx::NodeProto* AddNode(onnx::GraphProto* g, const std::string& op_type, const std::vector<std::string>& inputs,
                                const std::vector<std::string>& outputs, const std::string& name) {
  auto* n = g->add_node();
  n->set_op_type(op_type);
  n->set_name(name);
  for (const auto& i : inputs) n->add_input(i);
  for (const auto& o : outputs) n->add_output(o);
  return n;
}

inline onnx::AttributeProto* AddIntAttr(onnx::NodeProto* n, const std::string& name, int64_t v) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(v);
  return a;
}

inline onnx::AttributeProto* AddFloatAttr(onnx::NodeProto* n, const std::string& name, float v) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::FLOAT);
  a->set_f(v);
  return a;
}

inline onnx::AttributeProto* AddStringAttr(onnx::NodeProto* n, const std::string& name, const std::string& v) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::STRING);
  a->set_s(v);
  return a;
}

inline onnx::AttributeProto* AddIntsAttr(onnx::NodeProto* n, const std::string& name,
                                         const std::vector<int64_t>& v) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (int64_t x : v) a->add_ints(x);
  return a;
}

// Marks `t` as stored in an external file next to the model.
inline void SetExternalData(onnx::TensorProto* t, const std::string& location, int64_t offset = -1,
                            int64_t length = -1) {
  t->clear_raw_data();
  t->clear_float_data();
  t->set_data_location(onnx::TensorProto_DataLocation_EXTERNAL);
  auto add = [t](const std::string& k, const std::string& v) {
    auto* kv = t->add_external_data();
    kv->set_key(k);
    kv->set_value(v);
  };
  add("location", location);
  if (offset >= 0) add("offset", std::to_string(offset));
  if (length >= 0) add("length", std::to_string(length));
}

inline std::string Serialize(const onnx::ModelProto& m) {
  std::string bytes;
  m.SerializeToString(&bytes);
  return bytes;
}

inline Result<std::shared_ptr<const Model>> LoadProto(const onnx::ModelProto& m, const std::string& base_dir = "") {
  const std::string bytes = Serialize(m);
  return Model::LoadFromBytes(bytes.data(), bytes.size(), base_dir);
}

// x[1,1,2,3] -> Add(x, bias[3]) -> Relu -> Reshape(to [2,3]) -> y. Uses only elementwise and tensor ops.
// With x = -2..3 (row-major) and bias = {1, -1, 0.5}: x+b = {-1,-2,0.5, 2,1,3.5}, relu = {0,0,0.5, 2,1,3.5}.
inline onnx::ModelProto AddReluReshapeModel() {
  onnx::ModelProto m = MakeModel();
  auto* g = m.mutable_graph();
  AddInput(g, "x", kOnnxFloat, {1, 1, 2, 3});
  AddFloatInitializer(g, "bias", {3}, {1.0f, -1.0f, 0.5f});
  AddInt64Initializer(g, "new_shape", {2}, {2, 3});
  AddNode(g, "Add", {"x", "bias"}, {"sum"}, "add");
  AddNode(g, "Relu", {"sum"}, {"act"}, "relu");
  AddNode(g, "Reshape", {"act", "new_shape"}, {"y"}, "reshape");
  AddOutput(g, "y");
  return m;
}

// x[1,1,3,3] -> Conv(W = ones[1,1,2,2], B = {-10}) -> Relu -> y[1,1,2,2].
// With x = 1..9 the 2x2 window sums are {12,16,24,28}; minus 10 and relu: {2,6,14,18}.
inline onnx::ModelProto ConvReluModel() {
  onnx::ModelProto m = MakeModel();
  auto* g = m.mutable_graph();
  AddInput(g, "x", kOnnxFloat, {1, 1, 3, 3});
  AddFloatInitializer(g, "W", {1, 1, 2, 2}, {1, 1, 1, 1});
  AddFloatInitializer(g, "B", {1}, {-10});
  auto* conv = AddNode(g, "Conv", {"x", "W", "B"}, {"c"}, "conv");
  AddIntsAttr(conv, "kernel_shape", {2, 2});
  AddIntsAttr(conv, "strides", {1, 1});
  AddNode(g, "Relu", {"c"}, {"y"}, "relu");
  AddOutput(g, "y");
  return m;
}

// A fresh directory under the system temp dir, removed on destruction.
class TempDir {
 public:
  explicit TempDir(const std::string& tag) {
    static int counter = 0;
    path_ = std::filesystem::temp_directory_path() /
            ("deepx_onnx_" + tag + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::string Write(const std::string& name, const std::string& bytes) const {
    std::filesystem::path p = path_ / name;
    std::ofstream out(p, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return p.string();
  }

 private:
  std::filesystem::path path_;
};

inline std::string FloatBytes(const std::vector<float>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
}

}  // namespace deepx::testing
