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


from labeling_functions.core import ABSTAIN
from labeling_functions.label_sets import NO_EMOTION, score_sets  # noqa: F401 - re-exported


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
