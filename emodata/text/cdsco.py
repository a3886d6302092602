"""Reader and evaluator for the *SEM 2012 CD-SCO negation corpus (ConanDoyle-neg, Morante & Blanco 2012).

Format (CoNLL-like): one token per line, TAB-separated, a blank line between sentences. Columns: chapter
id, sentence number, token number, word, lemma, PoS, syntax; then either `***` (no negation) or three
columns per negation instance: cue, scope, negated event, each `_` or the (part of the) word it covers
(affixal cues: `un` of `unhappy`, `less` of `careless`). Rows therefore have 8 or 7 + 3k columns.

`read_cdsco(path)` refuses a malformed file with an `EmodataError` naming file and line. `evaluate`
scores a resolver the way the shared task does, and exactly as the reference scorer
(`score_cdsco.py`): scope tokens per instance with the gold cue given, scope tokens per sentence with
the system's own cues (union of scopes, gold and predicted cue tokens excluded), cue tokens (an
affixal cue counts as its whole token), plus exact scope match per instance (gold cues) and
instance-level cue P/R/F1 (a cue is found when its token set is predicted exactly).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Sequence

from emodata.core.errors import EmodataError


@dataclass(frozen=True)
class GoldNegation:
    """One annotated negation instance: token indices of cue, scope and negated event."""

    cue: tuple[int, ...]
    scope: tuple[int, ...]
    event: tuple[int, ...]
    #: the annotated part of each cue token ("un" of "unhappy"), aligned with `cue`.
    cue_parts: tuple[str, ...] = ()


@dataclass(frozen=True)
class Sentence:
    """A CD-SCO sentence: ids, tokens, lemmas, PoS tags and its negation instances."""

    chapter: str
    number: str
    words: tuple[str, ...]
    lemmas: tuple[str, ...]
    pos: tuple[str, ...]
    negations: tuple[GoldNegation, ...] = ()
    #: 1-based line of the sentence's first token in its file.
    line: int = 0


def _blocks(path: Path) -> Iterator[tuple[int, list[list[str]]]]:
    rows: list[list[str]] = []
    start = 0
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise EmodataError(f"{path}: not UTF-8 ({exc})") from exc
    for lineno, line in enumerate(text.split("\n"), start=1):
        line = line.rstrip("\r")
        if not line.strip():
            if rows:
                yield start, rows
                rows = []
            continue
        if not rows:
            start = lineno
        rows.append(line.split("\t"))
    if rows:
        yield start, rows


def _check_rows(path: Path, start: int, rows: list[list[str]]) -> int:
    """Validate one sentence's rows; returns its number of negation instances."""
    width = len(rows[0])
    for k, row in enumerate(rows):
        line = start + k
        if len(row) != width:
            raise EmodataError(f"{path}, line {line}: {len(row)} columns, the sentence's first row has {width}")
        if len(row) < 8 or (len(row) != 8 and (len(row) - 7) % 3):
            raise EmodataError(f"{path}, line {line}: {len(row)} columns; a CD-SCO row has 8 or 7 + 3k columns")
        if len(row) == 8 and row[7] != "***":
            raise EmodataError(f"{path}, line {line}: 8 columns but column 8 is {row[7]!r}, not '***'")
        if row[:2] != rows[0][:2]:
            raise EmodataError(f"{path}, line {line}: chapter/sentence id {row[:2]} differs from the "
                               f"sentence's {rows[0][:2]} (missing blank line?)")
        if row[2] != str(k):
            raise EmodataError(f"{path}, line {line}: token number {row[2]!r}, expected {k}")
        if len(row) > 8 or row[7] != "***":
            for c in range(7, len(row)):
                if row[c] != "_" and row[c] not in row[3]:
                    kind = ("cue", "scope", "event")[(c - 7) % 3]
                    raise EmodataError(f"{path}, line {line}: {kind} column {c + 1} is {row[c]!r}, which is not "
                                       f"(part of) the word {row[3]!r}")
    return 0 if width == 8 else (width - 7) // 3


def _negation(path: Path, start: int, rows: list[list[str]], k: int) -> GoldNegation:
    cols = [[r[7 + 3 * k + j] for r in rows] for j in range(3)]
    cue = tuple(i for i, v in enumerate(cols[0]) if v != "_")
    if not cue:
        raise EmodataError(f"{path}, line {start}: negation instance {k + 1} has scope/event but no cue token")
    parts = tuple(cols[0][i] for i in cue)
    return GoldNegation(cue=cue, scope=tuple(i for i, v in enumerate(cols[1]) if v != "_"),
                        event=tuple(i for i, v in enumerate(cols[2]) if v != "_"), cue_parts=parts)


def read_cdsco(path: str | Path) -> list[Sentence]:
    """Read one CD-SCO file into sentences; a malformed file raises EmodataError naming file and line."""
    path = Path(path)
    if not path.is_file():
        raise EmodataError(f"{path}: no such CD-SCO file")
    out = []
    for start, rows in _blocks(path):
        n = _check_rows(path, start, rows)
        out.append(Sentence(chapter=rows[0][0], number=rows[0][1], words=tuple(r[3] for r in rows),
                            lemmas=tuple(r[4] for r in rows), pos=tuple(r[5] for r in rows),
                            negations=tuple(_negation(path, start, rows, k) for k in range(n)), line=start))
    if not out:
        raise EmodataError(f"{path}: no sentences")
    return out


def read_many(paths: Sequence[str | Path]) -> list[Sentence]:
    """All sentences of several CD-SCO files, in order."""
    return [s for p in paths for s in read_cdsco(p)]


@dataclass
class Counts:
    """True positives, false positives and false negatives, with P/R/F1."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, pred: set[int], gold: set[int]) -> None:
        """Count one predicted vs gold token set."""
        self.tp += len(pred & gold)
        self.fp += len(pred - gold)
        self.fn += len(gold - pred)

    def prf(self) -> tuple[float, float, float]:
        """Precision, recall and F1 (0 where undefined)."""
        p = self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0
        r = self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0
        return p, r, (2 * p * r / (p + r) if p + r else 0.0)


@dataclass
class Evaluation:
    """The shared-task figures for one method over some sentences."""

    scope_gold_cues: Counts = field(default_factory=Counts)
    scope_own_cues: Counts = field(default_factory=Counts)
    cue_tokens: Counts = field(default_factory=Counts)
    cue_instances: Counts = field(default_factory=Counts)
    exact_scope: int = 0
    instances: int = 0

    def rows(self) -> list[tuple[str, float, float, float, str]]:
        """(name, P, R, F1, detail) rows, the reference scorer's three first."""
        out = []
        for name, c in (("scope, gold cues (per instance)", self.scope_gold_cues),
                        ("scope, own cues (per sentence)", self.scope_own_cues), ("cue", self.cue_tokens),
                        ("cue instances (exact)", self.cue_instances)):
            out.append((name, *c.prf(), f"tp {c.tp}, fp {c.fp}, fn {c.fn}"))
        return out

    def format(self) -> str:
        """The figures as text lines."""
        lines = [f"{n:34} P {p:.3f}  R {r:.3f}  F1 {f:.3f}  ({d})" for n, p, r, f, d in self.rows()]
        rate = self.exact_scope / self.instances if self.instances else 0.0
        lines.append(f"{'exact scope match, gold cues':34} {rate:.3f}  ({self.exact_scope}/{self.instances})")
        return "\n".join(lines)


#: resolve(words, cues=None) -> list of objects with .cue and .scope (token index tuples)
Resolver = Callable[..., list]


def _union(sets) -> set[int]:
    out: set[int] = set()
    for s in sets:
        out |= set(s)
    return out


def evaluate(sentences: Sequence[Sentence], resolver: Resolver) -> Evaluation:
    """Score `resolver` on gold sentences with the shared task's definitions (see the module docstring)."""
    ev = Evaluation()
    for s in sentences:
        words = list(s.words)
        for neg in s.negations:
            cue = set(neg.cue)
            got = resolver(words, cues=[sorted(cue)])
            pred = _union(n.scope for n in got) - cue
            gold = set(neg.scope) - cue
            ev.scope_gold_cues.add(pred, gold)
            ev.instances += 1
            ev.exact_scope += pred == gold
        own = resolver(words)
        gc = _union(n.cue for n in s.negations)
        pc = _union(n.cue for n in own)
        ev.cue_tokens.add(pc, gc)
        gold_inst = {tuple(sorted(n.cue)) for n in s.negations}
        pred_inst = {tuple(sorted(n.cue)) for n in own}
        ev.cue_instances.tp += len(gold_inst & pred_inst)
        ev.cue_instances.fp += len(pred_inst - gold_inst)
        ev.cue_instances.fn += len(gold_inst - pred_inst)
        gs = _union(n.scope for n in s.negations) - gc
        ps = _union(n.scope for n in own) - gc - pc
        ev.scope_own_cues.add(ps, gs)
    return ev
