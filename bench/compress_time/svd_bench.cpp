// Times RLC's truncated SVD on AlexNet's FC shapes (or a model's compressible layers) and prints JSON.
//
//   bench/compress_time/build_svd_bench.sh build/release        # -> build/release/bin/svd_bench
//   build/release/bin/svd_bench --threads 2 --ranks 64,128,256   # synthetic 9216x4096, 4096x4096, 4096x1000
//   build/release/bin/svd_bench --threads 2 --model bench/zoo/alexnet.onnx --error 0.5
//
// Synthetic weights: W = A·diag(σ)·B with Gaussian A, B and σ_i = i^-0.5, a decaying spectrum like trained FC
// layers'; --flat uses plain Gaussian weights (random init). With --model the weights are the model's. Reported
// per layer and in total: wall seconds and process CPU seconds (wall is inflated on a shared, loaded machine; CPU
// seconds / threads is the wall time an idle machine would show for perfectly parallel BLAS).
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "compress/low_rank.h"
#include "compress/svd.h"
#include "deepx/deepx.hpp"
#include "runtime/model_impl.h"

using namespace deepx;
using json = nlohmann::json;

namespace {

double CpuSeconds() {
  timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

double WallSeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::vector<float> Synthetic(int64_t m, int64_t n, bool flat, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0, 1);
  std::vector<float> w(static_cast<size_t>(m * n));
  if (flat) {
    for (float& v : w) v = d(rng) / std::sqrt(static_cast<float>(n));
    return w;
  }
  // W = A·diag(σ)·B over r = 512 terms (σ_i ∝ i^-0.5) plus a small Gaussian floor: a spectrum that decays over
  // the ranks that matter, built without a full-size GEMM.
  const int64_t r = std::min<int64_t>(512, std::min(m, n));
  std::vector<float> a(static_cast<size_t>(m * r)), b(static_cast<size_t>(r * n));
  for (float& v : a) v = d(rng);
  for (int64_t i = 0; i < r; ++i) {
    const float s = 1.0f / std::sqrt(static_cast<float>(i + 1)) / std::sqrt(static_cast<float>(m * n));
    for (int64_t j = 0; j < n; ++j) b[static_cast<size_t>(i * n + j)] = s * d(rng);
  }
  for (int64_t i = 0; i < m; ++i) {
    float* row = w.data() + i * n;
    for (int64_t k = 0; k < r; ++k) {
      const float aik = a[static_cast<size_t>(i * r + k)];
      const float* brow = b.data() + k * n;
      for (int64_t j = 0; j < n; ++j) row[j] += aik * brow[j];
    }
    for (int64_t j = 0; j < n; ++j) row[j] += 0.02f * d(rng) / std::sqrt(static_cast<float>(m * n));
  }
  return w;
}

struct Layer {
  std::string name;
  int64_t rows, cols;
  std::vector<float> w;
};

}  // namespace

int main(int argc, char** argv) {
  int threads = 2;
  std::vector<int64_t> ranks = {64, 128, 256};
  double error = -1;
  bool flat = false;
  int power_iterations = 1;
  std::string model_path;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--threads") threads = std::stoi(next());
    else if (a == "--ranks") {
      ranks.clear();
      std::string s = next();
      for (size_t p = 0; p < s.size();) {
        const size_t c = s.find(',', p);
        ranks.push_back(std::stoll(s.substr(p, c - p)));
        p = c == std::string::npos ? s.size() : c + 1;
      }
    } else if (a == "--error") error = std::stod(next());
    else if (a == "--flat") flat = true;
    else if (a == "--power-iterations") power_iterations = std::stoi(next());
    else if (a == "--model") model_path = next();
    else {
      std::cerr << "usage: svd_bench [--threads N] [--ranks K,...|--error E] [--flat] [--power-iterations Q] [--model M]\n";
      return 2;
    }
  }
  std::vector<Layer> layers;
  if (model_path.empty()) {
    const int64_t shapes[3][2] = {{9216, 4096}, {4096, 4096}, {4096, 1000}};  // AlexNet fc6, fc7, fc8 (in × out)
    const char* names[3] = {"fc6", "fc7", "fc8"};
    for (int i = 0; i < 3; ++i)
      layers.push_back({names[i], shapes[i][0], shapes[i][1], Synthetic(shapes[i][0], shapes[i][1], flat, 17 + i)});
  } else {
    auto model = Model::Load(model_path);
    if (!model.ok()) {
      std::cerr << model.status().ToString() << "\n";
      return 1;
    }
    auto shapes = SpecializeModel(**model, {});
    auto found = shapes.ok() ? compress::FindCompressibleLayers((*model)->graph(), *shapes) : shapes.status();
    if (!found.ok()) {
      std::cerr << found.status().ToString() << "\n";
      return 1;
    }
    for (const auto& l : *found) {
      if (l.op_type == "Conv") continue;  // the target is the FC layers
      auto m = compress::LayerMatrix((*model)->graph(), l);
      layers.push_back({l.name, l.rows, l.cols, std::move(*m)});
    }
  }
  compress::SvdOptions o;
  o.threads = threads;
  o.power_iterations = power_iterations;
  json out = {{"threads", threads}, {"power_iterations", power_iterations},
              {"weights", model_path.empty() ? (flat ? "synthetic Gaussian (flat spectrum)" : "synthetic, sigma_i ~ i^-0.5")
                                             : model_path}};
  json runs = json::array();
  std::vector<double> targets;
  if (error >= 0) targets.push_back(error);
  else for (int64_t k : ranks) targets.push_back(static_cast<double>(k));
  // Warm-up: OpenBLAS starts its threads on first use.
  (void)compress::TruncatedSvd(layers.back().w.data(), layers.back().rows, layers.back().cols, 8, o);
  for (double t : targets) {
    json run = {{error >= 0 ? "error" : "rank", t}};
    json per = json::array();
    double wall_total = 0, cpu_total = 0;
    for (const Layer& l : layers) {
      const double w0 = WallSeconds(), c0 = CpuSeconds();
      Result<compress::SvdFactors> f =
          error >= 0 ? compress::TruncatedSvdForError(l.w.data(), l.rows, l.cols, t, 64, 0, o)
                     : compress::TruncatedSvd(l.w.data(), l.rows, l.cols, std::min<int64_t>(static_cast<int64_t>(t), std::min(l.rows, l.cols)), o);
      const double wall = WallSeconds() - w0, cpu = CpuSeconds() - c0;
      if (!f.ok()) {
        std::cerr << f.status().ToString() << "\n";
        return 1;
      }
      const int64_t k = error >= 0 ? f->SmallestRankFor(t) : std::min<int64_t>(static_cast<int64_t>(t), f->rank);
      per.push_back({{"layer", l.name}, {"shape", {l.rows, l.cols}}, {"rank", k}, {"sketch", f->rank},
                     {"exact", f->exact}, {"relative_error", f->RelativeError(k)}, {"wall_seconds", wall},
                     {"cpu_seconds", cpu}});
      wall_total += wall;
      cpu_total += cpu;
    }
    run["layers"] = per;
    run["wall_seconds"] = wall_total;
    run["cpu_seconds"] = cpu_total;
    run["cpu_seconds_per_thread"] = cpu_total / threads;
    runs.push_back(run);
  }
  out["runs"] = runs;
  std::cout << out.dump(1) << "\n";
  return 0;
}
