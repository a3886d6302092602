"""Valence-Flip pairs (issue #4): rewrite an utterance x into x′ of opposite valence, with mirrored targets.

    from emodata.flips import make_pairs, pairs_summary, PAIRS_SCHEMA
    table, tally = make_pairs(train_frame, annotator, nlp, flip_frac=0.2, seed=13)
    manifest["pairs"] = pairs_summary(table, tally, seed=13)

Generators (each `doc -> str | None`, on a parsed spaCy Doc): `outcome_flip`, `antonym_flip`,
`negation_flip`; `mirror_labels` maps labels through the catalog mirror map. Data lives in
catalog/flips/ (`catalog.flips.load_flips`).
"""
from __future__ import annotations

from .antonym import antonym_flip
from .negation import negation_flip
from .outcome import outcome_flip
from .pairs import GENERATORS, NEUTRAL_BAND, PAIRS_SCHEMA, check_candidate, make_pairs, mirror_labels
from .summary import pairs_summary

__all__ = ["GENERATORS", "NEUTRAL_BAND", "PAIRS_SCHEMA", "antonym_flip", "check_candidate", "make_pairs",
           "mirror_labels", "negation_flip", "outcome_flip", "pairs_summary"]
