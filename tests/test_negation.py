"""Negation scope on hand-written sentences, and its effect on utterance valence."""
from __future__ import annotations

import pytest

from emodata.lemma import LexiconLookup
from emodata.lexicon import Lexicon
from emodata.negation import DAMPING, negation_adjuster, negation_scope
from emodata.nlp import load_pipeline, tokenize
from emodata.vad import score_utterance, smooth


def _scoped(text: str) -> list[str]:
    (tokens,) = tokenize(load_pipeline(), [text])
    return [w for w, d in zip(tokens.lower, negation_scope(tokens)) if d % 2 == 1]


@pytest.mark.parametrize("text,negated", [
    ("I am not happy with this.", ["happy", "with", "this"]),
    ("I don't like it, but the food was great.", ["like", "it"]),          # contraction; stops at ","
    ("I was not happy but I was calm", ["happy"]),                           # contrastive "but"
    ("I don't not like it.", []),                                            # double negation cancels
    ("Not only happy but proud.", []),                                       # pseudo-negation
    ("No doubt it was great.", []),
    ("Nothing but love here.", []),
    ("Aren't you happy?", ["you", "happy"]),                                 # question
    ("He failed to win the game.", ["win", "the", "game"]),                  # "fail to"
    ("Never again will I trust them at all ever", ["again", "will", "i", "trust", "them", "at"]),  # window 6
])
def test_scope(text, negated):
    assert _scoped(text) == negated


def test_negated_valence_is_mirrored_with_damping_and_intensifiers_scale():
    lexicon = Lexicon("t", "1", "x", "t.csv", {"happy": (0.9, 0.7, 0.6)})
    lookup = LexiconLookup(lexicon, lambda w: [])
    pipeline = load_pipeline()

    def v(text):
        (tokens,) = tokenize(pipeline, [text])
        return score_utterance(tokens, lookup, negation_adjuster)

    plain, negated, very = v("I am happy"), v("I am not happy"), v("I am very happy")
    assert plain.v == pytest.approx(smooth(0.9))
    assert negated.v == pytest.approx(smooth(0.5 - DAMPING * 0.4)) and negated.a == pytest.approx(plain.a)
    assert very.v == pytest.approx(smooth(min(1.0, 0.5 + 1.5 * 0.4)))
    assert very.a == pytest.approx(smooth(0.5 + 1.5 * 0.2))
