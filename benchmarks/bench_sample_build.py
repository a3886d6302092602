"""Where the time of the sample build goes (`emodata build --mix 20:80 --sample`, empty cache, QC gate
included), as shares per part, measured in fresh processes.

    python benchmarks/bench_sample_build.py [--runs 5] [--pythonpath /work/main]

Two measurements, alternated run by run so both see the same machine load:
  cli     the command itself (`emodata build ... --cache-dir EMPTY`): wall and CPU seconds of the process;
  parts   one process that imports the heavy libraries one after another (each import timed once;
          what a library imports is charged to the first that needs it), then runs the build with the
          stages timed by the Reporter (their lazy imports are then already paid); CPU seconds of each
          import, of the gate run and of the rest of the build.
Prints the median of each part over the runs (wall and CPU), its share of the parts' sum, and the
1-minute load average before each run. On a loaded machine the CPU shares are the steadier figure. `--pythonpath` measures another checkout (e.g. main, as the baseline).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

#: Imports timed apart, in order (each charged only what is not loaded yet).
PARTS = (("python + emodata.cli", "emodata.cli"), ("torch (via spaCy's thinc)", "torch"),
         ("spaCy", "spacy"), ("pandas + pyarrow", "pandas"), ("sklearn + snorkel", "snorkel.labeling"),
         ("emodata.build (the rest of the pipeline)", "emodata.build"), ("datasets (HF features)", "datasets"),
         ("great_expectations", "great_expectations"))

DRIVER = r"""
import importlib, json, os, sys, time
t0 = time.perf_counter(); c0 = time.process_time()
parts = []
for label, module in json.loads(sys.argv[1]):
    w, c = time.perf_counter(), time.process_time()
    importlib.import_module(module)
    parts.append((label, time.perf_counter() - w, time.process_time() - c))
parts[0] = (parts[0][0], parts[0][1] + float(sys.argv[2]), parts[0][2])   # + interpreter start
import expectations
from emodata.build import build
from emodata.core.config import BuildConfig
gate_cpu = []
_run_gate = expectations.run_gate
def timed_gate(*args, **kwargs):   # the build looks `run_gate` up on the package when it runs the gate
    c = time.process_time()
    try:
        return _run_gate(*args, **kwargs)
    finally:
        gate_cpu.append(time.process_time() - c)
expectations.run_gate = timed_gate
from emodata.progress import Reporter
reporter = Reporter(quiet=True)
config = BuildConfig(mix=["20:80"], sample=True, out=sys.argv[3], cache_dir=sys.argv[4], quiet=True)
w, c = time.perf_counter(), time.process_time()
build(config, reporter)
stages = dict(reporter.timings)
wall, cpu = time.perf_counter() - w, time.process_time() - c
gate = stages.get("QC gate (Great Expectations)", 0.0)
write = sum(v for k, v in stages.items() if k.startswith("write"))
parts.append(("stage: write shards", write, None))
parts.append(("stage: QC gate run (GX imported)", gate, sum(gate_cpu)))
parts.append(("stages: the rest (CPU: with write)", wall - gate - write, cpu - sum(gate_cpu)))
print(json.dumps({"parts": parts, "build_cpu": cpu}))
"""


def _env(pythonpath: str | None) -> dict:
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    return env


def run_cli(pythonpath: str | None) -> tuple[float, float]:
    """(wall, CPU seconds) of one `emodata build --mix 20:80 --sample` on an empty cache."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-c", "import sys; from emodata.cli import main; sys.exit(main())",
               "build", "--mix", "20:80", "--sample", "--out", f"{tmp}/out", "--cache-dir", f"{tmp}/cache"]
        before = os.times()
        start = time.perf_counter()
        subprocess.run(cmd, env=_env(pythonpath), check=True, capture_output=True)
        wall = time.perf_counter() - start
        after = os.times()
    return wall, (after.children_user - before.children_user) + (after.children_system - before.children_system)


def run_parts(pythonpath: str | None) -> dict:
    """One process timing the imports and the stages (see the module docstring)."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], env=_env(pythonpath), check=True)
    startup = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run([sys.executable, "-c", DRIVER, json.dumps(PARTS), str(startup), f"{tmp}/out",
                              f"{tmp}/cache"], env=_env(pythonpath), check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    """Run the measurements and print a Markdown table."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--pythonpath", default=None, help="checkout to measure (default: as imported here)")
    args = ap.parse_args()
    loads, cli, parts = [], [], []
    for _ in range(args.runs):
        loads.append(os.getloadavg()[0])
        cli.append(run_cli(args.pythonpath))
        parts.append(run_parts(args.pythonpath))
    med = statistics.median
    print(f"runs: {args.runs}; load average (1 min) before each: {', '.join(f'{x:.1f}' for x in loads)}")
    print(f"cli wall: median {med(w for w, _ in cli):.1f} s (runs {', '.join(f'{w:.1f}' for w, _ in cli)}); "
          f"CPU (user+sys): median {med(c for _, c in cli):.1f} s")
    names = [p[0] for p in parts[0]["parts"]]
    medians = {n: med(run["parts"][i][1] for run in parts) for i, n in enumerate(names)}
    cpus = {n: (med(run["parts"][i][2] for run in parts) if parts[0]["parts"][i][2] is not None else None)
            for i, n in enumerate(names)}
    total, total_cpu = sum(medians.values()), sum(c for c in cpus.values() if c is not None)
    print("| part | median wall s | share of wall | median CPU s | share of CPU |")
    print("|---|---|---|---|---|")
    for name, seconds in medians.items():
        cpu = cpus[name]
        cpu_text = "in the rest | —" if cpu is None else f"{cpu:.2f} | {cpu / total_cpu:.0%}"
        print(f"| {name} | {seconds:.2f} | {seconds / total:.0%} | {cpu_text} |")
    print(f"| sum of parts | {total:.2f} | 100% | {total_cpu:.2f} | 100% |")


if __name__ == "__main__":
    main()
