"""Judges of a flip pair that the generators do not use: VADER and plain (negation-unaware) lexicon valence.

The generators rewrite x into x′ aiming at the annotate stage's negation-aware VAD, so that VAD
cannot tell whether a rewrite really reverses the polarity (an inserted "not" always "passes" it).
Two independent scorers judge instead:
- VADER (`vaderSentiment`, its lexicon ships inside the package, so it runs offline): the compound
  score of x must be clearly polar (|c| ≥ VADER_NEUTRAL) and x′ must have the opposite sign.
- plain lexicon valence: the build's lexicon (lemma fallback as in the annotate stage) averaged over
  content words with no negation or intensifier adjustment. A lexical edit (antonym, outcome swap)
  must move it across 0.5. A negation edit cannot move it by construction (the words stay), so for
  the negation kind this judge only asks that x be clearly polar (|v − 0.5| ≥ NEUTRAL_BAND): its
  polarity reversal is VADER's call (VADER models negation), see JUDGES_BY_KIND.
"""
from __future__ import annotations

import functools
import math
from typing import Iterable, Sequence

import numpy as np

from emodata.annotate import Annotator
from emodata.text.nlp import Tokens, tokenize
from emodata.text.vad import score_utterance

#: |VADER compound| below this is VADER's own neutral band (its documented threshold).
VADER_NEUTRAL = 0.05
#: Rows with |v − 0.5| below this have no valence side to flip (the band `vad.rationale` calls neutral).
NEUTRAL_BAND = 0.05
#: Which judges must see a reversal, per kind ("plain": plain lexicon valence crosses 0.5; "vader":
#: VADER's compound changes sign). Every kind also needs a clearly polar x by both judges.
JUDGES_BY_KIND = {"outcome": ("plain", "vader"), "antonym": ("plain", "vader"), "negation": ("vader",)}
#: Candidate rejection reasons of the judges, in the order they are checked.
JUDGE_REASONS = ("plain_no_cross", "vader_no_reverse")


@functools.lru_cache(maxsize=1)
def _analyzer():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
    return SentimentIntensityAnalyzer()


def vader_compound(texts: Sequence[str]) -> np.ndarray:
    """VADER's compound score in [-1, 1] of each text."""
    analyzer = _analyzer()
    return np.array([analyzer.polarity_scores(t)["compound"] for t in texts], dtype=float)


def plain_valence(texts: Sequence[str], annotator: Annotator) -> np.ndarray:
    """Lexicon valence of each text with no negation adjustment (nan without lexicon evidence)."""
    return plain_of_tokens(tokenize(annotator.pipeline, list(texts)), annotator)


def plain_of_tokens(tokens_list: Iterable[Tokens], annotator: Annotator) -> np.ndarray:
    """`plain_valence` of already tokenised texts (e.g. `emodata.text.nlp.stored_tokens` of the annotate
    stage's columns, so no text is tokenised twice)."""
    return np.array([score_utterance(tokens, annotator.lookup, None, annotator.epsilon).v for tokens in tokens_list],
                    dtype=float)


def is_polar(vader: float, plain: float) -> bool:
    """Whether an original is clearly polar by both judges (each judged on its own side: plain valence
    ignores negation, so "I have no friend" is positive to it and negative to VADER)."""
    return not math.isnan(plain) and abs(vader) >= VADER_NEUTRAL and abs(plain - 0.5) >= NEUTRAL_BAND


def judge(kind: str, vader: float, plain: float, vader_flip: float, plain_flip: float) -> str:
    """"ok" or the first JUDGE_REASONS reason for candidate x′ of a polar x (see JUDGES_BY_KIND)."""
    needs = JUDGES_BY_KIND[kind]
    if "plain" in needs and (math.isnan(plain_flip) or (plain - 0.5) * (plain_flip - 0.5) >= 0):
        return "plain_no_cross"
    if "vader" in needs and (abs(vader_flip) < VADER_NEUTRAL or vader * vader_flip >= 0):
        return "vader_no_reverse"
    return "ok"
