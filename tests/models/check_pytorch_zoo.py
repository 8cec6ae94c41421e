#!/usr/bin/env python3
"""Runs the reference CNN/DNN architectures, as exported by PyTorch, through DeepX and compares with PyTorch.

For each architecture (AlexNet, VGG-16, ResNet-18, MobileNetV1, MobileNetV2, SqueezeNet 1.1, GoogLeNet, LeNet-5,
an MLP) the script builds the torchvision (or local) model with seeded random weights — BatchNorm statistics and
affine parameters randomised too, so BN folding is exercised — exports it to ONNX (opset 13, dynamic batch), runs
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
import torch.nn as nn

RTOL = 1e-4
ATOL = 1e-5


class MobileNetV1(nn.Module):
    """MobileNetV1 (Howard et al. 2017): depthwise-separable conv blocks, width 1.0."""

    def __init__(self, num_classes=1000):
        super().__init__()

        def conv_bn(inp, out, stride):
            return nn.Sequential(nn.Conv2d(inp, out, 3, stride, 1, bias=False), nn.BatchNorm2d(out), nn.ReLU(inplace=True))

        def conv_dw(inp, out, stride):
            return nn.Sequential(
                nn.Conv2d(inp, inp, 3, stride, 1, groups=inp, bias=False), nn.BatchNorm2d(inp), nn.ReLU(inplace=True),
                nn.Conv2d(inp, out, 1, 1, 0, bias=False), nn.BatchNorm2d(out), nn.ReLU(inplace=True))

        cfg = [(32, 64, 1), (64, 128, 2), (128, 128, 1), (128, 256, 2), (256, 256, 1), (256, 512, 2)] + \
              [(512, 512, 1)] * 5 + [(512, 1024, 2), (1024, 1024, 1)]
        layers = [conv_bn(3, 32, 2)] + [conv_dw(i, o, s) for i, o, s in cfg]
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(1024, num_classes)

    def forward(self, x):
        x = self.pool(self.features(x))
        return self.fc(torch.flatten(x, 1))


class LeNet5(nn.Module):
    """LeNet-5 as commonly written for 32x32 inputs (tanh + average pooling)."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 6, 5)
        self.c3 = nn.Conv2d(6, 16, 5)
        self.f5 = nn.Linear(16 * 5 * 5, 120)
        self.f6 = nn.Linear(120, 84)
        self.out = nn.Linear(84, 10)

    def forward(self, x):
        x = nn.functional.avg_pool2d(torch.tanh(self.c1(x)), 2)
        x = nn.functional.avg_pool2d(torch.tanh(self.c3(x)), 2)
        x = x.view(x.size(0), -1)
        x = torch.tanh(self.f5(x))
        x = torch.tanh(self.f6(x))
        return torch.log_softmax(self.out(x), dim=1)


def mlp():
    """A DeepEar-style audio DNN: stacked filterbank frames -> 3 hidden layers of 1024 -> classes."""
    return nn.Sequential(nn.Linear(24 * 11, 1024), nn.ReLU(), nn.Dropout(0.2), nn.Linear(1024, 1024), nn.Sigmoid(),
                         nn.Linear(1024, 1024), nn.ReLU(), nn.Linear(1024, 5), nn.Softmax(dim=1))


def build(name):
    import torchvision.models as tvm
    image = (3, 224, 224)
    if name == "alexnet":
        return tvm.alexnet(), image
    if name == "vgg16":
        return tvm.vgg16(), image
    if name == "resnet18":
        return tvm.resnet18(), image
    if name == "mobilenet_v1":
        return MobileNetV1(), image
    if name == "mobilenet_v2":
        return tvm.mobilenet_v2(), image
    if name == "squeezenet1_1":
        return tvm.squeezenet1_1(), image
    if name == "googlenet":
        return tvm.googlenet(aux_logits=False, init_weights=True), image
    if name == "lenet5":
        return LeNet5(), (1, 32, 32)
    if name == "mlp":
        return mlp(), (24 * 11,)
    raise ValueError(name)


MODELS = ["lenet5", "mlp", "alexnet", "squeezenet1_1", "mobilenet_v1", "mobilenet_v2", "resnet18", "googlenet", "vgg16"]


def randomise_batchnorm(model, gen):
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            n = m.num_features
            m.running_mean.copy_(torch.randn(n, generator=gen) * 0.1)
            m.running_var.copy_(torch.rand(n, generator=gen) * 0.5 + 0.75)
            m.weight.data.copy_(torch.rand(n, generator=gen) * 0.5 + 0.75)
            m.bias.data.copy_(torch.randn(n, generator=gen) * 0.1)


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
