"""CPU time of each reader and lexicon loader on the real corpora (issue 13: the edge checks' cost).

Prints one JSON line: reader → best-of-N process CPU seconds. To compare with the readers before the
edge checks, run it once more with the pre-issue-13 package first on the path:

    python benchmarks/bench_reader_checks.py --data-dir ../shared/data --repeat 5
    git archive 084430c emodata catalog labeling_functions expectations | tar -x -C /tmp/old
    PYTHONPATH=/tmp/old python benchmarks/bench_reader_checks.py --data-dir ../shared/data --repeat 5
"""
from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from emodata.text.lexicon import read_lexicon_file
from emodata.sources import read_dailydialog, read_empathetic, read_goemotions


def cases(data: Path) -> dict:
    """Reader name → a call that reads it."""
    return {
        "goemotions simplified": lambda: read_goemotions(data / "goemotions", fmt="simplified"),
        "goemotions raw sample": lambda: read_goemotions(data / "goemotions", fmt="raw"),
        "empatheticdialogues train+valid": lambda: read_empathetic(data / "empatheticdialogues"),
        "dailydialog train+validation": lambda: read_dailydialog(data / "dailydialog"),
        "NRC-VAD v1": lambda: read_lexicon_file(data / "lexicons" / "NRC-VAD-Lexicon.txt"),
        "Warriner": lambda: read_lexicon_file(data / "lexicons" / "Ratings_Warriner_et_al.csv"),
    }


def best_cpu_seconds(read, repeat: int) -> float:
    """The smallest process CPU time of `repeat` calls (after one warm-up call)."""
    read()
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        read()
        best = min(best, time.process_time() - start)
    return round(best, 3)


def main() -> None:
    """Time every reader on `--data-dir` and print the JSON line (with the load average)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    times = {name: best_cpu_seconds(read, args.repeat) for name, read in cases(Path(args.data_dir)).items()}
    print(json.dumps({"cpu_seconds": times, "loadavg": os.getloadavg()}))


if __name__ == "__main__":
    main()
