// The C API (include/deepx/deepx.h) over the C++ API.
//
// Every entry point runs inside Guard, so no C++ exception (in practice std::bad_alloc) crosses into C code.
#include "deepx/deepx.h"

#include <exception>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "deepx/deepx.hpp"

struct dx_status {
  dx_code code;
  std::string message;
};

struct dx_model {
  std::shared_ptr<const deepx::Model> model;
};

struct dx_session {
  std::unique_ptr<deepx::Session> session;
};

struct dx_tensor {
  deepx::Tensor tensor;
};

namespace {

// Returned when even an error status cannot be allocated; dx_status_free knows not to delete it.
dx_status g_out_of_memory{DX_RESOURCE_EXHAUSTED, "out of memory"};

dx_status* MakeStatus(dx_code code, const std::string& message) noexcept {
  try {
    return new dx_status{code, message};
  } catch (...) {
    return &g_out_of_memory;
  }
}

dx_status* FromStatus(const deepx::Status& s) noexcept {
  if (s.ok()) return nullptr;
  return MakeStatus(static_cast<dx_code>(s.code()), s.message());
}

dx_status* NullArgument(const char* function, const char* arg) noexcept {
  return MakeStatus(DX_INVALID_ARGUMENT, std::string(function) + ": argument '" + arg + "' is NULL");
}

template <typename F>
dx_status* Guard(const char* function, F&& f) noexcept {
  try {
    return f();
  } catch (const std::bad_alloc&) {
    return MakeStatus(DX_RESOURCE_EXHAUSTED, std::string(function) + ": out of memory");
  } catch (const std::exception& e) {
    return MakeStatus(DX_INTERNAL, std::string(function) + ": unexpected C++ exception: " + e.what());
  } catch (...) {
    return MakeStatus(DX_INTERNAL, std::string(function) + ": unexpected C++ exception");
  }
}

#define DX_CHECK_ARG(arg) \
  if ((arg) == nullptr) return NullArgument(kFn, #arg)

bool IsKnownDtype(dx_dtype dtype) {
  return dtype != DX_UNDEFINED && deepx::IsKnownDataType(static_cast<int32_t>(dtype));
}

// Shared body of the input/output accessors.
dx_status* SpecAt(const char* fn, const dx_model* model, size_t index, bool input, const deepx::TensorSpec** out) {
  if (model == nullptr) return NullArgument(fn, "model");
  const auto& specs = input ? model->model->inputs() : model->model->outputs();
  if (index >= specs.size())
    return MakeStatus(DX_OUT_OF_RANGE, std::string(fn) + ": index " + std::to_string(index) + " is past the " +
                                           std::to_string(specs.size()) + (input ? " inputs" : " outputs"));
  *out = &specs[index];
  return nullptr;
}

dx_status* Name(const char* fn, const dx_model* model, size_t index, bool input, const char** out_name) {
  return Guard(fn, [&]() -> dx_status* {
    if (out_name == nullptr) return NullArgument(fn, "out_name");
    const deepx::TensorSpec* spec = nullptr;
    if (dx_status* s = SpecAt(fn, model, index, input, &spec)) return s;
    *out_name = spec->name.c_str();
    return nullptr;
  });
}

dx_status* Dtype(const char* fn, const dx_model* model, size_t index, bool input, dx_dtype* out_dtype) {
  return Guard(fn, [&]() -> dx_status* {
    if (out_dtype == nullptr) return NullArgument(fn, "out_dtype");
    const deepx::TensorSpec* spec = nullptr;
    if (dx_status* s = SpecAt(fn, model, index, input, &spec)) return s;
    *out_dtype = static_cast<dx_dtype>(spec->dtype);
    return nullptr;
  });
}

dx_status* ShapeOf(const char* fn, const dx_model* model, size_t index, bool input, const int64_t** out_dims,
                   size_t* out_rank) {
  return Guard(fn, [&]() -> dx_status* {
    if (out_dims == nullptr) return NullArgument(fn, "out_dims");
    if (out_rank == nullptr) return NullArgument(fn, "out_rank");
    const deepx::TensorSpec* spec = nullptr;
    if (dx_status* s = SpecAt(fn, model, index, input, &spec)) return s;
    *out_dims = spec->shape.data();
    *out_rank = spec->shape.size();
    return nullptr;
  });
}

}  // namespace

extern "C" {

dx_code dx_status_code(const dx_status* status) { return status ? status->code : DX_OK; }

const char* dx_status_message(const dx_status* status) { return status ? status->message.c_str() : ""; }

const char* dx_code_name(dx_code code) {
  switch (code) {
    case DX_OK:
    case DX_INVALID_ARGUMENT:
    case DX_UNIMPLEMENTED:
    case DX_NOT_FOUND:
    case DX_OUT_OF_RANGE:
    case DX_RESOURCE_EXHAUSTED:
    case DX_FAILED_PRECONDITION:
    case DX_IO_ERROR:
    case DX_UNAVAILABLE:
    case DX_DEADLINE_EXCEEDED:
    case DX_UNAUTHENTICATED:
    case DX_INTERNAL:
      return deepx::StatusCodeName(static_cast<deepx::StatusCode>(code));
  }
  return "UNKNOWN";
}

void dx_status_free(dx_status* status) {
  if (status != &g_out_of_memory) delete status;
}

dx_status* dx_model_load(const char* path, dx_model** out_model) {
  static constexpr char kFn[] = "dx_model_load";
  return Guard(kFn, [&]() -> dx_status* {
    DX_CHECK_ARG(path);
    DX_CHECK_ARG(out_model);
    auto model = deepx::Model::Load(path);
    if (!model.ok()) return FromStatus(model.status());
    *out_model = new dx_model{std::move(model).value()};
    return nullptr;
  });
}

void dx_model_free(dx_model* model) { delete model; }

dx_status* dx_model_num_inputs(const dx_model* model, size_t* out_count) {
  static constexpr char kFn[] = "dx_model_num_inputs";
  return Guard(kFn, [&]() -> dx_status* {
    DX_CHECK_ARG(model);
    DX_CHECK_ARG(out_count);
    *out_count = model->model->inputs().size();
    return nullptr;
  });
}

dx_status* dx_model_num_outputs(const dx_model* model, size_t* out_count) {
  static constexpr char kFn[] = "dx_model_num_outputs";
  return Guard(kFn, [&]() -> dx_status* {
    DX_CHECK_ARG(model);
    DX_CHECK_ARG(out_count);
    *out_count = model->model->outputs().size();
    return nullptr;
  });
}

dx_status* dx_model_input_name(const dx_model* model, size_t index, const char** out_name) {
  return Name("dx_model_input_name", model, index, true, out_name);
}
dx_status* dx_model_output_name(const dx_model* model, size_t index, const char** out_name) {
  return Name("dx_model_output_name", model, index, false, out_name);
}
dx_status* dx_model_input_dtype(const dx_model* model, size_t index, dx_dtype* out_dtype) {
  return Dtype("dx_model_input_dtype", model, index, true, out_dtype);
}
dx_status* dx_model_output_dtype(const dx_model* model, size_t index, dx_dtype* out_dtype) {
  return Dtype("dx_model_output_dtype", model, index, false, out_dtype);
}
dx_status* dx_model_input_shape(const dx_model* model, size_t index, const int64_t** out_dims, size_t* out_rank) {
  return ShapeOf("dx_model_input_shape", model, index, true, out_dims, out_rank);
}
dx_status* dx_model_output_shape(const dx_model* model, size_t index, const int64_t** out_dims, size_t* out_rank) {
  return ShapeOf("dx_model_output_shape", model, index, false, out_dims, out_rank);
}

dx_status* dx_session_create(const dx_model* model, const dx_session_options* options, dx_session** out_session) {
  static constexpr char kFn[] = "dx_session_create";
  return Guard(kFn, [&]() -> dx_status* {
    DX_CHECK_ARG(model);
    DX_CHECK_ARG(out_session);
    deepx::SessionOptions opts;
    if (options != nullptr) {
      if (options->backend != nullptr && options->backend[0] != '\0') opts.backend = options->backend;
      if (options->num_threads < 0)
        return MakeStatus(DX_INVALID_ARGUMENT, std::string(kFn) + ": num_threads must be >= 0, got " +
                                                   std::to_string(options->num_threads));
      opts.num_threads = options->num_threads;
    }
    auto session = deepx::Session::Create(model->model, opts);
    if (!session.ok()) return FromStatus(session.status());
    *out_session = new dx_session{std::move(session).value()};
    return nullptr;
  });
}

void dx_session_free(dx_session* session) { delete session; }

dx_status* dx_session_run(dx_session* session, size_t n_inputs, const char* const* names,
                          const dx_tensor* const* inputs, size_t* out_n_outputs, dx_tensor*** out_outputs) {
  static constexpr char kFn[] = "dx_session_run";
  return Guard(kFn, [&]() -> dx_status* {
    DX_CHECK_ARG(session);
    DX_CHECK_ARG(out_n_outputs);
    DX_CHECK_ARG(out_outputs);
    if (n_inputs > 0) {
      DX_CHECK_ARG(names);
      DX_CHECK_ARG(inputs);
    }
    std::vector<std::pair<std::string, deepx::Tensor>> feeds;
    feeds.reserve(n_inputs);
    for (size_t i = 0; i < n_inputs; ++i) {
      if (names[i] == nullptr || inputs[i] == nullptr)
        return MakeStatus(DX_INVALID_ARGUMENT, std::string(kFn) + ": " + (names[i] ? "inputs[" : "names[") +
                                                   std::to_string(i) + "] is NULL");
      feeds.emplace_back(names[i], inputs[i]->tensor);
    }
    auto outputs = session->session->Run(feeds);
    if (!outputs.ok()) return FromStatus(outputs.status());
    const size_t n = outputs->size();
    for (const deepx::Tensor& t : *outputs)
      if (t.empty() || !t.is_host())
        return MakeStatus(DX_INTERNAL, std::string(kFn) + ": an output is not in host memory");
    // Build the whole array before publishing it so that an allocation failure leaks nothing.
    std::vector<std::unique_ptr<dx_tensor>> owned;
    owned.reserve(n);
    for (deepx::Tensor& t : *outputs) owned.push_back(std::make_unique<dx_tensor>(dx_tensor{std::move(t)}));
    auto array = std::make_unique<dx_tensor*[]>(n);
    for (size_t i = 0; i < n; ++i) array[i] = owned[i].release();
    *out_outputs = array.release();
    *out_n_outputs = n;
    return nullptr;
  });
}

dx_status* dx_tensor_create(dx_dtype dtype, const int64_t* dims, size_t rank, const void* data, size_t bytes,
                            dx_tensor** out_tensor) {
  static constexpr char kFn[] = "dx_tensor_create";
  return Guard(kFn, [&]() -> dx_status* {
    DX_CHECK_ARG(out_tensor);
    if (!IsKnownDtype(dtype))
      return MakeStatus(DX_INVALID_ARGUMENT, std::string(kFn) + ": unknown dtype " + std::to_string(dtype));
    if (rank > 0) DX_CHECK_ARG(dims);
    if (rank > 64) return MakeStatus(DX_INVALID_ARGUMENT, std::string(kFn) + ": rank " + std::to_string(rank) +
                                                              " is over the limit of 64");
    deepx::Shape shape(dims, dims + rank);
    auto count = deepx::CheckedNumElements(shape);
    if (!count.ok())
      return MakeStatus(DX_INVALID_ARGUMENT, std::string(kFn) + ": bad shape " + deepx::ShapeToString(shape) + ": " +
                                                 count.status().message());
    const auto dt = static_cast<deepx::DataType>(dtype);
    const size_t expected = static_cast<size_t>(*count) * deepx::DataTypeSize(dt);
    if (data == nullptr && bytes != 0) return NullArgument(kFn, "data");
    if (data != nullptr && bytes != expected)
      return MakeStatus(DX_INVALID_ARGUMENT, std::string(kFn) + ": " + std::to_string(bytes) + " bytes given, " +
                                                 deepx::DataTypeName(dt) + " " + deepx::ShapeToString(shape) +
                                                 " needs " + std::to_string(expected));
    deepx::Tensor t = deepx::Tensor::Zeros(dt, shape);
    if (data != nullptr && expected > 0) {
      const auto* src = static_cast<const unsigned char*>(data);
      auto* dst = static_cast<unsigned char*>(t.raw_data());
      for (size_t i = 0; i < expected; ++i) dst[i] = dt == deepx::DataType::kBool ? src[i] != 0 : src[i];
    }
    *out_tensor = new dx_tensor{std::move(t)};
    return nullptr;
  });
}

void dx_tensor_free(dx_tensor* tensor) { delete tensor; }

void dx_tensors_free(dx_tensor** tensors, size_t count) {
  if (tensors == nullptr) return;
  for (size_t i = 0; i < count; ++i) delete tensors[i];
  delete[] tensors;
}

dx_status* dx_tensor_dtype(const dx_tensor* tensor, dx_dtype* out_dtype) {
  static constexpr char kFn[] = "dx_tensor_dtype";
  return Guard(kFn, [&]() -> dx_status* {
    DX_CHECK_ARG(tensor);
    DX_CHECK_ARG(out_dtype);
    *out_dtype = static_cast<dx_dtype>(tensor->tensor.dtype());
    return nullptr;
  });
}

dx_status* dx_tensor_rank(const dx_tensor* tensor, size_t* out_rank) {
  static constexpr char kFn[] = "dx_tensor_rank";
  return Guard(kFn, [&]() -> dx_status* {
    DX_CHECK_ARG(tensor);
    DX_CHECK_ARG(out_rank);
    *out_rank = tensor->tensor.shape().size();
    return nullptr;
  });
}

dx_status* dx_tensor_shape(const dx_tensor* tensor, const int64_t** out_dims, size_t* out_rank) {
  static constexpr char kFn[] = "dx_tensor_shape";
  return Guard(kFn, [&]() -> dx_status* {
    DX_CHECK_ARG(tensor);
    DX_CHECK_ARG(out_dims);
    DX_CHECK_ARG(out_rank);
    *out_dims = tensor->tensor.shape().data();
    *out_rank = tensor->tensor.shape().size();
    return nullptr;
  });
}

dx_status* dx_tensor_data(const dx_tensor* tensor, const void** out_data, size_t* out_bytes) {
  static constexpr char kFn[] = "dx_tensor_data";
  return Guard(kFn, [&]() -> dx_status* {
    DX_CHECK_ARG(tensor);
    DX_CHECK_ARG(out_data);
    DX_CHECK_ARG(out_bytes);
    *out_data = tensor->tensor.raw_data();
    *out_bytes = tensor->tensor.size_bytes();
    return nullptr;
  });
}

dx_status* dx_tensor_num_elements(const dx_tensor* tensor, int64_t* out_count) {
  static constexpr char kFn[] = "dx_tensor_num_elements";
  return Guard(kFn, [&]() -> dx_status* {
    DX_CHECK_ARG(tensor);
    DX_CHECK_ARG(out_count);
    *out_count = tensor->tensor.num_elements();
    return nullptr;
  });
}

}  // extern "C"
