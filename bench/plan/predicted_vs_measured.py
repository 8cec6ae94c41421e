#!/usr/bin/env python3
"""Predicted vs measured latency per block of DAD plans on the processors present here.

Runs `deepx run MODEL --plan auto --json` for each (model, processors) case: the CLI profiles every node and the
block boundaries on each processor, plans, runs the plan `--runs` times and reports, per block, the planner's
prediction and the measured latency (from the block's last input being produced to its end; median of the runs
after the first). Writes the raw results as JSON and prints a markdown table (docs/PLANNING.md).

Usage: bench/plan/predicted_vs_measured.py [--deepx build/release/bin/deepx] [--out FILE.json] [--runs N]
       [--cases NAME ...]   (names from CASES below; default all whose model exists)
"""
import argparse
import datetime
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

SQUEEZENET = "bench/zoo/squeezenet1_1.onnx"
BIG_LITTLE = ["cpu-big", "cpu-little"]
# name: (model, processors, extra CLI arguments). DAD's own plans, then fixed placements (--placement) that DAD
# would not choose, to check the cost model on plans with many blocks.
CASES = {
    "squeezenet-big-little": (SQUEEZENET, BIG_LITTLE, []),
    "squeezenet-cpu-opencl": (SQUEEZENET, ["cpu", "opencl:0"], ["--threads", "1"]),
    "fashion-cnn-big-little": ("models/fashion_mnist_cnn.onnx", BIG_LITTLE, []),
    "resnet18-big-little": ("bench/zoo/resnet18.onnx", BIG_LITTLE, []),
    "googlenet-big-little": ("bench/zoo/googlenet.onnx", BIG_LITTLE, []),
    "mobilenet-big-little": ("bench/zoo/mobilenet_v2.onnx", BIG_LITTLE, []),
    "alexnet-cpu-opencl": ("bench/zoo/alexnet.onnx", ["cpu", "opencl:0"], ["--threads", "1"]),
    "dnn-big-little": ("models/fashion_mnist_dnn_small.onnx", BIG_LITTLE, []),
    "squeezenet-big-little-halves": (SQUEEZENET, BIG_LITTLE, ["--placement", "halves"]),
    "squeezenet-big-little-alt4": (SQUEEZENET, BIG_LITTLE, ["--placement", "alternate:4"]),
    "squeezenet-big-little-alt2": (SQUEEZENET, BIG_LITTLE, ["--placement", "alternate:2"]),
    "squeezenet-big-little-alt1": (SQUEEZENET, BIG_LITTLE, ["--placement", "alternate:1"]),
    "resnet18-big-little-alt2": ("bench/zoo/resnet18.onnx", BIG_LITTLE, ["--placement", "alternate:2"]),
    "squeezenet-cpu-opencl-halves": (SQUEEZENET, ["cpu", "opencl:0"], ["--threads", "1", "--placement", "halves"]),
}
# On the lent GPU machine (bench/plan/run_on_gpu.sh): the host CPU with the CUDA backend and NVIDIA's OpenCL.
GPU_CASES = {
    "squeezenet-cpu-cuda": (SQUEEZENET, ["cpu", "cuda"], []),
    "resnet18-cpu-cuda": ("bench/zoo/resnet18.onnx", ["cpu", "cuda"], []),
    "googlenet-cpu-cuda": ("bench/zoo/googlenet.onnx", ["cpu", "cuda"], []),
    "mobilenet-cpu-cuda": ("bench/zoo/mobilenet_v2.onnx", ["cpu", "cuda"], []),
    "fashion-cnn-cpu-cuda": ("models/fashion_mnist_cnn.onnx", ["cpu", "cuda"], []),
    "squeezenet-cpu-opencl-gpu": (SQUEEZENET, ["cpu", "opencl:0"], []),
    "squeezenet-cpu-cuda-halves": (SQUEEZENET, ["cpu", "cuda"], ["--placement", "halves"]),
    "squeezenet-cpu-cuda-alt4": (SQUEEZENET, ["cpu", "cuda"], ["--placement", "alternate:4"]),
    "squeezenet-cpu-cuda-alt1": (SQUEEZENET, ["cpu", "cuda"], ["--placement", "alternate:1"]),
    "resnet18-cpu-cuda-alt2": ("bench/zoo/resnet18.onnx", ["cpu", "cuda"], ["--placement", "alternate:2"]),
    "squeezenet-cpu-opencl-gpu-halves": (SQUEEZENET, ["cpu", "opencl:0"], ["--placement", "halves"]),
}
CASES.update({k: v for k, v in GPU_CASES.items()})


def run_case(deepx, name, runs, timeout_s=90):
    model, procs, extra = CASES[name]
    cmd = [deepx, "run", os.path.join(ROOT, model), "--plan", "auto", "--objective", "latency", "--json",
           "--runs", str(runs), "--top-k", "0", "--processors", *procs, *extra]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        return {"case": name, "error": f"no result within {timeout_s} s"}
    if out.returncode != 0:
        return {"case": name, "error": out.stderr.strip() or out.stdout.strip()}
    doc = json.loads(out.stdout)
    blocks = []
    for b in doc["blocks"]:
        p, m = b["predicted_ms"], b["measured_ms"]
        blocks.append({"processor": b["processor"], "nodes": len(b["nodes"]), "predicted_ms": p, "measured_ms": m,
                       "error": (m - p) / p if p and p > 0 else None,
                       "measured_parts_ms": b.get("measured_parts_ms")})
    return {"case": name, "model": model, "processors": procs, "args": extra, "blocks": blocks,
            "predicted_ms": doc["predicted"]["latency_ms"], "measured_ms": doc["measured"]["latency_ms"],
            "timing": doc.get("timing", {})}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--deepx", default=os.path.join(ROOT, "build/release/bin/deepx"))
    ap.add_argument("--out", default=None)
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--cases", nargs="*", default=None)
    args = ap.parse_args()
    names = args.cases or [n for n, c in CASES.items()
                           if n not in GPU_CASES and os.path.exists(os.path.join(ROOT, c[0]))]
    results = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
               "load_before": os.getloadavg()[0], "cases": []}
    for name in names:
        r = run_case(args.deepx, name, args.runs)
        results["cases"].append(r)
        print(f"{name}: done", file=sys.stderr)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(results, f, indent=1)
    print("| case | blocks | per-block error (predicted → measured) | within 20 % | median abs error "
          "| whole run predicted → measured |")
    print("|---|---|---|---|---|---|")
    for r in results["cases"]:
        if "error" in r:
            print(f"| {r['case']} | error: {r['error'][:80]} | | | | |")
            continue
        errs = [b["error"] for b in r["blocks"] if b["error"] is not None]
        within = sum(1 for e in errs if abs(e) <= 0.2)
        detail = ", ".join(f"{b['processor']}×{b['nodes']} {b['error'] * 100:+.0f} %" for b in r["blocks"][:8])
        if len(r["blocks"]) > 8:
            detail += ", …"
        med = sorted(abs(e) for e in errs)[len(errs) // 2] if errs else 0
        print(f"| {r['case']} | {len(r['blocks'])} | {detail} | {within}/{len(errs)} | {med * 100:.0f} % | "
              f"{r['predicted_ms']:.2f} → {r['measured_ms']:.2f} ms |")


if __name__ == "__main__":
    main()
