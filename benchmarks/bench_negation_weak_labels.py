"""Does the negation scope change GoEmotions weak labels? Ekman-7 majority-vote Macro-F1 on GoEmotions dev
(gold = the dev labels mapped to Ekman-7), every scope method in one run on the same rows and LFs.

The emotion LFs read the stored `neg` column, so the scope decides which cues are negated (and the VAD
LFs read the mirrored VAD).

    python benchmarks/bench_negation_weak_labels.py [--data-dir ../shared/data] [--n 0 (all dev rows)]
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from emodata.annotate import annotate_frame
from emodata.build import build_annotator
from emodata.core.config import BuildConfig
from emodata.sources import locate, read_source
from labeling_functions.analysis import score_sets
from labeling_functions.core import with_lf_columns
from labeling_functions.emotion import FINE_LABELS
from labeling_functions.weak_labels import ekman_gold, fit_weak_labeler


def ekman_macro_f1(data_dir: Path, scope: str, n: int) -> tuple[float, float, int, float]:
    """(Macro-F1, Macro-F1 without neutral, rows, annotate seconds) of majority vote on GoEmotions dev."""
    annotator = build_annotator(BuildConfig(data_dir=str(data_dir), negation_scope=scope))
    records = read_source(locate("goemotions", str(data_dir), False, None)).records
    records = records[records["source_split"] == "validation"].reset_index(drop=True)
    if n:
        records = records.head(n)
    start = time.perf_counter()
    frame = with_lf_columns(annotate_frame(records, annotator))
    seconds = time.perf_counter() - start
    votes = np.stack(frame["emotion_votes"]).astype(np.int64)
    labeler = fit_weak_labeler(votes[:1], FINE_LABELS, None, 0, "majority_vote")
    pred = labeler.label_sets(labeler.ekman, labeler.ekman_votes(votes), None)[0]
    s = score_sets(pred, ekman_gold(frame["labels"].tolist()))
    return s["macro_f1"], s["macro_f1_emotions"], len(frame), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=str(Path(__file__).resolve().parents[1].parent / "shared" / "data"))
    parser.add_argument("--n", type=int, default=0)
    args = parser.parse_args()
    print("| scope | rows | Ekman-7 Macro-F1 | without neutral | annotate s |\n|---|---|---|---|---|")
    for scope in ("window", "parse", "crf"):
        f1, f1_emo, rows, seconds = ekman_macro_f1(Path(args.data_dir), scope, args.n)
        print(f"| {scope} | {rows:,} | {f1:.4f} | {f1_emo:.4f} | {seconds:.1f} |", flush=True)


if __name__ == "__main__":
    main()
