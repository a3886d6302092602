"""Combining LF votes into weak labels: Snorkel's LabelModel and majority vote, multi-label read-out.

Snorkel's label models are single-label (snorkel #1041, #1725), while emotions are multi-label. Our
scheme: fit one multi-class `LabelModel` over the label space (fine-grained 28, or Ekman-7 after
mapping every vote into its Ekman group), then read a label *set* off the class distribution:
every class whose probability is at least `rel` × the top probability (and at least `min_p`), at
most `max_labels` of them. Majority vote gives a distribution from the vote counts and is read out
the same way. Rows where every LF abstained get no weak label (an empty set and null
probabilities), never a guess: the prior is not evidence.

`DawidSkene` and `BinaryPerLabel` (one binary Snorkel model per label, class-balanced) are compared
with both on the same matrix in benchmarks/bench_weak_labels.py; on every dev split they score below
majority vote, so the build does not offer them.

Which of the two to ship is measured, not assumed (DESIGN.md; argilla #1444): with
`aggregator="auto"`, `weak_labels.fit_weak_labeler` compares them on the gold labels of the *train*
split, and the LF report states the choice and the dev scores of both.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from snorkel.labeling.model import LabelModel

from labeling_functions.core import ABSTAIN
from labeling_functions.label_sets import sets_of

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
        probs = np.asarray(probs, dtype=float)
        if not len(probs):
            return []
        finite = np.isfinite(probs).all(axis=1)
        safe = np.where(finite[:, None], probs, -1.0)
        order = np.argsort(-safe, axis=1, kind="stable")[:, : self.max_labels]
        top = safe.max(axis=1, keepdims=True)
        keep = np.zeros(safe.shape, dtype=bool)
        np.put_along_axis(keep, order, True, axis=1)
        keep &= (safe >= np.maximum(self.rel * top, self.min_p)) & finite[:, None]
        return sets_of(keep, names)


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


DAWID_SKENE = "dawid_skene"


@dataclass
class DawidSkene:
    """Dawid & Skene's (1979) EM label model over LF votes, unsupervised.

    Per LF j a confusion table θ_j[y, o] = P(LF j outputs o | true class y), where o is a class or,
    with `abstain_is_evidence`, "abstain" (an LF that stays silent says something too: a row where
    no emotion LF fires is more likely neutral). Abstains are unobserved otherwise (the skweak-style
    naive Bayes). Initialised from majority vote, `iterations` EM steps with add-`smoothing` counts.
    """

    cardinality: int
    abstain_is_evidence: bool = True
    iterations: int = 30
    smoothing: float = 1.0
    prior: np.ndarray | None = None
    theta: np.ndarray | None = None  # LFs × classes × (classes + 1)

    def _one_hot(self, matrix: np.ndarray):
        """Sparse rows × (LFs·(classes+1)) one-hot of every LF's output (abstain = the last outcome)."""
        from scipy.sparse import csr_matrix

        n, m = matrix.shape
        width = self.cardinality + 1
        outcomes = np.where(matrix == ABSTAIN, self.cardinality, matrix)
        cols = (np.arange(m) * width)[None, :] + outcomes
        return csr_matrix((np.ones(n * m), (np.repeat(np.arange(n), m), cols.ravel())), shape=(n, m * width))

    def fit(self, matrix: np.ndarray) -> "DawidSkene":
        """EM on an LF matrix (rows × LFs); deterministic (no random start)."""
        k, m = self.cardinality, matrix.shape[1]
        one_hot = self._one_hot(matrix)
        posterior = majority_vote_probs(matrix, k)
        posterior[np.isnan(posterior).any(axis=1)] = 1.0 / k
        for _ in range(self.iterations):
            self.prior = (posterior.sum(axis=0) + self.smoothing) / (len(matrix) + k * self.smoothing)
            counts = np.asarray(one_hot.T @ posterior).reshape(m, k + 1, k).transpose(0, 2, 1) + self.smoothing
            self.theta = counts / counts.sum(axis=2, keepdims=True)
            posterior = self._posterior(one_hot)
        return self

    def _posterior(self, one_hot) -> np.ndarray:
        log_theta = np.log(self.theta)  # LFs × classes × outcomes
        if not self.abstain_is_evidence:
            log_theta[:, :, -1] = 0.0
        log_p = np.asarray(one_hot @ log_theta.transpose(0, 2, 1).reshape(-1, self.cardinality)) + np.log(self.prior)
        log_p -= log_p.max(axis=1, keepdims=True)
        probs = np.exp(log_p)
        return probs / probs.sum(axis=1, keepdims=True)

    def predict_proba(self, matrix: np.ndarray) -> np.ndarray:
        """Posterior class probabilities; NaN rows where every LF abstained (no evidence, no guess)."""
        probs = self._posterior(self._one_hot(matrix))
        probs[~(matrix != ABSTAIN).any(axis=1)] = np.nan
        return probs


BINARY_PER_LABEL = "binary_per_label"


@dataclass
class BinaryPerLabel:
    """One binary Snorkel `LabelModel` per class (the multi-label reading of a label model).

    For class k every LF becomes a binary LF: 1 where it voted k, 0 where it voted another class
    (evidence against k), abstain otherwise. Each model is fit with a class balance [1 − π_k, π_k],
    π_k the share of majority-vote labels that are k on the fit matrix (no gold), so rare classes are
    not drowned. `predict_proba` gives P(k) per class, normalised to sum 1 per row (NaN rows where every
    LF abstained), read out like any other aggregator.
    """

    cardinality: int
    seed: int = 0
    epochs: int = 200
    models: list | None = None

    def binary(self, matrix: np.ndarray, k: int) -> np.ndarray:
        """The binary LF matrix of class k."""
        return np.where(matrix == ABSTAIN, ABSTAIN, (matrix == k).astype(np.int64))

    def fit(self, matrix: np.ndarray) -> "BinaryPerLabel":
        """Fit one binary model per class that some LF votes (others get none)."""
        shares = np.nan_to_num(majority_vote_probs(matrix, self.cardinality)).sum(axis=0)
        prior = np.clip(shares / max(shares.sum(), 1.0), 1e-3, 0.5)
        self.models = []
        for k in range(self.cardinality):
            if not (matrix == k).any():
                self.models.append(None)
                continue
            model = LabelModel(cardinality=2, verbose=False, device="cpu")
            model.fit(self.binary(matrix, k), n_epochs=self.epochs, seed=self.seed, log_freq=self.epochs + 1,
                      lr=0.01, class_balance=[1.0 - prior[k], prior[k]], progress_bar=False)
            self.models.append(model)
        return self

    def predict_proba(self, matrix: np.ndarray) -> np.ndarray:
        """P(class) per row, normalised over classes; NaN rows where every LF abstained."""
        out = np.zeros((len(matrix), self.cardinality))
        for k, model in enumerate(self.models or ()):
            if model is not None:
                out[:, k] = model.predict_proba(self.binary(matrix, k))[:, 1]
        totals = out.sum(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            probs = np.where(totals > 0, out / totals, np.nan)
        probs[~(matrix != ABSTAIN).any(axis=1)] = np.nan
        return probs
