// OpenCL backend (mobile GPUs: Adreno, Mali; Intel/NVIDIA GPUs; PoCL on CPUs for CI).
//
// Devices: every device of every platform, GPUs first, named "opencl:0", "opencl:1", ... ("opencl" is device 0).
// Memory: tensors on the device are ClBuffers (location "opencl:N", no host pointer); ToDevice/ToHost move them
// through the device's in-order command queue — uploads are enqueued without waiting, and the one blocking
// command of an inference is the final read of its outputs. Weights are uploaded once, at Prepare.
// Kernels: CLBlast for Gemm/MatMul and convolution as im2col + GEMM; own OpenCL C kernels (one program per device
// and process, built at first use) for the rest — see opencl_ops.h for the list. Supports() says UNIMPLEMENTED,
// with the reason, for any other node (and for dtypes other than float32); a Session runs those on the host
// fallback backend.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "runtime/backend.h"

namespace deepx {

// `name` is "opencl" (device 0) or "opencl:N".
Result<std::shared_ptr<Backend>> CreateOpenClBackend(const std::string& name, const BackendConfig& config);
// "opencl:0", "opencl:1", ... for the devices present (all platforms, GPUs first); empty without OpenCL devices.
std::vector<std::string> OpenClDeviceNames();

// Measured cost of moving tensors between host and an OpenCL device through ToDevice/ToHost: bandwidth from a
// large buffer each way, latency from a 4-byte round trip.
struct TransferCost {
  double to_device_gbps = 0;  // large-buffer host -> device bandwidth, GB/s
  double to_host_gbps = 0;    // large-buffer device -> host bandwidth, GB/s
  double latency_us = 0;      // round trip of a 4-byte tensor (upload + download), microseconds
};
// Times ToDevice/ToHost of `bytes`-sized float tensors (best of `repeats`) on OpenCL device `name`.
Result<TransferCost> MeasureOpenClTransfers(const std::string& name, size_t bytes = size_t{16} << 20, int repeats = 5);

// Seconds the device's kernel program took to build in this process (0 if not built yet); for reports.
double OpenClProgramBuildSeconds(const std::string& name);

}  // namespace deepx
