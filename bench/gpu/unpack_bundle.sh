# Sourced (not run) ON the GPU machine by the scripts that use a bundle from scripts/gpu_bundle.sh:
#   . bench/gpu/unpack_bundle.sh BUNDLE_TAR
# unpacks it to /tmp/dx, sets B to the bundle folder (bin/, lib/) and LD_LIBRARY_PATH to its libraries followed by
# the machine's own CUDA runtime, cuBLAS and cuDNN 9 (CUDA toolkit, PyTorch's wheels), which the bundle leaves out.
mkdir -p /tmp/dx
tar -xJf "$1" -C /tmp/dx
B=/tmp/dx/gpu_bundle
libs=""
for l in libcudnn.so.9 libcublas.so.13 libcublasLt.so.13 libcudart.so.13; do
  p=$(find /usr/local/cuda/lib64 /usr/local/cuda/ /usr/lib /opt -name "$l" 2>/dev/null | head -1)
  [ -n "$p" ] && libs="$libs:$(dirname "$p")"
done
export LD_LIBRARY_PATH="$B/lib$libs"
