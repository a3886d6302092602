"""Negation scope (NegEx-style window) and the negation/intensifier VAD adjustment.

This is the tokenizer-only method: a cue opens a scope over the following tokens up to the next
punctuation mark, contrastive conjunction ("but", "however", ...) or `WINDOW` tokens. The cue words and
fixed non-negation expressions come from the CD-SCO cue detector's lists (emodata.text.negation_cues), so
both methods share one vocabulary. Pseudo-negations ("not only", "no doubt", "nothing but", "no wonder",
"none the less", "never mind") open no scope, and a token inside two scopes
is not negated (double negation cancels). This is the documented fallback of the dependency-parse
scope (`emodata.text.negation_parse`) when the spaCy pipeline has no parser.

VAD adjustment (`adjust_with_depth` over a precomputed depth list, from either scope method;
`negation_adjuster` computes the window depth itself): a covered token at odd negation depth has its
valence mirrored around 0.5 and damped, v ← 0.5 − DAMPING·(v − 0.5) (arousal and dominance unchanged:
negating "happy" does not make the speaker calmer or more dominant); an intensifier right before a
token scales that token's distance from 0.5 in all three dimensions (×1.5 for "very", ×0.5 for
"slightly", clipped to [0, 1]), whether or not the token is negated.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from emodata.text.lexicon import VAD
from emodata.text.negation_cues import FIXED, WINDOW_PSEUDO, in_fixed_expression, window_cue_words
from emodata.text.nlp import Tokens

#: Recorded in manifests and cache keys; bump when the rules below change.
METHOD = "negex-window-v2"
#: Cue words: one home with the CD-SCO-learned lists (emodata.text.negation_cues.window_cue_words): the
#: learned single-word cues plus the informal spellings and approximate negators only online text needs.
CUES = window_cue_words()
#: Multi-word cues: "fail(s|ed) to".
FAIL_FORMS = frozenset({"fail", "fails", "failed", "failing"})
#: (cue, next word) pairs that negate nothing: the two-word fixed expressions of the cue detector
#: (`negation_cues.FIXED`: no doubt, not only, nothing but, ...) and the window's own `WINDOW_PSEUDO`.
PSEUDO = frozenset(f for f in FIXED if len(f) == 2) | WINDOW_PSEUDO
#: The detector's longer fixed expressions ("none the less", "not to mention"): no scope either.
FIXED_LONG = tuple(f for f in FIXED if len(f) > 2)
BOUNDARIES = frozenset({"but", "however", "although", "though", "yet", "except", "whereas", "while"})
WINDOW = 6
DAMPING = 0.6
INTENSIFIERS = {"very": 1.5, "extremely": 1.8, "really": 1.4, "so": 1.3, "super": 1.5, "totally": 1.5,
                "absolutely": 1.6, "incredibly": 1.7, "too": 1.3, "most": 1.4, "quite": 1.2,
                "slightly": 0.5, "somewhat": 0.6, "little": 0.6, "bit": 0.6, "barely": 0.4, "kinda": 0.7,
                "fairly": 0.8, "pretty": 1.2}


@dataclass(frozen=True)
class Negation:
    """One negation instance: its cue and scope as token indices (cue tokens are never in `scope`)."""

    cue: tuple[int, ...]
    scope: tuple[int, ...]


def resolve(words: Sequence[str], cues: Sequence[Sequence[int]] | None = None,
            method: str | None = None) -> list[Negation]:
    """Negation instances of a tokenized sentence: the scope of each given cue, or cues found and scoped.

    `method`: "crf" (default: CD-SCO-trained cue lists + scope CRF, emodata/negation_scope.py), "parse"
    (dependency rules, emodata/negation_parse.py), "window" (this module's tokenizer-only fallback) or
    "punct" (the baseline: every token after the cue up to the next punctuation mark).
    """
    from emodata.text.negation_api import resolve_with
    return resolve_with(words, cues, method)


def is_cue(tokens: Tokens, i: int) -> bool:
    """Whether token i opens a negation scope (pseudo-negations excluded)."""
    word = tokens.lower[i]
    following = tokens.lower[i + 1] if i + 1 < len(tokens.lower) else ""
    if word in FAIL_FORMS:
        return following == "to"
    return word in CUES and (word, following) not in PSEUDO and not in_fixed_expression(tokens.lower, i, FIXED_LONG)


def negation_scope(tokens: Tokens) -> list[int]:
    """How many open scopes cover each token (0 = not negated); cues themselves are not in scope."""
    depth = [0] * len(tokens.lower)
    for i in range(len(tokens.lower)):
        if not is_cue(tokens, i):
            continue
        for j in range(i + 1, min(len(tokens.lower), i + 1 + WINDOW)):
            word = tokens.lower[j]
            if word in BOUNDARIES or (not tokens.words[j][:1].isalnum() and not word.startswith("'")
                                      and word != "n't"):
                break
            if word == "to" and tokens.lower[i] in FAIL_FORMS and j == i + 1:
                continue
            if not is_cue(tokens, j):
                depth[j] += 1
    return depth


def _scale(x: float, factor: float) -> float:
    return min(1.0, max(0.0, 0.5 + factor * (x - 0.5)))


def adjust_with_depth(tokens: Tokens, positions: list[int], vads: list[VAD], weights: list[float],
                      depth: Sequence[int]) -> tuple[list[VAD], list[float]]:
    """`TokenAdjuster` given a precomputed per-token negation depth (bind it with functools.partial)."""
    if len(depth) != len(tokens.lower):
        raise ValueError(f"negation depth has {len(depth)} entries for {len(tokens.lower)} tokens "
                         f"({' '.join(tokens.words[:8])!r}...)")
    out = []
    for pos, (v, a, d) in zip(positions, vads):
        prev = tokens.lower[pos - 1] if pos > 0 else ""
        factor = INTENSIFIERS.get(prev)
        if factor is not None:
            v, a, d = _scale(v, factor), _scale(a, factor), _scale(d, factor)
        if depth[pos] % 2 == 1:
            v = 0.5 - DAMPING * (v - 0.5)
        out.append((v, a, d))
    return out, weights


def negation_adjuster(tokens: Tokens, positions: list[int], vads: list[VAD],
                      weights: list[float]) -> tuple[list[VAD], list[float]]:
    """`TokenAdjuster` with the window scope: negation mirroring and intensifier scaling (see above)."""
    return adjust_with_depth(tokens, positions, vads, weights, negation_scope(tokens))
