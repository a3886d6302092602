"""Weak labels vs gold on GoEmotions: (a) nrclex-style voting, (b) our LFs without negation, (c) with it.

Annotates GoEmotions train + dev (NRC-VAD v1, the build's annotate stage), applies each LF set and
scores majority vote and Snorkel's LabelModel (fit on train) against gold, at the fine level (28
labels) and at Ekman-7. Macro-F1 is the evaluator's (`trainer.metrics.label_set_scores`).

    python benchmarks/bench_weak_labels.py [--data-dir ../shared/data] [--scope window|parse] [--no-label-model]
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from emodata.annotate import annotate_frame, make_annotator
from emodata.lexicon import load_lexicon
from emodata.nlp import load_pipeline
from emodata.sources.goemotions import read_goemotions
from labeling_functions.core import apply_lfs, with_lf_columns
from labeling_functions.emotion import FINE_LABELS, emotion_lfs, nrclex_baseline_lfs
from labeling_functions.weak_labels import fit_weak_labeler, lf_report

CONFIGS = {"a": ("nrclex-style EmoLex voting, no negation", nrclex_baseline_lfs),
           "b": ("our LFs, negation ignored", lambda: emotion_lfs(negation=False)),
           "c": ("our LFs, negation-aware", lambda: emotion_lfs(negation=True))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=str(Path(__file__).resolve().parents[1].parent / "shared" / "data"))
    parser.add_argument("--scope", default="window", choices=("window", "parse"))
    parser.add_argument("--no-label-model", action="store_true", help="majority vote only (fast)")
    args = parser.parse_args()
    data = Path(args.data_dir)
    records = read_goemotions(data / "goemotions").records
    annotator = make_annotator(load_pipeline(), load_lexicon("nrc-vad", [data / "lexicons"]), "on", args.scope)
    start = time.perf_counter()
    frame = with_lf_columns(annotate_frame(records, annotator))
    print(f"annotated {len(frame):,} GoEmotions rows in {time.perf_counter() - start:.1f} s "
          f"(negation scope {annotator.scoper.name})\n")
    train = frame[frame["source_split"] == "train"].reset_index(drop=True)
    dev = frame[frame["source_split"] == "validation"].reset_index(drop=True)
    print("| config | aggregator | Macro-F1 (28) | Macro-F1 (Ekman-7) | dev rows with a weak label | apply rows/s |")
    print("|---|---|---|---|---|---|")
    for key, (title, make) in CONFIGS.items():
        lfs = make()
        start = time.perf_counter()
        dev_matrix = apply_lfs(dev, lfs)
        rate = len(dev) / (time.perf_counter() - start)
        aggregator = "majority_vote" if args.no_label_model or len(lfs) < 3 else "auto"
        labeler = fit_weak_labeler(apply_lfs(train, lfs), FINE_LABELS, train["labels"].tolist(), seed=42,
                                   aggregator=aggregator)
        report = lf_report(dev_matrix, lfs, labeler, dev["labels"].tolist())
        for method, fine in report["fine"]["scores"].items():
            ekman = report["ekman"]["scores"][method]
            print(f"| ({key}) {title} | {method} | {fine['macro_f1']:.4f} | {ekman['macro_f1']:.4f} | "
                  f"{fine['coverage']:.3f} | {rate:,.0f} |")


if __name__ == "__main__":
    main()
