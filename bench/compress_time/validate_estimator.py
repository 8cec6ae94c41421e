#!/usr/bin/env python3
"""Predicted vs measured top-1 drop of RLC-compressed models on Fashion-MNIST.

For each weight budget (fractions of the dense compressible weights) runs
  deepx compress MODEL --weight-budget-mb X --calibration CALIB.npy --json
(the estimator runs whenever calibration samples are given), then measures the written ONNX file's top-1
accuracy on the full test set with ONNX Runtime (which also checks that other runtimes load the output).
Prints one JSON object: per point the ranks, weights, estimated drop, flip rate and measured drop.

  bench/.venv/bin/python bench/compress_time/validate_estimator.py --deepx build/release/bin/deepx \
      --model models/fashion_mnist_cnn.onnx [--synthetic]

Data: /usr/share/datasets/fashion-mnist (IDX, gzip). Calibration = 1000 training images (seeded choice), never
the test images; normalisation x = (pixel/255 - 0.286)/0.353 as the bundled models were trained with.
"""
import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnxruntime as ort

DATA = "/usr/share/datasets/fashion-mnist/"


def idx_images(name):
    raw = gzip.open(DATA + name).read()
    return np.frombuffer(raw, np.uint8, offset=16).reshape(-1, 1, 28, 28)


def idx_labels(name):
    return np.frombuffer(gzip.open(DATA + name).read(), np.uint8, offset=8).astype(np.int64)


def normalise(x, mean, std):
    return ((x.astype(np.float32) / 255 - mean) / std).astype(np.float32)


def accuracy(path, images, labels):
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    inp = sess.get_inputs()[0]
    shape = inp.shape
    x = images.reshape((len(images),) + tuple(d if isinstance(d, int) else -1 for d in shape[1:])) \
        if len(shape) != 4 else images
    if len(shape) == 2:
        x = images.reshape(len(images), -1)
    correct = 0
    for s in range(0, len(x), 1000):
        out = sess.run(None, {inp.name: x[s:s + 1000]})[0]
        correct += int((out.argmax(1) == labels[s:s + 1000]).sum())
    return correct / len(x)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--deepx", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--fractions", default="0.02,0.04,0.06,0.08,0.1,0.15,0.2,0.3,0.5")
    ap.add_argument("--calibration-samples", type=int, default=1000)
    ap.add_argument("--mean", type=float, default=0.286)
    ap.add_argument("--std", type=float, default=0.353)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--synthetic", action="store_true", help="estimate on synthesised inputs instead")
    args = ap.parse_args()

    rng = np.random.default_rng(0)
    train = idx_images("train-images-idx3-ubyte.gz")
    calib = normalise(train[rng.choice(len(train), args.calibration_samples, replace=False)], args.mean, args.std)
    test = normalise(idx_images("t10k-images-idx3-ubyte.gz"), args.mean, args.std)
    labels = idx_labels("t10k-labels-idx1-ubyte.gz")
    work = tempfile.mkdtemp(prefix="rlc_validate_")
    sess = ort.InferenceSession(args.model, providers=["CPUExecutionProvider"])
    in_shape = sess.get_inputs()[0].shape
    if len(in_shape) == 2:
        calib = calib.reshape(len(calib), -1)
    calib_path = os.path.join(work, "calib.npy")
    np.save(calib_path, calib)
    dense_acc = accuracy(args.model, test, labels)

    # Dense compressible weights, from a run that keeps everything (explicit empty budget is not allowed, so
    # take the report of a generous budget).
    probe = subprocess.run([args.deepx, "compress", args.model, "-o", os.path.join(work, "probe.onnx"), "-q",
                            "--weight-budget-mb", "1e9", "--json"], capture_output=True, text=True, check=True)
    rep = json.loads(probe.stdout)
    fixed = rep["params_before"] - sum(l["params_before"] for l in rep["layers"])
    compressible = sum(l["params_before"] for l in rep["layers"])
    points = []
    for f in [float(v) for v in args.fractions.split(",")]:
        out = os.path.join(work, f"c{f}.onnx")
        mb = (fixed + f * compressible) * 4 / 1e6
        cmd = [args.deepx, "compress", args.model, "-o", out, "-q", "--json", "--weight-budget-mb", repr(mb),
               "--threads", str(args.threads)]
        if args.synthetic:
            cmd += ["--max-accuracy-drop", "1"]  # runs the estimator on synthesised inputs; the bound never binds
        else:
            cmd += ["--calibration", calib_path]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            points.append({"fraction": f, "error": r.stderr.strip()})
            continue
        rep = json.loads(r.stdout)
        acc = accuracy(out, test, labels)
        points.append({
            "fraction": f,
            "ranks": {l["name"]: l["rank"] for l in rep["layers"] if l["rank"]},
            "params_after": rep["params_after"],
            "estimated_drop_pp": 100 * rep["estimated_accuracy_drop"],
            "flip_rate_pct": 100 * rep["flip_rate"],
            "measured_drop_pp": 100 * (dense_acc - acc),
            "accuracy": acc,
        })
        print(json.dumps(points[-1]), file=sys.stderr)
    errs = [abs(p["estimated_drop_pp"] - p["measured_drop_pp"]) for p in points if "error" not in p]
    print(json.dumps({"model": args.model, "dense_accuracy": dense_acc, "params_before": rep["params_before"],
                      "estimator_inputs": "synthetic" if args.synthetic else f"{args.calibration_samples} train images",
                      "points": points, "max_abs_error_pp": max(errs) if errs else None}, indent=1))


if __name__ == "__main__":
    main()
