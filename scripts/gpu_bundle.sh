#!/bin/sh
# Packs what a GPU machine without DeepX's Debian -dev libraries needs to run the CUDA tests and the CLI:
# deepx_tests, the deepx CLI, and every shared library they link that is neither part of the base system (libc,
# libstdc++, ...) nor of the CUDA toolkit/driver (cudart, cuBLAS, cuDNN, libcuda: the GPU machine has its own).
#
# Usage: scripts/gpu_bundle.sh [BUILD_DIR] [OUT_DIR]
#   BUILD_DIR  a build tree configured with DEEPX_WITH_CUDA (default: build/cuda), with deepx_tests and deepx built
#   OUT_DIR    where the bundle goes (default: BUILD_DIR/gpu_bundle): bin/ and lib/, plus OUT_DIR.tar.xz (what
#              travels: the device tool carries at most 64 MiB, and libdnnl + libopenblas alone are ~75 MB raw)
# On the GPU machine bench/gpu/run_on_gpu.sh OUT_DIR.tar.xz unpacks it and sets LD_LIBRARY_PATH.
set -eu
BUILD=${1:-build/cuda}
OUT=${2:-$BUILD/gpu_bundle}
rm -rf "$OUT"
mkdir -p "$OUT/bin" "$OUT/lib"
cp "$BUILD/tests/deepx_tests" "$BUILD/bin/deepx" "$OUT/bin/"
strip --strip-unneeded "$OUT/bin/deepx_tests" "$OUT/bin/deepx" 2>/dev/null || true
for exe in "$OUT/bin/deepx_tests" "$OUT/bin/deepx"; do
  ldd "$exe" | awk '/=> \// {print $1, $3}'
done | sort -u | while read -r name path; do
  case "$name" in
    linux-vdso*|ld-linux*|libc.so*|libm.so*|libpthread*|libdl.so*|librt.so*|libgcc_s*|libstdc++*) continue ;;
    libcuda.so*|libcudart*|libcublas*|libcudnn*|libnvrtc*|libnvJitLink*) continue ;;
  esac
  cp -L "$path" "$OUT/lib/$name"
done
tar -C "$(dirname "$OUT")" -cJf "$OUT.tar.xz" "$(basename "$OUT")"
du -sh "$OUT" "$OUT.tar.xz"
ls "$OUT/lib"
