"""Time the real-corpus build per stage (rows/s, peak memory), cold and with a warm annotated cache.

Usage: python benchmarks/bench_build.py [--data-dir ../shared/data] [--mix 100:0] [--out /tmp/bench]
Prints a Markdown table for benchmarks/RESULTS.md. Uses whatever corpora the data folder holds.
"""
from __future__ import annotations

import argparse
import platform
import resource
import shutil
import tempfile
import time
from pathlib import Path

from emodata.build import build
from emodata.core.config import BuildConfig
from emodata.progress import Reporter


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(data_dir: str, mixes: list[str], out: Path) -> None:
    cache = Path(tempfile.mkdtemp(prefix="emodata-bench-cache-"))
    rows = []
    for label, mix, overwrite in (("cold (empty cache)", mixes[0], False), ("warm (cached annotations)", mixes[-1], True)):
        reporter = Reporter(quiet=True)
        config = BuildConfig(mix=[mix], data_dir=data_dir, out=str(out), cache_dir=str(cache),
                             overwrite=overwrite, quiet=True)
        started = time.perf_counter()
        (result,) = build(config, reporter)
        wall = time.perf_counter() - started
        sources = result.manifest["sources"]
        stage_rows = []
        for stage, seconds in reporter.timings.items():
            source = stage.split(" ", 1)[1] if " " in stage else ""
            n = sources.get(source, {}).get("rows_read") or result.manifest["mix"]["rows"]
            stage_rows.append(f"{stage}: {seconds:.1f}s ({n / seconds:,.0f} rows/s)" if seconds > 0 else stage)
        total_rows = sum(s["rows_read"] for s in sources.values())
        rows.append((label, mix, total_rows, wall, total_rows / wall, _peak_mib(), "; ".join(stage_rows)))
    shutil.rmtree(cache, ignore_errors=True)
    print(f"machine: {platform.machine()}, {platform.processor() or 'cpu'}, Python {platform.python_version()}")
    print("| run | mix | rows read | wall s | rows/s | peak RSS MiB | stages |")
    print("|---|---|---|---|---|---|---|")
    for label, mix, n, wall, rate, peak, stages in rows:
        print(f"| {label} | {mix} | {n:,} | {wall:.1f} | {rate:,.0f} | {peak:,.0f} | {stages} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    default_data = Path(__file__).resolve().parents[1].parent / "shared" / "data"
    parser.add_argument("--data-dir", default=str(default_data))
    parser.add_argument("--mix", action="append", help="first mix is built cold, the last warm")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="emodata-bench-"))
    run(args.data_dir, args.mix or ["100:0", "100:0"], out)


if __name__ == "__main__":
    main()
