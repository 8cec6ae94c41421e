#!/usr/bin/env python3
"""Times one ONNX model on a peer runtime (ONNX Runtime or OpenVINO) in a process of its own.

compare.py starts one of these per measurement, so that the peak RSS it reports (ru_maxrss of this process) belongs to
this runtime alone and is comparable with that of the `deepx bench` process. Prints one JSON object with the same
fields as `deepx bench --json`: latency_ms.{p50,p90,p99,min,max,mean}, peak_rss_mb, load_ms, plus baseline_rss_mb
(the interpreter with numpy and the runtime imported, before the model is loaded).

Usage: ort_bench.py MODEL --input NPY [--runtime ort|openvino] [--threads T] [--iterations I] [--warmup W]
                    [--output NPY]
Runs in bench/.venv (see setup_venv.sh).
"""
import argparse
import json
import resource
import sys
import time

import numpy as np


def rss_mb():
    # Linux reports ru_maxrss in KiB.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def ort_runner(model, threads):
    import onnxruntime as ort
    baseline = rss_mb()
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    t0 = time.perf_counter()
    session = ort.InferenceSession(model, sess_options=opts, providers=["CPUExecutionProvider"])
    load_ms = (time.perf_counter() - t0) * 1e3
    input_name = session.get_inputs()[0].name

    def run(x):
        return session.run(None, {input_name: x})[0]

    return run, load_ms, baseline, ort.__version__


def openvino_runner(model, threads):
    import openvino as ov
    import openvino.properties as props
    import openvino.properties.hint as hints
    baseline = rss_mb()
    core = ov.Core()
    # One stream, T threads, latency mode, and fp32 arithmetic: OpenVINO would otherwise pick bf16 on CPUs that
    # have it, which is not the same computation as the other runtimes.
    config = {
        props.inference_num_threads: threads,
        props.num_streams: 1,
        hints.performance_mode: hints.PerformanceMode.LATENCY,
        hints.inference_precision: ov.Type.f32,
    }
    t0 = time.perf_counter()
    compiled = core.compile_model(model, "CPU", config)
    load_ms = (time.perf_counter() - t0) * 1e3
    request = compiled.create_infer_request()

    def run(x):
        request.infer([x])
        return request.get_output_tensor(0).data.copy()

    return run, load_ms, baseline, ov.__version__


def percentile(sorted_values, q):
    """Linear interpolation between closest ranks (numpy's default), on an already sorted list."""
    return float(np.percentile(np.asarray(sorted_values), q))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model")
    ap.add_argument("--input", required=True, help=".npy file fed to the model's first input")
    ap.add_argument("--runtime", choices=["ort", "openvino"], default="ort")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--iterations", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--output", help="save the model's first output to this .npy file")
    args = ap.parse_args()

    x = np.load(args.input)
    make = ort_runner if args.runtime == "ort" else openvino_runner
    run, load_ms, baseline, version = make(args.model, args.threads)
    y = None
    for _ in range(max(args.warmup, 1)):
        y = run(x)
    if args.output:
        np.save(args.output, y)
    times = []
    for _ in range(args.iterations):
        t0 = time.perf_counter()
        run(x)
        times.append((time.perf_counter() - t0) * 1e3)
    times.sort()
    result = {
        "runtime": args.runtime,
        "version": version,
        "threads": args.threads,
        "iterations": args.iterations,
        "warmup": args.warmup,
        "load_ms": load_ms,
        "latency_ms": {
            "p50": percentile(times, 50),
            "p90": percentile(times, 90),
            "p99": percentile(times, 99),
            "min": times[0],
            "max": times[-1],
            "mean": float(np.mean(times)),
        },
        "peak_rss_mb": rss_mb(),
        "baseline_rss_mb": baseline,
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
