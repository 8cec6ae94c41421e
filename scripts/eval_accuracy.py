#!/usr/bin/python3
"""Top-1 accuracy of a Fashion-MNIST ONNX model on the test set, computed by DeepX itself.

    scripts/eval_accuracy.py --deepx build/release/bin/deepx --model models/fashion_mnist_dnn_small.onnx
    scripts/eval_accuracy.py --model M.onnx --runtime ort          # cross-check with ONNX Runtime (bench/.venv)
    options: [--backend cpu] [--threads 2] [--limit N] [--batch 2000] [--json]

The test images (t10k, normalised x = (pixel/255 - 0.2860)/0.3530, float32 [N,1,28,28],
as every model in models/ expects) are written once as .npy batches into a cache
directory; each batch is classified with `deepx run MODEL -i input=BATCH.npy -o DIR`
and the logits are read back. Needs only numpy (no torch), so the same file runs
under bench/.venv's python for --runtime ort (it re-executes itself there when
onnxruntime is not importable).

Also a module: evaluate(model, ...) returns a dict with the accuracy and the
per-image predictions (bench/rlc_sweep.py uses it).
"""

import argparse
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA_DIR = "/usr/share/datasets/fashion-mnist"
MEAN, STD = 0.2860, 0.3530  # scripts/train_fashion_mnist.py: the normalisation all models were trained with
DEFAULT_CACHE = os.path.join(tempfile.gettempdir(), "deepx_fashion_eval")


def _read_idx(path, magic, ndim):
    with gzip.open(path, "rb") as f:
        data = f.read()
    if int.from_bytes(data[0:4], "big") != magic:
        raise ValueError(f"{path}: not an IDX file with magic {magic:#x}")
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    header = 4 + 4 * ndim
    if len(data) != header + int(np.prod(dims)):
        raise ValueError(f"{path}: size does not match dims {dims}")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims)


def load_test_set(data_dir=DATA_DIR):
    """(images float32 [10000,1,28,28] normalised, labels int64 [10000])."""
    x = _read_idx(os.path.join(data_dir, "t10k-images-idx3-ubyte.gz"), 0x803, 3)
    y = _read_idx(os.path.join(data_dir, "t10k-labels-idx1-ubyte.gz"), 0x801, 1).astype(np.int64)
    x = (x.astype(np.float32) / np.float32(255.0) - np.float32(MEAN)) / np.float32(STD)
    return x[:, None, :, :].astype(np.float32), y


def test_batches(limit, batch, cache_dir=DEFAULT_CACHE, data_dir=DATA_DIR):
    """Write (once) and list the .npy batch files covering the first `limit` test images."""
    os.makedirs(cache_dir, exist_ok=True)
    labels_path = os.path.join(cache_dir, "labels.npy")
    files = [(s, min(batch, limit - s)) for s in range(0, limit, batch)]
    paths = [os.path.join(cache_dir, f"test_{s}_{n}.npy") for s, n in files]
    if not all(os.path.exists(p) for p in paths) or not os.path.exists(labels_path):
        x, y = load_test_set(data_dir)
        if limit > x.shape[0]:
            raise ValueError(f"--limit {limit} exceeds the {x.shape[0]} test images")
        for (s, n), p in zip(files, paths):
            tmp = p + f".{os.getpid()}.tmp.npy"
            np.save(tmp, x[s:s + n])
            os.replace(tmp, p)  # atomic: concurrent evaluations may share the cache
        tmp = labels_path + f".{os.getpid()}.tmp.npy"
        np.save(tmp, y)
        os.replace(tmp, labels_path)
    return paths, np.load(labels_path)[:limit]


def _logits_deepx(deepx, model, batch_path, backend, threads):
    out_dir = tempfile.mkdtemp(prefix="deepx_eval_")
    try:
        cmd = [deepx, "run", model, "-i", f"input={batch_path}", "-o", out_dir, "--top-k", "0"]
        if backend:
            cmd += ["--backend", backend]
        if threads:
            cmd += ["--threads", str(threads)]
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed ({r.returncode}): {r.stderr.strip()[-2000:]}")
        outs = sorted(f for f in os.listdir(out_dir) if f.endswith(".npy"))
        if len(outs) != 1:
            raise RuntimeError(f"{model}: expected one output .npy in {out_dir}, found {outs}")
        return np.load(os.path.join(out_dir, outs[0]))
    finally:
        shutil.rmtree(out_dir, ignore_errors=True)


def evaluate(model, deepx=None, runtime="deepx", backend=None, threads=None, limit=10000, batch=2000,
             cache_dir=DEFAULT_CACHE):
    """Top-1 of `model` on the first `limit` test images. Returns a dict (predictions as numpy array)."""
    paths, labels = test_batches(limit, batch, cache_dir)
    t0 = time.time()
    if runtime == "ort":
        import onnxruntime as ort  # only in bench/.venv
        opts = ort.SessionOptions()
        if threads:
            opts.intra_op_num_threads = threads
        sess = ort.InferenceSession(model, opts, providers=["CPUExecutionProvider"])
        name = sess.get_inputs()[0].name
        logits = [sess.run(None, {name: np.load(p)})[0] for p in paths]
    else:
        if not deepx:
            raise ValueError("evaluate: --deepx (path to the deepx binary) is required for runtime deepx")
        logits = [_logits_deepx(deepx, model, p, backend, threads) for p in paths]
    logits = np.concatenate(logits, axis=0)
    if logits.shape != (limit, 10):
        raise RuntimeError(f"{model}: logits shape {logits.shape}, expected ({limit}, 10)")
    pred = logits.argmax(axis=1)
    correct = int((pred == labels).sum())
    return {"model": model, "runtime": runtime, "backend": backend or "default", "images": limit,
            "correct": correct, "accuracy": correct / limit, "seconds": round(time.time() - t0, 2),
            "predictions": pred}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--deepx", default=os.path.join(REPO_ROOT, "build/release/bin/deepx"))
    ap.add_argument("--runtime", choices=["deepx", "ort"], default="deepx")
    ap.add_argument("--backend", default=None)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--limit", type=int, default=10000)
    ap.add_argument("--batch", type=int, default=2000)
    ap.add_argument("--cache-dir", default=DEFAULT_CACHE)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    if args.runtime == "ort":
        try:
            import onnxruntime  # noqa: F401
        except ImportError:
            venv_py = os.path.join(REPO_ROOT, "bench/.venv/bin/python")
            if not os.path.exists(venv_py) or os.path.realpath(sys.executable) == os.path.realpath(venv_py):
                print("error: onnxruntime not found; run bench/setup_venv.sh", file=sys.stderr)
                return 1
            os.execv(venv_py, [venv_py] + sys.argv)
    try:
        r = evaluate(args.model, args.deepx, args.runtime, args.backend, args.threads, args.limit, args.batch,
                     args.cache_dir)
    except (RuntimeError, ValueError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    del r["predictions"]
    if args.json:
        print(json.dumps(r))
    else:
        print(f"{r['model']}: top-1 {r['accuracy'] * 100:.2f}% ({r['correct']}/{r['images']}) "
              f"[{r['runtime']}, {r['seconds']}s]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
