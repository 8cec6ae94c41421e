#include "io/tensor_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "io/npy.h"
#include "onnx/tensor_proto.h"

namespace deepx {
namespace {
namespace fs = std::filesystem;

class TensorFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("deepx_tensor_file_test_" + std::to_string(getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }
  fs::path dir_;
};

TEST_F(TensorFileTest, RoundTripsNpyAndPb) {
  Tensor t = Tensor::FromFloats({2, 2}, {1.5f, -2, 0, 4});
  for (const std::string name : {"t.npy", "t.pb", "T.NPY"}) {
    ASSERT_TRUE(SaveTensorFile(Path(name), t, "t").ok()) << name;
    auto back = LoadTensorFile(Path(name));
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(back->dtype(), DataType::kFloat32);
    EXPECT_EQ(back->shape(), (Shape{2, 2}));
    EXPECT_EQ(back->data<float>()[0], 1.5f);
    EXPECT_EQ(back->data<float>()[3], 4.0f);
  }
}

TEST_F(TensorFileTest, PbIsReadAsTensorProto) {
  // Written through the ONNX serializer, read through LoadTensorFile: the file format is TensorProto.
  ASSERT_TRUE(WriteWholeFile(Path("x.pb"), TensorToProtoBytes(Tensor::FromInt64s({3}, {7, 8, 9}), "x")).ok());
  auto back = LoadTensorFile(Path("x.pb"));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->ToInt64Vector(), (std::vector<int64_t>{7, 8, 9}));
}

TEST_F(TensorFileTest, ErrorsNameTheFile) {
  auto unknown = LoadTensorFile(Path("x.txt"));
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(unknown.status().message().find("unknown extension"), std::string::npos);
  EXPECT_NE(unknown.status().message().find("x.txt"), std::string::npos);

  auto missing = LoadTensorFile(Path("nope.npy"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);

  // A .pb cut in the middle of its raw_data field.
  std::string pb = TensorToProtoBytes(Tensor::FromFloats({4}, {1, 2, 3, 4}), "x");
  ASSERT_TRUE(WriteWholeFile(Path("cut.pb"), pb.substr(0, pb.size() - 5)).ok());
  auto cut = LoadTensorFile(Path("cut.pb"));
  ASSERT_FALSE(cut.ok());
  EXPECT_EQ(cut.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(cut.status().message().find("cut.pb"), std::string::npos) << cut.status().ToString();

  ASSERT_TRUE(WriteWholeFile(Path("cut.npy"), std::string("\x93NUMPY\x01", 7)).ok());
  auto cut_npy = LoadTensorFile(Path("cut.npy"));
  ASSERT_FALSE(cut_npy.ok());
  EXPECT_NE(cut_npy.status().message().find("cut.npy"), std::string::npos) << cut_npy.status().ToString();

  EXPECT_EQ(SaveTensorFile(Path("y.bin"), Tensor::Scalar(1)).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(SaveTensorFile(Path("y.pb"), Tensor()).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace deepx
