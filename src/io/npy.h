// NumPy .npy tensor files.
//
// Supported: format versions 1.0, 2.0 and 3.0; C-order arrays of little-endian float32/float64/int64/int32 and
// uint8/int8/bool ('<f4', '<f8', '<i8', '<i4', '|u1', '|i1', '|b1'). A file is untrusted input: every byte of the
// header is checked and problems come back as InvalidArgument naming the file (bad magic, truncated or malformed
// header, negative or overflowing dims, data shorter or longer than the shape needs). Fortran-order arrays,
// big-endian data and other dtypes are well-formed but unsupported: Unimplemented.
#pragma once

#include <string>

#include "deepx/status.h"
#include "deepx/tensor.h"

namespace deepx {

// Parses .npy bytes; `what` names the source in messages, e.g. "file 'x.npy'".
Result<Tensor> ParseNpy(const void* data, size_t size, const std::string& what);

// Reads a .npy file.
Result<Tensor> ReadNpyFile(const std::string& path);

// Serializes a host tensor as .npy bytes (version 1.0, or 2.0 when the header needs it).
Result<std::string> NpyBytes(const Tensor& t);

// Writes a host tensor to a .npy file, replacing it.
Status WriteNpyFile(const std::string& path, const Tensor& t);

// Reads a whole file, refusing files over `max_bytes`. Shared by the tensor file readers.
Result<std::string> ReadWholeFile(const std::string& path, int64_t max_bytes);

// Writes bytes to a file, replacing it.
Status WriteWholeFile(const std::string& path, const std::string& bytes);

}  // namespace deepx
