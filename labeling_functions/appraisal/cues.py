"""Cue-phrase labeling functions with one negation rule, shared by every appraisal atom.

A cue family is a list of phrases written as spaCy tokenises them, lower-cased and space-separated
("ca n't help" for "can't help"), matched against the row's `padded` token string, plus the vote it
casts (1 = the atom is high, 0 = low) and what a negated match does:

- a match is *negated* when its first token lies inside a negation scope (the `neg` column, from
  emodata/negation.py: "did n't **win**") or the token right after the phrase is a negator
  ("I **will** not"); a cue phrase that contains its own negator ("no choice", "ca n't help") starts
  before the negator, so it is not negated by it;
- `negated="flip"`: a negated match votes the opposite value ("did n't win" → goal not attained);
- `negated="abstain"`: a negated match casts no vote ("not unfair" is litotes, not "fair");
- matches overlapping one of the family's `exclude` phrases are ignored ("passed away" is not a
  passed exam, "I'm sorry you ..." is sympathy, not an apology);
- the LF votes when all its counted matches agree, and abstains when none is counted or they disagree.

With `negation=False` (the build's negation ablation) every match counts as not negated.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from snorkel.labeling import LabelingFunction, labeling_function

from labeling_functions.core import ABSTAIN

HIGH, LOW = 1, 0
NEGATORS = frozenset({"not", "n't", "nt", "never"})
NEGATED_RULES = ("flip", "abstain")


@dataclass(frozen=True)
class CueFamily:
    """A named list of cue phrases that vote `polarity` for one atom, with its negation rule."""

    name: str
    phrases: tuple[str, ...]
    polarity: int
    negated: str = "flip"
    exclude: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.polarity not in (HIGH, LOW):
            raise ValueError(f"cue family {self.name!r}: polarity must be 1 or 0, not {self.polarity!r}")
        if self.negated not in NEGATED_RULES:
            raise ValueError(f"cue family {self.name!r}: negated must be one of {NEGATED_RULES}")
        bad = [p for p in self.phrases + self.exclude if not p.strip() or p != " ".join(p.lower().split())]
        if bad:
            raise ValueError(f"cue family {self.name!r}: phrases must be lower-case, single-spaced "
                             f"token strings: {bad}")


def find_phrase(padded: str, phrase: str) -> list[tuple[int, int]]:
    """Token spans [start, end) of every occurrence of `phrase` in a padded token string."""
    needle = f" {phrase} "
    width = phrase.count(" ") + 1
    spans, pos = [], padded.find(needle)
    while pos != -1:
        start = padded.count(" ", 0, pos)  # tokens before the match: one leading space each
        spans.append((start, start + width))
        pos = padded.find(needle, pos + 1)
    return spans


def is_negated(lower: Any, neg: Any, start: int, end: int) -> bool:
    """Whether a matched span [start, end) is negated (see the module docstring)."""
    if start < len(neg) and neg[start]:
        return True
    return end < len(lower) and lower[end] in NEGATORS


def cue_vote(x: Any, family: CueFamily, negation: bool = True) -> int:
    """The vote of `family` on row `x` (`HIGH`, `LOW` or `ABSTAIN`)."""
    padded = x.padded
    spans = [span for phrase in family.phrases if f" {phrase} " in padded
             for span in find_phrase(padded, phrase)]
    if not spans:
        return ABSTAIN
    if family.exclude:
        covered = {i for phrase in family.exclude if f" {phrase} " in padded
                   for s, e in find_phrase(padded, phrase) for i in range(s, e)}
        spans = [(s, e) for s, e in spans if covered.isdisjoint(range(s, e))]
    votes = set()
    for start, end in spans:
        if not negation or not is_negated(x.lower, x.neg, start, end):
            votes.add(family.polarity)
        elif family.negated == "flip":
            votes.add(1 - family.polarity)
    return votes.pop() if len(votes) == 1 else ABSTAIN


def make_cue_lf(atom: str, family: CueFamily, negation: bool = True) -> LabelingFunction:
    """A Snorkel LF `app_<atom>_<family>` voting `family` on a row."""

    @labeling_function(name=f"app_{atom}_{family.name}")
    def lf(x: Any) -> int:
        return cue_vote(x, family, negation)

    return lf
