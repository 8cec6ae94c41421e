#!/usr/bin/env python3
"""Benchmarks DeepX against ONNX Runtime (and OpenVINO, if installed) on the zoo from make_zoo.py.

For every model the same .onnx file and the same saved input go to each runtime, each measurement in a process of
its own (DeepX: `deepx bench --json`; peers: bench/ort_bench.py), so that peak RSS is per runtime. The runtimes
alternate for --rounds rounds (the order flips every round, so neither always runs on a warmer machine) and each
side's figure is the median over rounds of its per-round p50. Outputs are compared once per model
(`deepx run --output` against ONNX Runtime's): max|DeepX - ORT| / max|ORT| must be <= --tolerance; mismatches are
reported, never dropped.

Writes bench/results/<YYYY-MM-DD>.json and rewrites the table between <!-- compare:begin --> and
<!-- compare:end --> in docs/BENCHMARKS.md.

Usage: bench/compare.py [--models a,b] [--backend cpu] [--threads 2] [--rounds 3] [--iterations I] [--quick]
Creates bench/.venv with bench/setup_venv.sh when it is missing, and re-runs itself inside it.
"""
import argparse
import datetime
import importlib.metadata
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
VENV_PYTHON = os.path.join(HERE, ".venv", "bin", "python")
BEGIN, END = "<!-- compare:begin -->", "<!-- compare:end -->"
# Models left out by --quick unless named with --models: each takes minutes on slow backends.
LARGE = {"vgg16", "alexnet"}


def ensure_venv():
    """Re-executes this script in bench/.venv (creating it first if needed) unless already running there."""
    if os.path.realpath(sys.prefix) == os.path.realpath(os.path.join(HERE, ".venv")):
        return
    if not os.path.exists(VENV_PYTHON):
        print("bench/.venv is missing; creating it with bench/setup_venv.sh", file=sys.stderr)
        subprocess.run(["bash", os.path.join(HERE, "setup_venv.sh")], check=True)
    os.execv(VENV_PYTHON, [VENV_PYTHON, os.path.abspath(__file__)] + sys.argv[1:])


def cpu_jiffies():
    """(total, idle) jiffies of all CPUs from /proc/stat, or None off Linux."""
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
    except OSError:
        return None
    return sum(fields), fields[3] + fields[4]  # idle + iowait


def run_measured(cmd, timeout):
    """Runs cmd; returns (returncode, stdout, stderr, peak RSS of the child in MiB, wall seconds, others' load).

    The child is reaped with wait4 so that its own ru_maxrss is read; this is the same number for every runtime,
    whatever the runtime says about itself. "Others' load" is the CPU time used by every other process while the
    child ran, in CPUs (0.5 = half a core): on a shared machine it tells which measurements were disturbed."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        before = cpu_jiffies()
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err)
        deadline = t0 + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.005)
        wall = time.perf_counter() - t0
        after = cpu_jiffies()
        others = None
        if before and after:
            hz = os.sysconf("SC_CLK_TCK")
            busy_s = ((after[0] - before[0]) - (after[1] - before[1])) / hz
            others = max(0.0, busy_s - usage.ru_utime - usage.ru_stime) / max(wall, 1e-3)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return (proc.returncode, out.read().decode(errors="replace"), err.read().decode(errors="replace"),
                usage.ru_maxrss / 1024.0, wall, others)


def cpu_busy(seconds=1.0):
    """Fraction of all CPUs busy (any process) over the next `seconds`, from /proc/stat; None off Linux."""
    def sample():
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
        idle = fields[3] + fields[4]  # idle + iowait
        return sum(fields), idle
    try:
        total0, idle0 = sample()
        time.sleep(seconds)
        total1, idle1 = sample()
    except OSError:
        return None
    return 1.0 - (idle1 - idle0) / max(1, total1 - total0)


def wait_for_quiet(max_wait_s, threshold=0.25):
    """Waits up to max_wait_s for a second in which the machine is under `threshold` busy: on a shared 2-core
    machine a compile running next to the benchmark doubles latencies. Returns the last busy fraction seen."""
    deadline = time.time() + max_wait_s
    busy = cpu_busy()
    while busy is not None and busy > threshold and time.time() < deadline:
        busy = cpu_busy()
    return busy


# Other processes using more than this many CPUs during a measurement mark it as disturbed.
DISTURBED_CPUS = 0.15


def disturbed(doc):
    return "error" not in doc and (doc.get("others_cpus") or 0.0) > DISTURBED_CPUS


def latency_stats(times):
    times = sorted(times)

    def pct(q):  # linear interpolation between closest ranks, like numpy's default
        pos = (len(times) - 1) * q / 100.0
        lo = math.floor(pos)
        hi = min(lo + 1, len(times) - 1)
        return times[lo] + (times[hi] - times[lo]) * (pos - lo)

    return {"p50": pct(50), "p90": pct(90), "p99": pct(99), "min": times[0], "max": times[-1],
            "mean": sum(times) / len(times)}


class DeepX:
    """Drives the deepx CLI. Uses `deepx bench` when it exists; otherwise falls back to timing separate
    `deepx run` processes (each a cold single inference, so slower than a warm loop: marked in the results)."""

    name = "deepx"

    def __init__(self, binary, backend, threads):
        self.binary, self.backend, self.threads = binary, backend, threads
        help_text = subprocess.run([binary, "bench", "--help"], capture_output=True, text=True)
        self.has_bench = help_text.returncode == 0 and "--iterations" in help_text.stdout
        # Feed the saved input when bench accepts one; latency of these dense models does not depend on it anyway.
        self.bench_takes_input = self.has_bench and "--input" in help_text.stdout
        self.mode = "bench" if self.has_bench else "run-fallback"

    def measure(self, model, input_npy, iterations, warmup, timeout):
        if self.has_bench:
            cmd = [self.binary, "bench", model, "--json", "--backend", self.backend, "--threads", str(self.threads),
                   "--iterations", str(iterations), "--warmup", str(warmup)]
            if self.bench_takes_input:
                cmd += ["--input", "input=" + input_npy]
            rc, out, err, rss, wall, others = run_measured(cmd, timeout)
            if rc != 0:
                return {"error": f"deepx bench exited {rc}: {err.strip()[-500:]}"}
            try:
                doc = json.loads(out)
            except json.JSONDecodeError:
                return {"error": "deepx bench --json printed no JSON: " + out[-300:]}
            doc["self_reported_peak_rss_mb"] = doc.get("peak_rss_mb")
            doc["peak_rss_mb"] = rss
            doc["wall_s"] = wall
            doc["others_cpus"] = others
            return doc
        # Fallback: one process per timed inference; at most 5 per round, since every process loads the model.
        times, rss_max, load = [], 0.0, []
        for _ in range(min(iterations, 5)):
            cmd = [self.binary, "run", model, "--json", "--backend", self.backend, "--threads", str(self.threads),
                   "--input", "input=" + input_npy, "--top-k", "0"]
            rc, out, err, rss, _, _ = run_measured(cmd, timeout)
            if rc != 0:
                return {"error": f"deepx run exited {rc}: {err.strip()[-500:]}"}
            timing = json.loads(out)["timing"]
            times.append(timing["first_run_ms"])
            load.append(timing["load_ms"] + timing["session_ms"])
            rss_max = max(rss_max, rss)
        return {"latency_ms": latency_stats(times), "peak_rss_mb": rss_max, "load_ms": statistics.median(load),
                "iterations": len(times), "warmup": 0}

    def output(self, model, input_npy, out_dir, timeout):
        cmd = [self.binary, "run", model, "--backend", self.backend, "--threads", str(self.threads),
               "--input", "input=" + input_npy, "--output", out_dir, "--top-k", "0"]
        rc, _, err, _, _, _ = run_measured(cmd, timeout)
        if rc != 0:
            return None, f"deepx run exited {rc}: {err.strip()[-500:]}"
        return os.path.join(out_dir, "output.npy"), None


class Peer:
    """ONNX Runtime or OpenVINO through bench/ort_bench.py, one process per measurement."""

    def __init__(self, runtime, threads):
        self.name, self.threads = runtime, threads

    def measure(self, model, input_npy, iterations, warmup, timeout, output=None):
        cmd = [sys.executable, os.path.join(HERE, "ort_bench.py"), model, "--input", input_npy, "--runtime",
               self.name, "--threads", str(self.threads), "--iterations", str(iterations), "--warmup", str(warmup)]
        if output:
            cmd += ["--output", output]
        rc, out, err, rss, wall, others = run_measured(cmd, timeout)
        if rc != 0:
            return {"error": f"{self.name} exited {rc}: {err.strip()[-500:]}"}
        doc = json.loads(out.strip().splitlines()[-1])
        doc["self_reported_peak_rss_mb"] = doc["peak_rss_mb"]
        doc["peak_rss_mb"] = rss
        doc["wall_s"] = wall
        doc["others_cpus"] = others
        return doc


def relative_diff(got_path, ref_path):
    import numpy as np
    got, ref = np.load(got_path), np.load(ref_path)
    if got.shape != ref.shape:
        return None, f"shape {list(got.shape)} vs {list(ref.shape)}"
    scale = float(np.max(np.abs(ref)))
    diff = float(np.max(np.abs(got.astype(np.float64) - ref.astype(np.float64))))
    if not math.isfinite(diff):
        return None, "non-finite values"
    return diff / scale if scale > 0 else diff, None


def auto_iterations(flops, budget_s):
    """Timed iterations for about budget_s seconds per measurement, assuming a pessimistic 10 GFLOP/s."""
    est_ms = flops / 10e9 * 1e3 + 0.05
    return int(min(500, max(10, budget_s * 1e3 / est_ms)))


def machine_info(threads):
    info = {"threads_used": threads, "cpus": os.cpu_count(), "platform": platform.platform(),
            "python": platform.python_version()}
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        for line in lscpu.splitlines():
            key, _, value = line.partition(":")
            if key.strip() in ("Model name", "Thread(s) per core", "Core(s) per socket", "L2 cache", "L3 cache",
                               "Flags"):
                value = value.strip()
                if key.strip() == "Flags":  # only the SIMD extensions that matter for fp32 kernels
                    value = " ".join(f for f in value.split() if f.startswith(("avx", "fma", "amx", "sse4")))
                info[key.strip().lower().replace("(s)", "s").replace(" ", "_")] = value
    except OSError:
        pass
    return info


def deepx_version(binary):
    info = {"binary": os.path.abspath(binary)}
    git = subprocess.run(["git", "-C", ROOT, "describe", "--always", "--dirty"], capture_output=True, text=True)
    info["git"] = git.stdout.strip() or None
    cache = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(binary))), "CMakeCache.txt")
    if os.path.exists(cache):
        with open(cache) as f:
            for line in f:
                if line.startswith("CMAKE_BUILD_TYPE:"):
                    info["build_type"] = line.split("=", 1)[1].strip()
    return info


def fmt(v, digits=2):
    if v is None:
        return "—"
    if v >= 100:
        return f"{v:.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.{digits}f}"


def rss(summary):
    return f"{summary['peak_rss_mb']:.0f}" if "peak_rss_mb" in summary else "—"


def p50(summary):
    if "p50_ms" not in summary:
        return "error"
    return fmt(summary["p50_ms"]) + ("*" if summary.get("all_rounds_disturbed") else "")


def render_table(results):
    peers = results["peers"]
    has_ov = "openvino" in peers
    head = ["model", "GFLOP", "DeepX p50 ms", "ORT p50 ms", "DeepX/ORT", "DeepX RSS MB", "ORT RSS MB"]
    if has_ov:
        head += ["OpenVINO p50 ms", "OpenVINO RSS MB"]
    head += ["outputs agree (max rel diff)"]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    ratios, rss_ok, ratio_ok, n = [], 0, 0, 0
    for m in results["models"]:
        d, o = m["summary"].get("deepx", {}), m["summary"].get("ort", {})
        ratio = d["p50_ms"] / o["p50_ms"] if d.get("p50_ms") and o.get("p50_ms") else None
        if ratio is not None:
            ratios.append(ratio)
            n += 1
            ratio_ok += ratio <= 1.0
            rss_ok += d["peak_rss_mb"] <= o["peak_rss_mb"]
        agree = m["agreement"]
        if agree.get("error"):
            agree_text = "error: " + agree["error"].splitlines()[0][:80]
        else:
            agree_text = ("yes" if agree["ok"] else "**NO**") + f" ({agree['rel_diff']:.1e})"
        row = [m["name"], f"{m['flops'] / 1e9:.3g}", p50(d), p50(o), f"{ratio:.2f}" if ratio is not None else "—", rss(d), rss(o)]
        if has_ov:
            v = m["summary"].get("openvino", {})
            row += [p50(v), rss(v)]
        row += [agree_text]
        lines.append("| " + " | ".join(row) + " |")
    geo = math.exp(sum(math.log(r) for r in ratios) / len(ratios)) if ratios else None
    lines.append("")
    if any(x["summary"].get(k, {}).get("all_rounds_disturbed") for x in results["models"] for k in x["summary"]):
        lines.append("\\* every round of this measurement was disturbed by other processes (> "
                     f"{DISTURBED_CPUS} CPUs busy besides the runtime); undisturbed rounds are used where there are "
                     "any.")
        lines.append("")
    lines.append(f"Geometric mean of DeepX/ORT: **{geo:.2f}**" if geo else "Geometric mean of DeepX/ORT: —")
    lines.append("")
    lines.append(f"- DeepX/ORT p50 ≤ 1.0 on every model: **{'met' if n and ratio_ok == n else 'not met'}** "
                 f"({ratio_ok} of {n} models)")
    lines.append(f"- geometric mean ≤ 0.9: **{'met' if geo and geo <= 0.9 else 'not met'}**"
                 + (f" ({geo:.2f})" if geo else ""))
    lines.append(f"- peak RSS ≤ ORT's on every model: **{'met' if n and rss_ok == n else 'not met'}** "
                 f"({rss_ok} of {n} models)")
    m = results["machine"]
    busy = [x["cpu_busy_before"] for x in results["models"] if x.get("cpu_busy_before") is not None]
    lines.append("")
    lines.append(f"Run {results['date']} on {m.get('model_name', '?')} ({m['cpus']} CPUs), {m['threads_used']} "
                 f"threads, DeepX {results['deepx']['git']} backend `{results['backend']}` "
                 f"(mode `{results['deepx_mode']}`), ONNX Runtime {results['versions'].get('onnxruntime')}"
                 + (f", OpenVINO {results['versions'].get('openvino')}" if has_ov else "")
                 + f"; {results['rounds']} rounds, median of per-round p50. Load average at start "
                 f"{results['loadavg_start']:.2f}, at end {results['loadavg_end']:.2f}"
                 + (f"; CPUs busy (other work) just before each model: {min(busy):.0%}–{max(busy):.0%}" if busy
                    else "") + ". "
                 f"Raw numbers: `{os.path.relpath(results['results_file'], ROOT)}`.")
    return "\n".join(lines), geo


def update_docs(path, table):
    if not os.path.exists(path):
        print(f"warning: {path} does not exist; table not written", file=sys.stderr)
        return
    with open(path) as f:
        text = f.read()
    begin, end = text.find(BEGIN), text.find(END)
    if begin < 0 or end < begin:
        print(f"warning: {path} lacks the {BEGIN} ... {END} markers; table not written", file=sys.stderr)
        return
    text = text[:begin + len(BEGIN)] + "\n" + table + "\n" + text[end:]
    with open(path, "w") as f:
        f.write(text)


def default_deepx():
    for candidate in (os.path.join(ROOT, "build", "release", "bin", "deepx"), os.path.join(ROOT, "build", "bin",
                                                                                           "deepx")):
        if os.path.exists(candidate):
            return candidate
    return "deepx"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", default="", help="comma-separated subset of the zoo (default: all in the manifest)")
    ap.add_argument("--backend", default="cpu", help="DeepX backend (default: cpu)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=None, help="alternating rounds per model (default 3, --quick 2)")
    ap.add_argument("--iterations", type=int, default=None,
                    help="timed iterations per measurement (default: about 2 s worth, 10..500; --quick 0.5 s)")
    ap.add_argument("--warmup", type=int, default=None, help="untimed runs first (default: iterations/10, 2..10)")
    ap.add_argument("--quick", action="store_true",
                    help="fewer rounds and iterations; skips " + ", ".join(sorted(LARGE)) + " unless named")
    ap.add_argument("--peers", default=None, help="ort and/or openvino (default: both if installed)")
    ap.add_argument("--deepx", default=default_deepx(), help="deepx CLI binary (default: build/release/bin/deepx)")
    ap.add_argument("--zoo", default=os.path.join(HERE, "zoo"), help="directory written by make_zoo.py")
    ap.add_argument("--results", default=None, help="results file (default: bench/results/<date>.json)")
    ap.add_argument("--docs", default=os.path.join(ROOT, "docs", "BENCHMARKS.md"),
                    help="markdown file whose table is rewritten ('' to skip)")
    ap.add_argument("--tolerance", type=float, default=1e-3, help="max |DeepX - ORT| / max |ORT| (default 1e-3)")
    ap.add_argument("--wait-idle", type=float, default=0,
                    help="before each model, wait up to this many seconds for the CPUs to be < 25%% busy")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds allowed per measurement")
    args = ap.parse_args()

    manifest_path = os.path.join(args.zoo, "manifest.json")
    if not os.path.exists(manifest_path):
        sys.exit(f"{manifest_path} not found: run /usr/bin/python3 bench/make_zoo.py first")
    with open(manifest_path) as f:
        manifest = {m["name"]: m for m in json.load(f)["models"]}
    names = [n for n in args.models.split(",") if n]
    unknown = [n for n in names if n not in manifest]
    if unknown:
        sys.exit(f"not in {manifest_path}: {unknown}")
    if not names:
        names = [n for n in manifest if not (args.quick and n in LARGE)]
    rounds = args.rounds or (2 if args.quick else 3)
    budget_s = 0.5 if args.quick else 2.0

    versions = {}
    for pkg in ("onnxruntime", "openvino", "numpy"):
        try:
            versions[pkg] = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            pass
    peer_names = [p for p in (args.peers or "ort,openvino").split(",") if p]
    if args.peers is None and "openvino" not in versions:
        peer_names = ["ort"]
    if "ort" not in peer_names:
        sys.exit("--peers must include ort: it is the reference for output agreement and the ratio")
    deepx = DeepX(args.deepx, args.backend, args.threads)
    peers = [Peer(p, args.threads) for p in peer_names]
    print(f"deepx {args.deepx} (mode {deepx.mode}, backend {args.backend}), peers {peer_names}, {args.threads} "
          f"threads, {rounds} rounds, models {names}", flush=True)
    if deepx.mode != "bench":
        print("note: `deepx bench` is not available: timing cold `deepx run` processes instead", flush=True)

    date = datetime.date.today().isoformat()
    results_file = args.results or os.path.join(HERE, "results", date + ".json")
    results = {"date": date, "started": datetime.datetime.now().isoformat(timespec="seconds"),
               "backend": args.backend, "threads": args.threads, "rounds": rounds, "deepx_mode": deepx.mode,
               "peers": peer_names, "tolerance": args.tolerance, "machine": machine_info(args.threads),
               "deepx": deepx_version(args.deepx), "versions": versions, "loadavg_start": os.getloadavg()[0],
               "results_file": results_file, "models": []}

    work = tempfile.mkdtemp(prefix="deepx-compare-")
    for name in names:
        entry = manifest[name]
        model = os.path.join(args.zoo, entry["file"])
        input_npy = os.path.join(args.zoo, entry["input"]["file"])
        iterations = args.iterations or auto_iterations(entry["flops"], budget_s)
        warmup = args.warmup if args.warmup is not None else min(10, max(2, iterations // 10))
        record = {"name": name, "flops": entry["flops"], "params": entry["params"], "iterations": iterations,
                  "warmup": warmup, "rounds": {}, "summary": {}}
        if args.wait_idle > 0:
            record["cpu_busy_before"] = wait_for_quiet(args.wait_idle)

        # Outputs first: a wrong answer makes the timing moot, and it is reported next to it.
        ort_out = os.path.join(work, name + "_ort.npy")
        first = peers[0].measure(model, input_npy, 1, 1, args.timeout, output=ort_out)
        deepx_out, error = deepx.output(model, input_npy, os.path.join(work, name + "_deepx"), args.timeout)
        if "error" in first:
            record["agreement"] = {"error": first["error"]}
        elif error:
            record["agreement"] = {"error": error}
        else:
            rel, why = relative_diff(deepx_out, ort_out)
            record["agreement"] = ({"error": why} if why else {"rel_diff": rel, "ok": rel <= args.tolerance})
        torch_out = os.path.join(args.zoo, entry["output"].get("torch_file", ""))
        if "error" not in first and os.path.isfile(torch_out):
            rel, _ = relative_diff(ort_out, torch_out)
            record["agreement"]["ort_vs_torch_rel_diff"] = rel

        runtimes = [deepx] + peers
        for r in range(rounds):
            order = runtimes if r % 2 == 0 else list(reversed(runtimes))
            for rt in order:
                # With --wait-idle, a measurement during which other processes used the CPUs is taken again
                # (twice at most) once the machine is quiet; the last attempt counts either way.
                for attempt in range(3 if args.wait_idle > 0 else 1):
                    if args.wait_idle > 0:
                        wait_for_quiet(args.wait_idle)
                    doc = rt.measure(model, input_npy, iterations, warmup, args.timeout)
                    doc["attempt"] = attempt + 1
                    if not disturbed(doc):
                        break
                record["rounds"].setdefault(rt.name, []).append(doc)
                if "error" in doc:
                    print(f"  {name} round {r + 1} {rt.name}: {doc['error'].splitlines()[0][:200]}", flush=True)
        for rt in runtimes:
            docs = [d for d in record["rounds"].get(rt.name, []) if "error" not in d]
            clean = [d for d in docs if not disturbed(d)]
            flagged = not clean
            docs = clean or docs
            if docs:
                record["summary"][rt.name] = {
                    "p50_ms": statistics.median(d["latency_ms"]["p50"] for d in docs),
                    "p90_ms": statistics.median(d["latency_ms"]["p90"] for d in docs),
                    "min_ms": min(d["latency_ms"]["min"] for d in docs),
                    "peak_rss_mb": statistics.median(d["peak_rss_mb"] for d in docs),
                    "load_ms": statistics.median(d["load_ms"] for d in docs),
                    "rounds_used": len(docs),
                    "all_rounds_disturbed": flagged,
                }
        s = record["summary"]
        agree = record["agreement"]
        line = f"{name:14s}"
        if record.get("cpu_busy_before") is not None:
            line += f" (busy {record['cpu_busy_before']:.0%} before)"
        for rt in runtimes:
            v = s.get(rt.name)
            line += f"  {rt.name} " + (f"{v['p50_ms']:8.2f} ms {v['peak_rss_mb']:6.0f} MB" if v else "   error")
        if "deepx" in s and "ort" in s:
            line += f"  ratio {s['deepx']['p50_ms'] / s['ort']['p50_ms']:.2f}"
        line += "  agree " + ("error" if agree.get("error") else f"{agree['ok']} ({agree['rel_diff']:.1e})")
        print(line, flush=True)
        results["models"].append(record)

    results["loadavg_end"] = os.getloadavg()[0]
    results["finished"] = datetime.datetime.now().isoformat(timespec="seconds")
    table, geo = render_table(results)
    results["geomean_ratio"] = geo
    os.makedirs(os.path.dirname(results_file), exist_ok=True)
    with open(results_file, "w") as f:
        json.dump(results, f, indent=1)
    print(f"wrote {results_file}")
    if args.docs:
        update_docs(args.docs, table)
        print(f"updated {args.docs}")
    print(table)
    return 0


if __name__ == "__main__":
    ensure_venv()
    sys.exit(main())
