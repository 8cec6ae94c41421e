#!/usr/bin/env bash
# Builds bench/compress_time/svd_bench.cpp against a DeepX build tree's libdeepx.a: build_svd_bench.sh BUILD_DIR
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="$(cd "${1:-${root}/build/release}" && pwd)"
mkdir -p "${build}/bin"
libs=(-lonnx_proto -lprotobuf -llapacke -lopenblas -lpthread -ldl)
for opt in dnnl OpenCL clblast cpp-httplib glpk; do
  if ls /usr/lib/x86_64-linux-gnu/lib${opt}.so* >/dev/null 2>&1; then libs+=("-l${opt}"); fi
done
# libclblast's soname carries its version.
[[ -e /usr/lib/x86_64-linux-gnu/libclblast.so ]] || libs=("${libs[@]/-lclblast/-l:libclblast.so.1}")
c++ -std=c++20 -O2 -DONNX_ML=1 -DONNX_NAMESPACE=onnx -I"${root}/include" -I"${root}/src" \
    -I/usr/include/x86_64-linux-gnu "${root}/bench/compress_time/svd_bench.cpp" "${build}/libdeepx.a" "${libs[@]}" \
    -o "${build}/bin/svd_bench"
echo "${build}/bin/svd_bench"
