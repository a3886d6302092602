"""Emotion labeling functions: Snorkel `@labeling_function`s over the annotate stage's columns.

Every LF votes an index into `FINE_LABELS` (the 28 GoEmotions labels, unified order without
`other`) or abstains (-1). Families, each built by a small factory so users can add their own:

  kw_<label>     keyword/phrase cues (keywords.KEYWORDS), negation-aware; on dialogue turns some labels
                 abstain (NOT_IN_DIALOGUE), skip cues in a question (QUESTION_BLIND) or of someone
                 else's state (SPEAKER_ONLY)
  turn_<label>   cues of dialogue turns only (keywords.TURN_KEYWORDS; "^ what ?" only at the turn's start)
  ctx_<label>    cues of the previous turn of a dialogue turn (keywords.CONTEXT_KEYWORDS): the reply to
                 "You look upset" voices sadness, the reply to "Thanks a lot" joy
  emoji_<label>  emoji and emoticons (keywords.EMOJI)
  emolex_<emo>   NRC Emotion Lexicon words shipped in nrclex (lemma fallback by suffix rules),
                 words of one Ekman emotion only, two hits needed, negation-aware
  vad_<region>   pleasant regions of the lexicon VAD space (only when coverage is decent; the unpleasant
                 regions' anger/fear/sadness votes were right 7-31% of the time on GoEmotions train
                 and 2-4% on DailyDialog train, so they were removed: benchmarks/RESULTS.md)
  punct_*        punctuation/intensity: questions → curiosity, "!!" with positive valence →
                 excitement, "?!" → surprise, shouted negative words → anger
  neutral_*      no cue at all and mid valence → neutral

Negation rule (`negation=True`): a cue whose first token is inside a negation scope (`neg` = 1) does
not vote its label; it votes `keywords.NEGATED_MIRROR[label]` when there is one ("isn't true" →
disapproval) and abstains otherwise ("not scared"). An LF votes its own label when any match is
outside a scope. Labels in `keywords.NOT_NEGATABLE` (amusement, gratitude, realization, ...) always
vote: "didn't realize" is a realization. With `negation=False` (the ablation) scopes are ignored.
"""
from __future__ import annotations

import functools
import re
from typing import Iterable, Sequence

from snorkel.labeling import LabelingFunction

from catalog import OTHER, load_catalog
from emodata.text.lemma import suffix_candidates
from emodata.text.lexicon import load_emolex

from labeling_functions.core import ABSTAIN, DeclaredLF, declared_lf
from labeling_functions.emotion.keywords import (CONTEXT_KEYWORDS, EMOJI, EMOLEX_NOT_IN_DIALOGUE, EMOLEX_TO_LABEL, EXCEPTIONS,
                                                 KEYWORDS, NEGATED_MIRROR, NOT_IN_DIALOGUE, NOT_NEGATABLE, QUESTION_BLIND,
                                                 SPEAKER_ONLY, TURN_KEYWORDS, WH_WORDS)

#: The fine-grained label space LFs vote in: the unified labels without `other` (GoEmotions-28).
FINE_LABELS: tuple[str, ...] = tuple(x for x in load_catalog().unified_labels if x != OTHER)
INDEX = {label: i for i, label in enumerate(FINE_LABELS)}
#: VAD-region LFs fire only when at least this share of content words is in the lexicon.
VAD_MIN_CONF = 0.5


#: Apostrophes a text may type ("don't", "don’t"): a phrase's "'" matches any of them.
APOSTROPHES = "'’‘`´"


#: A phrase starting with this matches only at the start of the padded token string (the turn's start).
START = "^ "


def _phrase_regex(phrase: str) -> str:
    """The regex of one phrase: escaped, with every apostrophe matching any typed apostrophe; a phrase
    starting with `START` is anchored at the string's first token."""
    anchor = phrase.startswith(START)
    body = phrase[len(START):] if anchor else phrase
    regex = "".join(f"[{re.escape(APOSTROPHES)}]" if ch == "'" else re.escape(ch) for ch in body)
    return r"(?<=\A )" + regex if anchor else regex


def phrase_pattern(phrases: Iterable[str]) -> re.Pattern:
    """One regex finding every (possibly overlapping) start of any phrase in a padded token string; an
    apostrophe in a phrase matches the curly ones too (10% of DailyDialog turns type "don’t")."""
    alternatives = sorted({_phrase_regex(p) for p in phrases}, key=lambda p: (-len(p), p))
    return re.compile("(?= (?:" + "|".join(alternatives) + ") )")


def match_positions(padded: str, pattern: re.Pattern) -> list[int]:
    """Token indices where a phrase of `pattern` starts in a padded token string."""
    return [padded.count(" ", 0, m.start()) for m in pattern.finditer(padded)]


def negation_vote(label: str, positions: Iterable[int], neg: list[int], negation: bool) -> int:
    """The vote of a cue found at `positions`: its label, the negated mirror, or ABSTAIN."""
    positions = list(positions)
    if not positions:
        return ABSTAIN
    if not negation or label in NOT_NEGATABLE or any(not neg[p] for p in positions if p < len(neg)):
        return INDEX[label]
    mirror = NEGATED_MIRROR.get(label)
    return INDEX[mirror] if mirror else ABSTAIN


#: Personal pronouns that name the experiencer of a state (`reported_state`): someone else, or the speaker.
OTHER_PRONOUNS = frozenset({"you", "he", "she", "they", "him", "them"})
SPEAKER_PRONOUNS = frozenset({"i", "me", "my", "we", "us", "'m", "’m"})
#: Tokens that close the clause a cue's experiencer is looked for in.
CLAUSE_BOUNDARY = frozenset({".", ",", "!", "?", ";", ":", "but", "and", "because", "if", "when"})


def reported_state(lower: Sequence[str], position: int, window: int = 4) -> bool:
    """Whether the cue at token `position` reports someone else's state: the nearest personal pronoun
    before it, within `window` tokens of its clause, is a second/third person ("you look nervous", "she
    was scared", "are you worried"); "he makes me nervous" and "I'm worried about you" are the speaker's."""
    for k in range(position - 1, max(-1, position - 1 - window), -1):
        token = lower[k]
        if token in CLAUSE_BOUNDARY or token in SPEAKER_PRONOUNS:
            return False
        if token in OTHER_PRONOUNS:
            return True
    return False


_SENTENCE_ENDS = frozenset(".!?")


def in_question(lower: Sequence[str], position: int) -> bool:
    """Whether the sentence holding token `position` ends with a question mark (the first token made
    only of ".", "!" and "?" at or after it closes the sentence; an unclosed sentence is no question)."""
    for token in lower[position:]:
        if token and set(token) <= _SENTENCE_ENDS:
            return "?" in token
    return False


def ends_with_question(x) -> bool:
    """Whether the row's last token is a question mark ("Good game?")."""
    return len(x.lower) > 0 and "?" in x.lower[-1] and set(x.lower[-1]) <= _SENTENCE_ENDS


def _keyword_vote(x, label: str, pattern: re.Pattern, exceptions: tuple, negation: bool,
                  skip_dialogue: bool, question_blind: bool = False, speaker_only: bool = False,
                  dialogue_only: bool = False) -> int:
    """The vote of a keyword LF (see `keyword_lf`); its arguments are the LF's declared resources."""
    if (skip_dialogue and x.in_dialogue) or (dialogue_only and not x.in_dialogue):
        return ABSTAIN
    positions = match_positions(x.padded, pattern)
    if positions and exceptions:
        masked = {p + k for exception, width in exceptions for p in match_positions(x.padded, exception)
                  for k in range(width)}
        positions = [p for p in positions if p not in masked]
    if positions and speaker_only and x.in_dialogue:
        positions = [p for p in positions if not reported_state(x.lower, p)]
    if positions and question_blind and x.in_dialogue:
        positions = [p for p in positions if not in_question(x.lower, p)]
    return negation_vote(label, positions, x.neg, negation)


def keyword_lf(label: str, phrases: Iterable[str], negation: bool = True, prefix: str = "kw",
               dialogue_only: bool = False) -> DeclaredLF:
    """An LF voting `label` when any phrase occurs (negation rule in the module docstring); labels in
    `keywords.NOT_IN_DIALOGUE` abstain on dialogue turns, a `dialogue_only` LF everywhere else."""
    exceptions = tuple((phrase_pattern([e]), len(e.split())) for e in EXCEPTIONS.get(label, ()))
    return DeclaredLF(f"{prefix}_{label}", _keyword_vote, {
        "label": label, "pattern": phrase_pattern(phrases), "exceptions": exceptions, "negation": negation,
        "skip_dialogue": label in NOT_IN_DIALOGUE and not dialogue_only, "question_blind": label in QUESTION_BLIND,
        "speaker_only": label in SPEAKER_ONLY, "dialogue_only": dialogue_only})


#: Tokens of a previous turn split as the annotate stage's tokenizer splits clitics ("don't" → "do n't").
_PREV_TOKEN = re.compile(r"n't|'(?:s|m|re|ll|ve|d)\b|[a-z0-9]+?(?=n't\b)|[a-z0-9]+|[^\sa-z0-9]")


@functools.lru_cache(maxsize=65536)
def _turn_padded(text: str) -> str:
    lowered = text.lower()
    for apostrophe in APOSTROPHES:
        lowered = lowered.replace(apostrophe, "'")
    return " " + " ".join(_PREV_TOKEN.findall(lowered)) + " "


def previous_turn_padded(context: Sequence[str] | None) -> str:
    """The previous turn of a dialogue row (the last utterance of its `context`) as a padded lower-case
    token string (" " when the row has none)."""
    if context is None or not len(context):
        return " "
    return _turn_padded(str(context[-1]))


def _context_vote(x, label: str, pattern: re.Pattern) -> int:
    if not x.in_dialogue or ends_with_question(x):
        return ABSTAIN
    return INDEX[label] if pattern.search(previous_turn_padded(x.context)) else ABSTAIN


def context_lf(label: str, phrases: Iterable[str]) -> DeclaredLF:
    """An LF voting `label` on a dialogue turn, not itself a question, whose previous turn holds a phrase
    (the previous turn is `x.context[-1]`, tokenised by `previous_turn_padded`; negation does not apply)."""
    return DeclaredLF(f"ctx_{label}", _context_vote, {"label": label, "pattern": phrase_pattern(phrases)})


def _emoji_vote(x, label: str, symbols: frozenset) -> int:
    return INDEX[label] if any(t in symbols for t in x.lower) else ABSTAIN


def emoji_lf(label: str, symbols: Iterable[str]) -> DeclaredLF:
    """An LF voting `label` when a token is one of the emoji/emoticons (negation does not apply)."""
    return DeclaredLF(f"emoji_{label}", _emoji_vote, {"label": label, "symbols": frozenset(symbols)})


@functools.lru_cache(maxsize=2)
def _emolex_sets(exclusive: bool) -> dict[str, frozenset[str]]:
    """EmoLex words per emotion; `exclusive` keeps words tied to exactly one of the six Ekman emotions."""
    words: dict[str, set[str]] = {}
    for word, emotions in load_emolex().items():
        ekman = [e for e in emotions if e in EMOLEX_TO_LABEL]
        if exclusive and len(ekman) != 1:
            continue
        for emotion in emotions:
            words.setdefault(emotion, set()).add(word)
    return {emotion: frozenset(ws) for emotion, ws in words.items()}


@functools.lru_cache(maxsize=200_000)
def _emolex_emotions(word: str, exclusive: bool) -> frozenset[str]:
    """The EmoLex emotions of a word or of its first suffix-rule lemma found (memoised per word)."""
    sets = _emolex_sets(exclusive)
    for form in (word, *suffix_candidates(word)):
        found = frozenset(e for e, words in sets.items() if form in words)
        if found:
            return found
    return frozenset()


def _emolex_vote(x, emotion: str, label: str, negation: bool, exclusive: bool, min_hits: int,
                 skip_dialogue: bool = False) -> int:
    if skip_dialogue and x.in_dialogue:
        return ABSTAIN
    positions = [i for i, t in enumerate(x.lower) if emotion in _emolex_emotions(t, exclusive)]
    if len(positions) < min_hits:
        return ABSTAIN
    return negation_vote(label, positions, x.neg, negation)


def emolex_lf(emotion: str, label: str, negation: bool = True, exclusive: bool = True, min_hits: int = 2,
              prefix: str = "emolex", skip_dialogue: bool = False) -> DeclaredLF:
    """An LF voting `label` when at least `min_hits` tokens (or their suffix-rule lemmas) are EmoLex
    `emotion` words.

    Plain EmoLex voting is very noisy on Reddit text (about 5% of its votes match a gold label on
    GoEmotions: "money" is an anger, joy and surprise word), so our LFs keep only words tied to
    exactly one Ekman emotion (`exclusive`) and want two of them; the nrclex-style baseline uses
    every word, one hit, no negation.
    """
    if emotion not in _emolex_sets(exclusive):
        raise ValueError(f"{emotion!r} is not an NRC Emotion Lexicon emotion")
    return DeclaredLF(f"{prefix}_{emotion}", _emolex_vote, {"emotion": emotion, "label": label, "negation": negation,
                                                           "exclusive": exclusive, "min_hits": min_hits,
                                                           "skip_dialogue": skip_dialogue})


def _covered(x) -> bool:
    if x.in_dialogue and ends_with_question(x):
        return False
    return x.vad_conf >= VAD_MIN_CONF and x.vad_v == x.vad_v  # nan check


@declared_lf("vad_high_v_high_a")
def vad_excitement(x) -> int:
    """Very pleasant and aroused (V > .8, A > .6): excitement."""
    return INDEX["excitement"] if _covered(x) and x.vad_v > 0.8 and x.vad_a > 0.6 else ABSTAIN


@declared_lf("vad_high_v")
def vad_joy(x) -> int:
    """Very pleasant, not aroused (V > .8, A ≤ .6): joy."""
    return INDEX["joy"] if _covered(x) and x.vad_v > 0.8 and x.vad_a <= 0.6 else ABSTAIN


@declared_lf("punct_question")
def punct_question(x) -> int:
    """A question opened by a wh-word or an auxiliary ("Why is...?", "Does anyone...?"): curiosity.

    Not in a dialogue turn: there a question is mostly a turn-taking move (on DailyDialog train 1% of
    these votes were right, on EmpatheticDialogues train 5%, on GoEmotions train 64%)."""
    if x.in_dialogue or len(x.lower) == 0 or x.lower[-1] != "?":
        return ABSTAIN
    return INDEX["curiosity"] if x.lower[0] in WH_WORDS else ABSTAIN


@declared_lf("punct_interrobang")
def punct_interrobang(x) -> int:
    """"?!" or "!?": surprise."""
    return INDEX["surprise"] if "?!" in x.text or "!?" in x.text else ABSTAIN


@declared_lf("punct_exclaim_positive")
def punct_exclaim_positive(x) -> int:
    """Two or more "!" with positive lexicon valence (V > .6): excitement."""
    return INDEX["excitement"] if x.text.count("!") >= 2 and x.vad_v > 0.6 else ABSTAIN


@declared_lf("punct_shout_negative")
def punct_shout_negative(x) -> int:
    """A shouted word (all caps, ≥ 3 letters, not a placeholder like NAME) with negative valence: anger."""
    shouted = any(len(t) >= 3 and t.isalpha() and t.isupper() and t not in ("NAME", "RELIGION") for t in x.tokens)
    return INDEX["anger"] if shouted and x.vad_v < 0.45 else ABSTAIN


_ANY_CUE = phrase_pattern(p for phrases in KEYWORDS.values() for p in phrases)
_EMOJI_ALL = frozenset(s for symbols in EMOJI.values() for s in symbols)


@declared_lf("neutral_no_cue")
def neutral_no_cue(x) -> int:
    """No keyword, emoji, "!" or "?" and mid valence (|V − .5| < .12): neutral."""
    if "!" in x.text or "?" in x.text or not (abs(x.vad_v - 0.5) < 0.12):
        return ABSTAIN
    if any(t in _EMOJI_ALL for t in x.lower):
        return ABSTAIN
    if _ANY_CUE.search(x.padded):
        return ABSTAIN
    return INDEX["neutral"]


def emotion_lfs(negation: bool = True) -> list[LabelingFunction]:
    """Our emotion LF set (negation-aware unless `negation=False`), in a fixed order."""
    lfs = [keyword_lf(label, KEYWORDS[label], negation) for label in FINE_LABELS if label in KEYWORDS]
    lfs += [keyword_lf(label, TURN_KEYWORDS[label], negation, "turn", dialogue_only=True)
            for label in FINE_LABELS if label in TURN_KEYWORDS]
    lfs += [context_lf(label, CONTEXT_KEYWORDS[label]) for label in FINE_LABELS if label in CONTEXT_KEYWORDS]
    lfs += [emoji_lf(label, EMOJI[label]) for label in FINE_LABELS if label in EMOJI]
    lfs += [emolex_lf(emotion, label, negation, skip_dialogue=emotion in EMOLEX_NOT_IN_DIALOGUE)
            for emotion, label in EMOLEX_TO_LABEL.items()]
    lfs += [vad_excitement, vad_joy, punct_question, punct_interrobang,
            punct_exclaim_positive, punct_shout_negative, neutral_no_cue]
    return lfs


def nrclex_baseline_lfs() -> list[LabelingFunction]:
    """The nrclex-style baseline: EmoLex word voting per Ekman emotion, no negation, nothing else."""
    return [emolex_lf(emotion, label, negation=False, exclusive=False, min_hits=1, prefix="nrclex")
            for emotion, label in EMOLEX_TO_LABEL.items()]
