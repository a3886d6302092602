"""Weak labels and end models vs gold on the three corpora's dev splits (Ekman-7 and the fine space).

Annotates GoEmotions (train, dev), EmpatheticDialogues (train, valid; situation votes as context) and
DailyDialog (train, validation: the probe's dev is its validation split; its LFs were written from
train turns) with the build's annotator and scores against gold, for (a) nrclex-style EmoLex voting
and (b) our LFs:
  - aggregators on the same matrix: majority vote (+ situation context votes), Snorkel's LabelModel,
    one binary Snorkel LabelModel per label with class balance, Dawid–Skene with abstain as evidence,
    and with abstain unobserved (the skweak-style naive Bayes);
    model-based ones are fit on the pooled GoEmotions + EmpatheticDialogues train matrices (the
    sources of a mix), never on gold;
  - the end model (TF-IDF + LR, labeling_functions/end_model.py; input: the text after the row's
    situation where it has one, as the build's check) trained on a train split's weak
    labels (rows with an LF vote, as the build does) and on its gold labels (GoEmotions → GoEmotions dev, ED → ED valid, both pooled → probe);
  - the end-model step: rows without any LF vote relabelled by the weak end model where p ≥ 0.5.
Macro-F1 is the evaluator's (`emodata.core.metrics.label_set_scores`), "no neutral" the mean F1 of the six
emotions. Test splits are never read.

    python benchmarks/bench_weak_labels.py [--data-dir ../shared/data] [--scope window|parse] [--no-label-model]
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from emodata.annotate import annotate_frame
from emodata.build import build_annotator
from emodata.core.config import BuildConfig
from emodata.sources import locate, read_source
from emodata.weak import context_votes_of, with_situation_votes
from labeling_functions.analysis import score_sets
from labeling_functions.core import apply_lfs, with_lf_columns
from labeling_functions.emotion import FINE_LABELS, nrclex_baseline_lfs
from labeling_functions.end_model import fit_end_models, model_inputs
from labeling_functions.label_model import BinaryPerLabel, DawidSkene, fit_label_model, label_model_probs
from labeling_functions.weak_labels import ekman_gold, fit_weak_labeler, gold_sets

#: (corpus, train split, evaluation splits); DailyDialog is the probe (all its non-test turns).
CORPORA = (("goemotions", "train", ("validation",)), ("empatheticdialogues", "train", ("validation",)),
           ("dailydialog", None, ("validation",)))


def load(data_dir: Path, scope: str) -> tuple[dict[str, pd.DataFrame], list]:
    """(name → annotated non-test rows with our LF votes and situation votes, our LFs)."""
    annotator = build_annotator(BuildConfig(data_dir=str(data_dir), negation_scope=scope))
    frames = {}
    for name, _, _ in CORPORA:
        records = read_source(locate(name, str(data_dir), False, None)).records
        records = records[records["source_split"] != "test"].reset_index(drop=True)
        frames[name] = with_lf_columns(with_situation_votes(annotate_frame(records, annotator), annotator))
    return frames, list(annotator.lfs)


def parts(frames: dict[str, pd.DataFrame]) -> tuple[dict, dict]:
    """(train frames, evaluation frames) by corpus."""
    train, evaluate = {}, {}
    for name, train_split, eval_splits in CORPORA:
        frame = frames[name]
        if train_split:
            train[name] = frame[frame["source_split"] == train_split].reset_index(drop=True)
        evaluate[name] = frame[frame["source_split"].isin(eval_splits)].reset_index(drop=True)
    return train, evaluate


def scores(pred, frame: pd.DataFrame, space: str) -> str:
    gold = ekman_gold(frame["labels"].tolist()) if space == "ekman" else gold_sets(frame["labels"].tolist(), FINE_LABELS)
    s = score_sets(pred, gold)
    return f"{s['macro_f1']:.4f} / {s['macro_f1_emotions']:.4f}"


def aggregator_rows(lfs, train: dict, evaluate: dict, label_model: bool, use_context: bool) -> list[str]:
    """Markdown rows: every aggregator × space × corpus on the same LF matrices."""
    n = len(lfs)
    votes = {k: (apply_lfs(f, lfs) if use_context is None else np.stack(f["emotion_votes"]).astype(np.int64))
             for k, f in evaluate.items()}
    train_votes = np.vstack([apply_lfs(f, lfs) if use_context is None else np.stack(f["emotion_votes"]).astype(np.int64)
                             for f in train.values()])
    labeler = fit_weak_labeler(train_votes[:1], FINE_LABELS, None, 0, "majority_vote")
    rows = []
    for space, model in (("fine", labeler.fine), ("ekman", labeler.ekman)):
        mapped = (lambda m: m) if space == "fine" else labeler.ekman_votes
        methods = {"majority vote": None}
        if use_context:
            methods["majority vote + situation context"] = "context"
        k = len(model.names)
        fit_matrix = mapped(train_votes)
        start = time.perf_counter()
        methods["Dawid-Skene (abstain = evidence)"] = DawidSkene(k).fit(fit_matrix)
        methods["naive Bayes (abstain unobserved)"] = DawidSkene(k, abstain_is_evidence=False).fit(fit_matrix)
        if label_model:
            methods["Snorkel LabelModel"] = fit_label_model(fit_matrix, k, seed=42)
            methods["binary LabelModel per label (class balance)"] = BinaryPerLabel(k, seed=42).fit(fit_matrix)
        print(f"  fitted {space} label models in {time.perf_counter() - start:.1f} s", flush=True)
        for title, fitted in methods.items():
            cells = []
            for name, frame in evaluate.items():
                matrix = mapped(votes[name])
                if fitted is None or fitted == "context":
                    context = context_votes_of(frame, n) if fitted == "context" else None
                    pred = labeler.label_sets(model, matrix, None if context is None else mapped(context))[0]
                else:
                    probs = label_model_probs(fitted, matrix) if title.startswith("Snorkel") else fitted.predict_proba(matrix)
                    pred = [s or ["neutral"] for s in labeler.readout.labels(probs, model.names)]
                cells.append(scores(pred, frame, space))
            rows.append(f"| {space} | {title} | " + " | ".join(cells) + " |")
    return rows


def end_model_rows(lfs, train: dict, evaluate: dict) -> list[str]:
    """Markdown rows: weak labels, end model on weak / gold labels, and the relabel step (Ekman-7)."""
    n = len(lfs)
    labeler = fit_weak_labeler(np.empty((0, n), dtype=np.int64), FINE_LABELS, None, 0, "majority_vote")

    def weak(frame):
        """(Ekman weak label sets, rows with any LF vote on the row or its context)."""
        votes = np.stack(frame["emotion_votes"]).astype(np.int64)
        context = context_votes_of(frame, n)
        covered = (votes != -1).any(axis=1)
        if context is not None:
            covered |= (context != -1).any(axis=1)
        return labeler.label(votes, context)["weak_labels_ekman"].tolist(), covered

    def inputs(frame: pd.DataFrame) -> list[str]:
        """The end model's inputs: the text, after the row's situation where it has one."""
        return model_inputs(frame["text"].tolist(), frame["situation"].tolist() if "situation" in frame else None)

    pooled = pd.concat(list(train.values()), ignore_index=True)
    sources = {"goemotions": train["goemotions"], "empatheticdialogues": train["empatheticdialogues"],
               "dailydialog": pooled}
    rows = []
    for name, frame in evaluate.items():
        fit_on = sources[name]
        start = time.perf_counter()
        fit_labels, fit_covered = weak(fit_on)
        models = fit_end_models(inputs(fit_on), {"weak": [s if c else [] for s, c in zip(fit_labels, fit_covered)],
                                                          "gold": [sorted(g) for g in ekman_gold(fit_on["labels"].tolist())]},
                                labeler.ekman.names, seed=42)
        fit_s = time.perf_counter() - start
        texts = inputs(frame)
        features = models["weak"].features(texts)
        labels, covered = weak(frame)
        probs = models["weak"].predict_proba(texts, features)
        relabel = [[labeler.ekman.names[int(p.argmax())]] if not c and p.max() >= 0.5 else s
                   for s, c, p in zip(labels, covered, probs)]
        cells = [scores(labels, frame, "ekman"),
                 scores(models["weak"].predict_sets(texts, features), frame, "ekman"),
                 scores(models["gold"].predict_sets(texts, features), frame, "ekman"),
                 scores(relabel, frame, "ekman")]
        rows.append(f"| {name} | {len(frame)} | " + " | ".join(cells) + f" | {fit_s:.1f} |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=str(Path(__file__).resolve().parents[1].parent / "shared" / "data"))
    parser.add_argument("--scope", default="window", choices=("window", "parse"))
    parser.add_argument("--no-label-model", action="store_true", help="skip Snorkel's LabelModel (slow)")
    args = parser.parse_args()
    start = time.perf_counter()
    frames, lfs = load(Path(args.data_dir), args.scope)
    print(f"annotated {sum(len(f) for f in frames.values()):,} rows in {time.perf_counter() - start:.1f} s\n")
    train, evaluate = parts(frames)
    header = "| space | aggregator | " + " | ".join(f"{k} Macro-F1 / no neutral" for k in evaluate) + " |"
    rule = "|---|---|" + "---|" * len(evaluate)
    print("## (a) nrclex-style EmoLex voting\n\n" + header + "\n" + rule)
    print("\n".join(aggregator_rows(nrclex_baseline_lfs(), train, evaluate, False, None)))
    print("\n## (b) our LFs\n\n" + header + "\n" + rule)
    print("\n".join(aggregator_rows(lfs, train, evaluate, not args.no_label_model, True)))
    print("\n## End model (Ekman-7, Macro-F1 / no neutral)\n\n| corpus | rows | weak labels | end model (weak) | "
          "end model (gold) | weak + end-model relabel of uncovered rows | fit s |\n|---|---|---|---|---|---|---|")
    print("\n".join(end_model_rows(lfs, train, evaluate)))


if __name__ == "__main__":
    main()
