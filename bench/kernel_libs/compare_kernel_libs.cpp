// Compares oneDNN and XNNPACK on the conv / FC layer shapes of the DeepX benchmark zoo (batch 1, fp32).
//
// This answers one question — which Debian kernel library should the optimised CPU backend build on — so it times
// each library the way a runtime would use it: the primitive / operator is created once per layer with its
// weights pre-packed (as at model load), then only execution is timed. Libraries are run in alternating batches
// under the same thread count, and every layer's output is checked against a naive reference so a fast but wrong
// configuration cannot win.
//
// Variants timed per layer:
//   xnnpack        XNNPACK operator, NHWC activations (its only layout).
//   onednn_nhwc    oneDNN primitive, NHWC activations, weights format_tag::any (the layout other DeepX ops can share).
//   onednn_any     oneDNN primitive, activations format_tag::any (oneDNN picks, usually channel-blocked nChw16c);
//                  what a runtime that keeps blocked activations between conv layers would run.
//   onednn_any+ro  onednn_any plus the reorders NHWC -> chosen src and chosen dst -> NHWC, i.e. the cost of using
//                  blocked kernels in a runtime whose other ops stay NHWC.
//
// Usage: compare_kernel_libs [--threads N] [--rounds R] [--batch-ms MS] [--model NAME] [--note TEXT]
//                            [--thread-cpu-clock (with --threads 1)] [--json PATH]
#include <omp.h>
#include <pthreadpool.h>
#include <sys/resource.h>
#include <unistd.h>
#include <xnnpack.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>
#include <oneapi/dnnl/dnnl.hpp>

#include "zoo_layers.h"

namespace {

using deepx_bench::kZooLayers;
using deepx_bench::kZooModels;
using deepx_bench::LayerKind;
using deepx_bench::LayerShape;
using Clock = std::chrono::steady_clock;

// ---------------------------------------------------------------------------------------------------------------
// Layer geometry and data.

struct Geometry {
  int cin, cout, h, w, kh, kw, sh, sw, ph, pw, group, ho, wo;
  bool fc;
  double flops() const { return 2.0 * cout * ho * wo * (static_cast<double>(cin) / group) * kh * kw; }
  size_t in_size() const { return static_cast<size_t>(cin) * h * w; }
  size_t out_size() const { return static_cast<size_t>(cout) * ho * wo; }
  size_t weight_size() const { return static_cast<size_t>(cout) * (cin / group) * kh * kw; }
};

Geometry MakeGeometry(const LayerShape& s) {
  Geometry g{s.cin, s.cout, s.h, s.w, s.kh, s.kw, s.sh, s.sw, s.ph, s.pw, s.group, 0, 0, s.kind == LayerKind::kFc};
  g.ho = (s.h + 2 * s.ph - s.kh) / s.sh + 1;
  g.wo = (s.w + 2 * s.pw - s.kw) / s.sw + 1;
  return g;
}

std::string Describe(const Geometry& g) {
  char buf[128];
  if (g.fc) {
    std::snprintf(buf, sizeof(buf), "fc %d->%d", g.cin, g.cout);
  } else {
    const char* kind = g.group == 1 ? "conv" : (g.group == g.cin && g.group == g.cout ? "dw" : "gconv");
    std::snprintf(buf, sizeof(buf), "%s%dx%d/s%d %d->%d @%dx%d", kind, g.kh, g.kw, g.sh, g.cin, g.cout, g.h, g.w);
  }
  return buf;
}

// Canonical data in PyTorch layouts (input NCHW, weights OIHW with O = all output channels, I = per group).
// Weights are scaled by 1/sqrt(fan_in) so outputs stay O(1) and absolute error thresholds mean something.
struct LayerData {
  std::vector<float> input_nchw, weights_oihw, bias;
};

LayerData MakeData(const Geometry& g, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> uni(-1.0f, 1.0f);
  LayerData d;
  d.input_nchw.resize(g.in_size());
  for (float& v : d.input_nchw) v = uni(rng);
  const float scale = 1.0f / std::sqrt(static_cast<float>(g.cin / g.group * g.kh * g.kw));
  d.weights_oihw.resize(g.weight_size());
  for (float& v : d.weights_oihw) v = uni(rng) * scale;
  d.bias.resize(g.cout);
  for (float& v : d.bias) v = uni(rng) * 0.1f;
  return d;
}

std::vector<float> NchwToNhwc(const std::vector<float>& x, int c, int h, int w, size_t extra) {
  std::vector<float> y(x.size() + extra, 0.0f);
  for (int ci = 0; ci < c; ++ci)
    for (int yi = 0; yi < h; ++yi)
      for (int xi = 0; xi < w; ++xi)
        y[(static_cast<size_t>(yi) * w + xi) * c + ci] = x[(static_cast<size_t>(ci) * h + yi) * w + xi];
  return y;
}

// Naive reference for one output element (double accumulation), NCHW indexing.
double ReferenceAt(const Geometry& g, const LayerData& d, int co, int oy, int ox) {
  const int cig = g.cin / g.group;
  const int cog = g.cout / g.group;
  const int grp = co / cog;
  double acc = d.bias[co];
  for (int ci = 0; ci < cig; ++ci) {
    const int cin_abs = grp * cig + ci;
    for (int ky = 0; ky < g.kh; ++ky) {
      const int iy = oy * g.sh - g.ph + ky;
      if (iy < 0 || iy >= g.h) continue;
      for (int kx = 0; kx < g.kw; ++kx) {
        const int ix = ox * g.sw - g.pw + kx;
        if (ix < 0 || ix >= g.w) continue;
        const double x = d.input_nchw[(static_cast<size_t>(cin_abs) * g.h + iy) * g.w + ix];
        const double wv = d.weights_oihw[((static_cast<size_t>(co) * cig + ci) * g.kh + ky) * g.kw + kx];
        acc += x * wv;
      }
    }
  }
  return acc;
}

// ---------------------------------------------------------------------------------------------------------------
// Runners: one prepared layer per library variant. Prepare() returns an error string ("" on success); it is the
// boundary where oneDNN's exceptions are caught, so nothing throws past it.

class Runner {
 public:
  virtual ~Runner() = default;
  virtual std::string Prepare(const Geometry& g, const LayerData& d) = 0;
  virtual void Run() = 0;
  // Output element in NCHW indexing; valid after Run() (and FinishForCheck()).
  virtual float OutAt(int c, int y, int x) const = 0;
  virtual void FinishForCheck() {}
  virtual std::string Info() const { return ""; }
};

class XnnRunner : public Runner {
 public:
  explicit XnnRunner(pthreadpool_t pool) : pool_(pool) {}
  ~XnnRunner() override {
    if (op_ != nullptr) xnn_delete_operator(op_);
  }

  std::string Prepare(const Geometry& g, const LayerData& d) override {
    g_ = g;
    // XNNPACK may read up to XNN_EXTRA_BYTES past the end of its input.
    input_ = NchwToNhwc(d.input_nchw, g.cin, g.h, g.w, XNN_EXTRA_BYTES / sizeof(float));
    output_.assign(g.out_size(), 0.0f);
    xnn_status st;
    if (g.fc) {
      // XNNPACK's FC kernel is [out][in], the same as ONNX Gemm with transB=1 / PyTorch Linear.
      st = xnn_create_fully_connected_nc_f32(g.cin, g.cout, g.cin, g.cout, d.weights_oihw.data(), d.bias.data(),
                                             -INFINITY, INFINITY, 0, &op_);
      if (st != xnn_status_success) return "xnn_create_fully_connected_nc_f32 failed: " + std::to_string(st);
      st = xnn_setup_fully_connected_nc_f32(op_, 1, input_.data(), output_.data(), pool_);
      if (st != xnn_status_success) return "xnn_setup_fully_connected_nc_f32 failed: " + std::to_string(st);
      return "";
    }
    // XNNPACK wants [G*Og][KH][KW][Ig]: OIHW -> OHWI.
    const int cig = g.cin / g.group;
    std::vector<float> w_ohwi(g.weight_size());
    for (int o = 0; o < g.cout; ++o)
      for (int i = 0; i < cig; ++i)
        for (int y = 0; y < g.kh; ++y)
          for (int x = 0; x < g.kw; ++x)
            w_ohwi[((static_cast<size_t>(o) * g.kh + y) * g.kw + x) * cig + i] =
                d.weights_oihw[((static_cast<size_t>(o) * cig + i) * g.kh + y) * g.kw + x];
    st = xnn_create_convolution2d_nhwc_f32(g.ph, g.pw, g.ph, g.pw, g.kh, g.kw, g.sh, g.sw, 1, 1, g.group, cig,
                                           g.cout / g.group, g.cin, g.cout, w_ohwi.data(), d.bias.data(), -INFINITY,
                                           INFINITY, 0, &op_);
    if (st != xnn_status_success) return "xnn_create_convolution2d_nhwc_f32 failed: " + std::to_string(st);
    st = xnn_setup_convolution2d_nhwc_f32(op_, 1, g.h, g.w, input_.data(), output_.data(), pool_);
    if (st != xnn_status_success) return "xnn_setup_convolution2d_nhwc_f32 failed: " + std::to_string(st);
    return "";
  }

  void Run() override { xnn_run_operator(op_, pool_); }

  float OutAt(int c, int y, int x) const override {
    return output_[(static_cast<size_t>(y) * g_.wo + x) * g_.cout + c];
  }

 private:
  pthreadpool_t pool_;
  xnn_operator_t op_ = nullptr;
  Geometry g_{};
  std::vector<float> input_, output_;
};

using dnnl::memory;
using Tag = memory::format_tag;

// Names the plain or blocked layout a oneDNN descriptor ended up with, for the report.
std::string LayoutName(const memory::desc& md) {
  static const std::pair<Tag, const char*> kCandidates[] = {
      {Tag::nchw, "nchw"},       {Tag::nhwc, "nhwc"},       {Tag::nChw16c, "nChw16c"}, {Tag::nChw8c, "nChw8c"},
      {Tag::nChw4c, "nChw4c"},   {Tag::nc, "nc"},           {Tag::chwn, "chwn"},
  };
  for (const auto& [tag, name] : kCandidates) {
    const bool rank_ok = static_cast<int>(md.dims().size()) == (tag == Tag::nc ? 2 : 4);
    if (rank_ok && memory::desc(md.dims(), md.data_type(), tag) == md)
      return name;
  }
  return "other";
}

class DnnlRunner : public Runner {
 public:
  enum class Mode { kNhwc, kAny, kAnyWithReorders };
  DnnlRunner(dnnl::engine* eng, dnnl::stream* strm, Mode mode) : eng_(eng), strm_(strm), mode_(mode) {}

  std::string Prepare(const Geometry& g, const LayerData& d) override {
    try {
      PrepareOrThrow(g, d);
    } catch (const dnnl::error& e) {
      return std::string("oneDNN: ") + e.what();
    }
    return "";
  }

  void Run() override {
    if (mode_ == Mode::kAnyWithReorders && src_reorder_) src_reorder_.execute(*strm_, user_src_, src_);
    prim_.execute(*strm_, args_);
    if (mode_ == Mode::kAnyWithReorders && dst_reorder_) dst_reorder_.execute(*strm_, dst_, user_dst_);
    strm_->wait();
  }

  void FinishForCheck() override {
    // Bring the output to NHWC (or nc) so OutAt can index it whatever layout the primitive chose.
    if (dst_reorder_) {
      dst_reorder_.execute(*strm_, dst_, user_dst_);
      strm_->wait();
    }
  }

  float OutAt(int c, int y, int x) const override {
    const float* p = static_cast<const float*>((dst_reorder_ ? user_dst_ : dst_).get_data_handle());
    return p[(static_cast<size_t>(y) * g_.wo + x) * g_.cout + c];
  }

  std::string Info() const override { return impl_ + " src=" + src_layout_ + " dst=" + dst_layout_; }

 private:
  void PrepareOrThrow(const Geometry& g, const LayerData& d) {
    g_ = g;
    const auto f32 = memory::data_type::f32;
    const bool any = mode_ != Mode::kNhwc;
    memory::desc user_src_md, user_dst_md, src_md, dst_md, user_w_md, w_md, b_md;
    if (g.fc) {
      user_src_md = memory::desc({1, g.cin}, f32, Tag::nc);
      user_dst_md = memory::desc({1, g.cout}, f32, Tag::nc);
      src_md = user_src_md;  // batch-1 FC activations are a plain vector either way
      dst_md = user_dst_md;
      user_w_md = memory::desc({g.cout, g.cin}, f32, Tag::oi);
      w_md = memory::desc({g.cout, g.cin}, f32, Tag::any);
      b_md = memory::desc({g.cout}, f32, Tag::x);
      dnnl::inner_product_forward::desc desc(dnnl::prop_kind::forward_inference, src_md, w_md, b_md, dst_md);
      dnnl::inner_product_forward::primitive_desc pd(desc, *eng_);
      Finish(pd, user_src_md, user_dst_md, user_w_md, d);
      return;
    }
    user_src_md = memory::desc({1, g.cin, g.h, g.w}, f32, Tag::nhwc);
    user_dst_md = memory::desc({1, g.cout, g.ho, g.wo}, f32, Tag::nhwc);
    src_md = any ? memory::desc({1, g.cin, g.h, g.w}, f32, Tag::any) : user_src_md;
    dst_md = any ? memory::desc({1, g.cout, g.ho, g.wo}, f32, Tag::any) : user_dst_md;
    if (g.group == 1) {
      user_w_md = memory::desc({g.cout, g.cin, g.kh, g.kw}, f32, Tag::oihw);
      w_md = memory::desc({g.cout, g.cin, g.kh, g.kw}, f32, Tag::any);
    } else {
      const memory::dims wd = {g.group, g.cout / g.group, g.cin / g.group, g.kh, g.kw};
      user_w_md = memory::desc(wd, f32, Tag::goihw);
      w_md = memory::desc(wd, f32, Tag::any);
    }
    b_md = memory::desc({g.cout}, f32, Tag::x);
    dnnl::convolution_forward::desc desc(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
                                         src_md, w_md, b_md, dst_md, {g.sh, g.sw}, {g.ph, g.pw}, {g.ph, g.pw});
    dnnl::convolution_forward::primitive_desc pd(desc, *eng_);
    Finish(pd, user_src_md, user_dst_md, user_w_md, d);
  }

  template <typename PD>
  void Finish(const PD& pd, const memory::desc& user_src_md, const memory::desc& user_dst_md,
              const memory::desc& user_w_md, const LayerData& d) {
    impl_ = pd.impl_info_str();
    src_layout_ = LayoutName(pd.src_desc());
    dst_layout_ = LayoutName(pd.dst_desc());
    // User-side NHWC buffers hold the canonical data; the primitive's own buffers use whatever it chose.
    user_src_ = memory(user_src_md, *eng_);
    std::vector<float> nhwc = g_.fc ? d.input_nchw : NchwToNhwc(d.input_nchw, g_.cin, g_.h, g_.w, 0);
    std::memcpy(user_src_.get_data_handle(), nhwc.data(), nhwc.size() * sizeof(float));
    src_ = memory(pd.src_desc(), *eng_);
    if (pd.src_desc() != user_src_md) {
      src_reorder_ = dnnl::reorder(user_src_, src_);
      src_reorder_.execute(*strm_, user_src_, src_);
    } else {
      std::memcpy(src_.get_data_handle(), nhwc.data(), nhwc.size() * sizeof(float));
    }
    dst_ = memory(pd.dst_desc(), *eng_);
    user_dst_ = memory(user_dst_md, *eng_);
    if (pd.dst_desc() != user_dst_md) dst_reorder_ = dnnl::reorder(dst_, user_dst_);
    // Pre-pack weights once, as a runtime does at load.
    memory user_w(user_w_md, *eng_, const_cast<float*>(d.weights_oihw.data()));
    weights_ = memory(pd.weights_desc(), *eng_);
    dnnl::reorder(user_w, weights_).execute(*strm_, user_w, weights_);
    bias_ = memory(pd.bias_desc(), *eng_);
    std::memcpy(bias_.get_data_handle(), d.bias.data(), d.bias.size() * sizeof(float));
    strm_->wait();
    prim_ = dnnl::primitive(pd);
    args_ = {{DNNL_ARG_SRC, src_}, {DNNL_ARG_WEIGHTS, weights_}, {DNNL_ARG_BIAS, bias_}, {DNNL_ARG_DST, dst_}};
  }

  dnnl::engine* eng_;
  dnnl::stream* strm_;
  Mode mode_;
  Geometry g_{};
  dnnl::primitive prim_;
  dnnl::reorder src_reorder_, dst_reorder_;
  memory user_src_, src_, dst_, user_dst_, weights_, bias_;
  std::unordered_map<int, memory> args_;
  std::string impl_, src_layout_, dst_layout_;
};

// ---------------------------------------------------------------------------------------------------------------
// Timing.

double Median(std::vector<double> v) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double Seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

long InvoluntarySwitches() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_nivcsw;
}

std::string LoadAvg() {
  double l[3] = {0, 0, 0};
  if (getloadavg(l, 3) != 3) return "?";
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.2f %.2f %.2f", l[0], l[1], l[2]);
  return buf;
}

struct Options {
  int threads = 2;
  int rounds = 7;
  double batch_ms = 15.0;  // each library runs back-to-back batches of about this long, then the next one
  // Time with the calling thread's CPU clock instead of the wall clock: immune to preemption on a loaded machine,
  // but only meaningful with one thread (other threads' work would not be counted).
  bool thread_cpu_clock = false;
  std::string model;  // only the layers of this zoo model
  std::string machine_note;
  std::string json_path = "bench/kernel_libs/results.json";
};

bool ParseArgs(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&](const char* name) -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", name);
        return nullptr;
      }
      return argv[++i];
    };
    const char* v = nullptr;
    if (a == "--threads" && (v = next("--threads"))) {
      o->threads = std::atoi(v);
    } else if (a == "--rounds" && (v = next("--rounds"))) {
      o->rounds = std::atoi(v);
    } else if (a == "--batch-ms" && (v = next("--batch-ms"))) {
      o->batch_ms = std::atof(v);
    } else if (a == "--model" && (v = next("--model"))) {
      o->model = v;
    } else if (a == "--thread-cpu-clock") {
      o->thread_cpu_clock = true;
    } else if (a == "--note" && (v = next("--note"))) {
      o->machine_note = v;
    } else if (a == "--json" && (v = next("--json"))) {
      o->json_path = v;
    } else {
      std::fprintf(stderr,
                   "usage: %s [--threads N] [--rounds R] [--batch-ms MS] [--model NAME] [--note TEXT]\n"
                   "          [--thread-cpu-clock (with --threads 1)] [--json PATH]\n",
                   argv[0]);
      return false;
    }
  }
  if (o->thread_cpu_clock && o->threads != 1) {
    std::fprintf(stderr, "--thread-cpu-clock needs --threads 1\n");
    return false;
  }
  return o->threads > 0 && o->rounds > 0 && o->batch_ms > 0;
}

bool ModelUses(const std::string& model, int layer) {
  for (const auto& m : kZooModels) {
    if (model != m.name) continue;
    for (int u = 0; u < m.num_uses; ++u)
      if (m.uses[u].layer == layer) return true;
  }
  return false;
}

std::string CpuModelName() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "?";
}

constexpr int kNumVariants = 4;
const char* const kVariantNames[kNumVariants] = {"xnnpack", "onednn_nhwc", "onednn_any", "onednn_any+ro"};

struct LayerResult {
  int index;
  Geometry g;
  std::string desc, first_use;
  double median_us[kNumVariants], min_us[kNumVariants], create_ms[kNumVariants];
  int samples[kNumVariants], clean_samples[kNumVariants];
  double median_all_us[kNumVariants];  // median including preempted samples
  bool used_min[kNumVariants];         // too few clean samples: median_us holds the minimum
  double max_err[kNumVariants];  // vs the naive reference, on sampled output points
  double max_ref;
  std::string error[kNumVariants], info[kNumVariants];
};

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  if (!ParseArgs(argc, argv, &opt)) return 2;

  // Same thread count for both: oneDNN runs on OpenMP, XNNPACK on a pthreadpool. In both the calling thread is
  // one of the N workers.
  omp_set_dynamic(0);
  omp_set_num_threads(opt.threads);
  if (xnn_initialize(nullptr) != xnn_status_success) {
    std::fprintf(stderr, "xnn_initialize failed (unsupported CPU?)\n");
    return 1;
  }
  pthreadpool_t pool = pthreadpool_create(opt.threads);
  if (pool == nullptr) {
    std::fprintf(stderr, "pthreadpool_create failed\n");
    return 1;
  }
  dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  dnnl::stream strm(eng);
  const std::string load_before = LoadAvg();
  const auto t_start = Clock::now();
  std::printf("cpu=%s threads=%d clock=%s rounds=%d batch=%.0fms loadavg(before)=%s\n", CpuModelName().c_str(),
              opt.threads, opt.thread_cpu_clock ? "thread_cpu" : "wall", opt.rounds, opt.batch_ms, load_before.c_str());
  std::printf("%4s %-34s %8s | %10s %10s %10s %10s| %7s %7s | %s\n", "#", "layer", "MFLOP", "xnn us", "dnnl_nhwc",
              "dnnl_any", "any+ro", "xnn GF/s", "dnnl GF/s", "oneDNN impl (nhwc / any)");

  std::vector<LayerResult> results;
  const int num_layers = static_cast<int>(std::size(kZooLayers));
  for (int li = 0; li < num_layers; ++li) {
    const LayerShape& shape = kZooLayers[li];
    const Geometry g = MakeGeometry(shape);
    LayerResult r{};
    r.index = li;
    r.g = g;
    r.desc = Describe(g);
    r.first_use = shape.first_use;
    if (!opt.model.empty() && !ModelUses(opt.model, li)) continue;
    const LayerData data = MakeData(g, 1234u + li);

    std::unique_ptr<Runner> runners[kNumVariants] = {
        std::make_unique<XnnRunner>(pool),
        std::make_unique<DnnlRunner>(&eng, &strm, DnnlRunner::Mode::kNhwc),
        std::make_unique<DnnlRunner>(&eng, &strm, DnnlRunner::Mode::kAny),
        std::make_unique<DnnlRunner>(&eng, &strm, DnnlRunner::Mode::kAnyWithReorders),
    };
    bool ok[kNumVariants];
    double est_s[kNumVariants];
    for (int v = 0; v < kNumVariants; ++v) {
      const auto t0 = Clock::now();
      r.error[v] = runners[v]->Prepare(g, data);
      r.create_ms[v] = Seconds(t0, Clock::now()) * 1e3;
      ok[v] = r.error[v].empty();
      r.info[v] = ok[v] ? runners[v]->Info() : r.error[v];
      est_s[v] = 0;
      if (!ok[v]) continue;
      // Warm-up (first-touch, JIT, caches), then a rough per-run estimate to size the batches.
      runners[v]->Run();
      const auto t1 = Clock::now();
      runners[v]->Run();
      runners[v]->Run();
      est_s[v] = Seconds(t1, Clock::now()) / 2;
    }

    // Alternating batches: in round k the variants start at k % n, so neither library systematically runs right
    // after the other's worker threads went idle. The first run of every batch is untimed: it absorbs the other
    // library's threads still spinning and refills caches with this variant's packed weights.
    // On a shared machine a sample during which any of our threads was preempted measures the scheduler, not the
    // library, so samples are split by whether the process saw an involuntary context switch (getrusage).
    std::vector<double> clean[kNumVariants], all[kNumVariants];
    for (int round = 0; round < opt.rounds; ++round) {
      for (int k = 0; k < kNumVariants; ++k) {
        const int v = (round + k) % kNumVariants;
        if (!ok[v]) continue;
        const int reps = std::clamp(static_cast<int>(opt.batch_ms * 1e-3 / std::max(est_s[v], 1e-7)), 1, 50);
        runners[v]->Run();
        for (int i = 0; i < reps; ++i) {
          const long before = InvoluntarySwitches();
          double us;
          if (opt.thread_cpu_clock) {
            const double c0 = ThreadCpuSeconds();
            runners[v]->Run();
            us = (ThreadCpuSeconds() - c0) * 1e6;
          } else {
            const auto t0 = Clock::now();
            runners[v]->Run();
            us = Seconds(t0, Clock::now()) * 1e6;
          }
          all[v].push_back(us);
          // With the thread CPU clock preemption does not inflate the sample, so every sample counts as clean.
          if (opt.thread_cpu_clock || InvoluntarySwitches() == before) clean[v].push_back(us);
        }
      }
    }

    // Correctness: every variant against the naive reference at up to 2048 sampled output points (all points for
    // small layers); the reference is double-accumulated.
    std::mt19937 rng(99u + li);
    const size_t total = g.out_size();
    const size_t points = std::min<size_t>(total, 2048);
    std::vector<std::array<int, 3>> where;
    std::vector<double> ref;
    for (size_t p = 0; p < points; ++p) {
      const size_t idx = points == total ? p : std::uniform_int_distribution<size_t>(0, total - 1)(rng);
      const int c = static_cast<int>(idx / (static_cast<size_t>(g.ho) * g.wo));
      const int rem = static_cast<int>(idx % (static_cast<size_t>(g.ho) * g.wo));
      where.push_back({c, rem / g.wo, rem % g.wo});
      ref.push_back(ReferenceAt(g, data, c, rem / g.wo, rem % g.wo));
    }
    r.max_ref = 0;
    for (double x : ref) r.max_ref = std::max(r.max_ref, std::fabs(x));
    for (int v = 0; v < kNumVariants; ++v) {
      // The median of unpreempted samples when there are enough of them; otherwise (long layers on a loaded
      // machine) the minimum, which is the best estimate of the unloaded time. Flagged in the output.
      r.samples[v] = static_cast<int>(all[v].size());
      r.clean_samples[v] = static_cast<int>(clean[v].size());
      r.min_us[v] = all[v].empty() ? NAN : *std::min_element(all[v].begin(), all[v].end());
      r.median_all_us[v] = Median(all[v]);
      r.used_min[v] = clean[v].size() < 5;
      r.median_us[v] = r.used_min[v] ? r.min_us[v] : Median(clean[v]);
      r.max_err[v] = NAN;
      if (!ok[v]) continue;
      runners[v]->FinishForCheck();
      double err = 0;
      for (size_t p = 0; p < where.size(); ++p)
        err = std::max(err, std::fabs(runners[v]->OutAt(where[p][0], where[p][1], where[p][2]) - ref[p]));
      r.max_err[v] = err;
    }
    const double gflop = g.flops() * 1e-9;
    // '*' marks a time that is the minimum because too few samples escaped preemption.
    std::printf("%4d %-34s %8.2f |", li, r.desc.c_str(), gflop * 1e3);
    for (int v = 0; v < kNumVariants; ++v) std::printf(" %9.1f%c", r.median_us[v], r.used_min[v] ? '*' : ' ');
    std::printf("| %7.1f %7.1f | %s / %s\n", gflop / (r.median_us[0] * 1e-6),
                gflop / (std::min(r.median_us[1], r.median_us[2]) * 1e-6), r.info[1].c_str(), r.info[2].c_str());
    for (int v = 0; v < kNumVariants; ++v)
      if (!ok[v]) std::printf("     %s: %s\n", kVariantNames[v], r.error[v].c_str());
    std::fflush(stdout);
    results.push_back(std::move(r));
  }

  // Accuracy summary: tolerance relative to the output magnitude, generous enough for any summation order.
  int bad = 0;
  double worst[kNumVariants] = {0, 0, 0, 0};
  for (const auto& r : results)
    for (int v = 0; v < kNumVariants; ++v) {
      if (!r.error[v].empty()) continue;
      const double rel = r.max_err[v] / std::max(1.0, r.max_ref);
      worst[v] = std::max(worst[v], rel);
      if (!(rel <= 1e-4)) {
        ++bad;
        std::printf("ACCURACY FAIL layer %d %s %s: max|err| %.3g (max|ref| %.3g)\n", r.index, r.desc.c_str(),
                    kVariantNames[v], r.max_err[v], r.max_ref);
      }
    }
  std::printf("\naccuracy vs naive reference: worst max|err|/max(1,max|ref|): xnnpack %.2g, onednn_nhwc %.2g, "
              "onednn_any %.2g, onednn_any+ro %.2g; %d failures\n",
              worst[0], worst[1], worst[2], worst[3], bad);

  // Per-model totals (sum over the model's conv+FC layers, times multiplicity) and geometric-mean ratios.
  nlohmann::json jmodels = nlohmann::json::array();
  std::printf("\n%-14s %7s | %10s %10s %10s %10s | %9s %9s\n", "model", "GFLOP", "xnn ms", "dnnl_nhwc", "dnnl_any",
              "any+ro", "xnn/nhwc", "xnn/any");
  double log_sum[3] = {0, 0, 0};
  int nmodels = 0;
  for (const auto& m : kZooModels) {
    double tot[kNumVariants] = {0, 0, 0, 0}, flops = 0;
    bool complete = true;
    for (int u = 0; u < m.num_uses; ++u) {
      auto it = std::find_if(results.begin(), results.end(),
                             [&](const LayerResult& r) { return r.index == m.uses[u].layer; });
      if (it == results.end()) {
        complete = false;
        break;
      }
      flops += it->g.flops() * m.uses[u].count;
      for (int v = 0; v < kNumVariants; ++v) tot[v] += it->median_us[v] * m.uses[u].count;
    }
    if (!complete) continue;
    std::printf("%-14s %7.3f | %10.3f %10.3f %10.3f %10.3f | %9.3f %9.3f\n", m.name, flops * 1e-9, tot[0] * 1e-3,
                tot[1] * 1e-3, tot[2] * 1e-3, tot[3] * 1e-3, tot[0] / tot[1], tot[0] / tot[2]);
    log_sum[0] += std::log(tot[0] / tot[1]);
    log_sum[1] += std::log(tot[0] / tot[2]);
    log_sum[2] += std::log(tot[0] / tot[3]);
    ++nmodels;
    jmodels.push_back({{"model", m.name},
                       {"gflop", flops * 1e-9},
                       {"total_ms", {{"xnnpack", tot[0] * 1e-3}, {"onednn_nhwc", tot[1] * 1e-3},
                                     {"onednn_any", tot[2] * 1e-3}, {"onednn_any_with_reorders", tot[3] * 1e-3}}}});
  }
  double layer_log[3] = {0, 0, 0};
  int nl = 0;
  for (const auto& r : results) {
    if (!(r.median_us[0] > 0 && r.median_us[1] > 0 && r.median_us[2] > 0)) continue;
    layer_log[0] += std::log(r.median_us[0] / r.median_us[1]);
    layer_log[1] += std::log(r.median_us[0] / r.median_us[2]);
    layer_log[2] += std::log(r.median_us[0] / r.median_us[3]);
    ++nl;
  }
  auto gm = [](double s, int n) { return n ? std::exp(s / n) : NAN; };
  std::printf("geomean XNNPACK/oneDNN time ratio over %d models: vs nhwc %.3f, vs any %.3f, vs any+reorders %.3f\n",
              nmodels, gm(log_sum[0], nmodels), gm(log_sum[1], nmodels), gm(log_sum[2], nmodels));
  std::printf("geomean XNNPACK/oneDNN time ratio over %d layers: vs nhwc %.3f, vs any %.3f, vs any+reorders %.3f\n",
              nl, gm(layer_log[0], nl), gm(layer_log[1], nl), gm(layer_log[2], nl));
  const double wall = Seconds(t_start, Clock::now());
  const std::string load_after = LoadAvg();
  std::printf("wall %.1f s, loadavg(after)=%s\n", wall, load_after.c_str());

  nlohmann::json jlayers = nlohmann::json::array();
  for (const auto& r : results) {
    nlohmann::json jl = {{"index", r.index},
                         {"layer", r.desc},
                         {"first_use", r.first_use},
                         {"mflop", r.g.flops() * 1e-6},
                         {"max_abs_ref", r.max_ref}};
    for (int v = 0; v < kNumVariants; ++v) {
      jl[kVariantNames[v]] = {{"time_us", r.median_us[v]},          {"time_is_min", r.used_min[v]},
                              {"median_all_us", r.median_all_us[v]}, {"min_us", r.min_us[v]},
                              {"samples", r.samples[v]},             {"clean_samples", r.clean_samples[v]},
                              {"create_ms", r.create_ms[v]},         {"max_abs_err", r.max_err[v]},
                              {"info", r.info[v]}};
    }
    jlayers.push_back(jl);
  }
  char date[32];
  const std::time_t now = std::time(nullptr);
  std::strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", std::localtime(&now));
  nlohmann::json out = {
      {"date", date},
      {"cpu", CpuModelName()},
      {"online_cpus", sysconf(_SC_NPROCESSORS_ONLN)},
      {"note", opt.machine_note},
      {"threads", opt.threads},
      {"clock", opt.thread_cpu_clock ? "thread_cpu" : "wall"},
      {"rounds", opt.rounds},
      {"batch_ms", opt.batch_ms},
      {"loadavg_before", load_before},
      {"loadavg_after", load_after},
      {"wall_s", wall},
      {"onednn_version", std::to_string(dnnl_version()->major) + "." + std::to_string(dnnl_version()->minor) + "." +
                             std::to_string(dnnl_version()->patch)},
      {"accuracy_failures", bad},
      {"geomean_xnn_over_onednn_models", {{"nhwc", gm(log_sum[0], nmodels)}, {"any", gm(log_sum[1], nmodels)},
                                          {"any_with_reorders", gm(log_sum[2], nmodels)}}},
      {"geomean_xnn_over_onednn_layers", {{"nhwc", gm(layer_log[0], nl)}, {"any", gm(layer_log[1], nl)},
                                          {"any_with_reorders", gm(layer_log[2], nl)}}},
      {"models", jmodels}};
  // One layer per line keeps the file small and diffable.
  std::string text = out.dump(1);
  text.pop_back();  // the closing brace
  text += ",\n \"layers\": [\n";
  for (size_t i = 0; i < jlayers.size(); ++i)
    text += "  " + jlayers[i].dump() + (i + 1 < jlayers.size() ? ",\n" : "\n");
  text += " ]\n}\n";
  std::ofstream f(opt.json_path);
  f << text;
  if (!f) {
    std::fprintf(stderr, "could not write %s\n", opt.json_path.c_str());
    return 1;
  }
  std::printf("wrote %s\n", opt.json_path.c_str());
  pthreadpool_destroy(pool);
  xnn_deinitialize();
  return bad == 0 ? 0 : 1;
}
