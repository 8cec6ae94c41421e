// Handcrafted corrupt ONNX models: each test breaks one thing in an otherwise valid model and checks that loading
// fails with the right StatusCode and a message naming the offending node, tensor or file.
//
// The model file is untrusted input, so "right" here means: never crash, never read outside the model directory,
// never allocate what the file does not justify, and say precisely what is wrong.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <random>
#include <string>
#include <vector>

#include "onnx/model_builder.h"

namespace deepx::testing {
namespace {

using ModelResult = Result<std::shared_ptr<const Model>>;

// Passes when `r` is an error with `code` whose message contains every string of `parts`.
::testing::AssertionResult FailsWith(const ModelResult& r, StatusCode code, std::initializer_list<std::string> parts) {
  if (r.ok()) return ::testing::AssertionFailure() << "loaded, expected " << StatusCodeName(code);
  const Status& s = r.status();
  if (s.code() != code)
    return ::testing::AssertionFailure() << "got " << s.ToString() << ", expected code " << StatusCodeName(code);
  for (const auto& p : parts)
    if (s.message().find(p) == std::string::npos)
      return ::testing::AssertionFailure() << "message '" << s.message() << "' does not mention \"" << p << "\"";
  return ::testing::AssertionSuccess();
}

ModelResult LoadBytes(const std::string& bytes, const std::string& base_dir = "") {
  return Model::LoadFromBytes(bytes.data(), bytes.size(), base_dir);
}

// The builders themselves must produce loadable models, or every negative test below proves nothing.
TEST(MalformedModel, BaselineModelLoads) {
  auto r = LoadProto(AddReluReshapeModel());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
}

// ---- Bytes that are not an ONNX model ----

TEST(MalformedModel, TruncatedAtEveryLengthFails) {
  const std::string bytes = Serialize(AddReluReshapeModel());
  ASSERT_GT(bytes.size(), 50u);
  // Every strict prefix: ModelProto serialises ir_version, producer, graph, then opset_import, so no prefix is a
  // complete model (a cut after the graph loses the opset import).
  for (size_t n = 0; n < bytes.size(); ++n) {
    auto r = LoadBytes(bytes.substr(0, n));
    EXPECT_FALSE(r.ok()) << "prefix of " << n << " bytes loaded";
    if (!r.ok()) {
      EXPECT_TRUE(r.status().code() == StatusCode::kInvalidArgument ||
                  r.status().code() == StatusCode::kUnimplemented)
          << n << ": " << r.status().ToString();
    }
  }
  // A cut in the middle of the graph is a protobuf parse error.
  EXPECT_TRUE(FailsWith(LoadBytes(bytes.substr(0, bytes.size() / 2)), StatusCode::kInvalidArgument,
                        {"not a valid ONNX model", "truncated"}));
}

TEST(MalformedModel, EmptyBytes) {
  EXPECT_TRUE(FailsWith(LoadBytes(""), StatusCode::kInvalidArgument, {"empty"}));
  // A null pointer with size 0 is a valid call.
  EXPECT_TRUE(FailsWith(Model::LoadFromBytes(nullptr, 0), StatusCode::kInvalidArgument, {"empty"}));
}

TEST(MalformedModel, RandomBytes) {
  std::mt19937 rng(1234);
  for (int trial = 0; trial < 50; ++trial) {
    std::string bytes(1 + rng() % 512, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    auto r = LoadBytes(bytes);
    EXPECT_TRUE(FailsWith(r, StatusCode::kInvalidArgument, {"not a valid ONNX model"})) << "trial " << trial;
  }
}

TEST(MalformedModel, TextFile) {
  const std::string text = "This is not an ONNX model.\nJust some text, perhaps a README.\n";
  EXPECT_TRUE(FailsWith(LoadBytes(text), StatusCode::kInvalidArgument, {"not a valid ONNX model"}));
  const std::string json = R"({"graph": {"node": []}, "ir_version": 8})";
  EXPECT_TRUE(FailsWith(LoadBytes(json), StatusCode::kInvalidArgument, {"not a valid ONNX model"}));
}

TEST(MalformedModel, PngHeader) {
  const std::string png("\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x10\0\0\0\x10\x08\x06\0\0\0", 33);
  EXPECT_TRUE(FailsWith(LoadBytes(png), StatusCode::kInvalidArgument, {"not a valid ONNX model"}));
}

TEST(MalformedModel, LoadFromDiskNamesTheFile) {
  TempDir dir("textfile");
  const std::string path = dir.Write("notes.onnx", "hello, I am text\n");
  EXPECT_TRUE(FailsWith(Model::Load(path), StatusCode::kInvalidArgument, {path, "not a valid ONNX model"}));
  const std::string missing = (dir.path() / "missing.onnx").string();
  EXPECT_TRUE(FailsWith(Model::Load(missing), StatusCode::kNotFound, {missing}));
  EXPECT_TRUE(FailsWith(Model::Load(dir.path().string()), StatusCode::kInvalidArgument, {dir.path().string()}));
  const std::string empty = dir.Write("empty.onnx", "");
  EXPECT_TRUE(FailsWith(Model::Load(empty), StatusCode::kInvalidArgument, {empty, "empty"}));
}

TEST(MalformedModel, FileOverSizeLimit) {
  const std::string bytes = Serialize(AddReluReshapeModel());
  LoadOptions opts;
  opts.max_file_bytes = 16;
  EXPECT_TRUE(FailsWith(Model::LoadFromBytes(bytes.data(), bytes.size(), "", opts), StatusCode::kResourceExhausted,
                        {"limit"}));
}

// ---- Model structure ----

TEST(MalformedModel, MissingGraph) {
  onnx::ModelProto m = MakeModel();
  m.clear_graph();
  EXPECT_TRUE(FailsWith(LoadProto(m), StatusCode::kInvalidArgument, {"no graph"}));
}

TEST(MalformedModel, MissingIrVersion) {
  onnx::ModelProto m = AddReluReshapeModel();
  m.clear_ir_version();
  EXPECT_TRUE(FailsWith(LoadProto(m), StatusCode::kInvalidArgument, {"ir_version"}));
}

TEST(MalformedModel, UnsupportedOpsetTooOld) {
  onnx::ModelProto m = AddReluReshapeModel();
  m.mutable_opset_import(0)->set_version(0);
  EXPECT_TRUE(FailsWith(LoadProto(m), StatusCode::kUnimplemented, {"opset 0", "1..18"}));
}

TEST(MalformedModel, UnsupportedOpsetTooNew) {
  onnx::ModelProto m = AddReluReshapeModel();
  m.mutable_opset_import(0)->set_version(19);
  EXPECT_TRUE(FailsWith(LoadProto(m), StatusCode::kUnimplemented, {"opset 19", "1..18"}));
}

TEST(MalformedModel, HugeOpsetDoesNotWrap) {
  // An int64 opset that would become a small int if narrowed before the range check.
  onnx::ModelProto m = AddReluReshapeModel();
  m.mutable_opset_import(0)->set_version((int64_t{1} << 32) + 13);
  EXPECT_TRUE(FailsWith(LoadProto(m), StatusCode::kUnimplemented, {"opset 4294967309"}));
}

TEST(MalformedModel, NoDefaultDomainOpset) {
  onnx::ModelProto m = AddReluReshapeModel();
  m.clear_opset_import();
  auto* imp = m.add_opset_import();
  imp->set_domain("com.microsoft");
  imp->set_version(1);
  EXPECT_TRUE(FailsWith(LoadProto(m), StatusCode::kUnimplemented, {"default-domain"}));
}

TEST(MalformedModel, NoOpsetImportAtAll) {
  // Without opset_import the model is an IR-version-1/2 file: opset 1, whose Add does not broadcast unless told
  // to (broadcast=1), so adding a [3] bias to a [1,1,2,3] input is malformed there.
  onnx::ModelProto m = AddReluReshapeModel();
  m.clear_opset_import();
  EXPECT_TRUE(FailsWith(LoadProto(m), StatusCode::kInvalidArgument, {"node 'add'", "broadcast"}));
}

TEST(MalformedModel, GraphWithoutOutputs) {
  onnx::ModelProto m = AddReluReshapeModel();
  m.mutable_graph()->clear_output();
  EXPECT_TRUE(FailsWith(LoadProto(m), StatusCode::kInvalidArgument, {"no outputs"}));
}

// ---- Tensors (initializers) ----

TEST(MalformedModel, NegativeDimsInInitializer) {
  onnx::ModelProto m = AddReluReshapeModel();
  auto* t = m.mutable_graph()->mutable_initializer(0);  // "bias"
  t->clear_dims();
  t->add_dims(-3);
  EXPECT_TRUE(FailsWith(LoadProto(m), StatusCode::kInvalidArgument, {"initializer 'bias'", "negative"}));
}

TEST(MalformedModel, NegativeDimsInGraphInput) {
  onnx::ModelProto m = AddReluReshapeModel();
  auto* shape = m.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape();
  shape->mutable_dim(2)->set_dim_value(-2);
  EXPECT_TRUE(FailsWith(LoadProto(m), StatusCode::kInvalidArgument, {"graph input 'x'", "negative"}));
}

TEST(MalformedModel, DimsProductOverflowsInt64) {
  onnx::ModelProto m = AddReluReshapeModel();
  auto* t = m.mutable_graph()->mutable_initializer(0);
  t->clear_dims();
  // 2^32 * 2^32 * 3 wraps int64 to a small positive number if multiplied naively.
  t->add_dims(int64_t{1} << 32);
  t->add_dims(int64_t{1} << 32);
  t->add_dims(3);
  EXPECT_TRUE(FailsWith(LoadProto(m), StatusCode::kOutOfRange, {"initializer 'bias'"}));
  // Products that wrap to exactly 0 or to the real element count of the data are the nasty ones.
  t->clear_dims();
  t->add_dims(int64_t{1} << 62);
  t->add_dims(4);
  EXPECT_TRUE(FailsWith(LoadProto(m), StatusCode::kOutOfRange, {"initializer 'bias'"}));
}

TEST(MalformedModel, GraphInputDimsTooLarge) {
  onnx::ModelProto m = AddReluReshapeModel();
  auto* shape = m.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape();
  shape->mutable_dim(0)->set_dim_value(int64_t{1} << 40);
  shape->mutable_dim(1)->set_dim_value(int64_t{1} << 40);
  EXPECT_TRUE(FailsWith(LoadProto(m), StatusCode::kOutOfRange, {"input 'x'"}));
}

TEST(MalformedModel, TensorOverElementLimit) {
  onnx::ModelProto m = AddReluReshapeModel();
  auto* t = m.mutable_graph()->mutable_initializer(0);
  t->clear_dims();
  t->add_dims(int64_t{1} << 20);
  t->add_dims(int64_t{1} << 20);  // 2^40 elements: no overflow, but far over any sane limit
  EXPECT_TRUE(FailsWith(LoadProto(m), StatusCode::kOutOfRange, {"initializer 'bias'", "limit"}));
}

TEST(MalformedModel, HugeDeclaredTensorWithoutDataIsRejectedBeforeAllocating) {
  // 2^34 float64 elements (128 GiB) are within the element limit, but the file carries no data for them. The
  // loader must compare the declared size with the bytes actually present before allocating the tensor;
  // otherwise a 40-byte file makes it allocate (and zero) 128 GiB.
  onnx::ModelProto m = AddReluReshapeModel();
  auto* t = m.mutable_graph()->add_initializer();
  t->set_name("huge");
  t->set_data_type(onnx::TensorProto_DataType_DOUBLE);
  t->add_dims(int64_t{1} << 34);
  t->set_raw_data("");
  EXPECT_TRUE(FailsWith(LoadProto(m), StatusCode::kInvalidArgument, {"initializer 'huge'", "raw_data"}));
  // The same with typed fields: one value for 2^34 elements.
  t->clear_raw_data();
  t->add_double_data(1.0);
  EXPECT_TRUE(FailsWith(LoadProto(m), StatusCode::kInvalidArgument, {"initializer 'huge'", "double_data"}));
}

TEST(MalformedModel, IntermediateTensorOverElementLimit) {
  // A 30-byte ConstantOfShape asking for 2^33 elements: shape inference must refuse it before folding allocates.
  onnx::ModelProto m = MakeModel();
  auto* g = m.mutable_graph();
  AddInt64Initializer(g, "dims", {3}, {int64_t{1} << 16, int64_t{1} << 16, 2});
  AddNode(g, "ConstantOfShape", {"dims"}, {"zeros"}, "fill");
  AddOutput(g, "zeros");
  EXPECT_TRUE(FailsWith(LoadProto(m), StatusCode::kOutOfRange, {"node 'fill'", "'zeros'", "limit"}));
}

TEST(MalformedModel, BadTensorInsideAttribute) {
  // Tensors in attributes (Constant's value) get the same checks as initializers, named by node and attribute.
  onnx::ModelProto m = MakeModel();
  auto* g = m.mutable_graph();
  auto* c = AddNode(g, "Constant", {}, {"k"}, "const");
  auto* a = c->add_attribute();
  a->set_name("value");
  a->set_type(onnx::AttributeProto::TENSOR);
  a->mutable_t()->set_data_type(kOnnxFloat);
  a->mutable_t()->add_dims(4);
  a->mutable_t()->set_raw_data(std::string(3, '\0'));
  AddOutput(g, "k");
  EXPECT_TRUE(FailsWith(LoadProto(m), StatusCode::kInvalidArgument, {"node 'const'", "attribute 'value'",
                                                                     "raw_data has 3 bytes"}));
}

TEST(MalformedModel, RawDataSizeMismatch) {
  onnx::ModelProto m = AddReluReshapeModel();
  auto* t = m.mutable_graph()->mutable_initializer(0);  // bias: float [3] = 12 bytes
  t->set_raw_data(std::string(10, '\0'));
  EXPECT_TRUE(FailsWith(LoadProto(m), StatusCode::kInvalidArgument, {"initializer 'bias'", "raw_data has 10 bytes",
                                                                     "expected 12"}));
  t->set_raw_data(std::string(16, '\0'));
  EXPECT_TRUE(FailsWith(LoadProto(m), StatusCode::kInvalidArgument, {"initializer 'bias'", "raw_data has 16 bytes"}));
}

TEST(MalformedModel, TypedFieldCountMismatch) {
  onnx::ModelProto m = AddReluReshapeModel();
  auto* bias = m.mutable_graph()->mutable_initializer(0);
  bias->clear_raw_data();
  bias->add_float_data(1.0f);
  bias->add_float_data(2.0f);  // 2 values for shape [3]
  EXPECT_TRUE(FailsWith(LoadProto(m), StatusCode::kInvalidArgument, {"initializer 'bias'", "float_data has 2 values",
                                                                     "expected 3"}));

  onnx::ModelProto m2 = AddReluReshapeModel();
  auto* shape = m2.mutable_graph()->mutable_initializer(1);  // new_shape: int64 [2] in int64_data
  shape->add_int64_data(7);
  EXPECT_TRUE(FailsWith(LoadProto(m2), StatusCode::kInvalidArgument, {"initializer 'new_shape'",
                                                                      "int64_data has 3 values"}));
}

TEST(MalformedModel, DataInTheWrongTypedField) {
  // Float tensor whose values were written into int64_data: float_data is empty.
  onnx::ModelProto m = AddReluReshapeModel();
  auto* bias = m.mutable_graph()->mutable_initializer(0);
  bias->clear_raw_data();
  for (int i = 0; i < 3; ++i) bias->add_int64_data(i);
  EXPECT_TRUE(FailsWith(LoadProto(m), StatusCode::kInvalidArgument, {"initializer 'bias'", "float_data has 0"}));
}

TEST(MalformedModel, UnknownDataType) {
  onnx::ModelProto m = AddReluReshapeModel();
  m.mutable_graph()->mutable_initializer(0)->set_data_type(99);
  EXPECT_TRUE(FailsWith(LoadProto(m), StatusCode::kUnimplemented, {"initializer 'bias'", "data type 99"}));
  // A real ONNX type DeepX does not support (string).
  m.mutable_graph()->mutable_initializer(0)->set_data_type(onnx::TensorProto_DataType_STRING);
  EXPECT_TRUE(FailsWith(LoadProto(m), StatusCode::kUnimplemented, {"initializer 'bias'", "data type 8"}));
  // Undefined (0) is not a type at all.
  m.mutable_graph()->mutable_initializer(0)->set_data_type(0);
  auto r = LoadProto(m);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("initializer 'bias'"), std::string::npos) << r.status().ToString();
}

TEST(MalformedModel, UnknownDataTypeOfGraphInput) {
  onnx::ModelProto m = AddReluReshapeModel();
  m.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->set_elem_type(16);  // bfloat16
  EXPECT_TRUE(FailsWith(LoadProto(m), StatusCode::kUnimplemented, {"graph input 'x'", "data type 16"}));
}

TEST(MalformedModel, GraphInputWithoutTypeOrShape) {
  onnx::ModelProto m = AddReluReshapeModel();
  m.mutable_graph()->mutable_input(0)->clear_type();
  EXPECT_TRUE(FailsWith(LoadProto(m), StatusCode::kInvalidArgument, {"graph input 'x'", "no tensor type"}));
  onnx::ModelProto m2 = AddReluReshapeModel();
  m2.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->clear_shape();
  EXPECT_TRUE(FailsWith(LoadProto(m2), StatusCode::kInvalidArgument, {"graph input 'x'", "no shape"}));
}

// ---- Nodes and attributes ----

TEST(MalformedModel, UnknownOp) {
  onnx::ModelProto m = AddReluReshapeModel();
  m.mutable_graph()->mutable_node(1)->set_op_type("FancyActivation");
  EXPECT_TRUE(FailsWith(LoadProto(m), StatusCode::kUnimplemented, {"node 'relu'", "unknown op 'FancyActivation'"}));
}

TEST(MalformedModel, OpFromCustomDomain) {
  // A known op name in a foreign domain is not the ONNX op.
  onnx::ModelProto m = AddReluReshapeModel();
  m.mutable_graph()->mutable_node(1)->set_domain("com.example");
  EXPECT_TRUE(FailsWith(LoadProto(m), StatusCode::kUnimplemented, {"node 'relu'", "com.example.Relu"}));
}

TEST(MalformedModel, EmptyOpType) {
  onnx::ModelProto m = AddReluReshapeModel();
  m.mutable_graph()->mutable_node(1)->set_op_type("");
  EXPECT_TRUE(FailsWith(LoadProto(m), StatusCode::kInvalidArgument, {"node #1", "empty op_type"}));
}

TEST(MalformedModel, WrongNumberOfInputs) {
  onnx::ModelProto m = AddReluReshapeModel();
  m.mutable_graph()->mutable_node(1)->add_input("x");  // Relu takes one input
  EXPECT_TRUE(FailsWith(LoadProto(m), StatusCode::kInvalidArgument, {"node 'relu'", "inputs, got 2"}));
  onnx::ModelProto m2 = AddReluReshapeModel();
  m2.mutable_graph()->mutable_node(0)->set_input(0, "");  // Add's first input left out
  EXPECT_TRUE(FailsWith(LoadProto(m2), StatusCode::kInvalidArgument, {"node 'add'", "required input 0"}));
}

TEST(MalformedModel, UnsupportedAttributeName) {
  onnx::ModelProto m = AddReluReshapeModel();
  AddFloatAttr(m.mutable_graph()->mutable_node(1), "slope", 0.5f);
  EXPECT_TRUE(FailsWith(LoadProto(m), StatusCode::kUnimplemented, {"node 'relu'", "unsupported attribute 'slope'"}));
}

TEST(MalformedModel, ReservedAttributePrefix) {
  // "deepx." attributes are set by passes (fused activations); a file must not smuggle them in.
  onnx::ModelProto m = AddReluReshapeModel();
  AddStringAttr(m.mutable_graph()->mutable_node(0), "deepx.activation", "Relu");
  EXPECT_TRUE(FailsWith(LoadProto(m), StatusCode::kInvalidArgument, {"node 'add'", "deepx.activation", "reserved"}));
}

TEST(MalformedModel, AttributeGivenTwice) {
  onnx::ModelProto m = AddReluReshapeModel();
  AddIntAttr(m.mutable_graph()->mutable_node(2), "allowzero", 0);
  AddIntAttr(m.mutable_graph()->mutable_node(2), "allowzero", 1);
  EXPECT_TRUE(FailsWith(LoadProto(m), StatusCode::kInvalidArgument, {"node 'reshape'", "allowzero", "twice"}));
}

TEST(MalformedModel, AttributeWithoutTypeOrValue) {
  onnx::ModelProto m = AddReluReshapeModel();
  auto* a = m.mutable_graph()->mutable_node(2)->add_attribute();
  a->set_name("allowzero");
  EXPECT_TRUE(FailsWith(LoadProto(m), StatusCode::kInvalidArgument, {"node 'reshape'", "allowzero", "no type"}));
}

TEST(MalformedModel, SubgraphAttributeUnsupported) {
  onnx::ModelProto m = AddReluReshapeModel();
  auto* a = m.mutable_graph()->mutable_node(2)->add_attribute();
  a->set_name("allowzero");
  a->set_type(onnx::AttributeProto::GRAPH);
  a->mutable_g()->set_name("sub");
  EXPECT_TRUE(FailsWith(LoadProto(m), StatusCode::kUnimplemented, {"node 'reshape'", "allowzero", "GRAPH"}));
}

TEST(MalformedModel, AttributeOfWrongKind) {
  // Reshape's allowzero is an int; here it is a float.
  onnx::ModelProto m = AddReluReshapeModel();
  AddFloatAttr(m.mutable_graph()->mutable_node(2), "allowzero", 1.0f);
  EXPECT_TRUE(FailsWith(LoadProto(m), StatusCode::kInvalidArgument, {"node 'reshape'", "allowzero", "int"}));
}

TEST(MalformedModel, ConvStridesGivenAsFloat) {
  onnx::ModelProto m = ConvReluModel();
  auto* conv = m.mutable_graph()->mutable_node(0);
  conv->mutable_attribute(1)->Clear();  // strides
  auto* a = conv->mutable_attribute(1);
  a->set_name("strides");
  a->set_type(onnx::AttributeProto::FLOAT);
  a->set_f(1.0f);
  EXPECT_TRUE(FailsWith(LoadProto(m), StatusCode::kInvalidArgument, {"node 'conv'", "strides", "ints"}));
}

TEST(MalformedModel, ConvBadAutoPad) {
  onnx::ModelProto m = ConvReluModel();
  AddStringAttr(m.mutable_graph()->mutable_node(0), "auto_pad", "WEIRD");
  EXPECT_TRUE(FailsWith(LoadProto(m), StatusCode::kInvalidArgument, {"node 'conv'", "auto_pad", "WEIRD"}));
}

TEST(MalformedModel, ConvKernelShapeMismatch) {
  onnx::ModelProto m = ConvReluModel();
  auto* ks = m.mutable_graph()->mutable_node(0)->mutable_attribute(0);
  ASSERT_EQ(ks->name(), "kernel_shape");
  ks->set_ints(0, 3);  // W is 2x2
  EXPECT_TRUE(FailsWith(LoadProto(m), StatusCode::kInvalidArgument, {"node 'conv'", "kernel_shape"}));
}

TEST(MalformedModel, ConvWeightChannelMismatch) {
  onnx::ModelProto m = ConvReluModel();
  auto* w = m.mutable_graph()->mutable_initializer(0);  // W [1,1,2,2] -> [1,2,2,2] with 8 values
  w->set_dims(1, 2);
  w->set_raw_data(FloatBytes(std::vector<float>(8, 1.0f)));
  EXPECT_TRUE(FailsWith(LoadProto(m), StatusCode::kInvalidArgument, {"node 'conv'"}));
}

TEST(MalformedModel, BadAttributeValue) {
  onnx::ModelProto m = AddReluReshapeModel();
  AddIntAttr(m.mutable_graph()->mutable_node(2), "allowzero", 5);
  EXPECT_TRUE(FailsWith(LoadProto(m), StatusCode::kInvalidArgument, {"node 'reshape'", "allowzero"}));
}

TEST(MalformedModel, ReshapeElementCountMismatch) {
  onnx::ModelProto m = AddReluReshapeModel();
  auto* shape = m.mutable_graph()->mutable_initializer(1);  // [2, 3] -> [4, 2]: 8 elements, input has 6
  shape->set_int64_data(0, 4);
  shape->set_int64_data(1, 2);
  EXPECT_TRUE(FailsWith(LoadProto(m), StatusCode::kInvalidArgument, {"node 'reshape'", "cannot reshape"}));
}

TEST(MalformedModel, UnnamedNodeGetsAGeneratedName) {
  onnx::ModelProto m = AddReluReshapeModel();
  m.mutable_graph()->mutable_node(1)->clear_name();
  m.mutable_graph()->mutable_node(1)->set_op_type("NoSuchOp");
  EXPECT_TRUE(FailsWith(LoadProto(m), StatusCode::kUnimplemented, {"NoSuchOp_1"}));
}

// ---- Graph structure ----

TEST(MalformedModel, GraphCycle) {
  onnx::ModelProto m = MakeModel();
  auto* g = m.mutable_graph();
  AddInput(g, "x", kOnnxFloat, {2});
  AddNode(g, "Add", {"x", "b"}, {"a"}, "first");
  AddNode(g, "Relu", {"a"}, {"b"}, "second");  // b feeds first, which feeds second
  AddOutput(g, "b");
  EXPECT_TRUE(FailsWith(LoadProto(m), StatusCode::kInvalidArgument, {"cycle", "node '"}));
}

TEST(MalformedModel, NodeReadingItsOwnOutput) {
  onnx::ModelProto m = MakeModel();
  auto* g = m.mutable_graph();
  AddInput(g, "x", kOnnxFloat, {2});
  AddNode(g, "Add", {"x", "y"}, {"y"}, "selfloop");
  AddOutput(g, "y");
  EXPECT_TRUE(FailsWith(LoadProto(m), StatusCode::kInvalidArgument, {"cycle", "node 'selfloop'"}));
}

TEST(MalformedModel, DanglingInput) {
  onnx::ModelProto m = AddReluReshapeModel();
  m.mutable_graph()->mutable_node(1)->set_input(0, "ghost");
  EXPECT_TRUE(FailsWith(LoadProto(m), StatusCode::kInvalidArgument, {"node 'relu'", "'ghost'", "not produced"}));
}

TEST(MalformedModel, DuplicateInitializers) {
  onnx::ModelProto m = AddReluReshapeModel();
  AddFloatInitializer(m.mutable_graph(), "bias", {3}, {0, 0, 0});
  EXPECT_TRUE(FailsWith(LoadProto(m), StatusCode::kInvalidArgument, {"duplicate", "'bias'"}));
}

TEST(MalformedModel, NodeOutputEqualToInitializer) {
  onnx::ModelProto m = AddReluReshapeModel();
  m.mutable_graph()->mutable_node(1)->set_output(0, "bias");
  m.mutable_graph()->mutable_node(2)->set_input(0, "bias");
  EXPECT_TRUE(FailsWith(LoadProto(m), StatusCode::kInvalidArgument, {"duplicate", "node 'relu'", "'bias'",
                                                                     "initializer"}));
}

TEST(MalformedModel, NodeOutputEqualToGraphInput) {
  onnx::ModelProto m = AddReluReshapeModel();
  m.mutable_graph()->mutable_node(1)->set_output(0, "x");
  m.mutable_graph()->mutable_node(2)->set_input(0, "x");
  EXPECT_TRUE(FailsWith(LoadProto(m), StatusCode::kInvalidArgument, {"duplicate", "node 'relu'", "'x'"}));
}

TEST(MalformedModel, TwoNodesProduceTheSameOutput) {
  onnx::ModelProto m = AddReluReshapeModel();
  AddNode(m.mutable_graph(), "Relu", {"x"}, {"act"}, "relu_again");
  EXPECT_TRUE(FailsWith(LoadProto(m), StatusCode::kInvalidArgument, {"duplicate", "node 'relu_again'", "'act'"}));
}

TEST(MalformedModel, OneNodeListsTheSameOutputTwice) {
  onnx::ModelProto m = MakeModel();
  auto* g = m.mutable_graph();
  AddInput(g, "x", kOnnxFloat, {4});
  AddInt64Initializer(g, "split", {2}, {2, 2});
  AddNode(g, "Split", {"x", "split"}, {"p", "p"}, "split_node");
  AddOutput(g, "p");
  EXPECT_TRUE(FailsWith(LoadProto(m), StatusCode::kInvalidArgument, {"duplicate", "node 'split_node'", "'p'"}));
}

TEST(MalformedModel, GraphInputListedTwice) {
  onnx::ModelProto m = AddReluReshapeModel();
  AddInput(m.mutable_graph(), "x", kOnnxFloat, {1, 1, 2, 3});
  EXPECT_TRUE(FailsWith(LoadProto(m), StatusCode::kInvalidArgument, {"graph input 'x'", "twice"}));
}

TEST(MalformedModel, GraphOutputListedTwice) {
  onnx::ModelProto m = AddReluReshapeModel();
  AddOutput(m.mutable_graph(), "y");
  EXPECT_TRUE(FailsWith(LoadProto(m), StatusCode::kInvalidArgument, {"graph output 'y'", "twice"}));
}

TEST(MalformedModel, GraphOutputNotProduced) {
  onnx::ModelProto m = AddReluReshapeModel();
  AddOutput(m.mutable_graph(), "nowhere");
  EXPECT_TRUE(FailsWith(LoadProto(m), StatusCode::kInvalidArgument, {"graph output 'nowhere'", "not produced"}));
}

TEST(MalformedModel, EmptyValueNames) {
  onnx::ModelProto m = AddReluReshapeModel();
  m.mutable_graph()->mutable_initializer(0)->set_name("");
  EXPECT_TRUE(FailsWith(LoadProto(m), StatusCode::kInvalidArgument, {"empty name"}));
}

// ---- External data ----

class ExternalData : public ::testing::Test {
 protected:
  // The AddReluReshape model with "bias" stored in `location`; the file bias.bin (12 bytes) exists in dir_.
  onnx::ModelProto ModelWithExternalBias(const std::string& location, int64_t offset = -1, int64_t length = -1) {
    onnx::ModelProto m = AddReluReshapeModel();
    SetExternalData(m.mutable_graph()->mutable_initializer(0), location, offset, length);
    return m;
  }
  void SetUp() override { dir_.Write("bias.bin", FloatBytes({1.0f, -1.0f, 0.5f})); }
  std::string WriteModel(const onnx::ModelProto& m) { return dir_.Write("model.onnx", Serialize(m)); }

  TempDir dir_{"external"};
};

TEST_F(ExternalData, InsideTheDirectoryLoads) {
  auto r = Model::Load(WriteModel(ModelWithExternalBias("bias.bin")));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
}

TEST_F(ExternalData, ParentDirectoryEscape) {
  const std::string path = WriteModel(ModelWithExternalBias("../bias.bin"));
  EXPECT_TRUE(FailsWith(Model::Load(path), StatusCode::kInvalidArgument, {path, "initializer 'bias'",
                                                                          "'../bias.bin'", "escapes"}));
  // ".." hidden in the middle of a path.
  EXPECT_TRUE(FailsWith(Model::Load(WriteModel(ModelWithExternalBias("sub/../../bias.bin"))),
                        StatusCode::kInvalidArgument, {"initializer 'bias'", "escapes"}));
}

TEST_F(ExternalData, AbsolutePath) {
  EXPECT_TRUE(FailsWith(Model::Load(WriteModel(ModelWithExternalBias("/etc/passwd"))), StatusCode::kInvalidArgument,
                        {"initializer 'bias'", "'/etc/passwd'", "relative"}));
  // An absolute path to a file that *is* inside the directory is refused too: locations are relative.
  const std::string inside = (dir_.path() / "bias.bin").string();
  EXPECT_TRUE(FailsWith(Model::Load(WriteModel(ModelWithExternalBias(inside))), StatusCode::kInvalidArgument,
                        {"initializer 'bias'", "relative"}));
}

TEST_F(ExternalData, SymlinkPointingOutside) {
  TempDir outside("outside");
  const std::string secret = outside.Write("secret.bin", FloatBytes({7, 7, 7}));
  std::error_code ec;
  std::filesystem::create_symlink(secret, dir_.path() / "link.bin", ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_TRUE(FailsWith(Model::Load(WriteModel(ModelWithExternalBias("link.bin"))), StatusCode::kInvalidArgument,
                        {"initializer 'bias'", "'link.bin'", "escapes"}));
  // A symlinked directory inside the model directory pointing outside.
  std::filesystem::create_directory_symlink(outside.path(), dir_.path() / "linkdir", ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_TRUE(FailsWith(Model::Load(WriteModel(ModelWithExternalBias("linkdir/secret.bin"))),
                        StatusCode::kInvalidArgument, {"initializer 'bias'", "escapes"}));
}

TEST_F(ExternalData, SymlinkStayingInsideIsFine) {
  std::error_code ec;
  std::filesystem::create_symlink(dir_.path() / "bias.bin", dir_.path() / "alias.bin", ec);
  ASSERT_FALSE(ec) << ec.message();
  auto r = Model::Load(WriteModel(ModelWithExternalBias("alias.bin")));
  EXPECT_TRUE(r.ok()) << r.status().ToString();
}

TEST_F(ExternalData, EmbeddedNulInLocation) {
  // The OS would see only "bias.bin"; whatever DeepX decides, it must not read outside the directory or crash.
  const std::string location("bias.bin\0/../../etc/passwd", 26);
  auto r = Model::Load(WriteModel(ModelWithExternalBias(location)));
  EXPECT_FALSE(r.ok());
}

TEST_F(ExternalData, MissingFile) {
  EXPECT_TRUE(FailsWith(Model::Load(WriteModel(ModelWithExternalBias("missing.bin"))), StatusCode::kNotFound,
                        {"initializer 'bias'", "'missing.bin'"}));
}

TEST_F(ExternalData, LocationIsADirectory) {
  std::filesystem::create_directory(dir_.path() / "subdir");
  auto r = Model::Load(WriteModel(ModelWithExternalBias("subdir")));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("'subdir'"), std::string::npos) << r.status().ToString();
}

TEST_F(ExternalData, EmptyLocation) {
  EXPECT_TRUE(FailsWith(Model::Load(WriteModel(ModelWithExternalBias(""))), StatusCode::kInvalidArgument,
                        {"initializer 'bias'", "location"}));
}

TEST_F(ExternalData, FileShorterThanNeeded) {
  dir_.Write("short.bin", FloatBytes({1.0f, 2.0f}));  // 8 bytes, the tensor needs 12
  EXPECT_TRUE(FailsWith(Model::Load(WriteModel(ModelWithExternalBias("short.bin"))), StatusCode::kInvalidArgument,
                        {"initializer 'bias'", "'short.bin'", "too few"}));
  // Long enough, but not from this offset.
  EXPECT_TRUE(FailsWith(Model::Load(WriteModel(ModelWithExternalBias("bias.bin", 4))), StatusCode::kInvalidArgument,
                        {"initializer 'bias'", "too few"}));
  // An offset past the end of the file.
  EXPECT_TRUE(FailsWith(Model::Load(WriteModel(ModelWithExternalBias("bias.bin", 1000))),
                        StatusCode::kInvalidArgument, {"initializer 'bias'", "too few"}));
}

TEST_F(ExternalData, OffsetAndLengthMustBeSane) {
  EXPECT_TRUE(FailsWith(Model::Load(WriteModel(ModelWithExternalBias("bias.bin", -1, 8))),
                        StatusCode::kInvalidArgument, {"initializer 'bias'", "length 8"}));
  onnx::ModelProto m = ModelWithExternalBias("bias.bin");
  auto* kv = m.mutable_graph()->mutable_initializer(0)->add_external_data();
  kv->set_key("offset");
  kv->set_value("twelve");
  EXPECT_TRUE(FailsWith(Model::Load(WriteModel(m)), StatusCode::kInvalidArgument, {"initializer 'bias'", "offset",
                                                                                    "'twelve'"}));
  kv->set_value("-4");
  EXPECT_TRUE(FailsWith(Model::Load(WriteModel(m)), StatusCode::kInvalidArgument, {"initializer 'bias'", "offset"}));
  kv->set_value("99999999999999999999999");  // out of int64 range
  EXPECT_TRUE(FailsWith(Model::Load(WriteModel(m)), StatusCode::kInvalidArgument, {"initializer 'bias'", "offset"}));
}

TEST_F(ExternalData, TrailingGarbageInNumbers) {
  // "4abc" is not the number 4; accepting a prefix would silently read the wrong bytes.
  onnx::ModelProto m = ModelWithExternalBias("bias.bin");
  auto* kv = m.mutable_graph()->mutable_initializer(0)->add_external_data();
  kv->set_key("offset");
  kv->set_value("0abc");
  EXPECT_TRUE(FailsWith(Model::Load(WriteModel(m)), StatusCode::kInvalidArgument, {"initializer 'bias'", "offset",
                                                                                    "'0abc'"}));
}

TEST_F(ExternalData, NotAllowedFromMemory) {
  const std::string bytes = Serialize(ModelWithExternalBias("bias.bin"));
  EXPECT_TRUE(FailsWith(LoadBytes(bytes), StatusCode::kInvalidArgument, {"initializer 'bias'", "external data"}));
}

TEST_F(ExternalData, HugeDeclaredTensorIsCheckedAgainstTheFileBeforeAllocating) {
  // 2^34 float64 elements (128 GiB) declared, 12-byte file: the size check must come before the allocation.
  onnx::ModelProto m = ModelWithExternalBias("bias.bin");
  auto* t = m.mutable_graph()->mutable_initializer(0);
  t->clear_dims();
  t->add_dims(int64_t{1} << 34);
  t->set_data_type(onnx::TensorProto_DataType_DOUBLE);
  EXPECT_TRUE(FailsWith(Model::Load(WriteModel(m)), StatusCode::kInvalidArgument, {"initializer 'bias'", "too few"}));
}

}  // namespace
}  // namespace deepx::testing
