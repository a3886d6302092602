"""Time `emodata.load` on a build: a cold Arrow cache (shards verified, Parquet -> Arrow IPC with
ClassLabel ids, written and memory-mapped) and then warm loads (shards and the cache files re-hashed,
memory-mapped again).

    python benchmarks/bench_load.py OUT/mix_100_0/manifests/mix_100_0.json [--repeat 3]

Prints the rows per split, the `datasets` import (apart), the cold load and each warm load. The cache
goes to a fresh temporary folder, removed at the end."""
from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time


def main() -> None:
    """Run the benchmark and print one line per measurement."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("manifest")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    t0 = time.perf_counter()
    import datasets  # noqa: F401  (import cost measured apart)

    import emodata

    print(f"import datasets + emodata: {time.perf_counter() - t0:.2f} s  (load average {os.getloadavg()[0]:.1f})")
    cache = tempfile.mkdtemp(prefix="emodata-arrow-")
    try:
        t0 = time.perf_counter()
        ds = emodata.load(args.manifest, cache_dir=cache)
        cold = time.perf_counter() - t0
        warm = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            ds = emodata.load(args.manifest, cache_dir=cache)
            warm.append(time.perf_counter() - t0)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    print({name: len(split) for name, split in ds.items()})
    print(f"emodata.load: cold cache {cold:.2f} s; warm median {sorted(warm)[len(warm) // 2]:.2f} s, "
          f"runs {', '.join(f'{t:.2f}' for t in warm)}")


if __name__ == "__main__":
    main()
