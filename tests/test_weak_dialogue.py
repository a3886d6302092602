"""Dialogue-turn cues written from DailyDialog train turns, and the binary-per-label label model."""
from __future__ import annotations

import numpy as np

from emodata.annotate import annotate_texts
from labeling_functions.core import ABSTAIN, apply_lfs
from labeling_functions.emotion import FINE_LABELS, emotion_lfs
from labeling_functions.end_model import DEFAULTS, make_vectorizer
from labeling_functions.label_model import BinaryPerLabel

from tests.test_emotion_lfs import _random_votes


def _votes(rows) -> dict[str, list]:
    lfs = emotion_lfs()
    matrix = apply_lfs(rows, lfs)
    return {lf.name: [None if v == ABSTAIN else FINE_LABELS[v] for v in matrix[:, j]] for j, lf in enumerate(lfs)}


def test_turn_cues_of_surprise_praise_and_anger():
    rows = annotate_texts(["Really? How did that happen?", "Congratulations! That sounds great.",
                           "How dare you say that!", "It is on the table."]).assign(in_dialogue=True)
    v = _votes(rows)
    assert v["kw_surprise"] == ["surprise", None, None, None]
    assert v["kw_admiration"] == [None, "admiration", None, None]
    assert v["kw_anger"] == [None, None, "anger", None]


def test_emolex_fear_abstains_on_dialogue_turns_only():
    text = "The terror and horror of the war frightened everyone."
    rows = annotate_texts([text, text]).assign(in_dialogue=[False, True])
    assert _votes(rows)["emolex_fear"] == ["fear", None]


def test_binary_label_model_per_label_recovers_the_truth():
    matrix, truth = _random_votes(seed=5)
    covered = (matrix != ABSTAIN).any(axis=1)
    probs = BinaryPerLabel(4, seed=1).fit(matrix).predict_proba(matrix)
    assert np.isnan(probs[~covered]).all()
    np.testing.assert_allclose(probs[covered].sum(axis=1), 1.0, atol=1e-9)
    assert (probs[covered].argmax(axis=1) == truth[covered]).mean() > 0.8
    again = BinaryPerLabel(4, seed=1).fit(matrix).predict_proba(matrix)
    np.testing.assert_array_equal(np.nan_to_num(probs), np.nan_to_num(again))


def test_end_model_features_read_words_and_characters():
    texts = ["soooo happy today", "so happy", "furious again", "furiously angry"]
    settings = {**DEFAULTS, "min_df": 1, "char_min_df": 1}
    both = make_vectorizer(settings).fit(texts)
    words = make_vectorizer({**settings, "char_ngrams": None}).fit(texts)
    assert both.transform(["happyyy"]).nnz > 0 and words.transform(["happyyy"]).nnz == 0
