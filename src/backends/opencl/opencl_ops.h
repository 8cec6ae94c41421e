// Node kernels of the OpenCL backend: one ClOp per node, built once at Prepare (geometry resolved, kernel objects
// created, weights transformed/uploaded where the op needs its own form of them) and enqueued once per run on the
// device's in-order queue with that run's buffers.
//
// Families, one file each: opencl_gemm_ops.cpp (Conv, Gemm, MatMul on CLBlast; direct kernel for thin groups),
// opencl_eltwise_ops.cpp (unary, Clip, binary with broadcasting), opencl_tensor_ops.cpp (Concat, Transpose, Pad,
// views: Reshape/Flatten/Squeeze/Unsqueeze/Identity), opencl_nn_ops.cpp (pools, BatchNormalization, LRN,
// Softmax/LogSoftmax). ClSupports() is the single place deciding what runs here; MakeClOp() may assume it passed.
#pragma once

#include <clblast.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "backends/opencl/opencl_device.h"
#include "core/graph.h"
#include "ops/fused_activation.h"
#include "ops/nn/nn_common.h"

namespace deepx::opencl {

// Codes of `activate` in opencl_kernels.cl.inc.
enum ActivationCode : int {
  kActNone = 0,
  kActRelu,
  kActLeakyRelu,
  kActClip,
  kActSigmoid,
  kActHardSigmoid,
  kActHardSwish,
  kActTanh,
  kActExp,
  kActLog,
  kActAbs,
  kActSqrt,
  kActNeg,
  kActElu,
  kActSelu,
  kActReciprocal,
  kActFloor,
  kActCeil,
  kActSoftplus,
  kActSoftsign,
  kActErf,
  kActSin,
  kActCos,
  kActIdentity,
};

struct ClActivation {
  int code = kActNone;
  float p0 = 0, p1 = 0;
};
// The kernel form of a fused activation (ops/fused_activation.h); kind must be fusable.
ClActivation ToClActivation(const FusedActivation& act);

// Device buffers of one node for one run, following node.inputs / node.outputs (nullptr: omitted, or an input
// the op does not read from the device).
struct ClArgs {
  std::vector<cl_mem> in;
  std::vector<cl_mem> out;
};

class ClOp {
 public:
  virtual ~ClOp();
  virtual Status Enqueue(const ClArgs& args) = 0;
  // Whether input i must be passed as a device buffer. Constant inputs an op reads on the host at Prepare (shapes,
  // axes, folded BatchNorm statistics) answer false, so the executable does not upload them.
  virtual bool reads_device_input(size_t i) const { return true; }
  // True for ops whose output is input 0's bytes under another shape (Reshape, Flatten, ...): the executable then
  // hands them the same buffer for both, and Enqueue copies only when they differ.
  virtual bool is_view() const { return false; }
  // Device bytes the op holds between runs (its own weight forms, scratch).
  virtual int64_t resident_bytes() const { return resident_; }
  virtual std::string impl_name() const = 0;

 protected:
  int64_t resident_ = 0;
};

struct ClOpContext {
  const Graph& graph;
  const Node& node;
  std::shared_ptr<ClDevice> device;
  const Value& in(size_t i) const { return graph.value(node.inputs[i]); }
  bool has_in(size_t i) const { return i < node.inputs.size() && node.inputs[i] != kNoValue; }
  const Value& out(size_t i) const { return graph.value(node.outputs[i]); }
};

// OK when node n of g has an OpenCL kernel here; UNIMPLEMENTED with the reason otherwise.
Status ClSupports(const Graph& g, const Node& n);
// The op for a node ClSupports accepted.
Result<std::unique_ptr<ClOp>> MakeClOp(const ClOpContext& ctx);

// Family factories and their support checks (called by the two above).
Status CheckGemmFamily(const Graph& g, const Node& n);
Result<std::unique_ptr<ClOp>> MakeGemmFamilyOp(const ClOpContext& ctx);  // Conv, Gemm, MatMul
Status CheckEltwiseFamily(const Graph& g, const Node& n);
Result<std::unique_ptr<ClOp>> MakeEltwiseFamilyOp(const ClOpContext& ctx);
Status CheckTensorFamily(const Graph& g, const Node& n);
Result<std::unique_ptr<ClOp>> MakeTensorFamilyOp(const ClOpContext& ctx);
Status CheckNnFamily(const Graph& g, const Node& n);
Result<std::unique_ptr<ClOp>> MakeNnFamilyOp(const ClOpContext& ctx);

// --- helpers shared by the families ---------------------------------------------------------------------------

// Sets kernel arguments in order (each by value: cl_mem, int, float, cl_int4, cl_int8, ...).
template <typename... Args>
Status SetArgs(cl_kernel k, const Args&... args) {
  cl_uint i = 0;
  cl_int err = CL_SUCCESS;
  ((err = err == CL_SUCCESS ? clSetKernelArg(k, i++, sizeof(Args), &args) : err), ...);
  return ClCheck(err, "setting kernel argument " + std::to_string(i - 1));
}
// Enqueues a 1-D range of at least n work items (rounded up to the work-group size; kernels guard their index).
Status Launch(ClDevice& device, cl_kernel k, int64_t n, const char* what);
// Owns a cl_kernel.
class ClKernel {
 public:
  ClKernel() = default;
  explicit ClKernel(cl_kernel k) : k_(k) {}
  ClKernel(ClKernel&& o) noexcept : k_(o.k_) { o.k_ = nullptr; }
  ClKernel& operator=(ClKernel&& o) noexcept;
  ~ClKernel();
  cl_kernel get() const { return k_; }

 private:
  cl_kernel k_ = nullptr;
};
// Owns a cl_mem.
class ClMem {
 public:
  ClMem() = default;
  explicit ClMem(cl_mem m) : m_(m) {}
  ClMem(ClMem&& o) noexcept : m_(o.m_) { o.m_ = nullptr; }
  ClMem& operator=(ClMem&& o) noexcept;
  ~ClMem();
  cl_mem get() const { return m_; }

 private:
  cl_mem m_ = nullptr;
};
Result<ClKernel> MakeKernel(ClDevice& device, const char* name);
// A device buffer holding `values` (written before any later command runs: blocking write at Prepare).
Result<ClMem> UploadFloats(ClDevice& device, const std::vector<float>& values);
// Maps a CLBlast status to a Status naming `what`.
Status ClBlastCheck(clblast::StatusCode s, const std::string& what);
// Every float of a constant value, as float.
std::vector<float> ConstantFloats(const Value& v);
// dims padded with leading 1s to 8 / 3 entries (kernels take fixed-width vectors).
cl_int8 Dims8(const Shape& s);
// Element strides of `s` read as a numpy broadcast operand (right-aligned against the output), padded to 8;
// 0 along broadcast dims.
cl_int8 BroadcastStrides8(const Shape& s);
// A sliding window (Conv, pools) over 1 to 3 spatial dims as the kernels take it: spatial dims padded with leading
// 1s to (D, H, W); `in` is (channels, D, H, W), the others (D, H, W, unused).
struct ClWindow {
  cl_int4 in, k, s, pb, pe, dl, out;
  int64_t out_size() const { return int64_t{out.s[0]} * out.s[1] * out.s[2]; }
  int64_t in_size() const { return int64_t{in.s[1]} * in.s[2] * in.s[3]; }
  int64_t k_size() const { return int64_t{k.s[0]} * k.s[1] * k.s[2]; }
};
ClWindow ToClWindow(const nn::Window& w, int64_t channels);

}  // namespace deepx::opencl
