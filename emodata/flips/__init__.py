"""Valence-Flip pairs (issue #4): rewrite an utterance x into x′ of opposite valence, with mirrored targets.

    from emodata.flips import make_pairs, pairs_summary, PAIRS_SCHEMA
    table, tally = make_pairs(train_frame, annotator, nlp, flip_frac=0.2, seed=13)
    manifest["pairs"] = pairs_summary(table, tally, seed=13)

Generators (each `doc -> str | None`, on a parsed spaCy Doc): `outcome_flip`, `antonym_flip`,
`negation_flip`; `mirror_labels` maps labels through the catalog mirror map. Data lives in
catalog/flips/ (`catalog.flips.load_flips`).
"""
from __future__ import annotations

from emodata.flips.antonym import antonym_flip
from emodata.flips.negation import negation_flip
from emodata.flips.outcome import outcome_flip
from emodata.flips.draw import make_pairs
from emodata.flips.pairs import GENERATORS, NEUTRAL_BAND, PAIRS_SCHEMA, check_candidate, mirror_labels
from emodata.flips.summary import pairs_summary

__all__ = ["GENERATORS", "NEUTRAL_BAND", "PAIRS_SCHEMA", "antonym_flip", "check_candidate", "make_pairs",
           "mirror_labels", "negation_flip", "outcome_flip", "pairs_summary"]
