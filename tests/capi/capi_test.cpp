// Tests of the C API (include/deepx/deepx.h), called as a C program would.
#include "deepx/deepx.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <memory>
#include <string>

#include "capi/tiny_models.h"
#include "test_util.h"

namespace {
namespace fs = std::filesystem;

// Owns a returned status for the duration of a check.
struct StatusDeleter {
  void operator()(dx_status* s) const { dx_status_free(s); }
};
using StatusPtr = std::unique_ptr<dx_status, StatusDeleter>;

#define EXPECT_DX_OK(expr)                                                  \
  do {                                                                      \
    StatusPtr s_(expr);                                                     \
    EXPECT_EQ(s_, nullptr) << dx_status_message(s_.get());                  \
  } while (0)

// Expects `expr` to fail with `code` and a message containing `fragment`.
#define EXPECT_DX_ERROR(expr, code, fragment)                                                                 \
  do {                                                                                                        \
    StatusPtr s_(expr);                                                                                       \
    ASSERT_NE(s_, nullptr) << "expected " << dx_code_name(code);                                              \
    EXPECT_EQ(dx_status_code(s_.get()), code) << dx_status_message(s_.get());                                 \
    EXPECT_NE(std::string(dx_status_message(s_.get())).find(fragment), std::string::npos)                     \
        << dx_status_message(s_.get());                                                                       \
  } while (0)

class CApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("deepx_capi_test_" + std::to_string(getpid()));
    fs::create_directories(dir_);
    classifier_path_ = (dir_ / "classifier.onnx").string();
    mixed_path_ = (dir_ / "mixed.onnx").string();
    ASSERT_TRUE(deepx::testing::WriteModel(deepx::testing::ClassifierModel(), classifier_path_));
    ASSERT_TRUE(deepx::testing::WriteModel(deepx::testing::MixedModel(), mixed_path_));
  }
  void TearDown() override {
    dx_session_free(session_);
    dx_model_free(model_);
    fs::remove_all(dir_);
  }

  void LoadClassifier() {
    StatusPtr s(dx_model_load(classifier_path_.c_str(), &model_));
    ASSERT_EQ(s, nullptr) << dx_status_message(s.get());
    StatusPtr s2(dx_session_create(model_, nullptr, &session_));
    ASSERT_EQ(s2, nullptr) << dx_status_message(s2.get());
  }

  dx_tensor* FloatTensor(std::initializer_list<int64_t> dims, const std::vector<float>& values) {
    std::vector<int64_t> d(dims);
    dx_tensor* t = nullptr;
    StatusPtr s(dx_tensor_create(DX_FLOAT32, d.data(), d.size(), values.data(), values.size() * sizeof(float), &t));
    EXPECT_EQ(s, nullptr) << dx_status_message(s.get());
    return t;
  }

  fs::path dir_;
  std::string classifier_path_, mixed_path_;
  dx_model* model_ = nullptr;
  dx_session* session_ = nullptr;
};

TEST_F(CApiTest, NullStatusMeansOk) {
  EXPECT_EQ(dx_status_code(nullptr), DX_OK);
  EXPECT_STREQ(dx_status_message(nullptr), "");
  EXPECT_STREQ(dx_code_name(DX_INVALID_ARGUMENT), "INVALID_ARGUMENT");
  EXPECT_STREQ(dx_code_name(DX_INTERNAL), "INTERNAL");
  EXPECT_STREQ(dx_code_name(static_cast<dx_code>(99)), "UNKNOWN");
  dx_status_free(nullptr);
  dx_model_free(nullptr);
  dx_session_free(nullptr);
  dx_tensor_free(nullptr);
  dx_tensors_free(nullptr, 3);
}

TEST_F(CApiTest, NullArgumentsAreRejected) {
  dx_model* m = nullptr;
  EXPECT_DX_ERROR(dx_model_load(nullptr, &m), DX_INVALID_ARGUMENT, "'path' is NULL");
  EXPECT_DX_ERROR(dx_model_load(classifier_path_.c_str(), nullptr), DX_INVALID_ARGUMENT, "'out_model' is NULL");
  size_t n = 0;
  EXPECT_DX_ERROR(dx_model_num_inputs(nullptr, &n), DX_INVALID_ARGUMENT, "'model' is NULL");
  EXPECT_DX_ERROR(dx_model_num_outputs(nullptr, &n), DX_INVALID_ARGUMENT, "'model' is NULL");
  const char* name = nullptr;
  EXPECT_DX_ERROR(dx_model_input_name(nullptr, 0, &name), DX_INVALID_ARGUMENT, "'model' is NULL");
  dx_dtype dt;
  EXPECT_DX_ERROR(dx_model_output_dtype(nullptr, 0, &dt), DX_INVALID_ARGUMENT, "'model' is NULL");
  const int64_t* dims = nullptr;
  EXPECT_DX_ERROR(dx_model_input_shape(nullptr, 0, &dims, &n), DX_INVALID_ARGUMENT, "'model' is NULL");
  dx_session* s = nullptr;
  EXPECT_DX_ERROR(dx_session_create(nullptr, nullptr, &s), DX_INVALID_ARGUMENT, "'model' is NULL");
  dx_tensor** outs = nullptr;
  EXPECT_DX_ERROR(dx_session_run(nullptr, 0, nullptr, nullptr, &n, &outs), DX_INVALID_ARGUMENT, "'session' is NULL");
  dx_tensor* t = nullptr;
  EXPECT_DX_ERROR(dx_tensor_create(DX_FLOAT32, nullptr, 0, nullptr, 0, nullptr), DX_INVALID_ARGUMENT,
                  "'out_tensor' is NULL");
  EXPECT_DX_ERROR(dx_tensor_create(DX_FLOAT32, nullptr, 2, nullptr, 0, &t), DX_INVALID_ARGUMENT, "'dims' is NULL");
  EXPECT_DX_ERROR(dx_tensor_dtype(nullptr, &dt), DX_INVALID_ARGUMENT, "'tensor' is NULL");
  EXPECT_DX_ERROR(dx_tensor_rank(nullptr, &n), DX_INVALID_ARGUMENT, "'tensor' is NULL");
  EXPECT_DX_ERROR(dx_tensor_shape(nullptr, &dims, &n), DX_INVALID_ARGUMENT, "'tensor' is NULL");
  const void* data = nullptr;
  EXPECT_DX_ERROR(dx_tensor_data(nullptr, &data, &n), DX_INVALID_ARGUMENT, "'tensor' is NULL");

  LoadClassifier();
  EXPECT_DX_ERROR(dx_model_num_inputs(model_, nullptr), DX_INVALID_ARGUMENT, "'out_count' is NULL");
  EXPECT_DX_ERROR(dx_model_input_name(model_, 0, nullptr), DX_INVALID_ARGUMENT, "'out_name' is NULL");
  EXPECT_DX_ERROR(dx_model_input_shape(model_, 0, nullptr, &n), DX_INVALID_ARGUMENT, "'out_dims' is NULL");
  EXPECT_DX_ERROR(dx_session_create(model_, nullptr, nullptr), DX_INVALID_ARGUMENT, "'out_session' is NULL");
  EXPECT_DX_ERROR(dx_session_run(session_, 1, nullptr, nullptr, &n, &outs), DX_INVALID_ARGUMENT, "'names' is NULL");
  EXPECT_DX_ERROR(dx_session_run(session_, 0, nullptr, nullptr, nullptr, &outs), DX_INVALID_ARGUMENT,
                  "'out_n_outputs' is NULL");
  const char* names[] = {"x"};
  const dx_tensor* inputs[] = {nullptr};
  EXPECT_DX_ERROR(dx_session_run(session_, 1, names, inputs, &n, &outs), DX_INVALID_ARGUMENT, "inputs[0] is NULL");
  EXPECT_EQ(outs, nullptr);  // out-parameters are untouched on failure
}

TEST_F(CApiTest, BadModelPaths) {
  dx_model* m = nullptr;
  const std::string missing = (dir_ / "missing.onnx").string();
  EXPECT_DX_ERROR(dx_model_load(missing.c_str(), &m), DX_NOT_FOUND, "missing.onnx");
  const std::string garbage = (dir_ / "garbage.onnx").string();
  {
    std::ofstream out(garbage);
    out << "this is not a protobuf";
  }
  StatusPtr s(dx_model_load(garbage.c_str(), &m));
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(dx_status_code(s.get()), DX_INVALID_ARGUMENT) << dx_status_message(s.get());
  EXPECT_NE(std::string(dx_status_message(s.get())).find("garbage.onnx"), std::string::npos);
  EXPECT_EQ(m, nullptr);
}

TEST_F(CApiTest, DescribesInputsAndOutputs) {
  LoadClassifier();
  size_t n = 0;
  EXPECT_DX_OK(dx_model_num_inputs(model_, &n));
  EXPECT_EQ(n, 1u);
  EXPECT_DX_OK(dx_model_num_outputs(model_, &n));
  EXPECT_EQ(n, 2u);
  const char* name = nullptr;
  EXPECT_DX_OK(dx_model_input_name(model_, 0, &name));
  EXPECT_STREQ(name, "x");
  EXPECT_DX_OK(dx_model_output_name(model_, 1, &name));
  EXPECT_STREQ(name, "probs");
  dx_dtype dt = DX_UNDEFINED;
  EXPECT_DX_OK(dx_model_input_dtype(model_, 0, &dt));
  EXPECT_EQ(dt, DX_FLOAT32);
  const int64_t* dims = nullptr;
  size_t rank = 0;
  EXPECT_DX_OK(dx_model_input_shape(model_, 0, &dims, &rank));
  ASSERT_EQ(rank, 2u);
  EXPECT_EQ(dims[0], -1);  // dynamic batch
  EXPECT_EQ(dims[1], 4);
  EXPECT_DX_OK(dx_model_output_shape(model_, 0, &dims, &rank));
  ASSERT_EQ(rank, 2u);
  EXPECT_EQ(dims[1], 3);
  EXPECT_DX_ERROR(dx_model_input_name(model_, 1, &name), DX_OUT_OF_RANGE, "index 1");
  EXPECT_DX_ERROR(dx_model_output_dtype(model_, 2, &dt), DX_OUT_OF_RANGE, "2 outputs");
}

TEST_F(CApiTest, RunsTheClassifier) {
  LoadClassifier();
  dx_tensor* x = FloatTensor({2, 4}, {1, 2, 3, 4, 0, 0, 0, 0});
  ASSERT_NE(x, nullptr);
  const char* names[] = {"x"};
  const dx_tensor* inputs[] = {x};
  size_t n_out = 0;
  dx_tensor** outs = nullptr;
  EXPECT_DX_OK(dx_session_run(session_, 1, names, inputs, &n_out, &outs));
  ASSERT_EQ(n_out, 2u);
  const int64_t* dims = nullptr;
  size_t rank = 0;
  EXPECT_DX_OK(dx_tensor_shape(outs[0], &dims, &rank));
  ASSERT_EQ(rank, 2u);
  EXPECT_EQ(dims[0], 2);
  EXPECT_EQ(dims[1], 3);
  const void* data = nullptr;
  size_t bytes = 0;
  EXPECT_DX_OK(dx_tensor_data(outs[0], &data, &bytes));
  ASSERT_EQ(bytes, 6 * sizeof(float));
  const float* logits = static_cast<const float*>(data);
  // Row 0: x W + B = [1 + 4 + 0.5, 2 + 4, 3 + 4 - 0.5]; row 1: B.
  const float expected[] = {5.5f, 6.0f, 6.5f, 0.5f, 0.0f, -0.5f};
  for (int i = 0; i < 6; ++i) EXPECT_NEAR(logits[i], expected[i], 1e-6) << i;
  EXPECT_DX_OK(dx_tensor_data(outs[1], &data, &bytes));
  const float* probs = static_cast<const float*>(data);
  // softmax([5.5, 6, 6.5]) = [e^-1, e^-0.5, 1] / (e^-1 + e^-0.5 + 1).
  const double denom = std::exp(-1.0) + std::exp(-0.5) + 1.0;
  EXPECT_NEAR(probs[0], std::exp(-1.0) / denom, 1e-6);
  EXPECT_NEAR(probs[2], 1.0 / denom, 1e-6);
  dx_dtype dt = DX_UNDEFINED;
  EXPECT_DX_OK(dx_tensor_dtype(outs[1], &dt));
  EXPECT_EQ(dt, DX_FLOAT32);
  int64_t count = 0;
  EXPECT_DX_OK(dx_tensor_num_elements(outs[1], &count));
  EXPECT_EQ(count, 6);
  dx_tensors_free(outs, n_out);
  dx_tensor_free(x);
}

TEST_F(CApiTest, SessionOutlivesItsModelHandle) {
  LoadClassifier();
  dx_model_free(model_);
  model_ = nullptr;
  dx_tensor* x = FloatTensor({1, 4}, {1, 2, 3, 4});
  const char* names[] = {"x"};
  const dx_tensor* inputs[] = {x};
  size_t n_out = 0;
  dx_tensor** outs = nullptr;
  EXPECT_DX_OK(dx_session_run(session_, 1, names, inputs, &n_out, &outs));
  EXPECT_EQ(n_out, 2u);
  dx_tensors_free(outs, n_out);
  dx_tensor_free(x);
}

TEST_F(CApiTest, RunErrorsNameTheInput) {
  LoadClassifier();
  dx_tensor* x = FloatTensor({1, 4}, {1, 2, 3, 4});
  dx_tensor* wrong_shape = FloatTensor({1, 5}, {1, 2, 3, 4, 5});
  int64_t dims[] = {1, 4};
  int64_t ints[] = {1, 2, 3, 4};
  dx_tensor* wrong_dtype = nullptr;
  EXPECT_DX_OK(dx_tensor_create(DX_INT64, dims, 2, ints, sizeof(ints), &wrong_dtype));
  size_t n_out = 0;
  dx_tensor** outs = nullptr;

  const char* bad_name[] = {"y"};
  const dx_tensor* in_x[] = {x};
  EXPECT_DX_ERROR(dx_session_run(session_, 1, bad_name, in_x, &n_out, &outs), DX_NOT_FOUND, "no input named 'y'");
  EXPECT_DX_ERROR(dx_session_run(session_, 0, nullptr, nullptr, &n_out, &outs), DX_INVALID_ARGUMENT,
                  "missing input 'x'");
  const char* twice[] = {"x", "x"};
  const dx_tensor* in_xx[] = {x, x};
  EXPECT_DX_ERROR(dx_session_run(session_, 2, twice, in_xx, &n_out, &outs), DX_INVALID_ARGUMENT, "given twice");
  const char* good[] = {"x"};
  const dx_tensor* in_shape[] = {wrong_shape};
  EXPECT_DX_ERROR(dx_session_run(session_, 1, good, in_shape, &n_out, &outs), DX_INVALID_ARGUMENT, "shape");
  const dx_tensor* in_dtype[] = {wrong_dtype};
  EXPECT_DX_ERROR(dx_session_run(session_, 1, good, in_dtype, &n_out, &outs), DX_INVALID_ARGUMENT, "float32");
  EXPECT_EQ(outs, nullptr);
  dx_tensor_free(x);
  dx_tensor_free(wrong_shape);
  dx_tensor_free(wrong_dtype);
}

TEST_F(CApiTest, UnknownBackendAndBadOptions) {
  StatusPtr s(dx_model_load(classifier_path_.c_str(), &model_));
  ASSERT_EQ(s, nullptr);
  dx_session_options opts = {"no-such-backend", 0};
  dx_session* session = nullptr;
  EXPECT_DX_ERROR(dx_session_create(model_, &opts, &session), DX_NOT_FOUND, "no-such-backend");
  opts = {nullptr, -2};
  EXPECT_DX_ERROR(dx_session_create(model_, &opts, &session), DX_INVALID_ARGUMENT, "num_threads");
  opts = {"reference", 1};
  EXPECT_DX_OK(dx_session_create(model_, &opts, &session));
  EXPECT_NE(session, nullptr);
  dx_session_free(session);
}

TEST_F(CApiTest, TensorCreateChecksItsArguments) {
  int64_t dims[] = {2, 3};
  float values[6] = {0};
  dx_tensor* t = nullptr;
  EXPECT_DX_ERROR(dx_tensor_create(DX_FLOAT32, dims, 2, values, 20, &t), DX_INVALID_ARGUMENT, "needs 24");
  EXPECT_DX_ERROR(dx_tensor_create(static_cast<dx_dtype>(4), dims, 2, values, 24, &t), DX_INVALID_ARGUMENT,
                  "unknown dtype");
  int64_t negative[] = {2, -3};
  EXPECT_DX_ERROR(dx_tensor_create(DX_FLOAT32, negative, 2, nullptr, 0, &t), DX_INVALID_ARGUMENT, "bad shape");
  EXPECT_DX_ERROR(dx_tensor_create(DX_FLOAT32, dims, 2, nullptr, 24, &t), DX_INVALID_ARGUMENT, "'data' is NULL");
  EXPECT_EQ(t, nullptr);

  // NULL data and 0 bytes: zeros. Bool data is normalised.
  EXPECT_DX_OK(dx_tensor_create(DX_INT32, dims, 2, nullptr, 0, &t));
  const void* data = nullptr;
  size_t bytes = 0;
  EXPECT_DX_OK(dx_tensor_data(t, &data, &bytes));
  EXPECT_EQ(bytes, 24u);
  EXPECT_EQ(static_cast<const int32_t*>(data)[5], 0);
  dx_tensor_free(t);
  const unsigned char flags[] = {0, 7, 1};
  int64_t three = 3;
  EXPECT_DX_OK(dx_tensor_create(DX_BOOL, &three, 1, flags, 3, &t));
  EXPECT_DX_OK(dx_tensor_data(t, &data, &bytes));
  EXPECT_EQ(static_cast<const unsigned char*>(data)[1], 1);
  size_t rank = 9;
  EXPECT_DX_OK(dx_tensor_rank(t, &rank));
  EXPECT_EQ(rank, 1u);
  dx_tensor_free(t);

  float scalar = 2.5f;
  EXPECT_DX_OK(dx_tensor_create(DX_FLOAT32, nullptr, 0, &scalar, sizeof(scalar), &t));
  EXPECT_DX_OK(dx_tensor_rank(t, &rank));
  EXPECT_EQ(rank, 0u);
  dx_tensor_free(t);
}

TEST_F(CApiTest, RunsAModelWithAnIntInput) {
  ASSERT_EQ(StatusPtr(dx_model_load(mixed_path_.c_str(), &model_)), nullptr);
  ASSERT_EQ(StatusPtr(dx_session_create(model_, nullptr, &session_)), nullptr);
  dx_tensor* a = FloatTensor({2, 3}, {0, 0.5f, 1, 10, 20, 30});
  int64_t three = 3;
  int64_t bvals[] = {1, 2, -3};
  dx_tensor* b = nullptr;
  EXPECT_DX_OK(dx_tensor_create(DX_INT64, &three, 1, bvals, sizeof(bvals), &b));
  const char* names[] = {"b", "a"};  // any order
  const dx_tensor* inputs[] = {b, a};
  size_t n_out = 0;
  dx_tensor** outs = nullptr;
  EXPECT_DX_OK(dx_session_run(session_, 2, names, inputs, &n_out, &outs));
  ASSERT_EQ(n_out, 1u);
  const void* data = nullptr;
  size_t bytes = 0;
  EXPECT_DX_OK(dx_tensor_data(outs[0], &data, &bytes));
  const float* sum = static_cast<const float*>(data);
  const float expected[] = {1, 2.5f, -2, 11, 22, 27};
  for (int i = 0; i < 6; ++i) EXPECT_FLOAT_EQ(sum[i], expected[i]) << i;
  dx_tensors_free(outs, n_out);
  dx_tensor_free(a);
  dx_tensor_free(b);
}

TEST_F(CApiTest, RunsTheBundledFashionMnistModel) {
  const std::string path = deepx::testing::SourcePath("models/fashion_mnist_cnn.onnx");
  if (!fs::exists(path)) GTEST_SKIP() << path << " is not there yet";
  ASSERT_EQ(StatusPtr(dx_model_load(path.c_str(), &model_)), nullptr);
  ASSERT_EQ(StatusPtr(dx_session_create(model_, nullptr, &session_)), nullptr);
  const char* name = nullptr;
  const int64_t* dims = nullptr;
  size_t rank = 0;
  EXPECT_DX_OK(dx_model_input_name(model_, 0, &name));
  EXPECT_DX_OK(dx_model_input_shape(model_, 0, &dims, &rank));
  std::vector<int64_t> shape(dims, dims + rank);
  for (int64_t& d : shape)
    if (d < 0) d = 1;
  dx_tensor* x = nullptr;
  EXPECT_DX_OK(dx_tensor_create(DX_FLOAT32, shape.data(), shape.size(), nullptr, 0, &x));
  const dx_tensor* inputs[] = {x};
  size_t n_out = 0;
  dx_tensor** outs = nullptr;
  EXPECT_DX_OK(dx_session_run(session_, 1, &name, inputs, &n_out, &outs));
  ASSERT_GE(n_out, 1u);
  int64_t count = 0;
  EXPECT_DX_OK(dx_tensor_num_elements(outs[0], &count));
  EXPECT_EQ(count, 10);  // ten Fashion-MNIST classes
  dx_tensors_free(outs, n_out);
  dx_tensor_free(x);
}

}  // namespace
