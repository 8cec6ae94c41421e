#include "io/npy.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

namespace deepx {
namespace {

// Builds .npy bytes by hand (not with NpyBytes) so the reader is checked against the format, not against itself.
std::string MakeNpy(const std::string& dict, const std::string& data, int major = 1) {
  std::string out("\x93NUMPY", 6);
  out.push_back(static_cast<char>(major));
  out.push_back(0);
  const size_t len = dict.size();
  const int len_bytes = major == 1 ? 2 : 4;
  for (int i = 0; i < len_bytes; ++i) out.push_back(static_cast<char>((len >> (8 * i)) & 0xff));
  return out + dict + data;
}

std::string FloatBytes(const std::vector<float>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
}

Result<Tensor> Parse(const std::string& bytes) { return ParseNpy(bytes.data(), bytes.size(), "file 'x.npy'"); }

void ExpectError(const Result<Tensor>& r, StatusCode code, const std::string& fragment) {
  ASSERT_FALSE(r.ok()) << "expected an error containing '" << fragment << "'";
  EXPECT_EQ(r.status().code(), code) << r.status().ToString();
  EXPECT_NE(r.status().message().find(fragment), std::string::npos) << r.status().ToString();
  EXPECT_NE(r.status().message().find("x.npy"), std::string::npos) << r.status().ToString();
}

const char kF32Dict[] = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n";

TEST(Npy, ParsesHandWrittenFloat32) {
  auto r = Parse(MakeNpy(kF32Dict, FloatBytes({1, 2, 3, 4, 5, 6.5f})));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->dtype(), DataType::kFloat32);
  EXPECT_EQ(r->shape(), (Shape{2, 3}));
  EXPECT_EQ(r->data<float>()[0], 1.0f);
  EXPECT_EQ(r->data<float>()[5], 6.5f);
}

TEST(Npy, ParsesVersions2And3AndAnyKeyOrderAndQuotes) {
  const std::string dict = "{\"shape\": (3,), \"fortran_order\": False, \"descr\": \"<i8\"}";
  int64_t v[3] = {-1, 0, 1LL << 40};
  std::string data(reinterpret_cast<const char*>(v), sizeof(v));
  for (int major : {2, 3}) {
    auto r = Parse(MakeNpy(dict, data, major));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->dtype(), DataType::kInt64);
    EXPECT_EQ(r->shape(), (Shape{3}));
    EXPECT_EQ(r->data<int64_t>()[2], 1LL << 40);
  }
}

TEST(Npy, ParsesScalarAndEmptyAndPython2Longs) {
  const std::string one(std::string("\0\0\0\0\0\0\xf0\x3f", 8));  // 1.0 as a little-endian double
  auto scalar = Parse(MakeNpy("{'descr': '<f8', 'fortran_order': False, 'shape': ()}", one));
  ASSERT_TRUE(scalar.ok()) << scalar.status().ToString();
  EXPECT_EQ(scalar->rank(), 0);
  EXPECT_EQ(scalar->data<double>()[0], 1.0);

  auto empty = Parse(MakeNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 5), }", ""));
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_EQ(empty->shape(), (Shape{0, 5}));

  auto longs = Parse(MakeNpy("{'descr': '|u1', 'fortran_order': False, 'shape': (2L,), }", "\x07\x09"));
  ASSERT_TRUE(longs.ok()) << longs.status().ToString();
  EXPECT_EQ(longs->data<uint8_t>()[1], 9);
}

TEST(Npy, BoolIsNormalisedToZeroOrOne) {
  auto r = Parse(MakeNpy("{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }", std::string("\x00\x05\x01", 3)));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->dtype(), DataType::kBool);
  EXPECT_EQ(r->data<uint8_t>()[0], 0);
  EXPECT_EQ(r->data<uint8_t>()[1], 1);
  EXPECT_EQ(r->data<uint8_t>()[2], 1);
}

TEST(Npy, RoundTripsEveryDtype) {
  for (DataType dt : {DataType::kFloat32, DataType::kFloat64, DataType::kInt64, DataType::kInt32, DataType::kUInt8,
                      DataType::kInt8, DataType::kBool}) {
    Tensor t = Tensor::Zeros(dt, {2, 1, 3});
    auto* raw = static_cast<uint8_t*>(t.raw_data());
    for (size_t i = 0; i < t.size_bytes(); ++i) raw[i] = static_cast<uint8_t>(dt == DataType::kBool ? i % 2 : i * 7);
    auto bytes = NpyBytes(t);
    ASSERT_TRUE(bytes.ok());
    // numpy aligns the data to 64 bytes; a header line always ends in '\n'.
    const size_t data_start = bytes->size() - t.size_bytes();
    EXPECT_EQ(data_start % 64, 0u) << DataTypeName(dt);
    EXPECT_EQ((*bytes)[data_start - 1], '\n');
    auto back = Parse(*bytes);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(back->dtype(), dt);
    EXPECT_EQ(back->shape(), t.shape());
    EXPECT_EQ(std::memcmp(back->raw_data(), t.raw_data(), t.size_bytes()), 0) << DataTypeName(dt);
  }
}

TEST(Npy, WritesTheHeaderNumpyWrites) {
  auto bytes = NpyBytes(Tensor::FromFloats({3}, {1, 2, 3}));
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(bytes->substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
  EXPECT_NE(bytes->find("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }"), std::string::npos);
  auto scalar = NpyBytes(Tensor::Scalar(2.0f));
  ASSERT_TRUE(scalar.ok());
  EXPECT_NE(scalar->find("'shape': ()"), std::string::npos);
}

TEST(Npy, RejectsBadMagicAndShortFiles) {
  ExpectError(Parse("\x93NUM"), StatusCode::kInvalidArgument, "too short");
  ExpectError(Parse(std::string("\x93NUMPZ\x01\x00\x10\x00", 10) + std::string(16, ' ')), StatusCode::kInvalidArgument,
              "bad magic");
  ExpectError(Parse(std::string("\x93NUMPY\x02\x00\x10", 9)), StatusCode::kInvalidArgument, "truncated header");
  ExpectError(Parse(std::string("\x93NUMPY\x04\x00\x10\x00", 10)), StatusCode::kUnimplemented, "version 4.0");
}

TEST(Npy, RejectsHeaderLengthPastEof) {
  std::string bytes = MakeNpy(kF32Dict, "");
  bytes[8] = '\xff';  // header length 0x??ff, far more than the file holds
  ExpectError(Parse(bytes), StatusCode::kInvalidArgument, "runs past the end");
}

TEST(Npy, RejectsMalformedDicts) {
  const std::string d = FloatBytes({1, 2, 3});
  ExpectError(Parse(MakeNpy("'descr': '<f4'", d)), StatusCode::kInvalidArgument, "not a dict");
  ExpectError(Parse(MakeNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (3,)", d)),
              StatusCode::kInvalidArgument, "expected ',' or '}'");
  ExpectError(Parse(MakeNpy("{'descr': '<f4', 'fortran_order': False}", d)), StatusCode::kInvalidArgument,
              "no 'shape'");
  ExpectError(Parse(MakeNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), 'extra': 1}", d)),
              StatusCode::kInvalidArgument, "unexpected key 'extra'");
  ExpectError(Parse(MakeNpy("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (3,)}", d)),
              StatusCode::kInvalidArgument, "duplicate key");
  ExpectError(Parse(MakeNpy("{'descr': '<f4', 'fortran_order': 0, 'shape': (3,)}", d)), StatusCode::kInvalidArgument,
              "True or False");
  ExpectError(Parse(MakeNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (3)}", d)),
              StatusCode::kInvalidArgument, "must be a tuple");
  ExpectError(Parse(MakeNpy("{'descr': '<f4', 'fortran_order': False, 'shape': [3]}", d)),
              StatusCode::kInvalidArgument, "must be a tuple");
  ExpectError(Parse(MakeNpy("{'descr': '<f4, 'fortran_order': False, 'shape': (3,)}", d)),
              StatusCode::kInvalidArgument, "after the value of 'descr'");
  ExpectError(Parse(MakeNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (3,)} junk", d)),
              StatusCode::kInvalidArgument, "after the header dict");
  ExpectError(Parse(MakeNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), 'x", d)),
              StatusCode::kInvalidArgument, "unterminated string");
}

TEST(Npy, RejectsBadShapes) {
  ExpectError(Parse(MakeNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}", "")),
              StatusCode::kInvalidArgument, "negative dimension");
  ExpectError(Parse(MakeNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}", "")),
              StatusCode::kInvalidArgument, "overflows");
  ExpectError(Parse(MakeNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296)}", "")),
              StatusCode::kInvalidArgument, "bad shape");
  ExpectError(Parse(MakeNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, x)}", "")),
              StatusCode::kInvalidArgument, "non-negative integers");
}

TEST(Npy, RejectsShortAndOverlongData) {
  ExpectError(Parse(MakeNpy(kF32Dict, FloatBytes({1, 2, 3, 4, 5}))), StatusCode::kInvalidArgument,
              "data is truncated");
  ExpectError(Parse(MakeNpy(kF32Dict, FloatBytes({1, 2, 3, 4, 5, 6}) + "zz")), StatusCode::kInvalidArgument,
              "2 bytes of trailing data");
}

TEST(Npy, UnsupportedButWellFormedIsUnimplemented) {
  const std::string d = FloatBytes({1, 2, 3, 4, 5, 6});
  ExpectError(Parse(MakeNpy("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", d)),
              StatusCode::kUnimplemented, "Fortran-order");
  ExpectError(Parse(MakeNpy("{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }", d)),
              StatusCode::kUnimplemented, "big-endian");
  ExpectError(Parse(MakeNpy("{'descr': '<f2', 'fortran_order': False, 'shape': (2, 3), }", d)),
              StatusCode::kUnimplemented, "'<f2' is not supported");
  ExpectError(Parse(MakeNpy("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2, 3), }", d)),
              StatusCode::kUnimplemented, "structured");
}

TEST(Npy, SurvivesEveryTruncationAndHeaderByteFlip) {
  auto good = NpyBytes(Tensor::FromFloats({2, 3}, {1, 2, 3, 4, 5, 6}));
  ASSERT_TRUE(good.ok());
  // Every proper prefix is an error, never a crash or a success.
  for (size_t n = 0; n < good->size(); ++n) EXPECT_FALSE(Parse(good->substr(0, n)).ok()) << n;
  // Any byte of the preamble and header replaced by anything: an error or a tensor of consistent size.
  const size_t header_end = good->size() - 24;
  for (size_t i = 0; i < header_end; ++i) {
    for (int v : {0, int{'('}, int{')'}, int{','}, int{'-'}, int{'9'}, int{'\''}, int{'{'}, int{'}'}, 0xff}) {
      std::string bytes = *good;
      bytes[i] = static_cast<char>(v);
      auto r = Parse(bytes);
      if (r.ok()) {
        EXPECT_EQ(r->size_bytes(), 24u) << i;
      }
    }
  }
}

TEST(Npy, FileErrorsNameTheFile) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("deepx_npy_test_" + std::to_string(getpid()));
  fs::create_directories(dir);
  const std::string path = (dir / "bad.npy").string();
  ASSERT_TRUE(WriteWholeFile(path, MakeNpy(kF32Dict, FloatBytes({1, 2}))).ok());
  auto r = ReadNpyFile(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find(path), std::string::npos) << r.status().ToString();

  auto missing = ReadNpyFile((dir / "missing.npy").string());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("missing.npy"), std::string::npos);

  const std::string good = (dir / "good.npy").string();
  ASSERT_TRUE(WriteNpyFile(good, Tensor::FromInt64s({2}, {4, -5})).ok());
  auto back = ReadNpyFile(good);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->ToInt64Vector(), (std::vector<int64_t>{4, -5}));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace deepx
