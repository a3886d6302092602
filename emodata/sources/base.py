"""What every source reader returns, and the bad-row policy they share."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, Literal, Union

import pandas as pd

from emodata.core.errors import BadRowError
from emodata.core.hashing import sha1_file

OnBadRow = Literal["error", "skip"]

#: Columns every reader produces, in this order (the annotate stage adds the rest).
READER_COLUMNS = (
    "id", "source", "source_split", "text", "context", "speaker", "conv_id", "turn", "situation",
    "labels", "source_labels", "example_unclear",
)
#: How many previous turns of a dialogue are kept as `context`.
CONTEXT_TURNS = 4
#: About how many records a streaming reader yields at a time (whole dialogues: a chunk may be longer).
CHUNK_ROWS = 5_000


@dataclass
class ReadReport:
    """What a reader read: files with their SHA-1, rows in, rows skipped or repaired per reason."""

    files: list[dict] = field(default_factory=list)
    rows_read: int = 0
    skipped: Counter = field(default_factory=Counter)
    repaired: Counter = field(default_factory=Counter)

    def add_file(self, path: Path, rows: int) -> None:
        """Record one input file (its SHA-1 goes into the manifest)."""
        self.files.append({"path": str(path), "sha1": sha1_file(path), "rows": rows})

    def to_dict(self) -> dict:
        """JSON-ready form for manifests and caches."""
        return {"files": self.files, "rows_read": self.rows_read,
                "skipped": dict(sorted(self.skipped.items())),
                "repaired": dict(sorted(self.repaired.items()))}


class RowGuard:
    """Applies the `--on-bad-row` policy: raise a `BadRowError`, or count the row and go on."""

    def __init__(self, policy: OnBadRow, report: ReadReport):
        if policy not in ("error", "skip"):
            raise ValueError(f"on_bad_row must be 'error' or 'skip', not {policy!r}")
        self.policy = policy
        self.report = report

    def bad(self, path: str | Path, line: int, problem: str, reason: str) -> None:
        """Handle one malformed row: raise under 'error', count it under `reason` under 'skip'."""
        if self.policy == "error":
            raise BadRowError(path, line, problem)
        self.report.skipped[reason] += 1


@dataclass
class SourceData:
    """One source read into the reader columns, with where it came from and what was dropped."""

    name: str
    origin: str
    records: pd.DataFrame
    report: ReadReport


def make_frame(rows: list[dict]) -> pd.DataFrame:
    """A DataFrame with exactly the reader columns, in order."""
    return pd.DataFrame(rows, columns=list(READER_COLUMNS))


def dialogue_rows(source: str, split: str, conv_id: str, utterances: list[tuple[str, str, list[str], list[str]]],
                  situation: str | None = None, turn_numbers: list[int] | None = None) -> list[dict]:
    """Reader rows of one dialogue: (speaker, text, source_labels, unified labels) per turn.

    Each row keeps the previous `CONTEXT_TURNS` utterances as `context`; `turn` (and the id) is the
    source's own turn number when given (so ids still point at source rows after skips), else 1-based.
    """
    rows = []
    texts = [u[1] for u in utterances]
    numbers = turn_numbers or list(range(1, len(utterances) + 1))
    for position, (number, (speaker, text, source_labels, labels)) in enumerate(zip(numbers, utterances)):
        rows.append({
            "id": f"{source}:{conv_id}:{number}",
            "source": source, "source_split": split, "text": text,
            "context": texts[max(0, position - CONTEXT_TURNS):position],
            "speaker": speaker, "conv_id": conv_id, "turn": number, "situation": situation,
            "labels": labels, "source_labels": source_labels, "example_unclear": False,
        })
    return rows


#: What a source stream yields: reader records (dicts, built-in readers) or a whole frame (the others).
Chunk = Union[list, pd.DataFrame]


@dataclass
class SourceStream:
    """One source read a chunk at a time: `chunks` yields the records in source order (lists of record
    dicts, each ending at a dialogue's end, or one whole frame for readers that cannot stream). `report`
    is complete once `chunks` is exhausted; errors (bad rows, encoding) are raised as chunks are drawn."""

    name: str
    origin: str
    chunks: Iterator[Chunk]
    report: ReadReport

    def collect(self) -> SourceData:
        """The whole source as one `SourceData` (what the reader returns when not streamed)."""
        rows: list[dict] = []
        for chunk in self.chunks:
            if isinstance(chunk, pd.DataFrame):
                return SourceData(self.name, self.origin, chunk, self.report)
            rows.extend(chunk)
        return SourceData(self.name, self.origin, make_frame(rows), self.report)

    @classmethod
    def whole(cls, data: SourceData) -> "SourceStream":
        """A stream of one already-read source (Hub rows, registered readers that cannot stream)."""
        return cls(data.name, data.origin, iter([data.records]), data.report)


def sized_chunks(groups: Iterable[list[dict]], chunk_rows: int = CHUNK_ROWS) -> Iterator[list[dict]]:
    """Chunks of at least `chunk_rows` records (the last one shorter), made of whole groups (dialogues)."""
    chunk: list[dict] = []
    for group in groups:
        chunk.extend(group)
        if len(chunk) >= chunk_rows:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def record_parts(chunks: Iterable[Chunk], part_rows: int) -> Iterator[pd.DataFrame]:
    """The annotate stage's parts: frames of exactly `part_rows` records (the last one shorter), cut
    from a source stream's chunks whatever their sizes, so the parts are the whole-source frame's rows
    `[i * part_rows, (i + 1) * part_rows)` (a whole frame is sliced as it is)."""
    if part_rows < 1:
        raise ValueError(f"part_rows must be >= 1, got {part_rows}")
    pending: list[dict] = []
    for chunk in chunks:
        if isinstance(chunk, pd.DataFrame):
            if pending:
                raise ValueError("a source stream mixes whole frames with record chunks")
            yield from (chunk.iloc[start:start + part_rows] for start in range(0, len(chunk), part_rows))
            continue
        pending.extend(chunk)
        while len(pending) >= part_rows:
            yield make_frame(pending[:part_rows])
            del pending[:part_rows]
    if pending:
        yield make_frame(pending)
