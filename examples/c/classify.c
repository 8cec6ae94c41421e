/* classify: run an image classifier through the DeepX C API and print the top-1 class.
 *
 *   classify MODEL.onnx [INPUT.raw]
 *
 * INPUT.raw holds the model's first input as raw little-endian float32 values in C order (e.g. written with
 * numpy's a.astype('<f4').tofile('x.raw')); dynamic dimensions count as 1. Without it the input is all zeros.
 * The first output is read as scores of shape [N, C] (or any shape: the last dimension is the class axis).
 */
#include <stdio.h>
#include <stdlib.h>

#include "deepx/deepx.h"

/* Prints a failed call's message, frees the status and returns 1; returns 0 for success. */
static int check(dx_status* status, const char* what) {
  if (status == NULL) return 0;
  fprintf(stderr, "classify: %s failed: %s: %s\n", what, dx_code_name(dx_status_code(status)),
          dx_status_message(status));
  dx_status_free(status);
  return 1;
}

/* Reads exactly `bytes` bytes of `path` into `buffer`; the file must have that size. */
static int read_raw(const char* path, void* buffer, size_t bytes) {
  FILE* f = fopen(path, "rb");
  if (f == NULL) {
    fprintf(stderr, "classify: cannot open '%s'\n", path);
    return 1;
  }
  size_t got = fread(buffer, 1, bytes, f);
  int extra = fgetc(f);
  fclose(f);
  if (got != bytes || extra != EOF) {
    fprintf(stderr, "classify: '%s' must hold exactly %zu bytes (float32 input)\n", path, bytes);
    return 1;
  }
  return 0;
}

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    fprintf(stderr, "usage: %s MODEL.onnx [INPUT.raw]\n", argv[0]);
    return 2;
  }
  int rc = 1;
  dx_model* model = NULL;
  dx_session* session = NULL;
  dx_tensor* input = NULL;
  dx_tensor** outputs = NULL;
  size_t n_outputs = 0;
  float* values = NULL;

  if (check(dx_model_load(argv[1], &model), "loading the model")) goto done;
  if (check(dx_session_create(model, NULL, &session), "creating a session")) goto done;

  /* Describe input 0 and build a tensor for it. */
  const char* name = NULL;
  dx_dtype dtype = DX_UNDEFINED;
  const int64_t* declared = NULL;
  size_t rank = 0;
  if (check(dx_model_input_name(model, 0, &name), "reading input 0") ||
      check(dx_model_input_dtype(model, 0, &dtype), "reading input 0") ||
      check(dx_model_input_shape(model, 0, &declared, &rank), "reading input 0"))
    goto done;
  if (dtype != DX_FLOAT32) {
    fprintf(stderr, "classify: input '%s' is not float32\n", name);
    goto done;
  }
  int64_t dims[16];
  if (rank > 16) {
    fprintf(stderr, "classify: input '%s' has rank %zu, more than this example handles\n", name, rank);
    goto done;
  }
  size_t count = 1;
  for (size_t i = 0; i < rank; ++i) {
    dims[i] = declared[i] < 0 ? 1 : declared[i];
    count *= (size_t)dims[i];
  }
  values = calloc(count ? count : 1, sizeof(float));
  if (values == NULL) {
    fprintf(stderr, "classify: out of memory\n");
    goto done;
  }
  if (argc == 3 && read_raw(argv[2], values, count * sizeof(float))) goto done;
  if (check(dx_tensor_create(DX_FLOAT32, dims, rank, values, count * sizeof(float), &input), "creating the input"))
    goto done;

  /* Run, then take the arg-max over the last dimension of output 0 for each row. */
  const char* names[1] = {name};
  const dx_tensor* inputs[1] = {input};
  if (check(dx_session_run(session, 1, names, inputs, &n_outputs, &outputs), "running")) goto done;
  if (n_outputs == 0) {
    fprintf(stderr, "classify: the model has no outputs\n");
    goto done;
  }
  const int64_t* out_dims = NULL;
  size_t out_rank = 0;
  const void* data = NULL;
  size_t bytes = 0;
  dx_dtype out_dtype = DX_UNDEFINED;
  if (check(dx_tensor_shape(outputs[0], &out_dims, &out_rank), "reading the output") ||
      check(dx_tensor_dtype(outputs[0], &out_dtype), "reading the output") ||
      check(dx_tensor_data(outputs[0], &data, &bytes), "reading the output"))
    goto done;
  if (out_dtype != DX_FLOAT32 || out_rank == 0 || out_dims[out_rank - 1] == 0) {
    fprintf(stderr, "classify: output 0 is not a float32 score tensor\n");
    goto done;
  }
  const float* scores = data;
  const size_t classes = (size_t)out_dims[out_rank - 1];
  const size_t rows = bytes / sizeof(float) / classes;
  for (size_t r = 0; r < rows; ++r) {
    size_t best = 0;
    for (size_t c = 1; c < classes; ++c)
      if (scores[r * classes + c] > scores[r * classes + best]) best = c;
    printf("row %zu: top-1 class %zu (score %g)\n", r, best, scores[r * classes + best]);
  }
  rc = 0;

done:
  dx_tensors_free(outputs, n_outputs);
  dx_tensor_free(input);
  free(values);
  dx_session_free(session);
  dx_model_free(model);
  return rc;
}
