#!/usr/bin/env python3
"""Runs the reference CNN/DNN architectures, as exported by PyTorch, through DeepX and compares with PyTorch.

For each architecture (AlexNet, VGG-16, ResNet-18, MobileNetV1, MobileNetV2, SqueezeNet 1.1, GoogLeNet, LeNet-5,
an SVHN-style CNN, a DeepEar-style DNN; all defined in bench/zoo_models.py) the script builds the model with seeded
random weights — BatchNorm statistics and affine parameters randomised too, so BN folding is exercised — exports it to ONNX (opset 13, dynamic batch), runs
PyTorch on a seeded input, then runs `deepx run` on the same input and compares outputs:
max|deepx - torch| <= RTOL * max|torch| + ATOL.

Usage: check_pytorch_zoo.py --deepx PATH/TO/deepx --workdir DIR [--only name,...] [--batch N]
                            [--backends reference,cpu]
Models are written under --workdir (VGG-16 is ~530 MB) and are not committed.
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np
import torch

RTOL = 1e-4
ATOL = 1e-5


# The architectures live in bench/zoo_models.py, shared with the benchmark zoo.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench"))
from zoo_models import build, randomise_batchnorm  # noqa: E402

MODELS = ["lenet5", "deepear", "svhn_cnn", "alexnet", "squeezenet1_1", "mobilenet_v1", "mobilenet_v2", "resnet18",
          "googlenet", "vgg16"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--deepx", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--only", default="")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--backends", default="reference", help="comma-separated deepx backends to check")
    args = ap.parse_args()
    torch.set_num_threads(2)
    os.makedirs(args.workdir, exist_ok=True)
    names = [n for n in args.only.split(",") if n] or MODELS
    failures = []
    results = []
    for name in names:
        torch.manual_seed(0)
        gen = torch.Generator().manual_seed(1)
        model, shape = build(name)
        randomise_batchnorm(model, gen)
        model.eval()
        x = torch.rand((args.batch,) + shape, generator=gen)
        with torch.no_grad():
            expected = model(x).numpy()
        path = os.path.join(args.workdir, name + ".onnx")
        torch.onnx.export(model, x, path, opset_version=13, input_names=["input"], output_names=["output"],
                          dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}}, do_constant_folding=True)
        inp = os.path.join(args.workdir, name + "_input.npy")
        np.save(inp, x.numpy())
        for backend in [b for b in args.backends.split(",") if b]:
            label = f"{name} [{backend}]"
            outdir = os.path.join(args.workdir, f"{name}_{backend}_out")
            os.makedirs(outdir, exist_ok=True)
            t0 = time.time()
            proc = subprocess.run([args.deepx, "run", path, "--backend", backend, "--input", "input=" + inp,
                                   "--output", outdir, "--json"], capture_output=True, text=True)
            seconds = time.time() - t0
            if proc.returncode != 0:
                failures.append(label)
                print(f"FAIL {label}: deepx exited {proc.returncode}: {proc.stderr.strip()}")
                continue
            got = np.load(os.path.join(outdir, "output.npy"))
            if got.shape != expected.shape:
                failures.append(label)
                print(f"FAIL {label}: shape {got.shape} != {expected.shape}")
                continue
            err = float(np.max(np.abs(got - expected)))
            scale = float(np.max(np.abs(expected)))
            ok = err <= RTOL * scale + ATOL
            results.append({"model": name, "backend": backend, "max_abs_err": err, "max_abs_ref": scale, "ok": ok,
                            "seconds": seconds})
            print(f"{'ok  ' if ok else 'FAIL'} {label}: max|err| = {err:.3g} (max|ref| = {scale:.3g}), "
                  f"deepx run {seconds:.1f} s")
            if not ok:
                failures.append(label)
    with open(os.path.join(args.workdir, "results.json"), "w") as f:
        json.dump(results, f, indent=1)
    print(f"{len(results) - sum(not r['ok'] for r in results)} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
