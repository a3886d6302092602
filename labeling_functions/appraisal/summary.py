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


class ScoreTally:
    """The atoms' scores added up batch by batch (`add`) into the manifest `appraisal` entry (`summary`):
    per atom the histogram counts, known count and sum over every row added, and the scores and
    prototypes s̃(y) of the evaluation rows (their agreement needs them; nothing else is kept, so the
    memory grows with the evaluation rows only, ~100 bytes each, not with the rows summarised)."""

    def __init__(self, atoms: Sequence[str], bins: int = HIST_BINS):
        self.atoms, self.bins = tuple(atoms), bins
        self.n = 0
        self.counts = np.zeros((len(self.atoms), bins), dtype=np.int64)
        self.known = np.zeros(len(self.atoms), dtype=np.int64)
        self.sums = np.zeros(len(self.atoms), dtype=np.float64)
        self.labelled = False
        self.eval_scores: list[np.ndarray] = []
        self.eval_protos: list[np.ndarray] = []

    def add(self, predictions: pd.DataFrame, labels: Sequence[Sequence[str]] | None = None,
            eval_mask: Sequence[bool] | None = None) -> None:
        """Add a batch of scored rows (columns `atoms`); with gold `labels`, the rows of `eval_mask` (default:
        every row with a label) are evaluation rows, in the order added."""
        from catalog.appraisal import load_prototypes

        n = len(predictions)
        values = predictions[list(self.atoms)].to_numpy(dtype=float)
        edges = np.linspace(0.0, 1.0, self.bins + 1)
        for j in range(len(self.atoms)):
            known = values[np.isfinite(values[:, j]), j]
            self.counts[j] += np.histogram(np.clip(known, 0.0, 1.0), bins=edges)[0]
            self.known[j] += len(known)
            self.sums[j] += np.sum(known)
        self.n += n
        if labels is not None:
            labels = list(labels)
            if len(labels) != n:
                raise ValueError(f"appraisal_summary: {len(labels)} label sets for {n} prediction rows")
            mask = (np.asarray(eval_mask, dtype=bool) if eval_mask is not None
                    else np.array([bool(x is not None and len(x)) for x in labels], dtype=bool))
            self.labelled = True
            self.eval_scores.append(values[mask])
            self.eval_protos.append(load_prototypes().prototype_matrix([labels[i] for i in np.flatnonzero(mask)]))

    def summary(self, model: Any = None, verifier_report: dict | None = None) -> dict[str, Any]:
        """The manifest `appraisal` entry of every row added (see `appraisal_summary`)."""
        from catalog.appraisal import load_prototypes

        out: dict[str, Any] = {"n_rows": self.n, "atoms": {}}
        protos = scores = None
        if self.labelled:
            scores = np.concatenate(self.eval_scores)
            protos = np.concatenate(self.eval_protos)
            out["n_eval"] = int(len(scores))
            out["prototypes"] = load_prototypes().describe()
            out["prototype_margin"] = PROTOTYPE_MARGIN
        edges = np.linspace(0.0, 1.0, self.bins + 1)
        for j, atom in enumerate(self.atoms):
            entry: dict[str, Any] = {"bins": [round(float(e), 4) for e in edges],
                                     "counts": [int(c) for c in self.counts[j]]}
            entry["coverage"] = _num(self.known[j] / self.n) if self.n else None
            entry["mean"] = _num(self.sums[j] / self.known[j]) if self.known[j] else None
            if protos is not None:
                entry["vs_prototype"] = agreement(scores[:, j], protos[:, j], PROTOTYPE_MARGIN)
                entry["prototype_coverage"] = _num(np.isfinite(protos[:, j]).mean()) if len(protos) else None
            out["atoms"][atom] = entry
        if model is not None:
            out["model"] = model.describe()
            classifier = out["model"].get("classifier")
            if classifier:   # issue 17: human-rating quality of the atoms, from the shipped artifact's metadata
                out["enisear_cv_auc"] = {f"{d} ({m['atom']})": m["mean"] for d, m in classifier["cv_auc"].items()}
                out["enisear_cv_auc"]["mean"] = classifier["cv_auc_mean"]
        if verifier_report is not None:
            out["verifier"] = verifier_report
        return out


def appraisal_summary(predictions: pd.DataFrame, labels: Sequence[Sequence[str]] | None = None,
                      eval_mask: Sequence[bool] | None = None, model: Any = None,
                      verifier_report: dict | None = None, bins: int = HIST_BINS) -> dict[str, Any]:
    """The manifest `appraisal` entry: per atom a histogram (`bins`/`counts`), coverage and mean of
    the scores, and — when gold `labels` are given — agreement with the prototypes s̃(y)
    over the rows of `eval_mask` (default: every row with a label), e.g. GoEmotions dev.

    `model` (an AppraisalModel) adds its `describe()`; `verifier_report` (from `train_verifier`) is
    stored under `verifier`. Everything is JSON-ready (undefined numbers are None). One batch of a
    `ScoreTally` (the build adds its rows batch by batch).
    """
    tally = ScoreTally(tuple(predictions.columns), bins)
    tally.add(predictions, labels, eval_mask)
    return tally.summary(model, verifier_report)
