#!/usr/bin/env bash
# Installs every Debian package that DeepX's build, tests and demo need.
# Idempotent: packages already present are skipped, and `apt-get update` runs only when something is missing.
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build pkg-config
  # ONNX model parsing
  libonnx-dev libprotobuf-dev protobuf-compiler
  # ONNX backend conformance suite (node / pytorch-converted / pytorch-operator / simple)
  libonnx-testdata
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev
  # optimised CPU kernels (oneDNN; XNNPACK for the kernel-library comparison)
  libdnnl-dev libxnnpack-dev libpthreadpool-dev
  # CLI and JSON
  libcli11-dev nlohmann-json3-dev
  # RLC: truncated/randomised SVD (LAPACK + BLAS)
  liblapacke-dev libopenblas-dev
  # OpenCL backend: ICD loader, headers, CLBlast GEMM, PoCL as the CPU-side OpenCL device for CI
  ocl-icd-opencl-dev opencl-c-headers clinfo libclblast-dev pocl-opencl-icd
  # remote backend + `deepx serve` (KServe v2 over HTTP, optional TLS)
  libcpp-httplib-dev libssl-dev
  # DAD optimiser (MILP for general DAGs)
  libglpk-dev coinor-libcbc-dev
  # shared compiler cache for parallel build trees
  ccache
  # training and exporting the bundled demo model
  python3 python3-numpy python3-torch python3-torchvision dataset-fashion-mnist
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
