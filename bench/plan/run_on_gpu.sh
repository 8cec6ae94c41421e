#!/bin/bash
# Runs ON the lent GPU machine, from the repository root: predicted vs measured per block of DAD plans over the
# host CPU + CUDA backend and NVIDIA's OpenCL (bench/plan/predicted_vs_measured.py, its GPU_CASES).
#
# Usage: bench/plan/run_on_gpu.sh BUNDLE_TAR OUT_DIR
#   BUNDLE_TAR  made here by scripts/gpu_bundle.sh build/cuda (the deepx CLI and the libraries it needs)
# The zoo models are exported there by bench/gpu/cuda_vs_torch.py's exporter (same seeds as bench/make_zoo.py).
set -u
TAR=$1
OUT=$2
mkdir -p "$OUT"
. bench/gpu/unpack_bundle.sh "$TAR"
mkdir -p /etc/OpenCL/vendors && echo /usr/lib/libnvidia-opencl.so.1 > /etc/OpenCL/vendors/nvidia.icd
mkdir -p bench/zoo
env -u LD_LIBRARY_PATH python3 - <<'PY' 2>&1 | grep -v Warning | tail -5
import sys
sys.path.insert(0, "bench/gpu")
sys.path.insert(0, "bench")
import cuda_vs_torch
cuda_vs_torch.export_all(["squeezenet1_1", "resnet18", "googlenet", "mobilenet_v2"], "bench/zoo")
PY
"$B/bin/deepx" devices > "$OUT/devices.txt" 2>&1; head -12 "$OUT/devices.txt"
python3 bench/plan/predicted_vs_measured.py --deepx "$B/bin/deepx" --out "$OUT/pvm-gpu.json" \
  --cases squeezenet-cpu-cuda resnet18-cpu-cuda googlenet-cpu-cuda mobilenet-cpu-cuda fashion-cnn-cpu-cuda \
  squeezenet-cpu-opencl-gpu squeezenet-cpu-cuda-halves squeezenet-cpu-cuda-alt4 squeezenet-cpu-cuda-alt1 \
  resnet18-cpu-cuda-alt2 squeezenet-cpu-opencl-gpu-halves | tee "$OUT/pvm-gpu.md"
if [ "${WITH_SUITE:-0}" = 1 ]; then
  echo "== CUDA suite + executor tests"
  [ -e /work/main ] || { mkdir -p /work && ln -s "$PWD" /work/main; }
  timeout 200 "$B/bin/deepx_tests" --gtest_filter='*BackendDifferential*cuda*:*Cuda*:*ConcurrentExecutor*:*ExecutorFailover*:*PlanExecutor*' \
    > "$OUT/suite.log" 2>&1
  echo "suite exit $?"; grep -E "^\[  (PASSED|FAILED|SKIPPED) |tests ran" "$OUT/suite.log" | head -20
fi
