"""The scope methods behind `emodata.text.negation.resolve` (one function per method; see that docstring).

Own cues: "crf" and "punct" use the CD-SCO cue detector (emodata/negation_cues.py); "window" and "parse"
keep their historical cue test (`emodata.text.negation.is_cue`: a cue-word list with pseudo-negations).
Scopes never contain cue tokens and are sorted tuples.
"""
from __future__ import annotations

from typing import Sequence

from emodata.core import registry
from emodata.text import negation
from emodata.text.negation import Negation
from emodata.text.nlp import Tokens

DEFAULT_METHOD = "crf"
#: None = the CRF's Viterbi path; a float = tokens whose marginal P(in scope) reaches it. Viterbi won by
#: 5-fold CV on CD-SCO training (with completion: 0.9132; thresholds 0.45-0.65: 0.9108-0.9126).
SCOPE_THRESHOLD = None


def _tokens(words: Sequence[str]) -> Tokens:
    return Tokens(words=tuple(words), lower=tuple(w.lower() for w in words),
                  content=tuple(True for _ in words), n_words=len(words))


def _is_punct(word: str) -> bool:
    return not any(ch.isalnum() for ch in word)


def window_cues(words: Sequence[str]) -> list[tuple[int, ...]]:
    """Cues by the window method's word test."""
    toks = _tokens(words)
    return [(i,) for i in range(len(words)) if negation.is_cue(toks, i)]


def window_scope(words: Sequence[str], cue: Sequence[int]) -> tuple[int, ...]:
    """NegEx window after the cue (emodata.text.negation rules)."""
    toks = _tokens(words)
    last = max(cue)
    out = []
    for j in range(last + 1, min(len(words), last + 1 + negation.WINDOW)):
        word = toks.lower[j]
        if word in negation.BOUNDARIES or (not words[j][:1].isalnum() and not word.startswith("'")
                                           and word != "n't"):
            break
        if not negation.is_cue(toks, j):
            out.append(j)
    return tuple(out)


def punct_scope(words: Sequence[str], cue: Sequence[int]) -> tuple[int, ...]:
    """Baseline: every token after the cue up to the next punctuation mark."""
    out = []
    for j in range(max(cue) + 1, len(words)):
        if _is_punct(words[j]):
            break
        out.append(j)
    return tuple(out)


def parse_scope_of(words: Sequence[str], cue: Sequence[int]) -> tuple[int, ...]:
    """Dependency-rule scope (emodata.text.negation_parse) of the cue's tokens on spaCy's parse."""
    from emodata.text.negation_parse import _scope_of
    from emodata.text.negation_scope import RULE_SKIPPED_PIPES, analyse
    doc = analyse(tuple(words), RULE_SKIPPED_PIPES)
    out: set[int] = set()
    for i in cue:
        out.update(_scope_of(doc[i]))
    return tuple(sorted(out - set(cue)))


def crf_cues(words: Sequence[str]) -> list[tuple[int, ...]]:
    """Cues by the CD-SCO cue detector."""
    from emodata.text.negation_cues import default_detector
    return default_detector().detect(words)


def crf_scope(words: Sequence[str], cue: Sequence[int]) -> tuple[int, ...]:
    """Scope by the CD-SCO-trained CRF (Viterbi path, or marginal ≥ SCOPE_THRESHOLD)."""
    from emodata.text.negation_cues import default_detector
    from emodata.text.negation_scope import predict_scope
    return predict_scope(words, cue, default_detector(), threshold=SCOPE_THRESHOLD)


# The scope methods live in the `scope_methods` registry (emodata.core.registry) as (find cues, scope of
# a cue) pairs; a user registers another with `registry.scope_methods.register(NAME, func=(find, scope))`.
for _name, _pair in {"crf": (crf_cues, crf_scope), "parse": (window_cues, parse_scope_of),
                     "window": (window_cues, window_scope), "punct": (crf_cues, punct_scope)}.items():
    registry.scope_methods.register(_name, func=_pair)


def resolve_with(words: Sequence[str], cues: Sequence[Sequence[int]] | None, method: str | None) -> list[Negation]:
    """`emodata.text.negation.resolve` (documented there)."""
    name = method or DEFAULT_METHOD
    if name not in registry.scope_methods:
        raise ValueError(f"unknown negation method {name!r}; choose one of "
                         f"{', '.join(registry.names(registry.scope_methods))}")
    find, scope = registry.scope_methods.get(name)
    words = list(words)
    if cues is None:
        cues = find(words)
    out = []
    for cue in cues:
        cue_t = tuple(sorted(int(i) for i in cue))
        if not cue_t or cue_t[0] < 0 or cue_t[-1] >= len(words):
            raise ValueError(f"cue {list(cue)} is not a non-empty set of indices into {len(words)} words")
        sc = tuple(i for i in scope(words, cue_t) if i not in cue_t)
        out.append(Negation(cue=cue_t, scope=sc))
    return out
