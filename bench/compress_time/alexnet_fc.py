#!/usr/bin/env python3
"""Compression time of AlexNet's three FC layers (9216x4096, 4096x4096, 4096x1000) with `deepx compress`.

For each rank K, runs  deepx compress alexnet.onnx --ranks fc6=K,fc7=K,fc8=K' --threads T --json -q
(fc8 gets min(K, 1000)) and prints one JSON object with, per rank, the SVD time the tool reports (randomized
SVD: Gaussian sketch of K + max(10, K/10) columns, one power iteration, QR, small SVD), the process's CPU time,
and each layer's relative reconstruction error. The weights are the zoo's (random init, bench/make_zoo.py):
their flat spectra make errors high at any rank, but the time depends only on the shapes and ranks.

  /usr/bin/python3 bench/compress_time/alexnet_fc.py --deepx build/release/bin/deepx [--model bench/zoo/alexnet.onnx]
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile

FC = ["/classifier/classifier.1/Gemm", "/classifier/classifier.4/Gemm", "/classifier/classifier.6/Gemm"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--deepx", required=True)
    ap.add_argument("--model", default=os.path.join(os.path.dirname(__file__), "..", "zoo", "alexnet.onnx"))
    ap.add_argument("--ranks", default="32,64,128,256,512")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3, help="runs per rank; the fastest is reported")
    args = ap.parse_args()
    if not os.path.exists(args.model):
        sys.exit(f"{args.model} not found: run bench/make_zoo.py first (it exports AlexNet)")
    out = os.path.join(tempfile.mkdtemp(prefix="rlc_alexnet_"), "alexnet_rlc.onnx")
    rows = []
    for k in [int(v) for v in args.ranks.split(",")]:
        spec = ",".join(f"{name}={min(k, 1000) if i == 2 else k}" for i, name in enumerate(FC))
        best = None
        for _ in range(args.repeat):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            r = subprocess.run([args.deepx, "compress", args.model, "-o", out, "-q", "--json", "--threads",
                                str(args.threads), "--ranks", spec], capture_output=True, text=True)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            if r.returncode != 0:
                sys.exit(r.stderr)
            rep = json.loads(r.stdout)
            point = {
                "rank": k,
                "svd_seconds": rep["timing"]["svd_seconds"],
                "compress_seconds": rep["timing"]["compress_seconds"],
                "process_cpu_seconds": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
                "params_fc_before": sum(l["params_before"] for l in rep["layers"] if l["name"] in FC),
                "params_fc_after": sum(l["params_after"] for l in rep["layers"] if l["name"] in FC),
                "relative_errors": {l["name"]: round(l["relative_error"], 4) for l in rep["layers"] if l["name"] in FC},
            }
            if best is None or point["svd_seconds"] < best["svd_seconds"]:
                best = point
        rows.append(best)
        print(json.dumps(best), file=sys.stderr)
    print(json.dumps({"model": os.path.abspath(args.model), "threads": args.threads, "cpu_count": os.cpu_count(),
                      "load_average": os.getloadavg(), "points": rows}, indent=1))


if __name__ == "__main__":
    main()
