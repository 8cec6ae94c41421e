#!/usr/bin/env python3
"""Prints markdown tables (per-model totals, per-layer highlights) from compare_kernel_libs JSON results.

Usage: summarize.py results.json [more_results.json ...]
"""
import json
import math
import sys


def layer_class(name):
    if name.startswith("fc"):
        return "fc"
    if name.startswith("dw"):
        return "depthwise"
    if name.startswith("conv1x1"):
        return "1x1"
    if name.startswith("conv3x3"):
        return "3x3"
    return "other conv"


def main():
    for path in sys.argv[1:]:
        r = json.load(open(path))
        print(f"### {path}: {r['cpu']}, {r['threads']} threads, {r['date']}, loadavg {r['loadavg_before']} -> "
              f"{r['loadavg_after']}, wall {r['wall_s']:.0f} s; {r.get('note', '')}\n")
        print("| model | GFLOP | XNNPACK ms | oneDNN ms | XNNPACK / oneDNN |")
        print("|---|---:|---:|---:|---:|")
        for m in r["models"]:
            x, d = m["total_ms"]["xnnpack"], m["total_ms"]["onednn_nhwc"]
            print(f"| {m['model']} | {m['gflop']:.3f} | {x:.3f} | {d:.3f} | {x / d:.2f} |")
        g = r["geomean_xnn_over_onednn_models"]["nhwc"]
        print(f"| **geomean** | | | | **{g:.2f}** |\n")
        # Per-class geomean of the layer ratio, and the extremes.
        classes = {}
        for l in r["layers"]:
            x, d = l["xnnpack"]["time_us"], l["onednn_nhwc"]["time_us"]
            classes.setdefault(layer_class(l["layer"]), []).append((x / d, l))
        print("| layer class | layers | geomean XNNPACK / oneDNN | range |")
        print("|---|---:|---:|---:|")
        for c, v in sorted(classes.items()):
            ratios = [t for t, _ in v]
            gm = math.exp(sum(math.log(t) for t in ratios) / len(ratios))
            print(f"| {c} | {len(v)} | {gm:.2f} | {min(ratios):.2f} – {max(ratios):.2f} |")
        print()
        print("| layer | first use | MFLOP | XNNPACK µs (GFLOP/s) | oneDNN µs (GFLOP/s) | ratio |")
        print("|---|---|---:|---:|---:|---:|")
        want = [0, 5, 6, 9, 17, 19, 22, 31, 34, 37, 47, 56, 59, 60, 78, 80, 126, 138]
        for l in r["layers"]:
            if l["index"] not in want:
                continue
            x, d = l["xnnpack"]["time_us"], l["onednn_nhwc"]["time_us"]
            mf = l["mflop"]
            if l["layer"].startswith("fc"):
                # Batch-1 FC is bound by reading the weights: report GB/s of weights instead of GFLOP/s.
                gb = mf * 1e6 / 2 * 4 * 1e-9
                print(f"| {l['layer']} | {l['first_use']} | {mf:.1f} | {x:.1f} ({gb / x * 1e6:.0f} GB/s) | "
                      f"{d:.1f} ({gb / d * 1e6:.0f} GB/s) | {x / d:.2f} |")
            else:
                print(f"| {l['layer']} | {l['first_use']} | {mf:.1f} | {x:.1f} ({mf / x * 1e3:.0f}) | "
                      f"{d:.1f} ({mf / d * 1e3:.0f}) | {x / d:.2f} |")
        print()


if __name__ == "__main__":
    main()
