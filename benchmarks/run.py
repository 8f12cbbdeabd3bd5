"""Run every workload in ember and in torch (each in its own fresh process, alternating
ember/torch over the rounds), and print median time per step, the ratio ember/torch and the
peak memory each process added while running it. ember runs on its NumPy kernels and, when
numba is installed, a second time with its numba kernels (the `ember[fast]` extra).

    python -m benchmarks [--only NAME,...] [--rounds 2] [--seconds 2] [--markdown]
"""
import argparse
import importlib.util
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


# the runs of each workload: (label, module, EMBER_FAST)
VARIANTS = [("ember", "ember", "0"), ("numba", "ember", "1"), ("torch", "torch", "0")]


def measure(framework, name, seconds):
    """In this process: import the framework, build the workload, warm up, time steps."""
    fw = __import__(framework)
    if framework == "torch":
        fw.set_num_threads(os.cpu_count() or 1)
    from benchmarks.workloads import WORKLOADS
    setup = next(w for w in WORKLOADS if w.__name__ == name)
    fw.manual_seed(0)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    step = setup(fw)
    t0 = time.perf_counter()
    for _ in range(3):
        step()
    # time samples of `inner` steps each, so that a sample lasts at least a millisecond
    inner = max(1, int(1e-3 / max((time.perf_counter() - t0) / 3, 1e-7)))
    times, deadline = [], time.perf_counter() + seconds
    while len(times) < 5 or (time.perf_counter() < deadline and len(times) < 10000):
        t0 = time.perf_counter()
        for _ in range(inner):
            step()
        times.append((time.perf_counter() - t0) / inner)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base
    return {"median": statistics.median(times), "steps": len(times), "peak_kb": peak}


def import_time(framework):
    code = ("import time, resource; t = time.perf_counter(); import %s; "
            "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
            % framework)
    runs = []
    for _ in range(3):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             cwd=ROOT, check=True).stdout.split()
        runs.append((float(out[0]), int(out[1])))
    return min(r[0] for r in runs), min(r[1] for r in runs)


def run_child(framework, name, seconds, fast="0"):
    env = dict(os.environ, EMBER_FAST=fast)
    out = subprocess.run([sys.executable, "-m", "benchmarks.run", "--child", framework, name,
                          "--seconds", str(seconds)], capture_output=True, text=True, cwd=ROOT,
                         env=env)
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr else "failed"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def fmt_time(s):
    return f"{s * 1e6:.1f} us" if s < 1e-3 else f"{s * 1e3:.2f} ms" if s < 1 else f"{s:.2f} s"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default="")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--child", nargs=2, metavar=("FRAMEWORK", "WORKLOAD"))
    ap.add_argument("--variants", default="ember,numba,torch",
                    help="which of ember (NumPy kernels), numba, torch to run")
    ap.add_argument("--markdown", action="store_true", help="print a markdown table")
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(measure(args.child[0], args.child[1], args.seconds)))
        return

    sys.path.insert(0, ROOT)
    from benchmarks.workloads import WORKLOADS
    names = [w.__name__ for w in WORKLOADS]
    if args.only:
        wanted = args.only.split(",")
        names = [n for n in names if any(w in n for w in wanted)]
    variants = [v for v in VARIANTS if v[0] in args.variants.split(",")]
    if not importlib.util.find_spec("numba"):
        variants = [v for v in variants if v[0] != "numba"]
    labels = [v[0] for v in variants]
    rows = []
    for name in names:
        res = {label: [] for label in labels}
        for _ in range(args.rounds):
            for label, module, fast in variants:
                res[label].append(run_child(module, name, args.seconds, fast))
        rows.append((name, {label: _summary(runs) for label, runs in res.items()}))
        print(_text_row(*rows[-1]), flush=True)
    (ei, em), (ti, tm) = import_time("ember"), import_time("torch")
    print(f"import: ember {ei:.3f} s / {em // 1024} MB, torch {ti:.3f} s / {tm // 1024} MB, "
          f"ratio {ei / ti:.2f}")
    if args.markdown:
        print(_markdown(labels, rows, (ei, em, ti, tm)))


def _summary(runs):
    """(median time, peak KB, error) over the runs of one variant."""
    ok = [r for r in runs if "median" in r]
    if not ok:
        return None, None, runs[0].get("error")
    return statistics.median(r["median"] for r in ok), max(r["peak_kb"] for r in ok), None


def _cells(labels, res):
    """Per variant: time, ratio to torch (torch itself excepted) and peak MB, as text."""
    torch_time = res["torch"][0]
    cells = []
    for label in labels:
        t, peak, err = res[label]
        if err:
            cells.append((label, f"error: {err}", "", ""))
            continue
        ratio = f"{t / torch_time:.2f}" if torch_time and label != "torch" else ""
        cells.append((label, fmt_time(t), ratio, f"{peak / 1024:.1f}"))
    return cells


def _text_row(name, res):
    labels = list(res)
    return f"{name:28s} " + "  ".join(
        f"{label} {t:>10s}" + (f" ({ratio})" if ratio else "") + f" {mb} MB"
        for label, t, ratio, mb in _cells(labels, res))


def _markdown(labels, rows, imports):
    head = ["workload"]
    for label in labels:
        head += [label] if label == "torch" else [label, f"{label}/torch"]
    head += [f"peak MB {label}" for label in labels]
    lines = [f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
             f"Python {platform.python_version()}; {time.strftime('%Y-%m-%d')}", "",
             "| " + " | ".join(head) + " |", "| --- " + "| ---: " * (len(head) - 1) + "|"]
    for name, res in rows:
        cells = _cells(labels, res)
        line = [name]
        for label, t, ratio, _ in cells:
            line += [t] if label == "torch" else [t, ratio]
        line += [mb for *_, mb in cells]
        lines.append("| " + " | ".join(line) + " |")
    ei, em, ti, tm = imports
    lines.append(f"\nimport: ember {ei:.3f} s ({em / 1024:.0f} MB resident), torch {ti:.3f} s "
                 f"({tm / 1024:.0f} MB), ratio {ei / ti:.2f}")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
