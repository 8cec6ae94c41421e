#!/bin/bash
# Runs ON the GPU machine, from the repository root: the CUDA tests (differential suite + cuda_*_test), a zoo model
# end to end, and the PyTorch comparison (bench/gpu/cuda_vs_torch.py). Results go to OUT_DIR.
#
# Usage: bench/gpu/run_on_gpu.sh BUNDLE_TAR OUT_DIR [MODELS] [ROUNDS]
#   BUNDLE_TAR  made here by scripts/gpu_bundle.sh (deepx_tests, deepx, and the non-system libraries they need)
# The machine brings its own CUDA runtime, cuBLAS and cuDNN 9 (CUDA toolkit, PyTorch's wheels); their folders are
# found and put on LD_LIBRARY_PATH after the bundle's.
set -u
TAR=$1
OUT=$2
MODELS=${3:-lenet5,deepear,svhn_cnn,squeezenet1_1,mobilenet_v2,resnet18,googlenet,alexnet,vgg16}
ROUNDS=${4:-3}
mkdir -p "$OUT"
. bench/gpu/unpack_bundle.sh "$TAR"
echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
# The tests find models/ through the source path compiled in (/work/main).
[ -e /work/main ] || { mkdir -p /work && ln -s "$PWD" /work/main; }
nvidia-smi -q > "$OUT/nvidia-smi.txt" 2>&1
grep -m1 "Product Name" "$OUT/nvidia-smi.txt"
ldd "$B/bin/deepx_tests" | grep "not found"
if [ "${SKIP_SUITE:-0}" != 1 ]; then
echo "== CUDA suite"
timeout 150 "$B/bin/deepx_tests" --gtest_filter='*BackendDifferential*cuda*:*Cuda*' > "$OUT/suite.log" 2>&1
echo "suite exit $?"
grep -E "^\[  (PASSED|FAILED|SKIPPED) |tests ran|^\[  FAILED" "$OUT/suite.log" | head -40
echo "== CUDA graphs off (DEEPX_CUDA_GRAPHS=0), the same suite"
DEEPX_CUDA_GRAPHS=0 timeout 100 "$B/bin/deepx_tests" --gtest_filter='*BackendDifferential*cuda*:*Cuda*' \
  > "$OUT/suite_nographs.log" 2>&1
echo "suite (graphs off) exit $?"; grep -E "^\[  (PASSED|FAILED) " "$OUT/suite_nographs.log" | head
fi
echo "== benchmark"
DEEPX_LD_LIBRARY_PATH="$LD_LIBRARY_PATH" PYTHONUNBUFFERED=1 timeout 330 env -u LD_LIBRARY_PATH python3 bench/gpu/cuda_vs_torch.py --deepx "$B/bin/deepx" --models "$MODELS" \
  --rounds "$ROUNDS" --skip-reference vgg16 --out "$OUT/cuda-bench.json" 2>&1 | grep -v Warning | tee "$OUT/bench.log" | tail -40
