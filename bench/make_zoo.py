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

SEED = 20260101
OPSET = 13
IMAGENET = (3, 224, 224)


class SvhnCnn(nn.Module):
    """An SVHN-style digit classifier: three conv blocks on 32x32 RGB (two 3x3 conv+BN+ReLU, 2x2 max pool each),
    then two fully-connected layers."""

    def __init__(self, num_classes=10):
        super().__init__()
        blocks = []
        channels = 3
        for width in (32, 64, 128):
            blocks += [nn.Conv2d(channels, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(inplace=True),
                       nn.Conv2d(width, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(inplace=True),
                       nn.MaxPool2d(2)]
            channels = width
        self.features = nn.Sequential(*blocks)
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(128 * 4 * 4, 512), nn.ReLU(inplace=True),
                                        nn.Dropout(0.3), nn.Linear(512, num_classes))

    def forward(self, x):
        return self.classifier(self.features(x))


class LeNet5(nn.Module):
    """LeNet-5 on 1x32x32: C1 (6@5x5) - S2 - C3 (16@5x5) - S4 - F5 (120) - F6 (84) - 10, tanh and average pooling as
    in the 1998 paper (C3's partial connection table is replaced by a full one, as usual today)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = nn.functional.avg_pool2d(torch.tanh(self.conv1(x)), 2)
        x = nn.functional.avg_pool2d(torch.tanh(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        x = torch.tanh(self.fc1(x))
        x = torch.tanh(self.fc2(x))
        return torch.log_softmax(self.fc3(x), dim=1)


def deepear(bands=24, frames=11, hidden=1024, num_classes=10):
    """A DeepEar-style audio DNN (Lane et al., UbiComp 2015): a window of stacked log filterbank frames
    (bands x frames values) through three fully-connected hidden layers to class probabilities."""
    return nn.Sequential(nn.Linear(bands * frames, hidden), nn.ReLU(), nn.Dropout(0.2),
                         nn.Linear(hidden, hidden), nn.ReLU(), nn.Dropout(0.2),
                         nn.Linear(hidden, hidden), nn.ReLU(),
                         nn.Linear(hidden, num_classes), nn.Softmax(dim=1))


def build(name):
    """The model (in training-default state) and its per-sample input shape."""
    import torchvision.models as tvm
    builders = {
        "alexnet": lambda: (tvm.alexnet(), IMAGENET),
        "vgg16": lambda: (tvm.vgg16(), IMAGENET),
        "resnet18": lambda: (tvm.resnet18(), IMAGENET),
        "mobilenet_v2": lambda: (tvm.mobilenet_v2(), IMAGENET),
        "squeezenet1_1": lambda: (tvm.squeezenet1_1(), IMAGENET),
        "googlenet": lambda: (tvm.googlenet(aux_logits=False, init_weights=True), IMAGENET),
        "svhn_cnn": lambda: (SvhnCnn(), (3, 32, 32)),
        "lenet5": lambda: (LeNet5(), (1, 32, 32)),
        "deepear": lambda: (deepear(), (24 * 11,)),
    }
    return builders[name]()


# Smallest first, so a partial run still covers something.
MODELS = ["lenet5", "deepear", "svhn_cnn", "squeezenet1_1", "mobilenet_v2", "resnet18", "googlenet", "alexnet",
          "vgg16"]


def randomise_batchnorm(model, gen):
    """Gives every BatchNorm non-trivial statistics; freshly built ones have mean 0, var 1, scale 1, shift 0."""
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            n = m.num_features
            m.running_mean.copy_(torch.randn(n, generator=gen) * 0.2)
            m.running_var.copy_(torch.rand(n, generator=gen) * 0.8 + 0.6)
            m.weight.data.copy_(torch.rand(n, generator=gen) * 0.8 + 0.6)
            m.bias.data.copy_(torch.randn(n, generator=gen) * 0.2)


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
