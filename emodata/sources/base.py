"""What every source reader returns, and the bad-row policy they share."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

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
