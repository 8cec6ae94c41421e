#!/usr/bin/python3
"""DeepX plans vs baselines on the virtual device profiles, for docs/PLANNING.md.

For every profile (profiles/*.json except host.json), network (wifi, lte, 3g) and model (bench/zoo/*.onnx and
models/*.onnx), runs `deepx plan --json` at the given latency limits and writes one JSON file of all results plus a
Markdown summary: DeepX vs each processor alone (CPU-only, little-only, GPU-only, full cloud offload) and the
Neurosurgeon split, energy, latency, constraint satisfaction, and the issue-6 target check.

    bench/plan/zoo_plans.py --deepx build/release/bin/deepx --out bench/results/plan
"""
import argparse
import glob
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run(deepx, model, profile, network, latency_ms, extra):
    cmd = [deepx, "plan", model, "--device", profile, "--network", network, "--latency-ms", str(latency_ms), "--json"]
    cmd += extra
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        return {"error": p.stderr.strip().splitlines()[-1] if p.stderr.strip() else "exit %d" % p.returncode}
    return json.loads(p.stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--deepx", default=os.path.join(ROOT, "build/release/bin/deepx"))
    ap.add_argument("--out", default=os.path.join(ROOT, "bench/results/plan"))
    ap.add_argument("--latency-ms", default="5000,100", help="comma-separated latency limits")
    ap.add_argument("--networks", default="wifi,lte,3g")
    ap.add_argument("--extra", default="", help="extra deepx plan arguments")
    ap.add_argument("--from-json", help="only summarise an earlier zoo_plans.json")
    args = ap.parse_args()
    if args.from_json:
        results = json.load(open(args.from_json))
        print(summary(results))
        print(tables(results))
        return
    os.makedirs(args.out, exist_ok=True)
    profiles = sorted(p for p in glob.glob(os.path.join(ROOT, "profiles/*.json")) if not p.endswith("host.json"))
    models = sorted(glob.glob(os.path.join(ROOT, "bench/zoo/*.onnx"))) + sorted(glob.glob(os.path.join(ROOT, "models/*.onnx")))
    results = []
    for profile in profiles:
        for network in args.networks.split(","):
            for limit in [float(x) for x in args.latency_ms.split(",")]:
                for model in models:
                    r = run(args.deepx, model, profile, network, limit, args.extra.split())
                    r["_profile"] = os.path.basename(profile)
                    r["_network"] = network
                    r["_limit"] = limit
                    r["_model"] = os.path.basename(model)
                    results.append(r)
                    print(r["_profile"], network, limit, r["_model"], "error" if "error" in r else
                          "%.2f mJ %.2f ms" % (r["predicted"]["energy_mj"], r["predicted"]["latency_ms"]),
                          file=sys.stderr)
    with open(os.path.join(args.out, "zoo_plans.json"), "w") as f:
        json.dump([compact(r) for r in results], f, indent=0)
    print(summary(results))
    print(tables(results))


def compact(r):
    """Blocks as (processor, node count, predictions); the frontier as its size: keeps the file small."""
    if "blocks" in r:
        r["blocks"] = [dict({"processor": b["processor"], "nodes": len(b["nodes"]), "latency_ms": b["latency_ms"],
                             "energy_mj": b["energy_mj"], "ranks": b["ranks"]},
                            **({"split_fraction": b["split_fraction"]} if "split_fraction" in b else {}))
                       for b in r["blocks"]]
        r["frontier_points"] = len(r.pop("frontier"))
    return r


def cell(c):
    if c is None:
        return "-"
    mark = "" if c["meets_limits"] else " ✗"
    return "%.3g / %.3g%s" % (c["energy_mj"], c["latency_ms"], mark)


def tables(results, limit=5000.0):
    """Per profile: energy mJ / latency ms of DeepX and every baseline; cloud at each network."""
    out = []
    by = {}
    for r in results:
        if r["_limit"] == limit:
            by.setdefault(r["_profile"], {}).setdefault(r["_model"], {})[r["_network"]] = r
    for profile, models in sorted(by.items()):
        any_r = next(r for m in models.values() for r in m.values() if "error" not in r)
        procs = [p["name"] for p in any_r["processors"]]
        local = [p["name"] for p in any_r["processors"] if p["kind"] != "remote"]
        remote = [p["name"] for p in any_r["processors"] if p["kind"] == "remote"]
        nets = ["wifi", "lte", "3g"]
        out.append("\n#### %s (latency limit %g ms; energy mJ / latency ms, ✗ = misses the limit)\n" % (any_r["device"], limit))
        head = ["model", "DeepX wifi", "DeepX lte", "DeepX 3g"] + ["%s only" % p for p in local] + \
               ["offload %s" % n for n in nets] + ["Neurosurgeon wifi", "Neurosurgeon lte"]
        out.append("| " + " | ".join(head) + " |")
        out.append("|" + "---|" * len(head))
        for model, per_net in sorted(models.items()):
            row = [model.replace(".onnx", "")]
            for n in nets:
                r = per_net.get(n)
                row.append("infeasible" if r is None or "error" in r else cell(r["predicted"]))
            w = per_net.get("wifi")
            for p in local:
                row.append(cell(w["baselines"].get(p)) if w and "error" not in w else "-")
            for n in nets:
                r = per_net.get(n)
                row.append(cell(r["baselines"].get(remote[0])) if r and "error" not in r and remote else "-")
            for n in ["wifi", "lte"]:
                r = per_net.get(n)
                ns = r["baselines"].get("neurosurgeon") if r and "error" not in r else None
                row.append(cell(ns) + (" (%s)" % ns.get("processors", "") if ns else ""))
            out.append("| " + " | ".join(row) + " |")
    return "\n".join(out)


def summary(results):
    out = []
    # Target check per (profile, network, limit): over models where some single processor meets the limits.
    out.append("| profile | network | limit ms | models | some processor feasible | plan <= best feasible single | strictly less | plan infeasible |")
    out.append("|---|---|---|---|---|---|---|---|")
    keyed = {}
    for r in results:
        keyed.setdefault((r["_profile"], r["_network"], r["_limit"]), []).append(r)
    for (profile, network, limit), rs in sorted(keyed.items()):
        feas = le = lt = inf = 0
        for r in rs:
            if "error" in r:
                inf += 1
                continue
            singles = [b for n, b in r["baselines"].items() if n != "neurosurgeon" and b["meets_limits"]]
            if not singles:
                continue
            feas += 1
            best = min(b["energy_mj"] for b in singles)
            e = r["predicted"]["energy_mj"]
            le += e <= best * (1 + 1e-9)
            lt += e < best * (1 - 1e-6)
        out.append("| %s | %s | %g | %d | %d | %d | %d | %d |" % (profile, network, limit, len(rs), feas, le, lt, inf))
    return "\n".join(out)


if __name__ == "__main__":
    main()
