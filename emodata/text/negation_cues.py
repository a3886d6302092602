"""Negation cue detection over CD-SCO's cue inventory, listed from the CD-SCO training file.

A cue is one of (checked in this order, each token used once):
- a multi-word cue seen in training ("by no means", "no longer", "rather than", "on the contrary",
  "not for the world", "nothing at all") or "neither ... nor" (one cue, two tokens);
- a syntactic cue word (not, no, n't, never, nothing, without, none, nor, nobody, nowhere, ...): a word
  listed when it was a cue in at least half of its training occurrences, unless it sits in a fixed
  expression that is not negation (`FIXED`: "none the less", "no doubt", "not only", "nothing but", ...,
  plus the cue-word bigrams that training never annotates as cues);
- an affixal cue (un-, in-, im-, il-, ir-, dis-, non-, -less/-lessly/-lessness): a word annotated so in
  training, or an unseen word whose stem is an English adjective (prefixes) or noun/verb (-less) in
  spaCy's WordNet lemma index; words seen in training without a cue are never affixal cues, nor are
  `NOT_AFFIXAL` words ("under", "uncle", "bless", "indeed", ...).

The lists live in the JSON model (`emodata/models/negation_cues.json`), rebuilt by `emodata negation
train`. `CueDetector.detect(words)` returns the cues as tuples of token indices.
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Sequence

from emodata.text.cdsco import Sentence

PREFIXES = ("non", "dis", "un", "in", "im", "il", "ir")
SUFFIXES = ("lessness", "lessly", "less")
#: Fixed expressions that contain a cue word but are not negation (cue word index first).
FIXED = (("none", "the", "less"), ("no", "doubt"), ("not", "only"), ("nothing", "but"), ("no", "more", "than"),
         ("not", "just"), ("no", "wonder"), ("never", "mind"), ("not", "to", "mention"), ("nothing", "else", "than"))
NOT_AFFIXAL = frozenset({"under", "uncle", "bless", "blessed", "indeed", "unless", "until", "unit", "union",
                         "universe", "unique", "inside", "interest", "inform", "discover", "display", "dismiss",
                         "impress", "import", "impart", "income", "invest", "insist", "instant", "industry",
                         "nevertheless", "nonetheless", "regardless", "doubtless", "unto", "infant", "irony"})
#: dis- + verb is too often not a negation (discover, dissolve, dispose): only these verbs are.
DIS_VERBS = frozenset({"dislike", "disagree", "disapprove", "disobey", "distrust", "disbelieve", "dissatisfy",
                       "displease", "disallow", "disqualify", "disconnect", "disown", "disregard", "dishonour",
                       "dishonor", "disavow"})
MODEL_VERSION = "cdsco-cues-v1"
#: Cue-word spellings of online text that the CD-SCO novels never use (so training cannot list them).
INFORMAL_CUES = frozenset({"cannot", "nt", "dont", "didnt", "doesnt", "isnt", "wasnt", "cant", "wont", "couldnt",
                           "wouldnt"})
#: Cue words beyond CD-SCO's learned single-word list that the window method keeps: approximate negators
#: and "lack" (rare or unannotated in CD-SCO, frequent in opinions), and "neither" on its own.
WINDOW_EXTRA_CUES = frozenset({"hardly", "barely", "scarcely", "lack", "lacks", "lacked", "lacking", "neither"})
#: (cue, next word) pairs that only the window treats as non-negation: "no matter" never occurs in
#: CD-SCO; "not to" does and is annotated as a cue there, so the learned detector keeps it.
WINDOW_PSEUDO = frozenset({("no", "matter"), ("not", "to")})


@dataclass
class CueLists:
    """What the detector knows: cue words, affixal words, multi-word cues, non-cue contexts, seen words."""

    words: dict[str, list[int]]
    affixal: dict[str, str]
    multi: list[list[str]]
    fixed: list[list[str]]
    seen_plain: list[str]

    def to_json(self) -> str:
        """Deterministic JSON text of the lists."""
        return json.dumps({"version": MODEL_VERSION, "words": self.words, "affixal": self.affixal,
                           "multi": self.multi, "fixed": self.fixed, "seen_plain": self.seen_plain},
                          sort_keys=True, indent=1) + "\n"

    @classmethod
    def from_json(cls, text: str) -> "CueLists":
        """Lists from `to_json` text."""
        d = json.loads(text)
        return cls(d["words"], d["affixal"], d["multi"], d["fixed"], d["seen_plain"])


def learn_cues(sentences: Sequence[Sentence]) -> CueLists:
    """List the cue inventory from annotated training sentences."""
    cue_count: Counter = Counter()
    total: Counter = Counter()
    affixal: dict[str, str] = {}
    multi: set[tuple[str, ...]] = set()
    cue_tokens = []
    for s in sentences:
        low = [w.lower() for w in s.words]
        total.update(low)
        single = set()
        for n in s.negations:
            if len(n.cue) > 1:
                if len({low[i] for i in n.cue}) == len(n.cue):
                    multi.add(tuple(low[i] for i in n.cue))
            elif n.cue_parts[0].lower() != low[n.cue[0]]:
                affixal[low[n.cue[0]]] = n.cue_parts[0].lower()
            else:
                single.add(n.cue[0])
                cue_count[low[n.cue[0]]] += 1
        cue_tokens.append((low, single))
    words = {w: [c, total[w]] for w, c in cue_count.items() if c * 2 >= total[w]}
    non_cue_ctx: Counter = Counter()
    cue_ctx: Counter = Counter()
    for low, single in cue_tokens:
        for i, w in enumerate(low):
            if w in words and i + 1 < len(low):
                (cue_ctx if i in single else non_cue_ctx)[(w, low[i + 1])] += 1
    fixed = sorted([list(k) for k, n in non_cue_ctx.items() if n >= 2 and cue_ctx[k] == 0])
    seen_plain = sorted(w for w in total if w not in affixal and affix_shape(w))
    return CueLists(words=dict(sorted(words.items())), affixal=dict(sorted(affixal.items())),
                    multi=sorted(list(m) for m in multi), fixed=fixed, seen_plain=seen_plain)


def affix_shape(word: str) -> str | None:
    """The negative affix `word` could carry ("un", "less", ...), or None."""
    if not word.isalpha() or len(word) < 5:
        return None
    for suf in SUFFIXES:
        if word.endswith(suf) and len(word) - len(suf) >= 3:
            return "less"
    for pre in PREFIXES:
        if word.startswith(pre) and len(word) - len(pre) >= 3:
            return pre
    return None


@lru_cache(maxsize=1)
def _wordnet_index() -> dict[str, frozenset]:
    from emodata.text.nlp import load_pipeline
    nlp = load_pipeline().nlp
    table = nlp.get_pipe("lemmatizer").lookups.get_table("lemma_index")
    return {pos: frozenset(table.get(pos, [])) for pos in ("adj", "noun", "verb", "adv")}


ENDINGS = (("ly", ""), ("ily", "y"), ("bly", "ble"), ("ness", ""), ("iness", "y"), ("ence", "ent"),
           ("ance", "ant"), ("ity", "e"), ("ed", ""), ("ed", "e"), ("ied", "y"), ("ing", ""), ("ing", "e"))


def _stems(stem: str, participles: bool, depth: int = 2) -> set[str]:
    out = {stem}
    if depth == 0:
        return out
    for end, repl in ENDINGS:
        if stem.endswith(end) and len(stem) - len(end) >= 3 and (participles or end not in ("ed", "ied", "ing")):
            out |= _stems(stem[: -len(end)] + repl, participles, depth - 1)
    return out


def affix_rule(word: str) -> str | None:
    """The affix of an unseen word that is an affixal negation by the stem test, or None."""
    aff = affix_shape(word)
    if aff is None or word in NOT_AFFIXAL:
        return None
    idx = _wordnet_index()
    if aff == "less":
        stem = word[: word.rindex("less")]
        return "less" if stem in idx["noun"] or stem in idx["verb"] else None
    rest = word[len(aff):]
    if aff == "dis" and {word, word[:-1], word[:-2]} & DIS_VERBS | _stems(word, True) & DIS_VERBS:
        return aff
    if aff != "un" and rest.endswith(("ed", "ing")):
        return None
    pool = idx["adj"] if aff != "un" else idx["adj"] | idx["verb"]
    return aff if any(s in pool for s in _stems(rest, aff == "un")) else None


class CueDetector:
    """Find negation cues in a token sequence with the learned lists (see the module docstring)."""

    def __init__(self, lists: CueLists):
        self.lists = lists
        self.words = {w for w, (c, t) in lists.words.items()}
        self.multi = sorted((tuple(m) for m in lists.multi if "nor" not in m), key=len, reverse=True)
        self.fixed = sorted({tuple(f) for f in lists.fixed} | set(FIXED), key=len, reverse=True)
        self.seen_plain = frozenset(lists.seen_plain)
        #: first word -> multi-word cues starting with it (longest first), for a linear scan
        self._multi_by_first: dict[str, list[tuple[str, ...]]] = {}
        for m in self.multi:
            self._multi_by_first.setdefault(m[0], []).append(m)
        self._affixal_memo: dict[str, bool] = {}

    def _in_fixed(self, low: list[str], i: int) -> bool:
        return in_fixed_expression(low, i, self.fixed)

    def detect(self, words: Sequence[str]) -> list[tuple[int, ...]]:
        """The cues in `words`, each a sorted tuple of token indices, in order of their first token."""
        low = [w.lower() for w in words]
        used: set[int] = set()
        cues: list[tuple[int, ...]] = []
        for i, w in enumerate(low):
            for m in self._multi_by_first.get(w, ()):
                if tuple(low[i:i + len(m)]) == m and not used & set(range(i, i + len(m))):
                    cues.append(tuple(range(i, i + len(m))))
                    used.update(range(i, i + len(m)))
        if "neither" in low and "nor" in low:
            a, b = low.index("neither"), low.index("nor")
            if a < b:
                cues.append((a, b))
                used.update((a, b))
        for i, w in enumerate(low):
            if i in used:
                continue
            if w in self.words and not self._in_fixed(low, i):
                cues.append((i,))
            elif self.is_affixal(w):
                cues.append((i,))
        return sorted(cues)

    def clear_memo(self) -> None:
        """Forget the memoised affix tests (for timing a cold run)."""
        self._affixal_memo.clear()

    def is_affixal(self, w: str) -> bool:
        """Whether the lowercased word carries an affixal negation cue (memoised per word)."""
        known = self._affixal_memo.get(w)
        if known is None:
            known = w in self.lists.affixal or (w not in self.seen_plain and affix_rule(w) is not None)
            if len(self._affixal_memo) < 500_000:
                self._affixal_memo[w] = known
        return known


def lists_path() -> Path:
    """Where the shipped cue lists live."""
    return Path(__file__).parent / "models" / "negation_cues.json"


def window_cue_words() -> frozenset[str]:
    """The window method's cue words (`emodata.text.negation.CUES`): the single-word cues learned from
    CD-SCO training (shipped lists) plus `INFORMAL_CUES` and `WINDOW_EXTRA_CUES`."""
    learned = json.loads(lists_path().read_text(encoding="utf-8"))["words"]
    return frozenset(learned) | INFORMAL_CUES | WINDOW_EXTRA_CUES


def in_fixed_expression(low: Sequence[str], i: int, fixed: Sequence[tuple[str, ...]] = FIXED) -> bool:
    """Whether lowercased token i starts one of the `fixed` non-negation expressions ("none the less")."""
    return any(tuple(low[i:i + len(f)]) == f for f in fixed)


@lru_cache(maxsize=1)
def default_detector() -> CueDetector:
    """The detector over the shipped lists."""
    return CueDetector(CueLists.from_json(lists_path().read_text(encoding="utf-8")))
