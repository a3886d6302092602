"""Valence-Flip judges (issue #17): VADER and plain lexicon valence decide validity, originals must be
clearly polar, the antonym swap is one word (the main clause's strongest polar word, inflection kept),
rejections by the judges are counted, and the summary shows acceptance per judge and 20 pairs per kind."""
from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import pytest

from emodata.flips import antonym_flip, make_pairs, pairs_summary
from emodata.flips.antonym import in_main_clause
from emodata.flips.judges import is_polar, judge, plain_valence, vader_compound

from tests.test_flip import annotator, frame_of, nlp, pipeline  # noqa: F401  (module fixtures)

VALENCE = {"loved": 0.95, "love": 0.95, "awful": 0.05, "sad": 0.1, "afford": 0.6, "hated": 0.05, "loves": 0.95, "terrible": 0.1}


def valence(word: str) -> float | None:
    return VALENCE.get(word)


def test_vader_and_plain_valence_are_independent_of_negation(annotator):
    vader = vader_compound(["I am happy", "I am not happy", "The meeting is at noon"])
    assert vader[0] > 0.05 and vader[1] < -0.05 and abs(vader[2]) < 0.05
    plain = plain_valence(["I am happy", "I am not happy", "zzz"], annotator)
    assert plain[0] == plain[1] > 0.5 and np.isnan(plain[2])       # plain valence does not see "not"


@pytest.mark.parametrize("vader, plain, polar", [(0.6, 0.8, True), (0.01, 0.9, False), (-0.5, 0.52, False),
                                                 (-0.4, 0.9, True), (0.5, float("nan"), False)])
def test_only_clearly_polar_originals(vader, plain, polar):
    assert is_polar(vader, plain) is polar


@pytest.mark.parametrize("kind, flip, reason", [
    ("antonym", (-0.5, 0.2), "ok"), ("antonym", (-0.5, 0.7), "plain_no_cross"),
    ("antonym", (0.3, 0.2), "vader_no_reverse"), ("antonym", (-0.01, 0.2), "vader_no_reverse"),
    ("negation", (-0.5, 0.8), "ok"),                 # plain valence cannot see a negation edit
    ("negation", (0.2, 0.8), "vader_no_reverse"), ("outcome", (-0.4, 0.8), "plain_no_cross")])
def test_judge_reasons(kind, flip, reason):
    assert judge(kind, 0.6, 0.8, *flip) == reason


@pytest.mark.parametrize("text, positive, expected", [
    ("Loved the awful ending", True, "Hated the awful ending"),       # the side's strongest word only
    ("Loved the awful ending", False, "Loved the amazing ending"),
    ("She loves the awful tests", True, "She hates the awful tests"),        # VBZ kept
    ("We loved the awful tests", True, "We hated the awful tests"),          # VBD kept
    ("Its sad that some people can't afford the necessities", False,
     "Its happy that some people can't afford the necessities"),
])
def test_antonym_swaps_one_polar_word_of_the_utterance_side(nlp, text, positive, expected):
    assert antonym_flip(nlp(text), valence=valence, positive=positive) == expected


def test_main_clause_is_preferred(nlp):
    doc = nlp("Its sad that some people can't afford the necessities")
    by_text = {t.text: in_main_clause(t) for t in doc}
    assert by_text["sad"] and not by_text["afford"] and not by_text["people"]
    doc = nlp("I love that they failed")
    assert antonym_flip(doc) == "I hate that they failed"           # not the subordinate "failed"


ROWS = [("j:1", "I am happy", ["joy"]), ("j:2", "I am at the game", ["joy"]),
        ("j:3", "I am here, the sunshine sunshine sunshine.", ["joy"]), ("j:4", "I hate this", ["anger"]),
        ("j:5", "What a terrible day", ["disappointment"])]


def test_judge_rejections_are_counted_and_summarised(annotator, pipeline):
    frame = frame_of(annotator, ROWS)
    table, tally = make_pairs(frame, annotator, pipeline, flip_frac=1.0, seed=3, drafts=False)
    assert set(table.column("id").to_pylist()) == {"j:1", "j:4", "j:5"}
    assert make_pairs(frame, annotator, pipeline, flip_frac=1.0, seed=3)[0].equals(table)
    assert tally["rows:not_polar"] == 1                              # VADER: "I am at the game" is neutral
    summary = pairs_summary(table, tally, seed=3)
    judges = summary["judges"]
    assert judges["antonym"]["vader"] == 1.0 and judges["antonym"]["plain"] == 1.0
    assert judges["negation"]["judged"] == 3 and judges["negation"]["plain"] == 0.0   # "not" leaves words alone
    assert summary["rejected"]["not_polar"] == 1
    assert [p["id"] for p in summary["examples_by_kind"]["antonym"]] == ["j:1", "j:4", "j:5"]
    assert summary == pairs_summary(table, tally, seed=3)


def test_examples_by_kind_draws_twenty_per_kind_seeded():
    n = 50
    frame = pd.DataFrame({"id": [f"p{i:02d}" for i in range(n)], "text": ["x"] * n, "text_flip": ["y"] * n,
                          "kind": ["antonym"] * 30 + ["negation"] * 20, "v": [0.8] * n, "v_lex_flip": [0.2] * n,
                          "s_flip": [0.0] * n})
    first = pairs_summary(frame, Counter(), seed=1)["examples_by_kind"]
    assert len(first["antonym"]) == 20 and len(first["negation"]) == 20 and first["outcome"] == []
    assert first == pairs_summary(frame, Counter(), seed=1)["examples_by_kind"]
    assert first != pairs_summary(frame, Counter(), seed=2)["examples_by_kind"]
