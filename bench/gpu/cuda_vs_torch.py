#!/usr/bin/env python3
"""DeepX's CUDA backend against PyTorch (eager, cuDNN) on the same GPU: the benchmark zoo, batch 1, fp32.

Runs ON the GPU machine, with its own python3 (PyTorch + torchvision + onnx). For every model:
  1. builds it with bench/zoo_models.py exactly as bench/make_zoo.py does (same seeds, BatchNorm statistics, eval
     mode) and exports it to ONNX (opset 13, TorchScript exporter) with the seeded input, through make_zoo.export;
  2. correctness: `deepx run --backend cuda` and `deepx run --backend reference` on that input; max|cuda - ref| /
     max|ref| must be <= 1e-4 (reported per model, never dropped);
  3. latency: rounds alternating DeepX (`deepx bench --backend cuda --json`, its own process), PyTorch eager and
     PyTorch with the forward captured as one CUDA graph (both in this process), the order flipping every round;
     plus one DeepX run with its CUDA graphs off (DEEPX_CUDA_GRAPHS=0), which measures what they gain. Both are timed the same way, host tensor in -> host tensor out
     (PyTorch: x.cuda() -> model -> .cpu(), which synchronises), so both include the two PCIe copies. PyTorch runs
     with TF32 off for convolutions and matmuls (DeepX computes plain FP32 too) and cudnn.benchmark on (its fastest
     eager setting; DeepX likewise times cuDNN's algorithms at Prepare). Each side's figure is the median over rounds
     of its per-round p50.
Writes one JSON file (--out) with every raw sample list and the card's name.

Usage: cuda_vs_torch.py --deepx PATH [--models a,b] [--rounds 3] [--iterations 200] [--warmup 20] --out FILE
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.dirname(HERE)
sys.path.insert(0, BENCH)

import numpy as np  # noqa: E402
import torch  # noqa: E402

import make_zoo  # noqa: E402
from zoo_models import MODELS, build, randomise_batchnorm  # noqa: E402

TOLERANCE = 1e-4


def export_all(names, zoo_dir):
    """make_zoo.export with the TorchScript exporter (PyTorch >= 2.9 defaults to the dynamo one)."""
    original = torch.onnx.export

    def legacy_export(*args, **kwargs):
        kwargs.setdefault("dynamo", False)
        return original(*args, **kwargs)

    torch.onnx.export = legacy_export
    try:
        return {n: make_zoo.export(n, zoo_dir, force=True) for n in names}
    finally:
        torch.onnx.export = original


def torch_model(name):
    """The same weights and input as make_zoo.export builds (same seeds, same order of draws)."""
    torch.manual_seed(make_zoo.SEED)
    gen = torch.Generator().manual_seed(make_zoo.SEED + 1)
    model, shape = build(name)
    randomise_batchnorm(model, gen)
    model.eval()
    x = torch.rand((1,) + shape, generator=gen)
    return model, x


def deepx_env(**extra):
    """DeepX's library path (DEEPX_LD_LIBRARY_PATH): kept out of this process, whose PyTorch brings its own cuDNN."""
    env = dict(os.environ, **extra)
    if "DEEPX_LD_LIBRARY_PATH" in os.environ:
        env["LD_LIBRARY_PATH"] = os.environ["DEEPX_LD_LIBRARY_PATH"]
    return env


def deepx_run(deepx, model_path, input_path, backend, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    cmd = [deepx, "run", model_path, "--backend", backend, "--input", "input=" + input_path, "--output", out_dir]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=900, env=deepx_env())
    if r.returncode != 0:
        return None, r.stderr.strip()[-2000:]
    return np.load(os.path.join(out_dir, "output.npy")), None


def deepx_bench(deepx, model_path, input_path, warmup, iterations, graphs=True):
    cmd = [deepx, "bench", model_path, "--backend", "cuda", "--input", "input=" + input_path, "--json",
           "--warmup", str(warmup), "--iterations", str(iterations)]
    env = deepx_env(DEEPX_CUDA_GRAPHS="1" if graphs else "0")
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=900, env=env)
    if r.returncode != 0:
        raise RuntimeError(f"deepx bench {model_path}: {r.stderr.strip()[-2000:]}")
    return json.loads(r.stdout)


def torch_bench(model, x, warmup, iterations):
    """Host in -> host out, per inference, like `deepx bench` (Session::Run takes and returns host tensors)."""
    samples = []
    with torch.inference_mode():
        for i in range(warmup + iterations):
            t0 = time.perf_counter()
            y = model(x.cuda()).cpu()
            dt = (time.perf_counter() - t0) * 1e3
            if i >= warmup:
                samples.append(dt)
    del y
    return samples


def torch_graph_bench(model, x, warmup, iterations):
    """PyTorch with the whole forward captured as one CUDA graph (torch.cuda.graph), timed like torch_bench: copy the
    host input into the graph's static input, replay, copy the static output back."""
    static_in = x.cuda()
    with torch.no_grad():
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(3):
                model(static_in)
        torch.cuda.current_stream().wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            static_out = model(static_in)
        samples = []
        for i in range(warmup + iterations):
            t0 = time.perf_counter()
            static_in.copy_(x)
            graph.replay()
            y = static_out.cpu()
            dt = (time.perf_counter() - t0) * 1e3
            if i >= warmup:
                samples.append(dt)
    del graph, y
    return samples


def percentile(v, q):
    s = sorted(v)
    return s[min(len(s) - 1, int(round(q / 100 * (len(s) - 1))))]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--deepx", required=True)
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--iterations", type=int, default=200)
    ap.add_argument("--zoo", default=os.path.join(tempfile.gettempdir(), "deepx_gpu_zoo"))
    ap.add_argument("--out", required=True)
    ap.add_argument("--skip-reference", default="", help="models whose reference run is skipped (too slow)")
    args = ap.parse_args()
    names = [n for n in args.models.split(",") if n]
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.benchmark = True
    torch.set_num_threads(4)

    t0 = time.time()
    os.makedirs(args.zoo, exist_ok=True)
    manifest = export_all(names, args.zoo)
    print(f"exported {len(names)} models in {time.time() - t0:.1f} s", flush=True)
    card = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"],
                          capture_output=True, text=True).stdout.strip()
    result = {"date": time.strftime("%Y-%m-%d"), "card": card, "torch": torch.__version__,
              "cudnn": torch.backends.cudnn.version(), "batch": 1, "dtype": "float32", "tf32": False,
              "timing": "host input -> host output per inference; p50 of each round, median over rounds",
              "rounds": args.rounds, "warmup": args.warmup, "iterations": args.iterations, "models": []}
    skip_ref = {n for n in args.skip_reference.split(",") if n}
    for name in names:
        entry = {"name": name, "gflop": manifest[name]["flops"] / 1e9, "params_m": manifest[name]["params"] / 1e6}
        path = os.path.join(args.zoo, name + ".onnx")
        inp = os.path.join(args.zoo, name + "_input.npy")
        # Correctness against the reference backend (and PyTorch's CPU output for the record).
        got, err = deepx_run(args.deepx, path, inp, "cuda", os.path.join(args.zoo, name + "_cuda"))
        entry["cuda_error"] = err
        if got is not None and name not in skip_ref:
            want, rerr = deepx_run(args.deepx, path, inp, "reference", os.path.join(args.zoo, name + "_ref"))
            if want is not None:
                entry["rel_err_vs_reference"] = float(np.max(np.abs(got - want)) / (np.max(np.abs(want)) + 1e-12))
                entry["within_1e-4"] = entry["rel_err_vs_reference"] <= TOLERANCE
            else:
                entry["reference_error"] = rerr
        if got is not None:
            t = np.load(os.path.join(args.zoo, name + "_torch.npy"))
            entry["rel_err_vs_torch_cpu"] = float(np.max(np.abs(got - t)) / (np.max(np.abs(t)) + 1e-12))
        print(name, {k: v for k, v in entry.items() if k != "cuda_error"}, entry["cuda_error"] or "", flush=True)
        if got is None:
            result["models"].append(entry)
            with open(args.out, "w") as f:
                json.dump(result, f)
            continue
        model, x = torch_model(name)
        model = model.cuda()
        for k in ("deepx_rounds", "torch_rounds", "torch_graph_rounds", "deepx_samples", "torch_samples",
                  "torch_graph_samples"):
            entry[k] = []
        for r in range(args.rounds):
            order = ["deepx", "torch", "torch_graph"] if r % 2 == 0 else ["torch_graph", "torch", "deepx"]
            for side in order:
                if side == "deepx":
                    doc = deepx_bench(args.deepx, path, inp, args.warmup, args.iterations)
                    entry["deepx_rounds"].append(doc["latency_ms"]["p50"])
                    entry["deepx_samples"].append(doc["samples_ms"])
                    entry["deepx_session_ms"] = doc.get("session_ms")
                    entry["deepx_prepared_mb"] = doc.get("prepared_mb")
                elif side == "torch":
                    s = torch_bench(model, x, args.warmup, args.iterations)
                    entry["torch_rounds"].append(percentile(s, 50))
                    entry["torch_samples"].append(s)
                else:
                    try:
                        s = torch_graph_bench(model, x, args.warmup, args.iterations)
                    except Exception as e:  # noqa: BLE001 - a capture failure is recorded, not fatal
                        entry["torch_graph_error"] = str(e)[:500]
                        continue
                    entry["torch_graph_rounds"].append(percentile(s, 50))
                    entry["torch_graph_samples"].append(s)
        # The CUDA-graph gain: one extra DeepX run with graphs off (plain per-kernel launches).
        doc = deepx_bench(args.deepx, path, inp, args.warmup, args.iterations, graphs=False)
        entry["deepx_nographs_p50_ms"] = doc["latency_ms"]["p50"]
        entry["deepx_p50_ms"] = statistics.median(entry["deepx_rounds"])
        entry["torch_p50_ms"] = statistics.median(entry["torch_rounds"])
        entry["torch_graph_p50_ms"] = statistics.median(entry["torch_graph_rounds"] or [float("nan")])
        entry["speedup_vs_torch"] = entry["torch_p50_ms"] / entry["deepx_p50_ms"]
        entry["speedup_vs_torch_graph"] = entry["torch_graph_p50_ms"] / entry["deepx_p50_ms"]
        print(f"{name:14s} deepx {entry['deepx_p50_ms']:.3f} ms (graphs off {entry['deepx_nographs_p50_ms']:.3f})  "
              f"torch {entry['torch_p50_ms']:.3f} ms (graph {entry['torch_graph_p50_ms']:.3f})  "
              f"x{entry['speedup_vs_torch']:.2f} / x{entry['speedup_vs_torch_graph']:.2f}", flush=True)
        del model
        torch.cuda.empty_cache()
        result["models"].append(entry)
        with open(args.out, "w") as f:  # after every model, so a cut-off run keeps what it measured
            json.dump(result, f)
    with open(args.out, "w") as f:
        json.dump(result, f)
    print("wrote", args.out)


if __name__ == "__main__":
    main()
