// libFuzzer target for the ONNX model loader: any byte string must load or fail with a Status, never crash.
//
// Not built by default (the test CMake only globs *_test.cpp). To build and run it with clang:
//
//   cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang \
//         -DCMAKE_CXX_COMPILER=clang++ -DDEEPX_SANITIZE=ON -DDEEPX_BUILD_TESTS=OFF \
//         -DCMAKE_CXX_FLAGS=-fsanitize=fuzzer-no-link
//   ninja -C build-fuzz deepx_lib
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -Isrc \
//         tests/fuzz/fuzz_model_loader.cpp build-fuzz/libdeepx.a -lonnx_proto -lprotobuf -lpthread \
//         -o build-fuzz/fuzz_model_loader
//   mkdir -p /tmp/fuzz-corpus && cp /usr/share/libonnx-testdata/data/node/test_relu/model.onnx /tmp/fuzz-corpus/
//   build-fuzz/fuzz_model_loader -max_len=65536 -rss_limit_mb=4096 /tmp/fuzz-corpus
//
// Seed the corpus with real models (the Debian ONNX test data has hundreds) so the fuzzer starts past the
// protobuf parser. -rss_limit_mb catches inputs that make the loader allocate far more than the file justifies.
#include <cstddef>
#include <cstdint>

#include "deepx/deepx.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // No base directory: external data is refused, so the fuzzer cannot make the loader touch the file system.
  auto model = deepx::Model::LoadFromBytes(data, size, "");
  if (model.ok()) {
    // A loaded model was fully validated; summarising it walks every node's cost function as well.
    auto summary = (*model)->Summarize();
    (void)summary;
  }
  return 0;
}
