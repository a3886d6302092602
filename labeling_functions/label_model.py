"""Combining LF votes into weak labels: Snorkel's LabelModel and majority vote, multi-label read-out.

Snorkel's label models are single-label (snorkel #1041, #1725), while emotions are multi-label. Our
scheme: fit one multi-class `LabelModel` over the label space (fine-grained 28, or Ekman-7 after
mapping every vote into its Ekman group), then read a label *set* off the class distribution:
every class whose probability is at least `rel` × the top probability (and at least `min_p`), at
most `max_labels` of them. Majority vote gives a distribution from the vote counts and is read out
the same way. Rows where every LF abstained get no weak label (an empty set and null
probabilities), never a guess: the prior is not evidence.

Which of the two to ship is measured, not assumed (DESIGN.md; argilla #1444): with
`aggregator="auto"`, `weak_labels.fit_weak_labeler` compares them on the gold labels of the *train*
split, and the LF report states the choice and the dev scores of both.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from snorkel.labeling.model import LabelModel

from .core import ABSTAIN

LABEL_MODEL = "label_model"
MAJORITY_VOTE = "majority_vote"


@dataclass(frozen=True)
class ReadOut:
    """How a class distribution becomes a label set."""

    rel: float = 0.5
    min_p: float = 0.2
    max_labels: int = 3

    def labels(self, probs: np.ndarray, names: Sequence[str]) -> list[list[str]]:
        """The label set of each row of `probs` (NaN rows: no label)."""
        out = []
        for row in probs:
            if not np.isfinite(row).all():
                out.append([])
                continue
            top = row.max()
            order = np.argsort(-row, kind="stable")[: self.max_labels]
            out.append(sorted((names[k] for k in order if row[k] >= max(self.rel * top, self.min_p)),
                              key=list(names).index))
        return out


def map_votes(matrix: np.ndarray, mapping: np.ndarray) -> np.ndarray:
    """Re-express votes in a coarser space: `mapping[k]` is the new class of class k (-1 = abstain)."""
    out = np.where(matrix == ABSTAIN, ABSTAIN, mapping[np.clip(matrix, 0, None)])
    return out.astype(np.int64)


def majority_vote_probs(matrix: np.ndarray, cardinality: int) -> np.ndarray:
    """Vote shares per class (rows × classes); NaN rows where every LF abstained."""
    counts = np.zeros((len(matrix), cardinality))
    rows, cols = np.nonzero(matrix != ABSTAIN)
    np.add.at(counts, (rows, matrix[rows, cols]), 1.0)
    totals = counts.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, counts / totals, np.nan)


def fit_label_model(matrix: np.ndarray, cardinality: int, seed: int, epochs: int = 300) -> LabelModel:
    """Fit Snorkel's LabelModel on an LF matrix (deterministic for a seed).

    Torch runs on one thread here: the model is small (LFs × classes squared) and several threads
    only contend, which was up to 3× slower on our 2-core machines.
    """
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        model = LabelModel(cardinality=cardinality, verbose=False, device="cpu")
        model.fit(matrix, n_epochs=epochs, seed=seed, log_freq=epochs + 1, lr=0.01, l2=0.0, progress_bar=False)
    finally:
        torch.set_num_threads(threads)
    return model


def label_model_probs(model: LabelModel, matrix: np.ndarray) -> np.ndarray:
    """Class probabilities from a fitted LabelModel; NaN rows where every LF abstained."""
    probs = model.predict_proba(matrix)
    covered = (matrix != ABSTAIN).any(axis=1)
    return np.where(covered[:, None], probs, np.nan)
