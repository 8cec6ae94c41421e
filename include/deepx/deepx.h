/* DeepX C API: load an ONNX model, create a session, run inferences, from C or any language with a C FFI.
 *
 *   dx_model* model = NULL;
 *   dx_status* st = dx_model_load("net.onnx", &model);
 *   if (st) { fprintf(stderr, "%s\n", dx_status_message(st)); dx_status_free(st); return 1; }
 *   dx_session* session = NULL;
 *   st = dx_session_create(model, NULL, &session);             // NULL options: reference backend, default threads
 *   ...
 *   const char* names[] = {"input"};
 *   const dx_tensor* inputs[] = {image};
 *   size_t n_out = 0;
 *   dx_tensor** outputs = NULL;
 *   st = dx_session_run(session, 1, names, inputs, &n_out, &outputs);
 *   ...
 *   dx_tensors_free(outputs, n_out);
 *   dx_session_free(session);
 *   dx_model_free(model);
 *
 * Conventions:
 *   - Every fallible function returns a dx_status*: NULL on success, otherwise an error the caller owns and frees
 *     with dx_status_free. No C++ exception ever crosses this boundary (an unexpected one becomes DX_INTERNAL).
 *   - Results come back through out-parameters, which are only written on success.
 *   - Every pointer argument is checked: NULL where a value is required gives DX_INVALID_ARGUMENT.
 *   - Handles are opaque and freed with their *_free function; *_free(NULL) is a no-op.
 *   - Strings and arrays returned by accessors (names, shapes, data) are owned by the handle they came from and
 *     stay valid until that handle is freed.
 *   - Models and tensors are immutable once created and may be shared between threads. A session may be run from
 *     several threads; runs of one session are serialised internally.
 */
#ifndef DEEPX_DEEPX_H_
#define DEEPX_DEEPX_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Error codes, the same set as deepx::StatusCode in C++. (The type is dx_code because dx_status_code is the
 * accessor function.) */
typedef enum dx_code {
  DX_OK = 0,
  DX_INVALID_ARGUMENT = 1,     /* malformed model, tensor or request: the input is wrong */
  DX_UNIMPLEMENTED = 2,        /* well-formed but uses something DeepX does not support */
  DX_NOT_FOUND = 3,            /* a named file, input or backend does not exist */
  DX_OUT_OF_RANGE = 4,         /* an index outside what is allowed */
  DX_RESOURCE_EXHAUSTED = 5,   /* memory or another limit would be exceeded */
  DX_FAILED_PRECONDITION = 6,  /* the call is valid but not in this state */
  DX_IO_ERROR = 7,             /* the operating system failed a read or write */
  DX_UNAVAILABLE = 8,          /* a processor or remote server is not reachable now */
  DX_DEADLINE_EXCEEDED = 9,    /* a timeout expired */
  DX_UNAUTHENTICATED = 10,     /* missing or wrong credentials */
  DX_INTERNAL = 11             /* a DeepX bug */
} dx_code;

/* Element types, numbered as ONNX TensorProto.DataType. */
typedef enum dx_dtype {
  DX_UNDEFINED = 0,
  DX_FLOAT32 = 1,
  DX_UINT8 = 2,
  DX_INT8 = 3,
  DX_INT32 = 6,
  DX_INT64 = 7,
  DX_BOOL = 9, /* one byte per element, 0 or 1 */
  DX_FLOAT64 = 11
} dx_dtype;

typedef struct dx_status dx_status;   /* an error: code and message */
typedef struct dx_model dx_model;     /* a loaded, validated model */
typedef struct dx_session dx_session; /* a model prepared to run on one backend */
typedef struct dx_tensor dx_tensor;   /* an immutable dense host tensor */

/* Options of dx_session_create. Zero-initialise, then set what you need. */
typedef struct dx_session_options {
  const char* backend; /* processor to run on, e.g. "reference"; NULL or "" = "reference" */
  int num_threads;     /* worker threads for backends that use them; 0 = the backend's default */
} dx_session_options;

/* ---- Status ---- */

/* The code of a status; DX_OK for NULL (success). */
dx_code dx_status_code(const dx_status* status);

/* The message of a status, e.g. "loading 'm.onnx': node 'conv1' (Conv): ...". "" for NULL. Owned by the status. */
const char* dx_status_message(const dx_status* status);

/* The name of a code: "INVALID_ARGUMENT", ...; "UNKNOWN" for values outside the enum. Never NULL. */
const char* dx_code_name(dx_code code);

/* Frees a status returned by any dx_* function. NULL is a no-op. */
void dx_status_free(dx_status* status);

/* ---- Models ---- */

/* Loads and validates an ONNX model file. On success *out_model is a new model the caller frees with
 * dx_model_free. Errors: DX_NOT_FOUND (no such file), DX_INVALID_ARGUMENT (not a valid model),
 * DX_UNIMPLEMENTED (an unsupported op or dtype), ... */
dx_status* dx_model_load(const char* path, dx_model** out_model);

/* Frees a model. Sessions created from it keep what they need and stay usable. NULL is a no-op. */
void dx_model_free(dx_model* model);

/* Number of run-time inputs / outputs of the model. */
dx_status* dx_model_num_inputs(const dx_model* model, size_t* out_count);
dx_status* dx_model_num_outputs(const dx_model* model, size_t* out_count);

/* Name of input / output `index` (0-based; DX_OUT_OF_RANGE past the end). The string belongs to the model. */
dx_status* dx_model_input_name(const dx_model* model, size_t index, const char** out_name);
dx_status* dx_model_output_name(const dx_model* model, size_t index, const char** out_name);

/* Element type of input / output `index`. */
dx_status* dx_model_input_dtype(const dx_model* model, size_t index, dx_dtype* out_dtype);
dx_status* dx_model_output_dtype(const dx_model* model, size_t index, dx_dtype* out_dtype);

/* Declared shape of input / output `index`: *out_dims points to *out_rank dimensions owned by the model; -1 marks
 * a dynamic dimension (such as the batch). *out_dims may be NULL when the rank is 0. */
dx_status* dx_model_input_shape(const dx_model* model, size_t index, const int64_t** out_dims, size_t* out_rank);
dx_status* dx_model_output_shape(const dx_model* model, size_t index, const int64_t** out_dims, size_t* out_rank);

/* ---- Sessions ---- */

/* Creates a session running `model` with `options` (NULL: defaults). The session holds its own reference to the
 * model, so the model may be freed first. Errors: DX_NOT_FOUND for an unknown backend name, ... */
dx_status* dx_session_create(const dx_model* model, const dx_session_options* options, dx_session** out_session);

/* Frees a session. NULL is a no-op. */
void dx_session_free(dx_session* session);

/* Runs one inference. `names[i]` names the model input fed with `inputs[i]`, for i < n_inputs; every model input
 * must be given exactly once, with the declared dtype and a shape agreeing with the declared one (dynamic dims
 * free). On success *out_outputs is a new array of *out_n_outputs tensors in model output order; free it (and
 * the tensors) with dx_tensors_free. Errors: DX_NOT_FOUND for an unknown input name, DX_INVALID_ARGUMENT for a
 * missing or repeated input or a wrong dtype/shape, ... */
dx_status* dx_session_run(dx_session* session, size_t n_inputs, const char* const* names,
                          const dx_tensor* const* inputs, size_t* out_n_outputs, dx_tensor*** out_outputs);

/* ---- Tensors ---- */

/* Creates a tensor of `dtype` and shape dims[0..rank) holding a copy of `data`, which must be exactly
 * product(dims) * element size bytes (`bytes`). rank 0 is a scalar (dims may then be NULL); dims must be
 * non-negative. data may be NULL only when bytes is 0, which gives a zero-filled tensor of any size.
 * Bool data is normalised to 0/1. The caller frees the tensor with dx_tensor_free. */
dx_status* dx_tensor_create(dx_dtype dtype, const int64_t* dims, size_t rank, const void* data, size_t bytes,
                            dx_tensor** out_tensor);

/* Frees a tensor. NULL is a no-op. */
void dx_tensor_free(dx_tensor* tensor);

/* Frees `count` tensors and the array holding them, as returned by dx_session_run. NULL is a no-op. */
void dx_tensors_free(dx_tensor** tensors, size_t count);

/* Element type of a tensor. */
dx_status* dx_tensor_dtype(const dx_tensor* tensor, dx_dtype* out_dtype);

/* Rank (number of dimensions) of a tensor; 0 for a scalar. */
dx_status* dx_tensor_rank(const dx_tensor* tensor, size_t* out_rank);

/* Shape of a tensor: *out_dims points to rank dimensions owned by the tensor (may be NULL for rank 0). */
dx_status* dx_tensor_shape(const dx_tensor* tensor, const int64_t** out_dims, size_t* out_rank);

/* Read-only element data of a tensor, C order, little-endian; *out_bytes = element count * element size.
 * The memory belongs to the tensor. *out_data may be NULL when the tensor has no elements. */
dx_status* dx_tensor_data(const dx_tensor* tensor, const void** out_data, size_t* out_bytes);

/* Number of elements of a tensor (product of its dims; 1 for a scalar). */
dx_status* dx_tensor_num_elements(const dx_tensor* tensor, int64_t* out_count);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* DEEPX_DEEPX_H_ */
