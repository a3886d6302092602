"""EmpatheticDialogues (Rashkin et al., 2019): the original comma-split CSV files.

The release is not CSV-quoted: fields are split on plain commas and commas inside text are
written as `_comma_`. A few rows carry extra commas. Our documented repair rule, which never drops
utterance text:
- a line of 8 fields whose field 7 is empty or a selfeval (`d|d|d_d|d|d`) needs no repair;
- if field 7 is a selfeval, any fields beyond the eighth are trailing extras (the
  test split's inline candidates) and are dropped;
- else, if a later field is a selfeval, the utterance itself held raw commas (`,,` included): the
  utterance runs up to that field and the pieces are re-joined with ",";
- else, if every field after the utterance is empty, the extra empty fields are dropped;
- anything else is ambiguous (text after an empty selfeval could be utterance or tags) and is a bad
  row, never a guess.
Repaired rows are counted in the read report; rows that cannot be repaired are bad rows. Every file
also passes the edge checks of `emodata.core.validate`.
"""
from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Iterable, Iterator, Mapping

import numpy as np

from catalog import load_catalog

from emodata.core.errors import DataNotFoundError
from emodata.sources.base import (CHUNK_ROWS, OnBadRow, ReadReport, RowGuard, SourceData, SourceStream,
                                  dialogue_rows, make_frame, sized_chunks)
from emodata.core.validate import (DEFAULT_MAX_CHARS, EdgeChecks, InputEncodingError, file_lines, is_ascii_int,
                                   scan_lines, strip_controls)

NAME = "empatheticdialogues"
TAXONOMY = "ed32"
FILES = {"train": "train.csv", "validation": "valid.csv", "test": "test.csv"}
HEADER = "conv_id,utterance_idx,context,prompt,speaker_idx,utterance,selfeval,tags"
COLUMNS = HEADER.split(",")
_SELFEVAL = re.compile(r"[0-9]+\|[0-9]+\|[0-9]+_[0-9]+\|[0-9]+\|[0-9]+")


def unescape(text: str) -> str:
    """Undo the release's `_comma_` escaping."""
    return text.replace("_comma_", ",").strip()


def split_line(line: str) -> tuple[list[str] | None, str | None]:
    """Split one data line into the 8 fields, repairing extra commas; returns (fields, repair).

    (None, None) when the line has too few fields or its extra commas are ambiguous (module docstring).
    """
    parts = line.split(",")
    if len(parts) < 8:
        return None, None
    if len(parts) == 8 and (not parts[6] or _SELFEVAL.fullmatch(parts[6])):
        return parts, None
    anchor = next((j for j in range(6, len(parts)) if _SELFEVAL.fullmatch(parts[j])), None)
    if anchor == 6:
        return parts[:8], "extra_trailing_fields"
    if anchor is not None:
        return parts[:5] + [",".join(parts[5:anchor]), parts[anchor], ",".join(parts[anchor + 1:])], \
            "unescaped_comma_in_utterance"
    if not any(parts[6:]):
        return parts[:8], "extra_trailing_fields"
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


def _parse_row(path: Path, line_no: int, line: str, checks: EdgeChecks, labels: set[str]) -> dict | None:
    """The fields of one data line as a dict, or None for a bad row (raised or counted by the guard)."""
    guard = checks.guard
    fields, repair = split_line(line)
    if fields is None:
        n_fields = line.count(",") + 1
        problem = (f"expected 8 comma-separated fields, found {n_fields} and no repairable pattern"
                   if n_fields != 8 else "field 7 is neither empty nor a selfeval (d|d|d_d|d|d): a raw comma "
                                         "in the utterance?")
        guard.bad(path, line_no, problem, "wrong_field_count")
        return None
    row = dict(zip(COLUMNS, fields))
    if not is_ascii_int(row["utterance_idx"]) or not is_ascii_int(row["speaker_idx"].strip()):
        guard.bad(path, line_no, "utterance_idx and speaker_idx must be integers", "bad_integer")
        return None
    if row["context"] not in labels:
        guard.bad(path, line_no, f"unknown emotion label {row['context']!r}", "unknown_label")
        return None
    if not checks.agrees(path, line_no, row["conv_id"], row["context"], "label"):
        return None
    text = unescape(row["utterance"])
    if not text:
        guard.bad(path, line_no, "empty utterance", "empty_field")
        return None
    if not checks.fits(path, line_no, text) or not checks.first_sighting(
            path, line_no, f"{row['conv_id']}:{int(row['utterance_idx'])}"):
        return None
    if repair:
        guard.report.repaired[repair] += 1
    return row


def _read_file(path: Path, split: str, checks: EdgeChecks, contiguous: bool) -> Iterator[list[dict]]:
    """The records of one split file. With `contiguous` (no conversation's rows are apart, in any file:
    `_conversations_contiguous`) each conversation is yielded, and its ids forgotten, when its rows end;
    else the whole file's conversations are grouped at its end (rows of one conversation need not be
    adjacent). Same records, same order either way."""
    labels = set(load_catalog().taxonomies[TAXONOMY].labels)
    n_lines, lines = checks.open_lines(path)
    if not n_lines:
        checks.require_rows(path, 0)  # an empty file: refused as an empty split
    if next(lines) != HEADER:
        raise DataNotFoundError(f"{path}, line 1: not an EmpatheticDialogues header (expected {HEADER!r})")
    rows: list[dict] = []
    kept = 0
    for line_no, line in enumerate(lines, start=2):
        if not line:
            continue
        checks.report.rows_read += 1
        row = _parse_row(path, line_no, checks.clean(line), checks, labels)
        if row is None:
            continue
        kept += 1
        if contiguous and rows and row["conv_id"] != rows[-1]["conv_id"]:
            yield _ended(split, rows, checks)
            rows = []
        rows.append(row)
    checks.require_rows(path, kept)
    checks.report.add_file(path, kept)
    yield _ended(split, rows, checks) if contiguous else _rows_to_records(split, rows)


def _ended(split: str, rows: list[dict], checks: EdgeChecks) -> list[dict]:
    """The records of one conversation whose rows are all read; its ids and label are forgotten."""
    if not rows:
        return []
    conv_id = rows[0]["conv_id"]
    checks.forget([f"{conv_id}:{int(r['utterance_idx'])}" for r in rows], [("label", conv_id)])
    return _rows_to_records(split, rows)


def _conversations_contiguous(paths: Iterable[Path]) -> bool:
    """Whether every conversation id's lines form one run over all `paths` (a cheap first pass over the
    files' conversation ids, held as SHA-1 digests of each run's id). A file that is not UTF-8 ends the
    pass (the read refuses it when it gets there)."""
    runs = bytearray()  # 20 bytes a run
    for path in paths:
        try:
            _, dirty = scan_lines(path)
        except InputEncodingError:
            break
        previous = None
        for number, line in enumerate(file_lines(path)):
            if number == 0 or not line:
                continue
            key = line.split(",", 1)[0]
            key = strip_controls(key) if dirty else key
            if key != previous:
                runs += hashlib.sha1(key.encode("utf-8")).digest()
                previous = key
    digests = np.frombuffer(bytes(runs), dtype="S20")
    return len(np.unique(digests)) == len(digests)


def read_empathetic(directory: str | Path, on_bad_row: OnBadRow = "error",
                    max_chars: int = DEFAULT_MAX_CHARS) -> SourceData:
    """Read EmpatheticDialogues' train/valid/test.csv from `directory` into utterance records
    (utterances up to `max_chars` characters; see `emodata.core.validate`)."""
    return stream_empathetic(directory, on_bad_row, max_chars).collect()


def stream_empathetic(directory: str | Path, on_bad_row: OnBadRow = "error", max_chars: int = DEFAULT_MAX_CHARS,
                      chunk_rows: int = CHUNK_ROWS) -> SourceStream:
    """`read_empathetic` a chunk of about `chunk_rows` records (whole conversations) at a time."""
    directory = Path(directory)
    present = {split: directory / name for split, name in FILES.items() if (directory / name).is_file()}
    if not present:
        raise DataNotFoundError(
            f"no EmpatheticDialogues files in {directory}: expected {', '.join(FILES.values())} from "
            "https://dl.fbaipublicfiles.com/parlai/empatheticdialogues/empatheticdialogues.tar.gz")
    report = ReadReport()
    checks = EdgeChecks(RowGuard(on_bad_row, report), max_chars)

    def groups() -> Iterator[list[dict]]:
        contiguous = _conversations_contiguous(present.values())
        for split, path in present.items():
            yield from _read_file(path, split, checks, contiguous)

    return SourceStream(NAME, f"local:{directory}", sized_chunks(groups(), chunk_rows), report)


def empathetic_from_hub(splits: Mapping[str, Iterable[Mapping]], hub_id: str) -> SourceData:
    """Convert the Hub's rows (same columns as the CSV, `_comma_` still escaped) per split."""
    report = ReadReport()
    records = []
    for split, examples in splits.items():
        rows = [dict(e) for e in examples]
        report.rows_read += len(rows)
        records.extend(_rows_to_records("validation" if split == "valid" else split, rows))
    return SourceData(NAME, f"hub:{hub_id}", make_frame(records), report)
