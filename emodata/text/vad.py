"""Utterance VAD from a lexicon: weighted mean over covered content tokens, coverage, rationale.

`score_utterance` is the one place the aggregation happens. Token-level adjustments (negation
scope, intensifiers) plug in through the `TokenAdjuster` seam without touching the aggregation.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

from emodata.text.lemma import LexiconLookup
from emodata.text.lexicon import VAD
from emodata.text.nlp import Tokens

#: Label smoothing of the paper: x ← (1 − 2ε)·x + ε keeps every score inside (0, 1).
EPSILON = 0.01

#: adjust(tokens, covered positions, their VADs, their weights) → (VADs, weights) after adjustment.
TokenAdjuster = Callable[[Tokens, list[int], list[VAD], list[float]], tuple[list[VAD], list[float]]]


@dataclass(frozen=True)
class UtteranceVad:
    """Lexicon VAD of one utterance and the evidence behind it."""

    v: float
    a: float
    d: float
    conf: float
    n_content: int
    n_covered: int
    rationale: str

    @property
    def covered(self) -> bool:
        """Whether any content token had a lexicon entry."""
        return self.n_covered > 0


def smooth(x: float, epsilon: float = EPSILON) -> float:
    """The paper's smoothing x ← (1 − 2ε)x + ε."""
    return (1.0 - 2.0 * epsilon) * x + epsilon


def rationale(words: Sequence[str], valences: Sequence[float], v: float, top: int = 2,
              negated: Sequence[bool] | None = None) -> str:
    """A short English rationale naming the strongest valence cues that point the way of its claim.

    `valences` are the cues' valences as scored (after negation mirroring), so "not happy" is a
    negative cue: a positive tone cites only cues above 0.5, a negative tone only cues below, the
    strongest first, and a cue in a negation scope (`negated`) is cited as "not 'happy'". A neutral
    tone names the strongest cue of each direction when they pull both ways ("mixed cues"), else
    says no cue was strong. The tone thresholds (0.45/0.55) are the ones the label is read with.
    """
    if not words:
        return "no lexicon evidence"
    negated = list(negated) if negated is not None else [False] * len(words)
    tone = "positive" if v > 0.55 else "negative" if v < 0.45 else "neutral"

    def strongest(sign: int, limit: int) -> list[str]:
        ranked = sorted((wv for wv in zip(words, valences, negated) if sign * (wv[1] - 0.5) > 0),
                        key=lambda wv: (-abs(wv[1] - 0.5), wv[0]))
        cues: list[str] = []
        for word, _, is_negated in ranked:
            cue = f"not '{word}'" if is_negated else f"'{word}'"
            if cue not in cues:
                cues.append(cue)
            if len(cues) == limit:
                break
        return cues

    if tone == "neutral":
        up, down = strongest(1, 1), strongest(-1, 1)
        if up and down:
            return f"neutral tone, mixed cues {up[0]} and {down[0]}"
        return "neutral tone, no strong cue"
    cues = strongest(1 if tone == "positive" else -1, top)
    if not cues:
        return f"{tone} tone, no single strong cue"
    return f"{tone} tone from " + " and ".join(cues)


def score_utterance(tokens: Tokens, lookup: LexiconLookup, adjust: TokenAdjuster | None = None,
                    epsilon: float = EPSILON, negated: Sequence[bool] | None = None) -> UtteranceVad:
    """Score one tokenised utterance: `vad_conf` = covered / content tokens, smoothed weighted mean.

    `negated` (one flag per token: inside a negation scope, the scope `adjust` mirrored) makes the
    rationale cite such a cue as negated ("not 'happy'"); pass it only with an adjuster that mirrors."""
    positions, vads = [], []
    for i, (low, is_content) in enumerate(zip(tokens.lower, tokens.content)):
        if is_content:
            found = lookup(low)
            if found is not None:
                positions.append(i)
                vads.append(found)
    n_content = sum(tokens.content)
    weights = [1.0] * len(vads)
    if adjust is not None and vads:
        vads, weights = adjust(tokens, positions, vads, weights)
    total = sum(weights)
    if not vads or total <= 0:
        return UtteranceVad(float("nan"), float("nan"), float("nan"), 0.0, n_content, 0, "no lexicon evidence")
    mean = [sum(w * t[k] for w, t in zip(weights, vads)) / total for k in range(3)]
    v, a, d = (smooth(x, epsilon) for x in mean)
    words = [tokens.lower[i] for i in positions]
    cited_negated = None if negated is None else [bool(negated[i]) for i in positions]
    return UtteranceVad(v, a, d, len(vads) / n_content, n_content, len(vads),
                        rationale(words, [t[0] for t in vads], v, negated=cited_negated))
