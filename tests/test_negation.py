"""Negation scope on hand-written sentences, and its effect on utterance valence."""
from __future__ import annotations

import functools

import pytest

from emodata.text.lemma import LexiconLookup
from emodata.text.lexicon import Lexicon
from emodata.text.negation import DAMPING, adjust_with_depth, negation_adjuster, negation_scope
from emodata.text.nlp import load_pipeline, tokenize
from emodata.text.vad import score_utterance, smooth


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


def _tokens(text: str):
    (tokens,) = tokenize(load_pipeline(), [text])
    return tokens


def test_adjust_with_depth_mirrors_odd_depth_only_and_scales_after_intensifiers():
    tokens = _tokens("very happy sad glad")
    positions = [1, 2, 3]
    vads = [(0.9, 0.7, 0.6), (0.2, 0.4, 0.3), (0.8, 0.5, 0.5)]
    out, weights = adjust_with_depth(tokens, positions, vads, [1.0, 2.0, 3.0], depth=[0, 0, 1, 2])
    happy, sad, glad = out
    # "very" scales distance from 0.5 by 1.5 in all three dimensions, clipped to [0, 1]; not negated.
    assert happy == pytest.approx((min(1.0, 0.5 + 1.5 * 0.4), 0.5 + 1.5 * 0.2, 0.5 + 1.5 * 0.1))
    # depth 1: valence mirrored and damped, arousal and dominance untouched.
    assert sad == pytest.approx((0.5 - DAMPING * (0.2 - 0.5), 0.4, 0.3))
    # depth 2 (double negation): unchanged.
    assert glad == pytest.approx((0.8, 0.5, 0.5))
    assert weights == [1.0, 2.0, 3.0]


def test_adjust_with_depth_rejects_a_depth_list_of_the_wrong_length():
    tokens = _tokens("not happy")
    with pytest.raises(ValueError, match="2 tokens"):
        adjust_with_depth(tokens, [1], [(0.9, 0.5, 0.5)], [1.0], depth=[0, 1, 0])


@pytest.mark.parametrize("text", ["I am not very happy with this.", "I don't not like it.", "Nobody came, sadly."])
def test_negation_adjuster_is_adjust_with_the_window_depth(text):
    tokens = _tokens(text)
    positions = list(range(len(tokens.lower)))
    vads = [(0.1 + 0.8 * i / len(positions), 0.3, 0.7) for i in positions]
    expected = adjust_with_depth(tokens, positions, vads, [1.0] * len(vads), depth=negation_scope(tokens))
    assert negation_adjuster(tokens, positions, vads, [1.0] * len(vads)) == expected


def test_score_utterance_takes_a_bound_depth():
    lexicon = Lexicon("t", "1", "x", "t.csv", {"happy": (0.9, 0.7, 0.6)})
    lookup = LexiconLookup(lexicon, lambda w: [])
    tokens = _tokens("I am happy")
    negated = score_utterance(tokens, lookup, functools.partial(adjust_with_depth, depth=[0, 0, 1]))
    plain = score_utterance(tokens, lookup, functools.partial(adjust_with_depth, depth=[0, 0, 0]))
    assert negated.v == pytest.approx(smooth(0.5 - DAMPING * 0.4))
    assert plain.v == pytest.approx(smooth(0.9))
