#!/usr/bin/python3
"""Exports the benchmark zoo of issue 3 to ONNX: nine CNN/DNN models with fixed-seed random weights.

Runs with Debian's python3-torch (1.13) and python3-torchvision (0.14); no weights are downloaded. Every model is
exported at batch 1, fp32, opset 13, with a STATIC input shape (batch 1, 224x224 for the ImageNet models): the
comparison measures single-image latency, and a static shape lets both DeepX and ONNX Runtime plan memory up front.
BatchNorm running statistics and affine parameters are randomised too, so folding BN into convolutions is not a
no-op. Alongside each model the script saves a seeded input (<name>_input.npy) that compare.py feeds to every
runtime, PyTorch's output for it (<name>_torch.npy), and a manifest.json describing all of them.

Usage: /usr/bin/python3 bench/make_zoo.py [--out bench/zoo] [--models a,b] [--force]
Existing files are kept unless --force is given (VGG-16 alone is ~530 MB). Nothing here is committed.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from zoo_models import MODELS, build, randomise_batchnorm  # noqa: E402

SEED = 20260101
OPSET = 13




def count_flops(model, x):
    """Floating-point operations of one forward pass, counting a multiply-add as 2, for Conv2d and Linear only
    (they dominate every model here; pooling, activations and BN, which is folded, are left out)."""
    total = [0]

    def conv_hook(m, inputs, output):
        per_output = (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]
        total[0] += 2 * output.numel() * per_output

    def linear_hook(m, inputs, output):
        total[0] += 2 * output.numel() * m.in_features

    hooks = []
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            hooks.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.Linear):
            hooks.append(m.register_forward_hook(linear_hook))
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()
    return total[0]


def export(name, out_dir, force):
    path = os.path.join(out_dir, name + ".onnx")
    input_path = os.path.join(out_dir, name + "_input.npy")
    torch_path = os.path.join(out_dir, name + "_torch.npy")
    # Each model gets its own seeds, so exporting a subset gives the same files as exporting them all.
    torch.manual_seed(SEED)
    gen = torch.Generator().manual_seed(SEED + 1)
    model, shape = build(name)
    randomise_batchnorm(model, gen)
    model.eval()
    x = torch.rand((1,) + shape, generator=gen)
    params = sum(p.numel() for p in model.parameters())
    flops = count_flops(model, x)
    fresh = not all(os.path.exists(p) for p in (path, input_path, torch_path))
    t0 = time.time()
    if force or fresh:
        with torch.no_grad():
            expected = model(x).numpy()
        torch.onnx.export(model, x, path, opset_version=OPSET, input_names=["input"], output_names=["output"],
                          do_constant_folding=True)
        np.save(input_path, x.numpy())
        np.save(torch_path, expected)
        action = f"exported in {time.time() - t0:.1f} s"
    else:
        action = "kept (use --force to re-export)"
        expected = np.load(torch_path)
    print(f"{name:14s} {params / 1e6:7.2f} M params {flops / 1e9:7.3f} GFLOP  {action}")
    return {
        "name": name,
        "file": os.path.basename(path),
        "bytes": os.path.getsize(path),
        "input": {"name": "input", "shape": [1] + list(shape), "dtype": "float32",
                  "file": os.path.basename(input_path)},
        "output": {"name": "output", "shape": list(expected.shape), "dtype": "float32",
                   "torch_file": os.path.basename(torch_path)},
        "params": params,
        "flops": flops,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "zoo"),
                    help="output directory (default: bench/zoo)")
    ap.add_argument("--models", default="", help="comma-separated subset of: " + ",".join(MODELS))
    ap.add_argument("--force", action="store_true", help="re-export even if the files exist")
    args = ap.parse_args()
    names = [n for n in args.models.split(",") if n] or MODELS
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        ap.error(f"unknown model(s) {unknown}; known: {MODELS}")
    torch.set_num_threads(2)
    os.makedirs(args.out, exist_ok=True)
    manifest_path = os.path.join(args.out, "manifest.json")
    manifest = {"models": []}
    if os.path.exists(manifest_path):
        with open(manifest_path) as f:
            manifest = json.load(f)
    entries = {m["name"]: m for m in manifest.get("models", [])}
    for name in names:
        entries[name] = export(name, args.out, args.force)
    manifest = {
        "seed": SEED,
        "opset": OPSET,
        "batch": "static 1",
        "torch": torch.__version__,
        "torchvision": __import__("torchvision").__version__,
        "models": [entries[n] for n in MODELS if n in entries],
    }
    with open(manifest_path, "w") as f:
        json.dump(manifest, f, indent=1)
    print(f"wrote {manifest_path} ({len(manifest['models'])} models)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
