"""Scaling benchmark (issues #7, #18): wall time and peak memory of the whole build at 1x, 10x (100x).

Usage: python benchmarks/bench_scale.py [--data-dir ../shared/data] [--scales 1,10] [--workers 1]
                                        [--mix 20:80] [--work DIR] [--results FILE] [--warm] [--plot PNG]
                                        [--plot-only] [-- BUILD_ARGS...]

Scale N is `python -m emodata.synthetic --factor N --ed-standin` data (real sentences recombined; N = 1 has
the real corpora's sizes), so every scale is read, annotated and built the same way. For each (scale,
workers) the whole `emodata build --mix MIX` runs in a fresh child process with an empty annotate cache
(`--warm`: the cache of an earlier run at that scale is kept, so only the mix stages are measured).
Measured: wall seconds, CPU seconds (user + system over the child and all its descendants: Dask nannies
and workers included) and the peak RSS of that process tree (psutil, sampled every 0.1 s); the build's
own run record (`run.json`: every stage's seconds and the peak RSS after each stage) is kept beside the
results. The 10x/1x ratios are the issue's acceptance figures; a larger scale that is not run is
estimated from the last two measured ones (linear in the rows, which is what the growth curve shows),
and the table says that it is an estimate. Prints Markdown and writes it to --results when given.
`--plot PNG` draws the growth curve (wall seconds and peak RSS against rows read, log-log, with the 4 GiB
budget and the linear-growth line) from every `result-x*_w*.json` in --work; `--plot-only` draws it from
the results already there without building.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data"


def synthetic(real: Path, scale: int, work: Path) -> Path:
    """The synthetic data folder of `scale` (written once, reused)."""
    folder = work / f"syn{scale}"
    if not (folder / "goemotions").is_dir():
        subprocess.run([sys.executable, "-m", "emodata.synthetic", "--data-dir", str(real), "--out", str(folder),
                        "--factor", str(scale), "--ed-standin"], check=True, stdout=subprocess.DEVNULL)
    return folder


def measure(command: list[str]) -> dict:
    """Run `command`; its wall seconds, the CPU seconds and peak RSS (MiB) of its process tree, exit code."""
    started = time.perf_counter()
    process = psutil.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak, cpu = 0.0, {}
    while process.poll() is None:
        try:
            tree = [process, *process.children(recursive=True)]
            rss = 0
            for p in tree:
                with p.oneshot():
                    rss += p.memory_info().rss
                    times = p.cpu_times()
                    cpu[p.pid] = times.user + times.system + times.children_user + times.children_system
            peak = max(peak, rss / 2**20)
        except psutil.Error:
            pass
        time.sleep(0.1)
    stderr = process.stderr.read()
    return {"wall_s": time.perf_counter() - started, "cpu_s": sum(cpu.values()), "peak_rss_mib": peak,
            "rc": process.returncode, "stderr_tail": stderr[-2000:]}


def build_once(data: Path, scale: int, workers: int, args: argparse.Namespace, extra: list[str]) -> dict:
    """One whole build of `data`; the measurement plus the build's run record and rows read."""
    tag = f"x{scale}_w{workers}"
    cache, out = args.work / f"cache-{tag}", args.work / f"out-{tag}"
    if not args.warm:
        subprocess.run(["rm", "-rf", str(cache)], check=True)
    command = [sys.executable, "-m", "emodata", "build", "--data-dir", str(data), "--mix", args.mix, "--out", str(out),
               "--cache-dir", str(cache), "--overwrite", "--quiet", *extra]
    if workers > 1:
        command += ["--engine", "dask", "--workers", str(workers)]
    result = measure(command)
    if result["rc"] != 0:
        raise SystemExit(f"build {tag} failed:\n{result['stderr_tail']}")
    name = "mix_" + args.mix.replace(":", "_")
    manifest = json.loads((out / name / "manifests" / f"{name}.json").read_text())
    result["run"] = json.loads((out / name / "run.json").read_text())
    result["rows_read"] = sum(s["rows_read"] for s in manifest["sources"].values())
    result["fit_sample"] = manifest["weak_supervision"]["fit_sample"]["rows"]
    return result


def table(results: dict[tuple[int, int], dict], scales: list[int], workers: list[int]) -> list[str]:
    """The Markdown table: one row per measured (scale, workers), ratios against 1x, then estimates."""
    lines = ["| scale | workers | rows read | fit sample | wall s | CPU s | peak RSS MiB | wall / 1x | RSS / 1x |",
             "|---|---|---|---|---|---|---|---|---|"]
    for w in workers:
        base = results.get((scales[0], w))
        for s in scales:
            r = results.get((s, w))
            if r is None:
                continue
            ratio = (f"{r['wall_s'] / base['wall_s']:.2f} | {r['peak_rss_mib'] / base['peak_rss_mib']:.2f}"
                     if base else "n/a | n/a")
            lines.append(f"| {s}x | {w} | {r['rows_read']:,} | {r['fit_sample']:,} | {r['wall_s']:,.0f} | "
                         f"{r['cpu_s']:,.0f} | {r['peak_rss_mib']:,.0f} | {ratio} |")
        measured = [s for s in scales if (s, w) in results]
        if len(measured) >= 2:
            (s0, s1), (r0, r1) = measured[-2:], (results[(measured[-2], w)], results[(measured[-1], w)])
            for target in (100,):
                if target > s1:
                    k = (target - s1) / (s1 - s0)
                    lines.append(f"| {target}x (estimate: linear from {s0}x and {s1}x) | {w} | "
                                 f"~{r1['rows_read'] * target // s1:,} | | ~{r1['wall_s'] + k * (r1['wall_s'] - r0['wall_s']):,.0f} | "
                                 f"~{r1['cpu_s'] + k * (r1['cpu_s'] - r0['cpu_s']):,.0f} | "
                                 f"~{r1['peak_rss_mib'] + k * (r1['peak_rss_mib'] - r0['peak_rss_mib']):,.0f} | | |")
    return lines


def load_results(work: Path) -> dict[tuple[int, int], dict]:
    """Every measured (scale, workers) result kept in `work` (`result-xS_wW.json`)."""
    results = {}
    for path in sorted(work.glob("result-x*_w*.json")):
        scale, workers = path.stem[len("result-x"):].split("_w")
        results[(int(scale), int(workers))] = json.loads(path.read_text())
    return results


def plot_growth(results: dict[tuple[int, int], dict], png: Path) -> None:
    """The growth curve: wall seconds and peak RSS against rows read, one line per worker count, log-log,
    with a dotted line of linear growth from the smallest scale and the 4 GiB memory budget."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, NullFormatter

    sys.path.insert(0, str(REPO))
    from emodata.core.figstyle import CYCLE, figure_png, style_axes

    fig = Figure(figsize=(9, 3.6))
    axes = fig.subplots(1, 2)
    for ax, key, label in ((axes[0], "wall_s", "wall seconds"), (axes[1], "peak_rss_mib", "peak RSS (MiB)")):
        for colour, w in zip(CYCLE, sorted({w for _, w in results})):
            points = sorted((r["rows_read"], r[key], s) for (s, ww), r in results.items() if ww == w)
            rows, values = [p[0] for p in points], [p[1] for p in points]
            ax.plot(rows, values, "o-", color=colour, label=f"{w} worker{'s' if w > 1 else ''}")
            for x, y, s in points:
                ax.annotate(f"{s}x: {y:,.0f}", (x, y), textcoords="offset points", xytext=(4, -10), fontsize=8)
            if len(points) > 1:
                ax.plot([rows[0], rows[-1]], [values[0], values[0] * rows[-1] / rows[0]], ":", color=colour,
                        linewidth=0.8, label="linear in rows" if w == 1 else None)
        if key == "peak_rss_mib":
            ax.axhline(4096, color="#999999", linewidth=0.8, linestyle="--", label="4 GiB budget")
        ax.set_xscale("log")
        ax.set_yscale("log")
        for axis in (ax.xaxis, ax.yaxis):
            axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
            axis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("rows read")
        ax.set_ylabel(label)
        style_axes(ax)
        ax.legend(fontsize=8, frameon=False)
    fig.suptitle("emodata build --mix 20:80: growth with the corpus (synthetic 1x / 10x / 100x)", fontsize=10)
    fig.tight_layout()
    png.write_bytes(figure_png(fig))


def main() -> None:
    """Parse the arguments, build at every scale and worker count, print (and write) the table."""
    argv = sys.argv[1:]
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    argv = argv[:argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--scales", default="1,10")
    parser.add_argument("--workers", default="1")
    parser.add_argument("--mix", default="20:80")
    parser.add_argument("--work", type=Path, default=Path("/tmp/emodata-bench-scale"))
    parser.add_argument("--results", type=Path)
    parser.add_argument("--warm", action="store_true", help="keep each scale's annotate cache (mix stages only)")
    parser.add_argument("--plot", type=Path, help="draw the growth curve of every result in --work into this PNG")
    parser.add_argument("--plot-only", action="store_true", help="only draw --plot from the results in --work")
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    if args.plot_only:
        plot_growth(load_results(args.work), args.plot)
        return
    scales = [int(s) for s in args.scales.split(",")]
    workers = [int(w) for w in args.workers.split(",")]
    results = {}
    for scale in scales:
        data = synthetic(args.data_dir, scale, args.work)
        for w in workers:
            results[(scale, w)] = build_once(data, scale, w, args, extra)
            (args.work / f"result-x{scale}_w{w}.json").write_text(json.dumps(results[(scale, w)], indent=1))
    head = [f"`python benchmarks/bench_scale.py --scales {args.scales} --workers {args.workers} --mix {args.mix}"
            f"{' --warm' if args.warm else ''}{' -- ' + ' '.join(extra) if extra else ''}`, "
            f"{datetime.date.today()}, {platform.node()}, {os.cpu_count()} CPUs, "
            f"{psutil.virtual_memory().total / 2**30:.0f} GiB", ""]
    text = "\n".join(head + table(results, scales, workers)) + "\n"
    print(text)
    if args.results:
        args.results.write_text(text, encoding="utf-8")
    if args.plot:
        plot_growth(load_results(args.work), args.plot)


if __name__ == "__main__":
    main()
