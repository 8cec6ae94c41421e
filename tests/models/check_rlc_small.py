#!/usr/bin/python3
"""RLC end to end on the committed DNN: compress within 1 pp estimated drop, measure the real drop with DeepX.

    tests/models/check_rlc_small.py --deepx build/release/bin/deepx [--workdir DIR] [--limit 2000]

`deepx compress models/fashion_mnist_dnn_small.onnx --max-accuracy-drop 0.01
 --calibration models/samples/fashion_calib_256.npy --json` (256 unlabelled training images), then the dense and
the compressed model classify the first --limit Fashion-MNIST test images through `deepx run`. Fails unless the
model got smaller, the measured top-1 drop is <= 1.5 pp, and the compressor's predicted drop is within 1 pp of
the measured one. Prints the numbers either way.
"""

import argparse
import json
import os
import subprocess
import sys

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO_ROOT, "scripts"))
import eval_accuracy  # noqa: E402

MODEL = os.path.join(REPO_ROOT, "models/fashion_mnist_dnn_small.onnx")
CALIB = os.path.join(REPO_ROOT, "models/samples/fashion_calib_256.npy")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--deepx", required=True)
    ap.add_argument("--workdir", default="/tmp/deepx_rlc_small")
    ap.add_argument("--limit", type=int, default=2000)
    ap.add_argument("--max-drop", type=float, default=0.01)
    args = ap.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    out = os.path.join(args.workdir, "dnn_small_rlc.onnx")

    cmd = [args.deepx, "compress", MODEL, "-o", out, "--max-accuracy-drop", str(args.max_drop),
           "--calibration", CALIB, "--json"]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        print(f"FAIL: {' '.join(cmd)} exited {r.returncode}: {r.stderr.strip()}")
        return 1
    rep = json.loads(r.stdout)
    ranks = {l["name"]: l.get("rank") for l in rep.get("layers", [])}
    predicted = rep.get("estimated_accuracy_drop")

    cache = os.path.join(args.workdir, "test_batches")
    dense = eval_accuracy.evaluate(MODEL, deepx=args.deepx, limit=args.limit, cache_dir=cache)
    comp = eval_accuracy.evaluate(out, deepx=args.deepx, limit=args.limit, cache_dir=cache)
    measured = dense["accuracy"] - comp["accuracy"]

    print(f"ranks {ranks}")
    print(f"params {rep['params_before']} -> {rep['params_after']} "
          f"({rep['params_before'] / max(1, rep['params_after']):.2f}x smaller)")
    print(f"top-1 on the first {args.limit} test images: dense {dense['accuracy'] * 100:.2f}%, "
          f"compressed {comp['accuracy'] * 100:.2f}%")
    if predicted is not None and predicted >= 0:
        print(f"measured drop {measured * 100:.2f} pp, predicted {predicted * 100:.2f} pp, "
              f"|predicted - measured| {abs(predicted - measured) * 100:.2f} pp")

    failures = []
    if not rep["params_after"] < rep["params_before"]:
        failures.append("nothing was compressed")
    if measured > 0.015:
        failures.append(f"measured drop {measured * 100:.2f} pp > 1.5 pp")
    if predicted is None or predicted < 0:
        failures.append(f"no predicted drop in the report ({predicted})")
    elif abs(predicted - measured) > 0.01:
        failures.append(f"|predicted - measured| {abs(predicted - measured) * 100:.2f} pp > 1 pp")
    if failures:
        print("FAIL: " + "; ".join(failures))
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
