"""EmpatheticDialogues (Rashkin et al., 2019): the original comma-split CSV files.

The release is not CSV-quoted: fields are split on plain commas and commas inside text are
written as `_comma_`. A few rows carry extra commas. Our documented repair rule:
- if field 7 (selfeval) looks like a selfeval (`d|d|d_d|d|d`) or is empty, any fields beyond the
  eighth are trailing extras (tags / inline candidates) and are dropped;
- otherwise the utterance itself held raw commas: the utterance runs up to the first later field
  that looks like a selfeval, and the pieces are re-joined with ",".
Repaired rows are counted in the read report; rows that cannot be repaired are bad rows.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable, Mapping

from catalog import load_catalog

from ..errors import DataNotFoundError
from .base import OnBadRow, ReadReport, RowGuard, SourceData, dialogue_rows, make_frame

NAME = "empatheticdialogues"
TAXONOMY = "ed32"
FILES = {"train": "train.csv", "validation": "valid.csv", "test": "test.csv"}
HEADER = "conv_id,utterance_idx,context,prompt,speaker_idx,utterance,selfeval,tags"
_SELFEVAL = re.compile(r"^(\d+\|\d+\|\d+_\d+\|\d+\|\d+)?$")


def unescape(text: str) -> str:
    """Undo the release's `_comma_` escaping."""
    return text.replace("_comma_", ",").strip()


def split_line(line: str) -> tuple[list[str] | None, str | None]:
    """Split one data line into the 8 fields, repairing extra commas; returns (fields, repair)."""
    parts = line.split(",")
    if len(parts) == 8:
        return parts, None
    if len(parts) < 8:
        return None, None
    if _SELFEVAL.match(parts[6]):
        return parts[:8], "extra_trailing_fields"
    for j in range(7, len(parts) - 1):
        if _SELFEVAL.match(parts[j]) and parts[j]:
            return parts[:5] + [",".join(parts[5:j]), parts[j], ",".join(parts[j + 1:])], \
                "unescaped_comma_in_utterance"
    return None, None


def _conversation(split: str, conv_id: str, rows: list[dict]) -> list[dict]:
    catalog = load_catalog()
    emotion = rows[0]["context"]
    labels = catalog.to_unified(TAXONOMY, [emotion])
    turns = [(str(r["speaker_idx"]), unescape(r["utterance"]), [emotion], labels) for r in rows]
    return dialogue_rows(NAME, split, conv_id, turns, situation=unescape(rows[0]["prompt"]),
                         turn_numbers=[int(r["utterance_idx"]) for r in rows])


def _rows_to_records(split: str, rows: Iterable[dict]) -> list[dict]:
    conversations: dict[str, list[dict]] = {}
    for row in rows:  # rows of one conversation need not be adjacent
        conversations.setdefault(row["conv_id"], []).append(row)
    records = []
    for conv_id, group in conversations.items():
        records.extend(_conversation(split, conv_id, sorted(group, key=lambda r: int(r["utterance_idx"]))))
    return records


def _read_file(path: Path, split: str, guard: RowGuard) -> list[dict]:
    labels = set(load_catalog().taxonomies[TAXONOMY].labels)
    rows = []
    with open(path, encoding="utf-8", newline="\n") as handle:
        header = handle.readline().rstrip("\r\n")
        if header != HEADER:
            raise DataNotFoundError(f"{path}, line 1: not an EmpatheticDialogues header (expected {HEADER!r})")
        for line_no, line in enumerate(handle, start=2):
            line = line.rstrip("\r\n")
            if not line:
                continue
            guard.report.rows_read += 1
            fields, repair = split_line(line)
            if fields is None:
                guard.bad(path, line_no, f"expected 8 comma-separated fields, found {line.count(',') + 1} "
                                         "and no repairable pattern", "wrong_field_count")
                continue
            row = dict(zip(HEADER.split(","), fields))
            if not row["utterance_idx"].isdigit() or not row["speaker_idx"].strip().isdigit():
                guard.bad(path, line_no, "utterance_idx and speaker_idx must be integers", "bad_integer")
                continue
            if row["context"] not in labels:
                guard.bad(path, line_no, f"unknown emotion label {row['context']!r}", "unknown_label")
                continue
            if not unescape(row["utterance"]):
                guard.bad(path, line_no, "empty utterance", "empty_field")
                continue
            if repair:
                guard.report.repaired[repair] += 1
            rows.append(row)
    guard.report.add_file(path, len(rows))
    return _rows_to_records(split, rows)


def read_empathetic(directory: str | Path, on_bad_row: OnBadRow = "error") -> SourceData:
    """Read EmpatheticDialogues' train/valid/test.csv from `directory` into utterance records."""
    directory = Path(directory)
    present = {split: directory / name for split, name in FILES.items() if (directory / name).is_file()}
    if not present:
        raise DataNotFoundError(
            f"no EmpatheticDialogues files in {directory}: expected {', '.join(FILES.values())} from "
            "https://dl.fbaipublicfiles.com/parlai/empatheticdialogues/empatheticdialogues.tar.gz")
    report = ReadReport()
    guard = RowGuard(on_bad_row, report)
    records = [r for split, path in present.items() for r in _read_file(path, split, guard)]
    return SourceData(NAME, f"local:{directory}", make_frame(records), report)


def empathetic_from_hub(splits: Mapping[str, Iterable[Mapping]], hub_id: str) -> SourceData:
    """Convert the Hub's rows (same columns as the CSV, `_comma_` still escaped) per split."""
    report = ReadReport()
    records = []
    for split, examples in splits.items():
        rows = [dict(e) for e in examples]
        report.rows_read += len(rows)
        records.extend(_rows_to_records("validation" if split == "valid" else split, rows))
    return SourceData(NAME, f"hub:{hub_id}", make_frame(records), report)
