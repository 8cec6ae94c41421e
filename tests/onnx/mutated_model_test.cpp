// Deterministic mutation testing of the loader: a valid serialized model is damaged thousands of times (byte
// flips, overwrites, insertions, deletions, truncations, duplicated chunks) with a fixed seed, and every damaged copy
// must load or fail with a Status — never crash, hang, throw or trip a sanitizer. This is the always-on cousin of
// tests/fuzz/fuzz_model_loader.cpp, which explores far more inputs when built with libFuzzer.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "onnx/model_builder.h"

namespace deepx::testing {
namespace {

// One random edit of `bytes`. Kept small so the result is usually still close to a valid model and gets past
// the protobuf parser into the checks behind it.
void Mutate(std::string& bytes, std::mt19937& rng) {
  auto pick = [&](size_t n) { return n == 0 ? size_t{0} : static_cast<size_t>(rng() % n); };
  switch (rng() % 7) {
    case 0:  // flip one bit
      if (!bytes.empty()) bytes[pick(bytes.size())] ^= static_cast<char>(1u << (rng() % 8));
      break;
    case 1:  // overwrite a byte with an "interesting" value
      if (!bytes.empty()) {
        static const unsigned char kInteresting[] = {0x00, 0x01, 0x7f, 0x80, 0xff, 0xfe, 0x08, 0x12, 0x3a};
        bytes[pick(bytes.size())] = static_cast<char>(kInteresting[rng() % sizeof(kInteresting)]);
      }
      break;
    case 2:  // random byte
      if (!bytes.empty()) bytes[pick(bytes.size())] = static_cast<char>(rng());
      break;
    case 3:  // insert a random byte
      bytes.insert(bytes.begin() + static_cast<std::ptrdiff_t>(pick(bytes.size() + 1)), static_cast<char>(rng()));
      break;
    case 4:  // delete a short run
      if (!bytes.empty()) {
        size_t at = pick(bytes.size());
        bytes.erase(at, 1 + pick(8));
      }
      break;
    case 5:  // truncate
      bytes.resize(pick(bytes.size() + 1));
      break;
    case 6:  // duplicate a chunk somewhere else (repeated fields, nested messages appearing twice)
      if (!bytes.empty()) {
        size_t from = pick(bytes.size());
        std::string chunk = bytes.substr(from, 1 + pick(32));
        bytes.insert(pick(bytes.size() + 1), chunk);
      }
      break;
  }
}

TEST(MutatedModels, MutatedModelsNeverCrash) {
  const auto start = std::chrono::steady_clock::now();
  const std::vector<std::string> seeds = {Serialize(AddReluReshapeModel()), Serialize(ConvReluModel())};
  std::mt19937 rng(20240601);
  int loaded = 0, failed = 0;
  // DEEPX_MUTATION_ITERATIONS raises the count for a longer local hunt; the default keeps the suite fast.
  const char* env = std::getenv("DEEPX_MUTATION_ITERATIONS");
  const int kIterations = env ? std::max(1, std::atoi(env)) : 5000;
  for (int i = 0; i < kIterations; ++i) {
    std::string bytes = seeds[static_cast<size_t>(i) % seeds.size()];
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) Mutate(bytes, rng);
    auto r = Model::LoadFromBytes(bytes.data(), bytes.size());
    if (r.ok()) {
      ++loaded;
    } else {
      ++failed;
      // Errors must still be well-formed: a code other than OK and a message a person can act on. Internal means a
      // DeepX invariant broke on input the loader should have rejected earlier.
      EXPECT_NE(r.status().code(), StatusCode::kInternal) << "iteration " << i << ": " << r.status().ToString();
      EXPECT_FALSE(r.status().message().empty()) << "iteration " << i;
    }
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(loaded + failed, kIterations);
  // Both outcomes should occur, or the mutations are too gentle or too destructive to test anything.
  EXPECT_GT(loaded, 0);
  EXPECT_GT(failed, 0);
  if (!env) {
    EXPECT_LT(seconds, 10.0) << "mutation test too slow: " << loaded << " loaded, " << failed << " failed";
  }
}

}  // namespace
}  // namespace deepx::testing
