"""Lexicon VAD vs EmoBank gold VAD (Pearson r), plain mean vs negation/intensifier-aware scoring.

Usage: python benchmarks/bench_negation_emobank.py [--data-dir ../shared/data]
Needs emobank/emobank_traindev.csv and lexicons/NRC-VAD-Lexicon.txt under the data folder.
"""
from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np
import pandas as pd

from emodata.annotate import Annotator, annotate_frame
from emodata.lexicon import load_lexicon
from emodata.negation import METHOD, negation_adjuster
from emodata.nlp import load_pipeline


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", default=str(Path(__file__).resolve().parents[1].parent / "shared" / "data"))
    data = Path(parser.parse_args().data_dir)
    with open(data / "emobank" / "emobank_traindev.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    frame = pd.DataFrame({"id": [r["id"] for r in rows], "text": [r["text"] for r in rows]})
    gold = np.array([[float(r[k]) for k in "VAD"] for r in rows])
    lexicon, pipeline = load_lexicon("nrc-vad", [data / "lexicons"]), load_pipeline()
    print("| scoring | sentences covered | r(V) | r(A) | r(D) |")
    print("|---|---|---|---|---|")
    for name, adjust in (("plain mean", None), (METHOD, negation_adjuster)):
        out = annotate_frame(frame, Annotator(pipeline, lexicon, adjust=adjust, adjust_name=name))
        covered = out["n_covered"].to_numpy() > 0
        rs = [np.corrcoef(out[c].to_numpy()[covered], gold[covered, i])[0, 1]
              for i, c in enumerate(("vad_v", "vad_a", "vad_d"))]
        print(f"| {name} | {covered.sum():,} / {len(frame):,} | " + " | ".join(f"{r:.4f}" for r in rs) + " |")


if __name__ == "__main__":
    main()
