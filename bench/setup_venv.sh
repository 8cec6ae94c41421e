#!/usr/bin/env bash
# Creates bench/.venv (gitignored) with the peer runtimes that bench/compare.py measures DeepX against.
# Idempotent: an existing venv is reused and pip only installs what is missing or at another version.
#
#   bench/setup_venv.sh            # onnxruntime + numpy (required), openvino (optional second peer)
#   PYTHON=/usr/bin/python3 bench/setup_venv.sh
#
# Versions are pinned so that results in bench/results/ can be reproduced; they are the newest that install on
# Debian 12 x86-64 with Python 3.11 as of the first run. LiteRT (ai-edge-litert) is not installed: it runs
# .tflite files only and there is no ONNX -> TFLite converter on PyPI that works without TensorFlow, so it could not
# run the same .onnx file as the other two.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${here}/.venv"
python="${PYTHON:-python3}"

ORT_VERSION=1.32.0
NUMPY_VERSION=2.3.5
OPENVINO_VERSION=2026.4.1

if [[ ! -x "${venv}/bin/python" ]]; then
  echo "creating ${venv} with $(${python} --version 2>&1)"
  "${python}" -m venv "${venv}"
fi

pip=("${venv}/bin/python" -m pip --disable-pip-version-check -q)
"${pip[@]}" install "numpy==${NUMPY_VERSION}" "onnxruntime==${ORT_VERSION}"

# OpenVINO is a second peer when it installs; the comparison runs without it otherwise.
if ! "${pip[@]}" install "openvino==${OPENVINO_VERSION}"; then
  echo "note: openvino ${OPENVINO_VERSION} did not install; compare.py will skip it" >&2
fi

"${venv}/bin/python" - <<'EOF'
import numpy, onnxruntime
print(f"numpy {numpy.__version__}, onnxruntime {onnxruntime.__version__}", end="")
try:
    import openvino
    print(f", openvino {openvino.__version__}")
except ImportError:
    print(", openvino not installed")
EOF
