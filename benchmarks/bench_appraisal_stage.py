"""Appraisal stage time on real texts (issue 17): `score_texts` over GoEmotions train+dev, rows/s.

    python benchmarks/bench_appraisal_stage.py /work/shared/data/goemotions [--sample 5000]

Times (1) loading the shipped classifier, (2) `score_texts` over every train+dev text in one call
(what the build's appraisal stage does per mix: `AppraisalModel.predict`), and (3) the negation
marking alone (`normalise`) per `resolve` method on the first `--sample` texts, to show its share.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from labeling_functions.appraisal.classifier import NEG_METHOD, normalise, score_texts, shipped_classifier


def read_texts(folder: Path) -> list[str]:
    """The text field (first TAB field) of every line of GoEmotions train.tsv and dev.tsv."""
    texts = []
    for name in ("train.tsv", "dev.tsv"):
        with open(folder / name, encoding="utf-8") as handle:
            texts += [line.split("\t", 1)[0] for line in handle if line.strip()]
    return texts


def main() -> None:
    """Print load time, stage time and rows/s, and the marking time per method."""
    parser = argparse.ArgumentParser()
    parser.add_argument("goemotions", type=Path)
    parser.add_argument("--sample", type=int, default=5000)
    parser.add_argument("--methods", default="none,window,crf")
    args = parser.parse_args()
    texts = read_texts(args.goemotions)
    start = time.perf_counter()
    shipped_classifier()
    load = time.perf_counter() - start
    start = time.perf_counter()
    scores = score_texts(texts)
    stage = time.perf_counter() - start
    print(f"texts {len(texts)} (GoEmotions train+dev), atoms {scores.shape[1]}, NEG_METHOD {NEG_METHOD}")
    print(f"load {load:.2f} s; score_texts {stage:.1f} s = {len(texts) / stage:,.0f} rows/s")
    sample = texts[:args.sample]
    for method in args.methods.split(","):
        start = time.perf_counter()
        for text in sample:
            normalise(text, method=None if method == "none" else method)
        took = time.perf_counter() - start
        print(f"normalise[{method}] {len(sample)} texts {took:.2f} s = {len(sample) / took:,.0f} rows/s")


if __name__ == "__main__":
    main()
