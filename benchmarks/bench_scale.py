"""Scaling benchmark (issue #7): rows/s and peak memory at 1x, 10x (100x) of the real corpora, 1 and 2 workers.

Usage: python benchmarks/bench_scale.py [--data-dir ../shared/data] [--scales 1,10,100] [--workers 1,2]
                                        [--work DIR] [--results benchmarks/RESULTS_scale.md] [--max-minutes 15]
                                        [--build-max-scale 10] [--snorkel-rows 5000]

Scale 1 is the real corpora (GoEmotions simplified train+dev, DailyDialog probe, NRC-VAD v1); scale N > 1
is `emodata.synthetic` data N times as large (real sentences recombined). 1 worker is the default
in-process engine; N workers is a Dask LocalCluster of N processes. Two measurements per (scale, workers),
each in a fresh child process so that peak memory is its own:
  annotate: read GoEmotions + DailyDialog, open the engine once (cluster start timed apart), annotate both
            per partition of at most 20,000 rows, each partition's result dropped once counted (so 100x,
            whose annotated frame does not fit in memory, is measured the same way as 1x);
  build:    the whole `emodata build --mix 100:0` (+ probe) with an empty cache, timed per stage
            (scales up to --build-max-scale; above it the whole build is estimated, not run).
Once, first: the Snorkel idiom comparison (benchmarks/bench_annotate_vs_snorkel.py) on the first
--snorkel-rows GoEmotions train rows, in the same table.
Peak memory is the highest sum of RSS over the child and all its descendants (Dask nanny and worker
processes included), sampled every 0.1 s. A scale whose estimated time (from the scale below it, linear)
exceeds --max-minutes is skipped with a note. Writes Markdown to --results.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data"
#: The scale the acceptance criterion is about (10x data in <= 12x the time of 1x); always measured.
ACCEPTANCE_SCALE = 10


# --- child side: one measurement, results as JSON on stdout --------------------------------------

def _config(data_dir: str, workers: int, **values):
    from emodata.core.config import BuildConfig

    return BuildConfig(mix=["100:0"], data_dir=data_dir, engine="local" if workers == 1 else "dask",
                       workers=workers, quiet=True, **values)


def annotated_rows(annotator, records) -> int:
    """Map task: annotate one partition and keep only its row count (the 100x frame does not fit in memory)."""
    from emodata.annotate import annotate_frame

    return len(annotate_frame(records, annotator))


def child_annotate(data_dir: str, workers: int) -> dict:
    """Read both sources, open the engine once, annotate both per partition; seconds per step."""
    from emodata.build import build_annotator
    from emodata.engines import open_engine, partition_bounds
    from emodata.engines.core import row_parts
    from emodata.engines.dask import PARTITION_ROWS
    from emodata.sources import locate, read_source

    config = _config(data_dir, workers, out=tempfile.gettempdir(), no_cache=True)
    t0 = time.perf_counter()
    records = {name: read_source(locate(name, data_dir)).records for name in ("goemotions", "dailydialog")}
    annotator = build_annotator(config)
    t1 = time.perf_counter()
    with open_engine(config) as engine:
        engine.start()
        t2 = time.perf_counter()
        rows = 0
        for frame in records.values():
            parts = row_parts(frame, partition_bounds(len(frame), workers, PARTITION_ROWS))
            rows += sum(engine.map(annotated_rows, parts, (annotator,)))
        t3 = time.perf_counter()
        described = engine.describe()
    t4 = time.perf_counter()
    return {"rows": rows, "code": code_id(), "read_and_load_s": t1 - t0, "engine_start_s": t2 - t1,
            "annotate_s": t3 - t2,
            "engine_stop_s": t4 - t3, "engine": described}


def child_build(data_dir: str, workers: int, out: str) -> dict:
    """The whole build with an empty cache; wall, stage timings, rows and its manifest."""
    from emodata.build import build
    from emodata.progress import Reporter

    cache = tempfile.mkdtemp(prefix="emodata-scale-cache-")
    reporter = Reporter(quiet=True)
    started = time.perf_counter()
    try:
        (result,) = build(_config(data_dir, workers, out=out, cache_dir=cache, overwrite=True), reporter)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    wall = time.perf_counter() - started
    sources = result.manifest["sources"]
    return {"wall_s": wall, "stages": reporter.timings, "rows_read": sum(s["rows_read"] for s in sources.values()),
            "rows_per_source": {k: s["rows_read"] for k, s in sources.items()},
            "counts": result.manifest["counts"], "manifest": result.manifest, "code": code_id()}


def child_snorkel(data_dir: str, n: int) -> dict:
    """The annotate-vs-Snorkel-idiom comparison on the first `n` GoEmotions train rows."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    from bench_annotate_vs_snorkel import compare

    return compare(Path(data_dir), n)


# --- parent side ----------------------------------------------------------------------------------

def measure(args: list[str]) -> tuple[dict, float, float]:
    """Run one child measurement: its JSON result, the peak RSS (MiB) and the CPU seconds of its process tree.

    CPU seconds (user + system, summed over every process of the tree) depend far less than wall time
    on what else runs on the machine.
    """
    proc = subprocess.Popen([sys.executable, __file__, *args], stdout=subprocess.PIPE, text=True, cwd=REPO)
    root = psutil.Process(proc.pid)
    peak, cpu = 0, {}
    while proc.poll() is None:
        total = 0
        try:
            tree = [root, *root.children(recursive=True)]
        except psutil.Error:
            tree = []
        for p in tree:
            try:
                with p.oneshot():
                    total += p.memory_info().rss
                    times = p.cpu_times()
                cpu[p.pid] = times.user + times.system
            except psutil.Error:
                pass
        peak = max(peak, total)
        time.sleep(0.1)
    out = proc.stdout.read()
    if proc.returncode != 0:
        raise SystemExit(f"child {' '.join(args)} failed with exit code {proc.returncode}")
    return json.loads(out.strip().splitlines()[-1]), peak / 2**20, sum(cpu.values())


def data_for(scale: int, real: Path, work: Path) -> tuple[Path, float]:
    """The data folder of a scale (synthetic for scale > 1, generated once) and its generation seconds."""
    if scale == 1:
        return real, 0.0
    target = work / f"synthetic-x{scale}"
    marker = target / "goemotions" / "SOURCE.md"
    if marker.is_file() and f"x{scale})" in marker.read_text():
        return target, 0.0
    shutil.rmtree(target, ignore_errors=True)
    from emodata.synthetic import write_synthetic_data_dir

    started = time.perf_counter()
    write_synthetic_data_dir(real, target, factor=scale, seed=0)
    return target, time.perf_counter() - started


def _stage_text(stages: dict, rows: dict) -> str:
    parts = []
    for name, seconds in stages.items():
        source = name.split(" ", 1)[1] if " " in name else ""
        rate = f" ({rows[source] / seconds:,.0f} rows/s)" if name.startswith("annotate") and seconds > 0 else ""
        parts.append(f"{name.split(' (')[0]} {seconds:.1f}s{rate}")
    return "; ".join(parts)


def _diff(a, b, path: str = "") -> list[str]:
    """Paths where two manifests differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for k in sorted(set(a) | set(b)) for d in _diff(a.get(k), b.get(k), f"{path}.{k}")]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in _diff(x, y, f"{path}[{i}]")]
    return [] if a == b else [path or "."]


def code_id() -> str:
    """The library's source fingerprint (the one Dask workers are checked against), to notice when the
    code changed between two runs."""
    from emodata.engines import environment_fingerprint

    return environment_fingerprint()["emodata_sources"][:12]


def _extrapolate(results: dict, scale: int, measured: str) -> tuple[float, float]:
    """Minutes for the `measured` runs ("annotate" or "build") at `scale` and their largest peak RSS (GiB),
    linear in the scale from the scales measured so far."""
    done = sorted(s for s in results if all(measured in r for r in results[s].values()))
    lo, hi = done[0], done[-1]
    key = "annotate_s" if measured == "annotate" else "wall_s"

    def at(value) -> float:
        if lo == hi:
            return value(hi) * scale / hi
        slope = (value(hi) - value(lo)) / (hi - lo)
        return value(hi) + slope * (scale - hi)

    seconds = at(lambda s: sum(r[measured][0][key] for r in results[s].values()))
    peak = at(lambda s: max(r[measured][1] for r in results[s].values()))
    return seconds / 60, peak / 1024


def run(real: Path, scales: list[int], workers: list[int], work: Path, max_minutes: float,
        build_max_scale: int, snorkel_rows: int) -> str:
    """All measurements; the Markdown report."""
    load_before = os.getloadavg()
    started = time.time()
    annotate_rows, build_rows, notes, results, codes = [], [], [], {}, set()
    if snorkel_rows:
        print(f"[bench_scale] Snorkel idiom comparison on {snorkel_rows:,} rows ...", file=sys.stderr, flush=True)
        cmp, cmp_peak, cmp_cpu = measure(["--child", "snorkel", "--data-dir", str(real), "--n-rows", str(snorkel_rows)])
        if not cmp["same"]:
            raise SystemExit("Snorkel idiom comparison: label matrices differ, the comparison is not like for like")
        annotate_rows.append(f"| 1x, first {cmp['rows']:,} train rows | 1, emodata annotate stage ({cmp['lfs']} "
                             f"emotion LFs) | {cmp['rows']:,} | – | {cmp['ours_s']:.1f} | "
                             f"{cmp['rows'] / cmp['ours_s']:,.0f} | – | – |")
        annotate_rows.append(f"| 1x, first {cmp['rows']:,} train rows | 1, Snorkel idiom (PandasLFApplier + "
                             f"SpacyPreprocessor, same LFs, same matrix) | {cmp['rows']:,} | – | "
                             f"{cmp['snorkel_s']:.1f} | {cmp['rows'] / cmp['snorkel_s']:,.0f} | "
                             f"{cmp_cpu:.0f} (both) | {cmp_peak:,.0f} (both) |")
        notes.append(f"Snorkel idiom vs emodata annotate stage on the same {cmp['rows']:,} rows: "
                     f"{cmp['snorkel_s'] / cmp['ours_s']:.1f}x slower (label matrices identical).")
    for scale in scales:
        done = sorted(results)
        run_build = scale <= build_max_scale
        if scale > ACCEPTANCE_SCALE and done:  # 1x and 10x always run; larger scales only if they fit
            minutes, peak_gib = _extrapolate(results, scale, "annotate")
            free_gib = psutil.virtual_memory().available / 2**30
            if minutes > max_minutes or peak_gib > 0.7 * free_gib:
                notes.append(f"{scale}x skipped: extrapolated linearly from the {', '.join(f'{d}x' for d in done)} "
                             f"runs to {minutes:.0f} min for its annotate runs (limit {max_minutes:.0f}) and "
                             f"{peak_gib:.1f} GiB peak RSS ({free_gib:.0f} GiB available now).")
                continue
        if not run_build and done:
            minutes, peak_gib = _extrapolate(results, scale, "build")
            notes.append(f"{scale}x whole build not run (--build-max-scale {build_max_scale}): extrapolated "
                         f"linearly to {minutes / len(workers):.0f} min and {peak_gib:.1f} GiB peak RSS per build "
                         f"({psutil.virtual_memory().total / 2**30:.0f} GiB in this machine).")
        data_dir, gen_s = data_for(scale, real, work)
        if gen_s:
            notes.append(f"{scale}x synthetic data written in {gen_s:.1f}s ({data_dir}).")
        results[scale] = {}
        for w in workers:
            print(f"[bench_scale] {scale}x, {w} worker(s) ...", file=sys.stderr, flush=True)
            annotate = measure(["--child", "annotate", "--data-dir", str(data_dir), "--n-workers", str(w)])
            results[scale][w] = {"annotate": annotate}
            a, a_peak, a_cpu = annotate
            codes.add(a["code"])
            annotate_rows.append(f"| {scale}x | {w} | {a['rows']:,} | {a['engine_start_s']:.1f} | "
                                 f"{a['annotate_s']:.1f} | {a['rows'] / a['annotate_s']:,.0f} | {a_cpu:.0f} | "
                                 f"{a_peak:,.0f} |")
            if not run_build:
                continue
            build = measure(["--child", "build", "--data-dir", str(data_dir), "--n-workers", str(w),
                             "--out", str(work / f"out-x{scale}-w{w}")])
            results[scale][w]["build"] = build
            b, b_peak, b_cpu = build
            reference = results[scale][workers[0]]["build"][0]
            differs = _diff(reference["manifest"], b["manifest"])
            same = "yes" if not differs else f"**NO**: {', '.join(differs[:3])}"
            if differs and reference["code"] != b["code"]:
                same += " (library code changed between the two runs)"
            codes.add(b["code"])
            rows = {**b["rows_per_source"], "mix_100_0": sum(b["counts"].values())}
            build_rows.append(f"| {scale}x | {w} | {b['rows_read']:,} | {b['wall_s']:.1f} | "
                              f"{b['rows_read'] / b['wall_s']:,.0f} | {b_cpu:.0f} | {b_peak:,.0f} | {same} | "
                              f"{_stage_text(b['stages'], rows)} |")
            shutil.rmtree(work / f"out-x{scale}-w{w}", ignore_errors=True)
    growth = []
    done = sorted(results)
    for scale in done[1:]:
        for w in workers:
            for what, key in (("annotate stage", "annotate_s"), ("whole build", "wall_s")):
                measured = "annotate" if key == "annotate_s" else "build"
                if measured not in results[scale][w]:
                    continue
                first, last = results[done[0]][w][measured], results[scale][w][measured]
                t1, tn = first[0][key], last[0][key]
                limit = 1.2 * scale / done[0]
                verdict = "yes" if tn / t1 <= limit else "**NO**"
                growth.append(f"| {what} | {w} | {done[0]}x → {scale}x | {t1:.1f} → {tn:.1f} | {tn / t1:.2f} | "
                              f"{last[2] / first[2]:.2f} | ≤ {limit:.0f}: {verdict} |")
    load_after = os.getloadavg()
    if len(codes) > 1:
        notes.append(f"The library code changed during the benchmark ({len(codes)} versions: "
                     f"{', '.join(sorted(codes))}); rows measured on different versions are not comparable.")
    mem = psutil.virtual_memory().total / 2**30
    cmd = "python benchmarks/bench_scale.py " + " ".join(sys.argv[1:])
    lines = [
        "## Scaling: 1x, 10x, 100x on 1 and 2 workers (issue #7)", "",
        f"- Command: `{cmd.strip()}`",
        f"- Machine: {os.cpu_count()} cores ({platform.processor() or platform.machine()}), {mem:.0f} GiB, "
        f"Python {platform.python_version()}; shared with other jobs: load average "
        f"{load_before[0]:.1f} at start, {load_after[0]:.1f} at end, so timings are noisy.",
        f"- Date: {datetime.date.today().isoformat()}; total {(time.time() - started) / 60:.1f} min; "
        f"library code id {', '.join(sorted(codes))} (`environment_fingerprint()['emodata_sources']`: SHA-1 of "
        "the emodata, labeling_functions, catalog, expectations and trainer files).",
        "- 1x = the real corpora (GoEmotions simplified train+dev and the DailyDialog probe, NRC-VAD v1); "
        "Nx = `python -m emodata.synthetic --factor N` (real sentences recombined, N times the rows).",
        "- 1 worker = the in-process engine (default); 2 workers = `--workers 2` (Dask LocalCluster, 2 processes "
        "x 1 thread). Peak RSS and CPU s = the whole process tree (client + nanny + workers), sampled every 0.1 s. "
        "Empty cache in every build. Each row is one run in a fresh process.", "",
        "Annotate stage alone (engine opened once, cluster start reported apart; partitions of ≤ 20,000 rows, "
        "each result dropped once counted; the first rows: the Snorkel idiom comparison, one core):", "",
        "| scale | workers | rows | engine start s | annotate s | rows/s | CPU s (tree) | peak RSS MiB |",
        "|---|---|---|---|---|---|---|---|", *annotate_rows, "",
        "Whole build `--mix 100:0` + DailyDialog probe (one engine for the whole build: annotate, flip pairs and "
        "labelling + encoding of shard files run on it):", "",
        "| scale | workers | rows read | wall s | rows/s | CPU s (tree) | peak RSS MiB | shards = 1 worker | stages |",
        "|---|---|---|---|---|---|---|---|---|", *build_rows, "",
    ]
    if growth:
        lines += ["Growth (acceptance: 10x data takes ≤ 12x the time of 1x):", "",
                  "| measured | workers | scales | wall s | wall ratio | CPU ratio (tree) | linear (wall) |",
                  "|---|---|---|---|---|---|---|",
                  *growth, ""]
    lines += [f"- {n}" for n in notes]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=str(DEFAULT_DATA))
    parser.add_argument("--scales", default="1,10,100", help="comma-separated factors (1 = real data)")
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts (1 = in-process)")
    parser.add_argument("--work", default=None, help="folder for synthetic data and outputs (default: a temp dir)")
    # Written apart, then merged into benchmarks/RESULTS.md by hand (with the reading notes).
    parser.add_argument("--results", default=str(REPO / "benchmarks" / "RESULTS_scale.md"))
    parser.add_argument("--max-minutes", type=float, default=15.0, help="skip a scale estimated to take longer")
    parser.add_argument("--build-max-scale", type=int, default=ACCEPTANCE_SCALE,
                        help="largest scale whose whole build is run (above: annotate stage only)")
    parser.add_argument("--snorkel-rows", type=int, default=5000,
                        help="rows of the Snorkel idiom comparison (0: skip it)")
    parser.add_argument("--child", choices=("annotate", "build", "snorkel"), help=argparse.SUPPRESS)
    parser.add_argument("--n-rows", type=int, default=5000, help=argparse.SUPPRESS)
    parser.add_argument("--n-workers", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--out", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "annotate":
        print(json.dumps(child_annotate(args.data_dir, args.n_workers)))
        return
    if args.child == "snorkel":
        print(json.dumps(child_snorkel(args.data_dir, args.n_rows)))
        return
    if args.child == "build":
        print(json.dumps(child_build(args.data_dir, args.n_workers, args.out)))
        return
    real = Path(args.data_dir)
    if not (real / "goemotions").is_dir():
        raise SystemExit(f"{real}/goemotions not found: pass --data-dir with the real corpora")
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="emodata-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    report = run(real, sorted(int(s) for s in args.scales.split(",")), [int(w) for w in args.workers.split(",")],
                 work, args.max_minutes, args.build_max_scale, args.snorkel_rows)
    Path(args.results).write_text(report, encoding="utf-8")
    print(report)


if __name__ == "__main__":
    main()
