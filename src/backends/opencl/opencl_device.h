// OpenCL devices as the backend sees them: discovery, one shared context per device, device buffers.
//
// Every backend instance naming the same device shares one ClDevice (context, in-order queue, kernel program)
// for the life of the process. Two reasons: PoCL and CLBlast compile kernels per context, which costs seconds
// (sharing means a process pays once, not once per Session), and buffers of two instances of the same device can
// be passed between them without copies.
#pragma once

#define CL_USE_DEPRECATED_OPENCL_1_2_APIS
#include <CL/cl.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "deepx/status.h"
#include "deepx/tensor.h"

namespace deepx::opencl {

// "CL_OUT_OF_RESOURCES (-5)" and the like.
std::string ClErrorName(cl_int err);
// Ok for CL_SUCCESS, else Internal("<what>: <error name>").
Status ClCheck(cl_int err, const std::string& what);

struct ClDeviceEntry {
  cl_platform_id platform = nullptr;
  cl_device_id device = nullptr;
  bool is_gpu = false;
  std::string description;  // "NVIDIA CUDA / NVIDIA H100", "Portable Computing Language / pthread-..."
};

// Every device of every platform, GPUs first (then the rest, each group in platform order). Enumerated once.
const std::vector<ClDeviceEntry>& ClDevices();

class ClDevice {
 public:
  // The process-wide device `index` of ClDevices(), created on first use.
  static Result<std::shared_ptr<ClDevice>> Get(int index);

  int index() const { return index_; }
  const std::string& name() const { return name_; }  // "opencl:N"
  const ClDeviceEntry& entry() const { return entry_; }
  cl_context context() const { return context_; }
  cl_command_queue queue() const { return queue_; }
  cl_device_id device() const { return entry_.device; }
  int64_t global_memory_bytes() const { return global_memory_; }

  // The program of all the backend's kernels, built on first call (once per process and device) and cached.
  Result<cl_program> Program();
  // Seconds the program build took (0 until built).
  double program_build_seconds() const { return build_seconds_; }
  // A new kernel object of the program (cl_kernel holds its arguments, so each node owns its own).
  Result<cl_kernel> CreateKernel(const char* name);

  // An uninitialised device buffer of `bytes` (at least 1).
  Result<cl_mem> Allocate(size_t bytes);

 private:
  ClDevice() = default;
  int index_ = 0;
  std::string name_;
  ClDeviceEntry entry_;
  cl_context context_ = nullptr;
  cl_command_queue queue_ = nullptr;
  int64_t global_memory_ = 0;
  std::mutex program_mu_;
  cl_program program_ = nullptr;
  double build_seconds_ = 0;
};

// A tensor's memory on an OpenCL device. Owns one reference to the cl_mem and keeps its device alive.
class ClBuffer final : public Buffer {
 public:
  ClBuffer(std::shared_ptr<ClDevice> device, cl_mem mem, size_t bytes)
      : device_(std::move(device)), mem_(mem), bytes_(bytes) {}
  ~ClBuffer() override;
  void* host_data() override { return nullptr; }
  size_t size_bytes() const override { return bytes_; }
  const std::string& location() const override { return device_->name(); }
  cl_mem mem() const { return mem_; }
  const std::shared_ptr<ClDevice>& device() const { return device_; }

 private:
  std::shared_ptr<ClDevice> device_;
  cl_mem mem_;
  size_t bytes_;
};

// The ClBuffer of `t` when it lives on `device`, else nullptr.
ClBuffer* DeviceBufferOf(const Tensor& t, const ClDevice& device);

// A device tensor holding a copy of host tensor `t`. The write is enqueued without waiting; the host buffer is
// kept alive until the write completes (event callback), so the caller may drop `t` at once.
Result<Tensor> UploadTensor(const std::shared_ptr<ClDevice>& device, const Tensor& t);
// A new device tensor of this dtype and shape (contents undefined).
Result<Tensor> AllocateDeviceTensor(const std::shared_ptr<ClDevice>& device, DataType dtype, const Shape& shape);
// A host copy of device tensor `t`: a blocking read, which also waits for every command queued before it.
Result<Tensor> DownloadTensor(ClDevice& device, const Tensor& t);

}  // namespace deepx::opencl
