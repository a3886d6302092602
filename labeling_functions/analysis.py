"""LF analysis against gold: Snorkel's LFAnalysis plus multi-label accuracy and per-class P/R/F1.

Gold labels are sets (GoEmotions is multi-label), so an LF vote counts as correct when the voted
class is in the row's gold set (`emp_acc`); Snorkel's own `Emp. Acc.` needs one gold class per row
and is not used. Macro-P/R/F1 follow the evaluator's protocol (`emodata.core.metrics.label_set_scores`:
over the labels present in gold, ε = 1e-9), so weak labels and model outputs are scored alike.
"""
from __future__ import annotations

import warnings
from typing import Sequence

import numpy as np
from snorkel.labeling import LabelingFunction, LFAnalysis

from emodata.core.metrics import label_set_scores

from labeling_functions.core import ABSTAIN


def lf_table(matrix: np.ndarray, lfs: Sequence[LabelingFunction], names: Sequence[str],
             gold: Sequence[set[str]] | None = None) -> list[dict]:
    """Per-LF coverage/overlap/conflict (Snorkel LFAnalysis) and, with gold sets, votes and emp_acc."""
    analysis = LFAnalysis(matrix, list(lfs))
    with warnings.catch_warnings():  # scipy's FutureWarning on snorkel's int64 diags; harmless
        warnings.simplefilter("ignore", FutureWarning)
        coverage, overlaps, conflicts = analysis.lf_coverages(), analysis.lf_overlaps(), analysis.lf_conflicts()
        polarities = analysis.lf_polarities()
    rows = []
    for j, lf in enumerate(lfs):
        row = {"name": lf.name, "polarity": [names[k] for k in polarities[j]],
               "coverage": round(float(coverage[j]), 6), "overlap": round(float(overlaps[j]), 6),
               "conflict": round(float(conflicts[j]), 6)}
        if gold is not None:
            voted = np.nonzero(matrix[:, j] != ABSTAIN)[0]
            correct = sum(names[matrix[i, j]] in gold[i] for i in voted)
            row.update(votes=int(len(voted)), correct=int(correct),
                       emp_acc=round(correct / len(voted), 6) if len(voted) else None)
        rows.append(row)
    return rows


def confusion(pred: Sequence[Sequence[str]], gold: Sequence[set[str]], labels: Sequence[str]) -> list[list[int]]:
    """Counts matrix[gold label][predicted label] over rows (multi-label: every gold × predicted pair)."""
    index = {label: i for i, label in enumerate(labels)}
    matrix = np.zeros((len(labels), len(labels)), dtype=np.int64)
    for p, g in zip(pred, gold):
        for a in g:
            for b in p:
                if a in index and b in index:
                    matrix[index[a], index[b]] += 1
    return matrix.tolist()


#: The "no emotion" label: ERC papers also report macro scores over the emotion labels without it.
NO_EMOTION = "neutral"


def score_sets(pred: Sequence[Sequence[str]], gold: Sequence[set[str]]) -> dict:
    """Macro-P/R/F1, per-class P/R/F1 and coverage (rows with any weak label) of weak label sets.

    Rows whose gold set is empty (e.g. an EmpatheticDialogues tag with no Ekman reading) are not
    scored (`n` counts the scored rows, `n_unscored` the others). `macro_f1_emotions` is the mean F1
    over the gold labels other than neutral (predictions of neutral still count as misses).
    """
    keep = [i for i, g in enumerate(gold) if g]
    pred = [pred[i] for i in keep]  # label_set_scores takes any collections as sets
    scores = label_set_scores(pred, [gold[i] for i in keep])
    covered = sum(bool(p) for p in pred)
    emotions = [s["f1"] for k, s in scores["per_label"].items() if k != NO_EMOTION]
    return {"macro_f1": scores["macro_f1"], "macro_p": scores["macro_p"], "macro_r": scores["macro_r"],
            "macro_f1_emotions": float(np.mean(emotions)) if emotions else None,
            "coverage": covered / len(pred) if len(pred) else 0.0, "n": len(pred),
            "n_unscored": len(gold) - len(keep), "per_label": scores["per_label"]}
