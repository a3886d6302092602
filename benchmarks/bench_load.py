"""Time `emodata.load` (Parquet -> Arrow -> datasets, ClassLabel ids encoded vectorised) on a build.

    python benchmarks/bench_load.py OUT/mix_100_0/manifests/mix_100_0.json [--repeat 3]

Prints the rows per split and the best of `--repeat` wall-clock times (the first call includes the
`datasets` import, reported separately)."""
from __future__ import annotations

import argparse
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

    print(f"import datasets + emodata: {time.perf_counter() - t0:.2f} s")
    times = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        ds = emodata.load(args.manifest)
        times.append(time.perf_counter() - t0)
    print({name: len(split) for name, split in ds.items()})
    print(f"emodata.load: best {min(times):.2f} s, runs {', '.join(f'{t:.2f}' for t in times)}")


if __name__ == "__main__":
    main()
