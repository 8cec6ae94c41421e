#!/usr/bin/python3
"""Train the Fashion-MNIST models used to measure Run-time Layer Compression (RLC).

    /usr/bin/python3 scripts/train_rlc_models.py                 # all three models + calibration data
    /usr/bin/python3 scripts/train_rlc_models.py --models dnn    # one model
    /usr/bin/python3 scripts/train_rlc_models.py --calib-only    # only the calibration .npy files

Models (all take input "input" [N,1,28,28] float32, normalised like the bundled CNN,
x = (pixel/255 - 0.2860)/0.3530, and output raw logits "logits" [N,10]):

  dnn        DeepEar-like FC-heavy DNN 784-1024-1024-1024-10 (ReLU, dropout 0.2 in
             training), 2.91 M params, 11.6 MB   -> models/trained/dnn.onnx (gitignored)
  alexnet    AlexNet-style CNN: conv5x5(64)-ReLU-pool, conv3x3(128)-ReLU-pool,
             conv3x3(256)-ReLU-pool, FC 2304-2048-2048-10 (dropout 0.5), 9.2 M params,
             37 MB                               -> models/trained/alexnet.onnx (gitignored)
  dnn_small  the DNN with 512-unit hidden layers, 0.93 M params, 3.7 MB
                                                 -> models/fashion_mnist_dnn_small.onnx (committed, CI)

Each ONNX file gets a JSON next to it (test accuracy on the full 10k test set,
epochs, seed, training time, torch version, device). Training is seeded
(torch.manual_seed, a seeded torch.Generator for the data order, deterministic
algorithms, 2 threads); on CPU with Debian's python3-torch the run reproduces
bit for bit. --device cuda trains on a GPU (different float rounding, so other
weights); --save-params/--from-params move trained weights between machines as
raw float32 shards (< 16 MB each) so the ONNX export always runs here with
Debian's torch and its classic exporter.

The models measured in docs/COMPRESSION.md and the committed dnn_small were trained on
an H100 (the shared 2-core CI box was too loaded to train in time) with torch 2.11:
    (GPU machine) scripts/train_rlc_models.py --device cuda --threads 8 --save-params DIR
    (here)        scripts/train_rlc_models.py --models NAME --from-params DIR
each model's JSON records the device and torch versions. On CPU (`make models`) the
same script trains everything here (DNNs: minutes; AlexNet: ~30 min on 2 idle cores).

Calibration data ("the unlabelled samples the app supplies"): 1000 TRAINING
images chosen by a seeded permutation (seed 4321), normalised, float32
[1000,1,28,28], no labels -> models/trained/fashion_calib_1000.npy; its first 256
-> models/samples/fashion_calib_256.npy (committed).

Data loading and normalisation are imported from scripts/train_fashion_mnist.py.
"""

import argparse
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train_fashion_mnist as tfm  # noqa: E402  (load_split, normalise, MEAN, STD, CLASS_NAMES)

REPO_ROOT = tfm.REPO_ROOT
SEED = 1234
CALIB_SEED = 4321
OPSET = 13


class FashionDNN(nn.Module):
    """DeepEar-like: three wide hidden FC layers. The FC weights are what RLC compresses."""

    def __init__(self, hidden=1024, dropout=0.2):
        super().__init__()
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(784, hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        self.fc3 = nn.Linear(hidden, hidden)
        self.fc4 = nn.Linear(hidden, 10)
        self.drop = nn.Dropout(dropout)

    def forward(self, x):
        x = self.flatten(x)
        x = self.drop(F.relu(self.fc1(x)))
        x = self.drop(F.relu(self.fc2(x)))
        x = self.drop(F.relu(self.fc3(x)))
        return self.fc4(x)


class FashionAlexNet(nn.Module):
    """AlexNet-style for 1x28x28: three conv stages, then large FC layers (most of the weights)."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 64, kernel_size=5, padding=2), nn.ReLU(inplace=True), nn.MaxPool2d(2),    # 14x14
            nn.Conv2d(64, 128, kernel_size=3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2),  # 7x7
            nn.Conv2d(128, 256, kernel_size=3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2),  # 3x3
        )
        self.flatten = nn.Flatten()
        self.classifier = nn.Sequential(
            nn.Dropout(0.5), nn.Linear(256 * 3 * 3, 2048), nn.ReLU(inplace=True),
            nn.Dropout(0.5), nn.Linear(2048, 2048), nn.ReLU(inplace=True),
            nn.Linear(2048, 10),
        )

    def forward(self, x):
        return self.classifier(self.flatten(self.features(x)))


MODELS = {
    # name: (constructor, default epochs, lr, onnx path relative to repo root)
    "dnn": (lambda: FashionDNN(1024), 6, 1e-3, "models/trained/dnn.onnx"),
    "alexnet": (FashionAlexNet, 4, 1e-3, "models/trained/alexnet.onnx"),
    "dnn_small": (lambda: FashionDNN(512), 6, 1e-3, "models/fashion_mnist_dnn_small.onnx"),
}


def evaluate(model, x, y, device, batch=1000):
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, x.shape[0], batch):
            out = model(x[i:i + batch].to(device))
            correct += int((out.argmax(dim=1).cpu() == y[i:i + batch]).sum())
    return correct / x.shape[0]


def train(name, model, data, epochs, lr, batch_size, device, log):
    x_train, y_train, x_test, y_test = data
    model.to(device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    steps = (x_train.shape[0] + batch_size - 1) // batch_size
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, epochs=epochs, steps_per_epoch=steps)
    gen = torch.Generator().manual_seed(SEED)  # data order independent of the device
    t0 = time.time()
    history = []
    for epoch in range(epochs):
        model.train()
        perm = torch.randperm(x_train.shape[0], generator=gen)
        total = 0.0
        for step, i in enumerate(range(0, x_train.shape[0], batch_size)):
            idx = perm[i:i + batch_size]
            xb, yb = x_train[idx].to(device), y_train[idx].to(device)
            opt.zero_grad()
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * idx.shape[0]
            if step % 100 == 0:
                log(f"[{name}] epoch {epoch + 1} step {step}/{steps} loss {loss.item():.4f} ({time.time() - t0:.0f}s)")
        acc = evaluate(model, x_test, y_test, device)
        history.append({"epoch": epoch + 1, "loss": round(total / x_train.shape[0], 5), "test_accuracy": acc})
        log(f"[{name}] epoch {epoch + 1}/{epochs}: loss {total / x_train.shape[0]:.4f} test acc {acc:.4f} "
            f"({time.time() - t0:.0f}s)")
    return time.time() - t0, history


# Raw float32 shards so weights trained elsewhere (GPU machine) travel in files < 16 MB.
SHARD_FLOATS = 3_500_000


def save_params(model, out_dir, name):
    os.makedirs(out_dir, exist_ok=True)
    sd = model.state_dict()
    flat = torch.cat([v.detach().float().cpu().reshape(-1) for v in sd.values()]).numpy()
    index = {"keys": [[k, list(v.shape)] for k, v in sd.items()], "shards": []}
    for s in range(0, flat.size, SHARD_FLOATS):
        fn = f"{name}.params{s // SHARD_FLOATS}.bin"
        flat[s:s + SHARD_FLOATS].astype("<f4").tofile(os.path.join(out_dir, fn))
        index["shards"].append(fn)
    with open(os.path.join(out_dir, f"{name}.params.json"), "w") as f:
        json.dump(index, f)


def load_params(model, in_dir, name):
    with open(os.path.join(in_dir, f"{name}.params.json")) as f:
        index = json.load(f)
    flat = np.concatenate([np.fromfile(os.path.join(in_dir, fn), dtype="<f4") for fn in index["shards"]])
    sd, pos = {}, 0
    for k, shape in index["keys"]:
        n = int(np.prod(shape)) if shape else 1
        sd[k] = torch.from_numpy(flat[pos:pos + n].copy()).reshape(shape)
        pos += n
    if pos != flat.size:
        raise ValueError(f"{in_dir}/{name}: {flat.size} floats in shards, {pos} expected")
    model.load_state_dict(sd)


def export_onnx(model, path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    model.eval().cpu()
    dummy = torch.zeros(1, 1, 28, 28)
    torch.onnx.export(
        model, dummy, path, export_params=True, opset_version=OPSET, do_constant_folding=True,
        input_names=["input"], output_names=["logits"],
        dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}},
        training=torch.onnx.TrainingMode.EVAL,
    )


def write_calibration(train_u8, log):
    """1000 training images by a seeded permutation; the committed 256 are its first 256."""
    rng = np.random.RandomState(CALIB_SEED)
    idx = np.sort(rng.permutation(train_u8.shape[0])[:1000])
    calib = tfm.normalise(train_u8[idx])
    p1000 = os.path.join(REPO_ROOT, "models/trained/fashion_calib_1000.npy")
    p256 = os.path.join(REPO_ROOT, "models/samples/fashion_calib_256.npy")
    os.makedirs(os.path.dirname(p1000), exist_ok=True)
    np.save(p1000, calib)
    np.save(p256, calib[:256].copy())
    log(f"calibration: {p1000} {calib.shape}, {p256} {calib[:256].shape} (train indices by seed {CALIB_SEED})")


def param_count(model):
    return sum(p.numel() for p in model.parameters())


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="dnn,alexnet,dnn_small")
    ap.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--epochs", type=int, default=0, help="override every model's default epochs")
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--calib-only", action="store_true")
    ap.add_argument("--save-params", default="", help="after training, write raw weight shards here (no ONNX)")
    ap.add_argument("--from-params", default="", help="skip training: load shards (and their .meta.json) from here")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    if args.device == "cpu":
        torch.use_deterministic_algorithms(True)

    def log(msg):
        print(msg, flush=True)

    train_u8, train_y = tfm.load_split(args.data_dir, "train")
    test_u8, test_y = tfm.load_split(args.data_dir, "t10k")
    if not args.save_params:
        write_calibration(train_u8, log)
    if args.calib_only:
        return 0
    data = (torch.from_numpy(tfm.normalise(train_u8)), torch.from_numpy(train_y),
            torch.from_numpy(tfm.normalise(test_u8)), torch.from_numpy(test_y))

    for name in args.models.split(","):
        if name not in MODELS:
            log(f"error: unknown model '{name}' (known: {', '.join(MODELS)})")
            return 2
        ctor, epochs, lr, rel_path = MODELS[name]
        epochs = args.epochs or epochs
        torch.manual_seed(SEED)
        np.random.seed(SEED)
        model = ctor()
        if args.from_params:
            load_params(model, args.from_params, name)
            with open(os.path.join(args.from_params, f"{name}.meta.json")) as f:
                meta = json.load(f)
        else:
            seconds, history = train(name, model, data, epochs, lr, args.batch_size, args.device, log)
            meta = {
                "epochs": epochs, "seed": SEED, "batch_size": args.batch_size,
                "optimizer": f"Adam, OneCycleLR max_lr={lr}", "training_seconds": round(seconds, 1),
                "training_device": args.device if args.device == "cpu" else
                f"{args.device} ({torch.cuda.get_device_name(0) if torch.cuda.is_available() else '?'})",
                "training_threads": args.threads, "torch_version_training": torch.__version__,
                "history": history,
            }
            if args.save_params:
                save_params(model, args.save_params, name)
                with open(os.path.join(args.save_params, f"{name}.meta.json"), "w") as f:
                    json.dump(meta, f, indent=2)
                log(f"[{name}] params saved to {args.save_params}")
                continue
        model.cpu()
        # The accuracy recorded is the exported model's, evaluated here on CPU.
        acc = evaluate(model, data[2], data[3], "cpu")
        path = os.path.join(REPO_ROOT, rel_path)
        export_onnx(model, path)
        meta.update({
            "model": os.path.basename(path), "architecture": name, "dataset": "Fashion-MNIST",
            "input": {"name": "input", "shape": ["N", 1, 28, 28], "dtype": "float32"},
            "output": {"name": "logits", "shape": ["N", 10], "dtype": "float32"},
            "normalization": {"mean": tfm.MEAN, "std": tfm.STD, "formula": "x = (pixel / 255 - mean) / std"},
            "class_names": tfm.CLASS_NAMES, "params": param_count(model),
            "onnx_bytes": os.path.getsize(path), "opset": OPSET,
            "torch_version_export": torch.__version__,
            "test_accuracy": acc, "test_set": "Fashion-MNIST t10k, all 10000 images",
        })
        with open(os.path.splitext(path)[0] + ".json", "w") as f:
            json.dump(meta, f, indent=2)
            f.write("\n")
        log(f"[{name}] {path}: {meta['onnx_bytes']} bytes, {meta['params']} params, test accuracy {acc:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
