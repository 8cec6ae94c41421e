#include "backends/opencl/opencl_device.h"

#include <chrono>
#include <map>

namespace deepx::opencl {
namespace {

const char* const kProgramSource =
#include "backends/opencl/opencl_kernels.cl.inc"
    ;

std::string DeviceString(cl_device_id d, cl_device_info what) {
  size_t size = 0;
  if (clGetDeviceInfo(d, what, 0, nullptr, &size) != CL_SUCCESS || size == 0) return "";
  std::string s(size, '\0');
  clGetDeviceInfo(d, what, size, s.data(), nullptr);
  while (!s.empty() && s.back() == '\0') s.pop_back();
  return s;
}

std::string PlatformString(cl_platform_id p, cl_platform_info what) {
  size_t size = 0;
  if (clGetPlatformInfo(p, what, 0, nullptr, &size) != CL_SUCCESS || size == 0) return "";
  std::string s(size, '\0');
  clGetPlatformInfo(p, what, size, s.data(), nullptr);
  while (!s.empty() && s.back() == '\0') s.pop_back();
  return s;
}

// Releases the host buffer an asynchronous write reads from, once the write is done.
void CL_CALLBACK ReleaseHostSource(cl_event, cl_int, void* user_data) {
  delete static_cast<std::shared_ptr<Buffer>*>(user_data);
}

}  // namespace

std::string ClErrorName(cl_int err) {
  static const std::map<cl_int, const char*> kNames = {
      {CL_DEVICE_NOT_FOUND, "CL_DEVICE_NOT_FOUND"},
      {CL_DEVICE_NOT_AVAILABLE, "CL_DEVICE_NOT_AVAILABLE"},
      {CL_MEM_OBJECT_ALLOCATION_FAILURE, "CL_MEM_OBJECT_ALLOCATION_FAILURE"},
      {CL_OUT_OF_RESOURCES, "CL_OUT_OF_RESOURCES"},
      {CL_OUT_OF_HOST_MEMORY, "CL_OUT_OF_HOST_MEMORY"},
      {CL_BUILD_PROGRAM_FAILURE, "CL_BUILD_PROGRAM_FAILURE"},
      {CL_INVALID_VALUE, "CL_INVALID_VALUE"},
      {CL_INVALID_DEVICE, "CL_INVALID_DEVICE"},
      {CL_INVALID_CONTEXT, "CL_INVALID_CONTEXT"},
      {CL_INVALID_COMMAND_QUEUE, "CL_INVALID_COMMAND_QUEUE"},
      {CL_INVALID_MEM_OBJECT, "CL_INVALID_MEM_OBJECT"},
      {CL_INVALID_PROGRAM_EXECUTABLE, "CL_INVALID_PROGRAM_EXECUTABLE"},
      {CL_INVALID_KERNEL_NAME, "CL_INVALID_KERNEL_NAME"},
      {CL_INVALID_KERNEL_ARGS, "CL_INVALID_KERNEL_ARGS"},
      {CL_INVALID_ARG_INDEX, "CL_INVALID_ARG_INDEX"},
      {CL_INVALID_ARG_VALUE, "CL_INVALID_ARG_VALUE"},
      {CL_INVALID_ARG_SIZE, "CL_INVALID_ARG_SIZE"},
      {CL_INVALID_WORK_GROUP_SIZE, "CL_INVALID_WORK_GROUP_SIZE"},
      {CL_INVALID_GLOBAL_WORK_SIZE, "CL_INVALID_GLOBAL_WORK_SIZE"},
      {CL_INVALID_BUFFER_SIZE, "CL_INVALID_BUFFER_SIZE"},
      {CL_INVALID_OPERATION, "CL_INVALID_OPERATION"},
  };
  auto it = kNames.find(err);
  return std::string(it != kNames.end() ? it->second : "OpenCL error") + " (" + std::to_string(err) + ")";
}

Status ClCheck(cl_int err, const std::string& what) {
  if (err == CL_SUCCESS) return Status::Ok();
  if (err == CL_MEM_OBJECT_ALLOCATION_FAILURE || err == CL_OUT_OF_RESOURCES || err == CL_OUT_OF_HOST_MEMORY)
    return ResourceExhausted(what + ": " + ClErrorName(err));
  return Internal(what + ": " + ClErrorName(err));
}

const std::vector<ClDeviceEntry>& ClDevices() {
  static const std::vector<ClDeviceEntry> devices = [] {
    std::vector<ClDeviceEntry> gpus, others;
    cl_uint num_platforms = 0;
    // No ICD or no platform: no devices (not an error; the backend is simply absent).
    if (clGetPlatformIDs(0, nullptr, &num_platforms) != CL_SUCCESS || num_platforms == 0) return others;
    std::vector<cl_platform_id> platforms(num_platforms);
    if (clGetPlatformIDs(num_platforms, platforms.data(), nullptr) != CL_SUCCESS) return others;
    for (cl_platform_id p : platforms) {
      cl_uint n = 0;
      if (clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, 0, nullptr, &n) != CL_SUCCESS || n == 0) continue;
      std::vector<cl_device_id> ids(n);
      if (clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, n, ids.data(), nullptr) != CL_SUCCESS) continue;
      for (cl_device_id d : ids) {
        cl_device_type type = 0;
        clGetDeviceInfo(d, CL_DEVICE_TYPE, sizeof(type), &type, nullptr);
        cl_bool available = CL_FALSE;
        clGetDeviceInfo(d, CL_DEVICE_AVAILABLE, sizeof(available), &available, nullptr);
        if (!available) continue;
        ClDeviceEntry e;
        e.platform = p;
        e.device = d;
        e.is_gpu = (type & CL_DEVICE_TYPE_GPU) != 0;
        e.description = PlatformString(p, CL_PLATFORM_NAME) + " / " + DeviceString(d, CL_DEVICE_NAME);
        (e.is_gpu ? gpus : others).push_back(e);
      }
    }
    gpus.insert(gpus.end(), others.begin(), others.end());
    return gpus;
  }();
  return devices;
}

Result<std::shared_ptr<ClDevice>> ClDevice::Get(int index) {
  static std::mutex mu;
  // Never destroyed: releasing contexts during static destruction races the ICD's and PoCL's own teardown.
  static auto* devices = new std::map<int, std::shared_ptr<ClDevice>>();
  std::lock_guard<std::mutex> lock(mu);
  auto it = devices->find(index);
  if (it != devices->end()) return it->second;
  const auto& all = ClDevices();
  if (index < 0 || static_cast<size_t>(index) >= all.size())
    return NotFound("no OpenCL device opencl:" + std::to_string(index) + " (" + std::to_string(all.size()) + " found)");
  std::shared_ptr<ClDevice> d(new ClDevice());
  d->index_ = index;
  d->name_ = "opencl:" + std::to_string(index);
  d->entry_ = all[static_cast<size_t>(index)];
  cl_int err = CL_SUCCESS;
  cl_context_properties props[] = {CL_CONTEXT_PLATFORM, reinterpret_cast<cl_context_properties>(d->entry_.platform), 0};
  d->context_ = clCreateContext(props, 1, &d->entry_.device, nullptr, nullptr, &err);
  DX_RETURN_IF_ERROR(ClCheck(err, "creating an OpenCL context on " + d->name_));
  // In order: commands of a run execute in enqueue order, so a run needs no events between its kernels.
  d->queue_ = clCreateCommandQueue(d->context_, d->entry_.device, 0, &err);
  DX_RETURN_IF_ERROR(ClCheck(err, "creating a command queue on " + d->name_));
  cl_ulong mem = 0;
  clGetDeviceInfo(d->entry_.device, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof(mem), &mem, nullptr);
  d->global_memory_ = static_cast<int64_t>(mem);
  (*devices)[index] = d;
  return d;
}

Result<cl_program> ClDevice::Program() {
  std::lock_guard<std::mutex> lock(program_mu_);
  if (program_) return program_;
  const auto start = std::chrono::steady_clock::now();
  cl_int err = CL_SUCCESS;
  const char* src = kProgramSource;
  cl_program p = clCreateProgramWithSource(context_, 1, &src, nullptr, &err);
  DX_RETURN_IF_ERROR(ClCheck(err, "creating the kernel program on " + name_));
  err = clBuildProgram(p, 1, &entry_.device, "-cl-std=CL1.2", nullptr, nullptr);
  if (err != CL_SUCCESS) {
    size_t size = 0;
    clGetProgramBuildInfo(p, entry_.device, CL_PROGRAM_BUILD_LOG, 0, nullptr, &size);
    std::string log(size, '\0');
    clGetProgramBuildInfo(p, entry_.device, CL_PROGRAM_BUILD_LOG, size, log.data(), nullptr);
    clReleaseProgram(p);
    return Internal("building the OpenCL kernels on " + name_ + " failed: " + ClErrorName(err) + "\n" + log);
  }
  build_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  program_ = p;
  return program_;
}

Result<cl_kernel> ClDevice::CreateKernel(const char* name) {
  DX_ASSIGN_OR_RETURN(cl_program program, Program());
  cl_int err = CL_SUCCESS;
  cl_kernel k = clCreateKernel(program, name, &err);
  DX_RETURN_IF_ERROR(ClCheck(err, std::string("creating kernel '") + name + "' on " + name_));
  return k;
}

Result<cl_mem> ClDevice::Allocate(size_t bytes) {
  cl_int err = CL_SUCCESS;
  cl_mem m = clCreateBuffer(context_, CL_MEM_READ_WRITE, bytes == 0 ? 1 : bytes, nullptr, &err);
  DX_RETURN_IF_ERROR(ClCheck(err, "allocating " + std::to_string(bytes) + " bytes on " + name_));
  return m;
}

ClBuffer::~ClBuffer() {
  if (mem_) clReleaseMemObject(mem_);
}

ClBuffer* DeviceBufferOf(const Tensor& t, const ClDevice& device) {
  auto* b = dynamic_cast<ClBuffer*>(t.buffer().get());
  return b && b->device().get() == &device ? b : nullptr;
}

Result<Tensor> AllocateDeviceTensor(const std::shared_ptr<ClDevice>& device, DataType dtype, const Shape& shape) {
  const size_t bytes = static_cast<size_t>(NumElements(shape)) * DataTypeSize(dtype);
  DX_ASSIGN_OR_RETURN(cl_mem m, device->Allocate(bytes));
  return Tensor(dtype, shape, std::make_shared<ClBuffer>(device, m, bytes));
}

Result<Tensor> UploadTensor(const std::shared_ptr<ClDevice>& device, const Tensor& t) {
  if (!t.is_host()) return InvalidArgument("uploading a tensor that is not in host memory");
  DX_ASSIGN_OR_RETURN(Tensor d, AllocateDeviceTensor(device, t.dtype(), t.shape()));
  const size_t bytes = t.size_bytes();
  if (bytes == 0) return d;
  auto* buffer = static_cast<ClBuffer*>(d.buffer().get());
  cl_event done = nullptr;
  DX_RETURN_IF_ERROR(
      ClCheck(clEnqueueWriteBuffer(device->queue(), buffer->mem(), CL_FALSE, 0, bytes, t.raw_data(), 0, nullptr, &done),
              "writing " + std::to_string(bytes) + " bytes to " + device->name()));
  auto* keep = new std::shared_ptr<Buffer>(t.buffer());
  cl_int err = clSetEventCallback(done, CL_COMPLETE, ReleaseHostSource, keep);
  if (err != CL_SUCCESS) {
    // Without a callback the only safe choice is to wait for the write here.
    clWaitForEvents(1, &done);
    delete keep;
  }
  clReleaseEvent(done);
  return d;
}

Result<Tensor> DownloadTensor(ClDevice& device, const Tensor& t) {
  const ClBuffer* b = DeviceBufferOf(t, device);
  if (!b) return InvalidArgument("tensor is not in the memory of " + device.name());
  Tensor host = Tensor::Zeros(t.dtype(), t.shape());
  const size_t bytes = t.size_bytes();
  if (bytes == 0) return host;
  DX_RETURN_IF_ERROR(
      ClCheck(clEnqueueReadBuffer(device.queue(), b->mem(), CL_TRUE, 0, bytes, host.raw_data(), 0, nullptr, nullptr),
              "reading " + std::to_string(bytes) + " bytes from " + device.name()));
  return host;
}

}  // namespace deepx::opencl
