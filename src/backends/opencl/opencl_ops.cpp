#include "backends/opencl/opencl_ops.h"

#include <cmath>
#include <limits>

namespace deepx::opencl {

ClOp::~ClOp() = default;

ClActivation ToClActivation(const FusedActivation& act) {
  auto param = [&](size_t i, float fallback) { return i < act.params.size() ? act.params[i] : fallback; };
  const std::string& k = act.kind;
  if (k == "Relu") return {kActRelu};
  if (k == "LeakyRelu") return {kActLeakyRelu, param(0, 0.01f)};
  if (k == "Clip") return {kActClip, param(0, -INFINITY), param(1, INFINITY)};
  if (k == "Sigmoid") return {kActSigmoid};
  if (k == "HardSigmoid") return {kActHardSigmoid, param(0, 0.2f), param(1, 0.5f)};
  if (k == "HardSwish") return {kActHardSwish};
  if (k == "Tanh") return {kActTanh};
  return {kActNone};
}

Status ClSupports(const Graph& g, const Node& n) {
  if (!n.domain.empty() && n.domain != "ai.onnx")
    return Unimplemented(g.NodeLabel(n) + ": domain '" + n.domain + "' has no OpenCL kernels");
  // float32 only; every value must also fit the kernels' int indexing.
  for (size_t i = 0; i < n.outputs.size(); ++i) {
    if (n.outputs[i] == kNoValue) continue;
    const Value& v = g.value(n.outputs[i]);
    if (v.dtype != DataType::kFloat32)
      return Unimplemented(g.NodeLabel(n) + ": output '" + v.name + "' is " + DataTypeName(v.dtype) +
                           "; the OpenCL backend runs float32 only");
    if (NumElements(v.shape) >= std::numeric_limits<int32_t>::max())
      return Unimplemented(g.NodeLabel(n) + ": output '" + v.name + "' has too many elements for int indexing");
  }
  for (Status s : {CheckGemmFamily(g, n), CheckEltwiseFamily(g, n), CheckTensorFamily(g, n), CheckNnFamily(g, n)}) {
    if (s.code() != StatusCode::kNotFound) return s;  // NotFound: not this family's op
  }
  return Unimplemented(g.NodeLabel(n) + ": no OpenCL kernel for " + n.op_type);
}

Result<std::unique_ptr<ClOp>> MakeClOp(const ClOpContext& ctx) {
  const Graph& g = ctx.graph;
  const Node& n = ctx.node;
  if (CheckGemmFamily(g, n).code() != StatusCode::kNotFound) return MakeGemmFamilyOp(ctx);
  if (CheckEltwiseFamily(g, n).code() != StatusCode::kNotFound) return MakeEltwiseFamilyOp(ctx);
  if (CheckTensorFamily(g, n).code() != StatusCode::kNotFound) return MakeTensorFamilyOp(ctx);
  if (CheckNnFamily(g, n).code() != StatusCode::kNotFound) return MakeNnFamilyOp(ctx);
  return Unimplemented(g.NodeLabel(n) + ": no OpenCL kernel for " + n.op_type);
}

Status Launch(ClDevice& device, cl_kernel k, int64_t n, const char* what) {
  if (n <= 0) return Status::Ok();
  constexpr size_t kGroup = 64;
  const size_t global = (static_cast<size_t>(n) + kGroup - 1) / kGroup * kGroup;
  const size_t local = kGroup;
  return ClCheck(clEnqueueNDRangeKernel(device.queue(), k, 1, nullptr, &global, &local, 0, nullptr, nullptr),
                 std::string("enqueueing kernel ") + what);
}

ClKernel& ClKernel::operator=(ClKernel&& o) noexcept {
  if (this != &o) {
    if (k_) clReleaseKernel(k_);
    k_ = o.k_;
    o.k_ = nullptr;
  }
  return *this;
}
ClKernel::~ClKernel() {
  if (k_) clReleaseKernel(k_);
}
ClMem& ClMem::operator=(ClMem&& o) noexcept {
  if (this != &o) {
    if (m_) clReleaseMemObject(m_);
    m_ = o.m_;
    o.m_ = nullptr;
  }
  return *this;
}
ClMem::~ClMem() {
  if (m_) clReleaseMemObject(m_);
}

Result<ClKernel> MakeKernel(ClDevice& device, const char* name) {
  DX_ASSIGN_OR_RETURN(cl_kernel k, device.CreateKernel(name));
  return ClKernel(k);
}

Result<ClMem> UploadFloats(ClDevice& device, const std::vector<float>& values) {
  const size_t bytes = values.size() * sizeof(float);
  DX_ASSIGN_OR_RETURN(cl_mem m, device.Allocate(bytes));
  ClMem mem(m);
  if (bytes > 0) {
    DX_RETURN_IF_ERROR(
        ClCheck(clEnqueueWriteBuffer(device.queue(), m, CL_TRUE, 0, bytes, values.data(), 0, nullptr, nullptr),
                "uploading " + std::to_string(bytes) + " bytes to " + device.name()));
  }
  return mem;
}

Status ClBlastCheck(clblast::StatusCode s, const std::string& what) {
  if (s == clblast::StatusCode::kSuccess) return Status::Ok();
  return Internal(what + ": CLBlast status " + std::to_string(static_cast<int>(s)));
}

std::vector<float> ConstantFloats(const Value& v) {
  const Tensor& t = v.constant;
  std::vector<float> out(static_cast<size_t>(t.num_elements()));
  if (t.dtype() == DataType::kFloat32) {
    const float* p = t.data<float>();
    out.assign(p, p + out.size());
  } else {
    for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<float>(t.GetAsDouble(static_cast<int64_t>(i)));
  }
  return out;
}

cl_int8 Dims8(const Shape& s) {
  cl_int8 r;
  for (int i = 0; i < 8; ++i) r.s[i] = 1;
  const size_t off = 8 - s.size();
  for (size_t i = 0; i < s.size(); ++i) r.s[off + i] = static_cast<cl_int>(s[i]);
  return r;
}

cl_int8 BroadcastStrides8(const Shape& s) {
  cl_int8 r;
  for (int i = 0; i < 8; ++i) r.s[i] = 0;
  int64_t stride = 1;
  for (size_t j = s.size(); j-- > 0;) {
    const size_t pos = 8 - s.size() + j;
    r.s[pos] = s[j] == 1 ? 0 : static_cast<cl_int>(stride);
    stride *= s[j];
  }
  return r;
}

ClWindow ToClWindow(const nn::Window& w, int64_t channels) {
  ClWindow r;
  auto fill = [&](const std::vector<int64_t>& v, int64_t pad_value, cl_int4& out, int first) {
    for (int i = 0; i < 4; ++i) out.s[i] = static_cast<cl_int>(pad_value);
    const size_t off = 3 - v.size();
    for (size_t i = 0; i < v.size(); ++i) out.s[first + off + i] = static_cast<cl_int>(v[i]);
  };
  fill(w.in, 1, r.in, 1);
  r.in.s[0] = static_cast<cl_int>(channels);
  fill(w.kernel, 1, r.k, 0);
  fill(w.strides, 1, r.s, 0);
  fill(w.pad_begin, 0, r.pb, 0);
  fill(w.pad_end, 0, r.pe, 0);
  fill(w.dilations, 1, r.dl, 0);
  fill(w.out, 1, r.out, 0);
  return r;
}

}  // namespace deepx::opencl
