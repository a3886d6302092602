"""Agreement metrics and the manifest's `appraisal` summary (the shape emodata/report.py reads)."""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np
import pandas as pd
from sklearn.metrics import f1_score

#: Prototype values within this distance of 0.5 are "medium": left out of the F1 at 0.5.
PROTOTYPE_MARGIN = 0.1
HIST_BINS = 10


def _num(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else round(float(x), 6)


def agreement(scores: Sequence[float], targets: Sequence[float], margin: float = 0.0) -> dict[str, Any]:
    """How well `scores` agree with `targets` (both in [0, 1], NaN = unknown).

    Over rows where both are known: `n` and Pearson `pearson`; over those whose target is at least
    `margin` away from 0.5 (`n_decisive`): both binarised at 0.5 (≥ 0.5 = high), `accuracy`,
    `macro_f1` (mean F1 of the high and low classes) and `majority_accuracy` (always predicting the
    commoner target class: the baseline `accuracy` must beat).
    """
    s = np.asarray(scores, dtype=float)
    t = np.asarray(targets, dtype=float)
    both = np.isfinite(s) & np.isfinite(t)
    s, t = s[both], t[both]
    out: dict[str, Any] = {"n": int(len(s)), "pearson": None, "n_decisive": 0, "accuracy": None,
                           "macro_f1": None, "majority_accuracy": None}
    if len(s) >= 3 and s.std() > 0 and t.std() > 0:
        out["pearson"] = _num(np.corrcoef(s, t)[0, 1])
    decisive = np.abs(t - 0.5) >= margin if margin > 0 else np.ones(len(t), dtype=bool)
    if decisive.any():
        truth, pred = t[decisive] >= 0.5, s[decisive] >= 0.5
        share = truth.mean()
        out.update(n_decisive=int(decisive.sum()), accuracy=_num((truth == pred).mean()),
                   macro_f1=_num(f1_score(truth, pred, labels=[False, True], average="macro", zero_division=0)),
                   majority_accuracy=_num(max(share, 1.0 - share)))
    return out


def _histogram(values: np.ndarray, bins: int) -> dict[str, list]:
    edges = np.linspace(0.0, 1.0, bins + 1)
    counts, _ = np.histogram(np.clip(values, 0.0, 1.0), bins=edges)
    return {"bins": [round(float(e), 4) for e in edges], "counts": [int(c) for c in counts]}


def appraisal_summary(predictions: pd.DataFrame, labels: Sequence[Sequence[str]] | None = None,
                      eval_mask: Sequence[bool] | None = None, model: Any = None,
                      verifier_report: dict | None = None, bins: int = HIST_BINS) -> dict[str, Any]:
    """The manifest `appraisal` entry: per atom a histogram (`bins`/`counts`), coverage and mean of
    the label-model scores, and — when gold `labels` are given — agreement with the prototypes s̃(y)
    over the rows of `eval_mask` (default: every row with a label), e.g. GoEmotions dev.

    `model` (an AppraisalModel) adds its `describe()`; `verifier_report` (from `train_verifier`) is
    stored under `verifier`. Everything is JSON-ready (undefined numbers are None).
    """
    from catalog.appraisal import load_prototypes

    n = len(predictions)
    summary: dict[str, Any] = {"n_rows": n, "atoms": {}}
    protos, mask = None, None
    if labels is not None:
        labels = list(labels)
        if len(labels) != n:
            raise ValueError(f"appraisal_summary: {len(labels)} label sets for {n} prediction rows")
        mask = (np.asarray(eval_mask, dtype=bool) if eval_mask is not None
                else np.array([bool(x is not None and len(x)) for x in labels]))
        table = load_prototypes()
        protos = table.prototype_matrix([labels[i] for i in np.flatnonzero(mask)])
        summary["n_eval"] = int(mask.sum())
        summary["prototypes"] = table.describe()
        summary["prototype_margin"] = PROTOTYPE_MARGIN
    for j, atom in enumerate(predictions.columns):
        values = predictions[atom].to_numpy(dtype=float)
        known = values[np.isfinite(values)]
        entry: dict[str, Any] = _histogram(known, bins)
        entry["coverage"] = _num(len(known) / n) if n else None
        entry["mean"] = _num(known.mean()) if len(known) else None
        if protos is not None:
            entry["vs_prototype"] = agreement(values[mask], protos[:, j], PROTOTYPE_MARGIN)
            entry["prototype_coverage"] = _num(np.isfinite(protos[:, j]).mean()) if len(protos) else None
        summary["atoms"][atom] = entry
    if model is not None:
        summary["model"] = model.describe()
        classifier = summary["model"].get("classifier")
        if classifier:   # issue 17: human-rating quality of the atoms, from the shipped artifact's metadata
            summary["enisear_cv_auc"] = {f"{d} ({m['atom']})": m["mean"] for d, m in classifier["cv_auc"].items()}
            summary["enisear_cv_auc"]["mean"] = classifier["cv_auc_mean"]
    if verifier_report is not None:
        summary["verifier"] = verifier_report
    return summary
