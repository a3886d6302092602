"""From stored LF votes to weak labels per record, and the LF report of a build.

`fit_weak_labeler` takes the emotion LF matrix of a mix's train rows (votes in the fine label space,
GoEmotions-28) and fits, for the fine space and for Ekman-7 (votes mapped into their Ekman group),
both a Snorkel `LabelModel` and majority vote. With gold labels on those train rows it keeps, per
space, whichever scores the higher Macro-F1 (`aggregator="auto"`); the dev split never enters that
choice. `WeakLabeler.label` then turns any LF matrix into the record columns `weak_labels`,
`weak_probs` (class distribution over `fine_labels`, null when every LF abstained),
`weak_labels_ekman` and `weak_probs_ekman`. `lf_report` scores LFs and both aggregators against gold
on a labelled split and gives the manifest's `lf_analysis` entry.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd
from snorkel.labeling import LabelingFunction
from snorkel.labeling.model import LabelModel

from catalog import load_catalog

from emodata.core import registry
from emodata.core.rounding import round_as_python

from labeling_functions.analysis import confusion, lf_table, score_sets
from labeling_functions.label_model import (LABEL_MODEL, MAJORITY_VOTE, ReadOut, fit_label_model, label_model_probs,
                          majority_vote_probs, map_votes)



def fit_majority_vote(matrix: np.ndarray, cardinality: int, seed: int) -> None:
    """Majority vote needs no fit (`majority_vote_probs` reads the votes)."""
    return None


def fit_auto(matrix: np.ndarray, cardinality: int, seed: int) -> LabelModel:
    """"auto" fits Snorkel's LabelModel and keeps it or majority vote, whichever scores better against the
    train split's gold (`_fit_space`)."""
    return fit_label_model(matrix, cardinality, seed)


# The build's aggregator choices (`--label-model`), in the `aggregators` registry: name -> fit function.
registry.aggregators.register(MAJORITY_VOTE, func=fit_majority_vote)
registry.aggregators.register(LABEL_MODEL, func=fit_label_model)
registry.aggregators.register("auto", func=fit_auto)


def check_aggregator(name: str) -> None:
    """ValueError naming the registered aggregators unless `name` is one of them."""
    if name not in registry.aggregators:
        raise ValueError(f"label model must be one of {', '.join(registry.names(registry.aggregators))}, "
                         f"not {name!r}")
NEUTRAL = "neutral"
#: Probabilities are stored rounded, so shards stay byte-stable across BLAS builds.
PROB_DECIMALS = 4


def ekman_map(fine_labels: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """Ekman-7 labels and, per fine label, the index of its Ekman group."""
    catalog = load_catalog()
    ekman = list(catalog.taxonomies["ekman7"].labels)
    groups = [catalog.group("ekman7", [label]) for label in fine_labels]
    return ekman, np.array([ekman.index(g[0]) if g else -1 for g in groups], dtype=np.int64)


def gold_sets(labels: Sequence[Sequence[str]], space: Sequence[str]) -> list[set[str]]:
    """Gold label sets restricted to a label space (e.g. `other` is not a fine label)."""
    allowed = set(space)
    return [set(x) & allowed for x in labels]


def ekman_gold(labels: Sequence[Sequence[str]]) -> list[set[str]]:
    """Gold Ekman-7 sets of unified label lists."""
    catalog = load_catalog()
    groups: dict[tuple, list[str]] = {}  # few distinct label lists among many rows
    out = []
    for x in labels:
        key = tuple(x)
        if key not in groups:
            groups[key] = catalog.group("ekman7", list(x))
        out.append(set(groups[key]))
    return out


@dataclass
class SpaceModel:
    """One label space's aggregators and the chosen one."""

    names: list[str]
    label_model: LabelModel | None
    chosen: str
    train_scores: dict[str, float | None] = field(default_factory=dict)

    def probs(self, matrix: np.ndarray, method: str | None = None, context: np.ndarray | None = None) -> np.ndarray:
        """Class probabilities by `method` (default: the chosen one); NaN rows = every LF abstained.

        `context` (rows × LFs, e.g. the votes on an EmpatheticDialogues row's situation text) counts as
        more votes under majority vote; under the label model it fills only rows the row's own votes
        leave uncovered (the label model is fit on utterance votes alone)."""
        method = method or self.chosen
        if method == LABEL_MODEL and self.label_model is not None:
            probs = label_model_probs(self.label_model, matrix)
            if context is not None:
                probs = np.where(np.isnan(probs), majority_vote_probs(context, len(self.names)), probs)
            return probs
        if context is not None:
            matrix = np.hstack([matrix, context])
        return majority_vote_probs(matrix, len(self.names))


@dataclass
class WeakLabeler:
    """Fitted aggregators for the fine and the Ekman-7 space, and the label-set read-out."""

    fine: SpaceModel
    ekman: SpaceModel
    ekman_index: np.ndarray
    readout: ReadOut = field(default_factory=ReadOut)
    #: The label of a row on which every LF abstained (its probabilities stay null: no LF evidence).
    #: No cue at all is the absence of an emotion cue; on GoEmotions dev it raised Ekman-7 Macro-F1 by
    #: about 0.02 (benchmarks/RESULTS.md). None keeps such rows unlabelled.
    fallback: str | None = NEUTRAL

    def label(self, matrix: np.ndarray, context: np.ndarray | None = None) -> pd.DataFrame:
        """Weak-label record columns for an LF matrix (rows × LFs) and optional context votes."""
        out = {}
        for suffix, space, votes, ctx in (("", self.fine, matrix, context),
                                          ("_ekman", self.ekman, self.ekman_votes(matrix),
                                           None if context is None else self.ekman_votes(context))):
            out[f"weak_labels{suffix}"], probs = self.label_sets(space, votes, ctx)
            # a row of floats per record (a view of one rounded matrix), null without votes
            rounded = round_as_python(probs, PROB_DECIMALS)
            out[f"weak_probs{suffix}"] = [None if nan else row for nan, row in zip(np.isnan(probs).any(axis=1).tolist(),
                                                                                     rounded)]
        return pd.DataFrame(out)

    def ekman_sets(self, matrix: np.ndarray, context: np.ndarray | None = None) -> list[list[str]]:
        """The Ekman-7 weak label sets alone (what the end-model check needs)."""
        return self.label_sets(self.ekman, self.ekman_votes(matrix),
                               None if context is None else self.ekman_votes(context))[0]

    def label_sets(self, space: SpaceModel, votes: np.ndarray, context: np.ndarray | None = None,
                   method: str | None = None) -> tuple[list[list[str]], np.ndarray]:
        """(label sets, probabilities) of one space; rows without any vote get the fallback label."""
        probs = space.probs(votes, method, context)
        sets = self.readout.labels(probs, space.names)
        if self.fallback in space.names:
            finite = np.isfinite(probs).all(axis=1).tolist() if len(probs) else []
            sets = [s if s or ok else [self.fallback] for s, ok in zip(sets, finite)]
        return sets, probs

    def ekman_votes(self, matrix: np.ndarray) -> np.ndarray:
        """The LF matrix with every vote mapped into its Ekman group."""
        return map_votes(matrix, self.ekman_index)

    def describe(self) -> dict:
        """Manifest entry: label spaces, chosen aggregator per space and its train-gold scores."""
        return {"readout": vars(self.readout), "fallback": self.fallback,
                "fine": {"labels": self.fine.names, "aggregator": self.fine.chosen,
                         "train_macro_f1": self.fine.train_scores},
                "ekman": {"labels": self.ekman.names, "aggregator": self.ekman.chosen,
                          "train_macro_f1": self.ekman.train_scores}}


def _fit_space(matrix: np.ndarray, names: list[str], gold: list[set[str]] | None, aggregator: str,
               seed: int, readout: ReadOut) -> SpaceModel:
    fit = registry.aggregators.get(aggregator)  # majority vote fits nothing (None)
    model = fit(matrix, len(names), seed) if matrix.shape[1] >= 3 and len(matrix) > 0 else None
    space = SpaceModel(names, model, MAJORITY_VOTE)
    if aggregator == "auto" and model is not None and gold is not None and any(gold):
        for method in (MAJORITY_VOTE, LABEL_MODEL):
            space.train_scores[method] = score_sets(readout.labels(space.probs(matrix, method), names), gold)["macro_f1"]
        space.chosen = max((MAJORITY_VOTE, LABEL_MODEL), key=lambda m: space.train_scores[m] or 0.0)
    elif aggregator == LABEL_MODEL and model is not None:
        space.chosen = LABEL_MODEL
    return space


def fit_weak_labeler(matrix: np.ndarray, fine_labels: Sequence[str], gold_labels: Sequence[Sequence[str]] | None,
                     seed: int, aggregator: str = "auto", readout: ReadOut | None = None) -> WeakLabeler:
    """Fit the aggregators on a train LF matrix; `gold_labels` (unified label lists) drive "auto"."""
    check_aggregator(aggregator)
    readout = readout or ReadOut()
    fine_labels = list(fine_labels)
    ekman, index = ekman_map(fine_labels)
    fine_gold = gold_sets(gold_labels, fine_labels) if gold_labels is not None else None
    ek_gold = ekman_gold(gold_labels) if gold_labels is not None else None
    fine = _fit_space(matrix, fine_labels, fine_gold, aggregator, seed, readout)
    ek = _fit_space(map_votes(matrix, index), ekman, ek_gold, aggregator, seed, readout)
    return WeakLabeler(fine, ek, index, readout)


def lf_report(matrix: np.ndarray, lfs: Sequence[LabelingFunction], labeler: WeakLabeler,
              gold_labels: Sequence[Sequence[str]], context: np.ndarray | None = None) -> dict:
    """LF table and aggregator scores against gold on one labelled split (fine and Ekman-7 spaces);
    `context` are the rows' context votes (see `SpaceModel.probs`)."""
    fine_gold = gold_sets(gold_labels, labeler.fine.names)
    ek_gold = ekman_gold(gold_labels)
    report = {"n": len(matrix), "lfs": lf_table(matrix, lfs, labeler.fine.names, fine_gold)}
    ek_context = None if context is None else labeler.ekman_votes(context)
    for key, space, votes, ctx, gold in (("fine", labeler.fine, matrix, context, fine_gold),
                                         ("ekman", labeler.ekman, labeler.ekman_votes(matrix), ek_context, ek_gold)):
        scores = {}
        for method in (MAJORITY_VOTE, LABEL_MODEL):
            if method == LABEL_MODEL and space.label_model is None:
                continue
            scores[method] = score_sets(labeler.label_sets(space, votes, ctx, method)[0], gold)
        chosen_pred = labeler.label_sets(space, votes, ctx)[0]
        report[key] = {"chosen": space.chosen, "scores": scores,
                       "confusion": {"labels": space.names, "matrix": confusion(chosen_pred, gold, space.names),
                                     "method": space.chosen}}
    return report
