#!/usr/bin/env bash
# `make demo`: classifies 8 real Fashion-MNIST test images with the bundled CNN and shows the true labels beside
# DeepX's predictions. Usage: scripts/demo.sh PATH/TO/deepx
set -euo pipefail
deepx="$1"
cd "$(dirname "$0")/.."
echo "Bundled model: models/fashion_mnist_cnn.onnx (trained by scripts/train_fashion_mnist.py; see models/fashion_mnist_cnn.json)"
echo "True labels of models/samples/fashion_batch8.npy, row by row:"
/usr/bin/python3 - <<'PY'
import json
meta = json.load(open("models/fashion_mnist_cnn.json"))
names = meta["class_names"]
for row, label in enumerate(meta["batch"]["labels"]):
    print(f"  row {row}: {label} {names[label]}")
PY
echo
"$deepx" run models/fashion_mnist_cnn.onnx --input input=models/samples/fashion_batch8.npy \
  --labels models/fashion_mnist_cnn.json --top-k 1
