#!/usr/bin/python3
"""Train the small Fashion-MNIST CNN bundled with DeepX and export it to ONNX.

Reproduce everything (model, labels json, sample inputs, reference logits) with:

    /usr/bin/python3 scripts/train_fashion_mnist.py

from the repository root. Requirements: Debian 12's python3-torch (1.13) and
python3-numpy; no torchvision, no onnx package, no network. The data set is read
from /usr/share/datasets/fashion-mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz
(override the directory with --data-dir). Training is seeded and deterministic
(2 threads, deterministic algorithms); it takes a few minutes on 2 CPU cores.

Outputs (all under models/):
  fashion_mnist_cnn.onnx          opset 13, input "input" [N,1,28,28] float32
                                  (dynamic batch), output "logits" [N,10] float32
  fashion_mnist_cnn.json          class names, normalisation, seed, epochs,
                                  torch version, test accuracy, sample list
  samples/fashion_<i>_<class>.npy one normalised test image, float32 [1,1,28,28]
  samples/fashion_<i>_<class>.pgm the same image as raw 8-bit PGM (P5)
  samples/fashion_batch8.npy      the 8 samples stacked, float32 [8,1,28,28]
  samples/fashion_batch8_logits.npy  PyTorch eval-mode logits, float32 [8,10]

Input normalisation (applied to the .npy samples already; apply it yourself to
raw pixels):   x = (pixel / 255 - 0.2860) / 0.3530

Samples are chosen by rule: walk the test set in order and take the first image
of each class not yet seen, until 8 distinct classes have been collected; sample
<i> is the i-th image collected this way (so indices are increasing).

Labels: 0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress, 4 Coat, 5 Sandal,
6 Shirt, 7 Sneaker, 8 Bag, 9 Ankle boot. The model outputs raw logits (no
softmax); the predicted class is argmax over the last axis.
"""

import argparse
import gzip
import json
import os
import re
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

CLASS_NAMES = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
]
MEAN = 0.2860
STD = 0.3530
SEED = 1234
NUM_SAMPLES = 8

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# --------------------------------------------------------------------------
# IDX reader
# --------------------------------------------------------------------------
def read_idx(path, expected_magic, expected_ndim):
    """Read a gzip'ed IDX file (big-endian header) into a uint8 numpy array."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    if len(data) < 4:
        raise ValueError(f"{path}: file too short")
    magic = int.from_bytes(data[0:4], "big")
    if magic != expected_magic:
        raise ValueError(f"{path}: bad magic 0x{magic:08x}, expected 0x{expected_magic:08x}")
    # magic = 0x00 0x00 <type> <ndim>; type 0x08 = unsigned byte
    if data[2] != 0x08 or data[3] != expected_ndim:
        raise ValueError(f"{path}: unexpected type/ndim {data[2]:#x}/{data[3]}")
    header = 4 + 4 * expected_ndim
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(expected_ndim)]
    count = int(np.prod(dims))
    if len(data) != header + count:
        raise ValueError(f"{path}: size {len(data)} does not match header dims {dims}")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims).copy()


def load_split(data_dir, prefix):
    images = read_idx(os.path.join(data_dir, f"{prefix}-images-idx3-ubyte.gz"), 0x00000803, 3)
    labels = read_idx(os.path.join(data_dir, f"{prefix}-labels-idx1-ubyte.gz"), 0x00000801, 1)
    if images.shape[0] != labels.shape[0] or images.shape[1:] != (28, 28):
        raise ValueError(f"{prefix}: inconsistent shapes {images.shape} / {labels.shape}")
    if labels.max() > 9:
        raise ValueError(f"{prefix}: label out of range")
    return images, labels.astype(np.int64)


def normalise(images_u8):
    """uint8 [N,28,28] -> float32 [N,1,28,28], x = (p/255 - MEAN)/STD."""
    x = images_u8.astype(np.float32) / np.float32(255.0)
    x = (x - np.float32(MEAN)) / np.float32(STD)
    return x[:, None, :, :].astype(np.float32)


# --------------------------------------------------------------------------
# Model
# --------------------------------------------------------------------------
class FashionCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 32, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(32),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(64),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
        )
        self.flatten = nn.Flatten()
        self.classifier = nn.Sequential(
            nn.Linear(64 * 7 * 7, 128),
            nn.ReLU(inplace=True),
            nn.Dropout(0.3),
            nn.Linear(128, 10),
        )

    def forward(self, x):
        return self.classifier(self.flatten(self.features(x)))


def evaluate(model, x, y, batch=1000):
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, x.shape[0], batch):
            out = model(x[i:i + batch])
            correct += int((out.argmax(dim=1) == y[i:i + batch]).sum())
    return correct / x.shape[0]


# --------------------------------------------------------------------------
# Minimal protobuf walk to list ONNX node op types (no onnx package needed)
# --------------------------------------------------------------------------
def _varint(buf, pos):
    result = shift = 0
    while True:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7


def _fields(buf):
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        field, wire = key >> 3, key & 7
        if wire == 0:
            val, pos = _varint(buf, pos)
        elif wire == 1:
            val, pos = buf[pos:pos + 8], pos + 8
        elif wire == 2:
            ln, pos = _varint(buf, pos)
            val, pos = buf[pos:pos + ln], pos + ln
        elif wire == 5:
            val, pos = buf[pos:pos + 4], pos + 4
        else:
            raise ValueError(f"unsupported wire type {wire}")
        yield field, val


def onnx_summary(path):
    with open(path, "rb") as f:
        buf = f.read()
    ops, inits, opset = [], [], None
    for field, val in _fields(buf):
        if field == 8:  # opset_import
            for f2, v2 in _fields(val):
                if f2 == 2:
                    opset = v2
        if field == 7:  # graph
            for gf, gv in _fields(val):
                if gf == 1:  # node
                    for nf, nv in _fields(gv):
                        if nf == 4:
                            ops.append(nv.decode())
                elif gf == 5:  # initializer
                    for tf, tv in _fields(gv):
                        if tf == 8:
                            inits.append(tv.decode())
    return ops, inits, opset


# --------------------------------------------------------------------------
def class_slug(name):
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def write_pgm(path, img_u8):
    h, w = img_u8.shape
    with open(path, "wb") as f:
        f.write(f"P5\n{w} {h}\n255\n".encode("ascii"))
        f.write(np.ascontiguousarray(img_u8, dtype=np.uint8).tobytes())


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--out-dir", default=os.path.join(REPO_ROOT, "models"))
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--lr", type=float, default=2e-3)
    args = ap.parse_args()

    torch.manual_seed(SEED)
    np.random.seed(SEED)
    torch.set_num_threads(2)
    torch.use_deterministic_algorithms(True)

    t0 = time.time()
    train_u8, train_y = load_split(args.data_dir, "train")
    test_u8, test_y = load_split(args.data_dir, "t10k")
    print(f"train {train_u8.shape}, test {test_u8.shape}")
    x_train = torch.from_numpy(normalise(train_u8))
    y_train = torch.from_numpy(train_y)
    x_test = torch.from_numpy(normalise(test_u8))
    y_test = torch.from_numpy(test_y)

    model = FashionCNN()
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    steps_per_epoch = (x_train.shape[0] + args.batch_size - 1) // args.batch_size
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=args.lr, epochs=args.epochs, steps_per_epoch=steps_per_epoch)
    gen = torch.Generator().manual_seed(SEED)

    for epoch in range(args.epochs):
        model.train()
        perm = torch.randperm(x_train.shape[0], generator=gen)
        total_loss = 0.0
        for i in range(0, x_train.shape[0], args.batch_size):
            idx = perm[i:i + args.batch_size]
            opt.zero_grad()
            loss = F.cross_entropy(model(x_train[idx]), y_train[idx])
            loss.backward()
            opt.step()
            sched.step()
            total_loss += float(loss) * idx.shape[0]
        acc = evaluate(model, x_test, y_test)
        print(f"epoch {epoch + 1}/{args.epochs}: loss {total_loss / x_train.shape[0]:.4f} "
              f"test acc {acc:.4f} ({time.time() - t0:.0f}s)", flush=True)

    model.eval()
    test_acc = evaluate(model, x_test, y_test)

    # ---- samples (by rule: first test image of each new class, in test order)
    sample_idx, seen = [], set()
    for i, lab in enumerate(test_y):
        if int(lab) not in seen:
            seen.add(int(lab))
            sample_idx.append(i)
            if len(sample_idx) == NUM_SAMPLES:
                break

    sample_dir = os.path.join(args.out_dir, "samples")
    os.makedirs(sample_dir, exist_ok=True)
    samples = []
    batch = normalise(test_u8[sample_idx])  # float32 [8,1,28,28]
    for k, ti in enumerate(sample_idx):
        lab = int(test_y[ti])
        stem = f"fashion_{k}_{class_slug(CLASS_NAMES[lab])}"
        np.save(os.path.join(sample_dir, stem + ".npy"), batch[k:k + 1].copy())
        write_pgm(os.path.join(sample_dir, stem + ".pgm"), test_u8[ti])
        samples.append({
            "index": k, "test_index": int(ti), "label": lab, "class_name": CLASS_NAMES[lab],
            "npy": f"samples/{stem}.npy", "pgm": f"samples/{stem}.pgm",
        })
    np.save(os.path.join(sample_dir, "fashion_batch8.npy"), batch)
    with torch.no_grad():
        logits = model(torch.from_numpy(batch)).numpy().astype(np.float32)
    np.save(os.path.join(sample_dir, "fashion_batch8_logits.npy"), logits)
    preds = logits.argmax(axis=1)
    for s, p in zip(samples, preds):
        s["pytorch_pred"] = int(p)
    print("sample test indices:", sample_idx)
    print("sample labels:      ", [s["label"] for s in samples])
    print("pytorch preds:      ", preds.tolist())

    # ---- ONNX export
    onnx_path = os.path.join(args.out_dir, "fashion_mnist_cnn.onnx")
    dummy = torch.from_numpy(batch[:1].copy())
    torch.onnx.export(
        model, dummy, onnx_path,
        export_params=True, opset_version=13, do_constant_folding=True,
        input_names=["input"], output_names=["logits"],
        dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}},
        training=torch.onnx.TrainingMode.EVAL,
    )
    onnx_size = os.path.getsize(onnx_path)
    ops, inits, opset = onnx_summary(onnx_path)
    print(f"ONNX: {onnx_path} ({onnx_size} bytes), opset {opset}")
    print(f"ONNX ops ({len(ops)}): {ops}")
    print(f"ONNX initializers: {inits}")
    if onnx_size > 5 * 1024 * 1024:
        print("error: ONNX file exceeds 5 MB", file=sys.stderr)
        return 1

    meta = {
        "model": "fashion_mnist_cnn.onnx",
        "dataset": "Fashion-MNIST",
        "input": {"name": "input", "shape": ["N", 1, 28, 28], "dtype": "float32"},
        "output": {"name": "logits", "shape": ["N", 10], "dtype": "float32",
                   "note": "raw logits, predicted class = argmax"},
        "class_names": CLASS_NAMES,
        "normalization": {"mean": MEAN, "std": STD,
                          "formula": "x = (pixel / 255 - mean) / std"},
        "seed": SEED,
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "optimizer": f"Adam, OneCycleLR max_lr={args.lr}",
        "torch_version": torch.__version__,
        "opset": 13,
        "test_accuracy": round(test_acc, 4),
        "onnx_ops": sorted(set(ops)),
        "sample_rule": "first test image of each not-yet-seen class, walking the test set in order, until 8 classes",
        "samples": samples,
        "batch": {"npy": "samples/fashion_batch8.npy", "shape": [NUM_SAMPLES, 1, 28, 28],
                  "labels": [s["label"] for s in samples],
                  "logits": "samples/fashion_batch8_logits.npy"},
    }
    with open(os.path.join(args.out_dir, "fashion_mnist_cnn.json"), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")

    print(f"test accuracy: {test_acc:.4f}  (total {time.time() - t0:.0f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
