"""Label sets: read out of a boolean rows × classes matrix, and scored against gold sets.

Light on purpose (numpy and emodata.core only, no Snorkel, torch or pandas): the end-model check, which
uses both, runs in a child interpreter (`emodata.background`) whose start-up should not import them.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from emodata.core.metrics import label_set_scores


def sets_of(keep: np.ndarray, names: Sequence[str]) -> list[list[str]]:
    """The label set of each row of a boolean rows × classes matrix, in `names` order."""
    width = keep.shape[1] if keep.ndim == 2 else 0
    if width > 62:  # too wide for one int64 code per row: row by row
        return [[names[j] for j in np.flatnonzero(row)] for row in keep]
    # Rows share few distinct patterns: read each pattern's names once (a fresh list per row).
    codes = keep.astype(np.int64) @ (np.int64(1) << np.arange(width, dtype=np.int64))
    patterns, inverse = np.unique(codes, return_inverse=True)
    sets = [[names[j] for j in range(width) if (code >> j) & 1] for code in patterns.tolist()]
    return [list(sets[i]) for i in inverse.tolist()]


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
