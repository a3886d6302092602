"""Checks at the edge, shared by every reader and lexicon loader, before anything is annotated.

One rule set, applied the same way by each reader:
- **Encoding**: files are read as strict UTF-8. An undecodable byte (Latin-1, cp1252, a broken
  multi-byte sequence) refuses the whole file with an `InputEncodingError` naming the file, the line
  and the byte offset; the encoding is never guessed, so text is never changed silently.
- **BOM**: a UTF-8 byte-order mark at the start of a file is stripped.
- **Control characters** (documented rule: strip and count): inside a row, C0/C1 control characters
  other than tab and line feed, DEL, and U+FEFF are removed; the ones that separate lines or words
  (CR, VT, FF, FS, GS, RS, US, NEL, U+2028, U+2029) become a space. Each changed row is counted under
  `repaired["control_characters"]`; a row left empty by it is a bad row like any other empty row.
- **Length**: an utterance longer than `max_chars` characters (`--max-chars`) is a bad row (an error
  naming file and line, or under `--on-bad-row skip` a drop counted as `too_many_chars`), so an
  over-long text never reaches the tokenizer.
- **Ids** are unique per source across all of its split files: a second row with the same id is a bad
  row naming both files and lines (`duplicate_id`).
- **Empty split files** are refused: a present file with no data rows, or whose every row was a bad
  row, raises `EmptyInputError` (an empty train split must never let a build draw train rows from dev).
"""
from __future__ import annotations

import codecs
import hashlib
import re
from pathlib import Path
from typing import Iterator, Sequence, TypeVar

import numpy as np

from emodata.core.errors import EmodataError

T = TypeVar("T")

#: Default `--max-chars`: longer utterances are refused (or skipped and counted) before tokenizing.
#: The longest line of the real corpora is 4,298 characters (a whole DailyDialog dialogue); the
#: longest single utterance about 1,000 (EmpatheticDialogues).
DEFAULT_MAX_CHARS = 2000
BOM = b"\xef\xbb\xbf"
#: Control characters that separate lines or words: replaced by a space.
_SPACING_CONTROLS = "\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\u2028\u2029"
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff]")
_CLEAN_TABLE = {code: (" " if chr(code) in _SPACING_CONTROLS else None)
                for code in [*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0), 0x2028, 0x2029, 0xFEFF]}
REPAIR_CONTROL = "control_characters"


class InputEncodingError(EmodataError):
    """A file is not valid UTF-8 (the message names file, line and byte offset)."""


class EmptyInputError(EmodataError):
    """A split or lexicon file holds no usable rows."""


def read_utf8(path: str | Path) -> str:
    """The text of `path` decoded as strict UTF-8, a leading BOM stripped.

    Raises `InputEncodingError` naming the file, the line and the byte offset of the first bad byte.
    """
    data = Path(path).read_bytes()
    start = len(BOM) if data.startswith(BOM) else 0
    try:
        return data[start:].decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = start + exc.start
        bad = data[offset:start + exc.end]
        line = data.count(b"\n", 0, offset) + 1
        hint = ""
        try:
            hint = f" (as cp1252 it would read {bad.decode('cp1252')!r}: re-encode with iconv -f cp1252 -t utf-8)"
        except UnicodeDecodeError:
            pass
        if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
            hint = " (the file starts with a UTF-16 byte-order mark: re-encode with iconv -f utf-16 -t utf-8)"
        raise InputEncodingError(f"{path}, line {line}, byte offset {offset}: invalid UTF-8 byte(s) {bad!r} "
                                 f"({exc.reason}); emodata reads UTF-8 only{hint}") from None


#: Bytes read at a time by the streaming checks (`scan_lines`).
BLOCK_BYTES = 1 << 20


def scan_lines(path: str | Path) -> tuple[int, bool]:
    """One streaming pass over `path`: (its number of `data_lines`, whether any row needs the
    control-character rule). Holds one block at a time; an undecodable byte raises `read_utf8`'s error
    (same file, line and byte offset)."""
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    newlines, dirty, size, last = 0, False, 0, b""
    with open(path, "rb") as handle:
        block = handle.read(BLOCK_BYTES)
        if block.startswith(BOM):
            block = block[len(BOM):]
        while block:
            try:
                dirty = has_controls(decoder.decode(block)) or dirty
            except UnicodeDecodeError:
                read_utf8(path)  # raises the whole-file read's error, naming line and offset
                raise
            newlines += block.count(b"\n")
            size, last = size + len(block), block[-1:]
            block = handle.read(BLOCK_BYTES)
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        read_utf8(path)
        raise
    return newlines + (size > 0 and last != b"\n"), dirty


def file_lines(path: str | Path) -> Iterator[str]:
    """`data_lines(read_utf8(path))`, one line at a time (split on LF only, CR ends stripped, a
    leading BOM dropped). The file must have passed `scan_lines` (valid UTF-8)."""
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle):
            if number == 0 and raw.startswith(BOM):
                raw = raw[len(BOM):]
            yield raw.rstrip(b"\n").decode("utf-8").rstrip("\r")


def is_ascii_int(text: str) -> bool:
    """Whether `text` is a non-negative integer in ASCII digits (`str.isdigit` and `int` alone also
    accept "²" or "٣")."""
    return text.isascii() and text.isdigit()


def data_lines(text: str) -> list[str]:
    """The lines of a file's text split on LF only (a lone CR or form feed inside a row is not a line
    end), each without its line ending; no empty piece after a final LF."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line.rstrip("\r") for line in lines] if "\r" in text else lines


def has_controls(text: str) -> bool:
    """Whether `text` holds any character the control-character rule changes (one scan per file)."""
    return _CONTROL.search(text) is not None


def strip_controls(text: str) -> str:
    """`text` under the control-character rule (see the module docstring)."""
    return text.translate(_CLEAN_TABLE)


class EdgeChecks:
    """The per-source state of the edge checks: the bad-row guard, the length cap and the ids seen."""

    def __init__(self, guard, max_chars: int = DEFAULT_MAX_CHARS):
        if not isinstance(max_chars, int) or max_chars < 1:
            raise EmodataError(f"--max-chars must be a positive integer, not {max_chars!r}")
        self.guard = guard
        self.max_chars = max_chars
        self._first_seen: dict[str, tuple[str | Path, int]] = {}
        self._first_value: dict[tuple[str, str], tuple[str, str | Path, int]] = {}
        self._dirty = False
        self._file_start: tuple[int, int] = (0, 0)
        self._seen: SeenIds | None = None

    @property
    def report(self):
        """The reader's `ReadReport`."""
        return self.guard.report

    def open_text(self, path: str | Path) -> str:
        """Read one input file (`read_utf8`) and note whether its rows need the control-character rule."""
        text = read_utf8(path)
        self._dirty = has_controls(text)
        self._file_start = (self.report.rows_read, sum(self.report.skipped.values()))
        return text

    def open_lines(self, path: str | Path) -> tuple[int, Iterator[str]]:
        """`open_text` streamed: (the file's line count, its lines one at a time). The whole file is
        checked as UTF-8 first, so an encoding error comes before any of its rows, as with `open_text`."""
        n_lines, self._dirty = scan_lines(path)
        self._file_start = (self.report.rows_read, sum(self.report.skipped.values()))
        return n_lines, file_lines(path)

    def clean(self, value: str) -> str:
        """A row (or field) of the open file under the control-character rule, counting a change."""
        if not self._dirty or _CONTROL.search(value) is None:  # translate() is slow: only rows that need it
            return value
        self.report.repaired[REPAIR_CONTROL] += 1
        return strip_controls(value)

    def clean_fields(self, fields: list[str]) -> list[str]:
        """`clean` over the fields of one parsed row, counting the row once if any field changed."""
        if not self._dirty or not any(_CONTROL.search(f) for f in fields):
            return fields
        self.report.repaired[REPAIR_CONTROL] += 1
        return [strip_controls(f) for f in fields]

    def fits(self, path: str | Path, line: int, text: str) -> bool:
        """False (after the guard raised or counted it) when `text` is longer than `max_chars`."""
        if len(text) <= self.max_chars:
            return True
        self.guard.bad(path, line, f"utterance is {len(text):,} characters long, over the limit of "
                                   f"{self.max_chars:,} (--max-chars)", "too_many_chars")
        return False

    def first_sighting(self, path: str | Path, line: int, row_id: str) -> bool:
        """False (after the guard raised or counted it) when `row_id` was already read from this source."""
        first = self._first_seen.setdefault(row_id, (path, line))
        if first[1] == line and (first[0] is path or str(first[0]) == str(path)):
            return True
        self.guard.bad(path, line, f"duplicate id {row_id!r}: already read at {first[0]}, line {first[1]} "
                                   "(ids must be unique across all split files of a source)", "duplicate_id")
        return False

    def first_sightings(self, path: str | Path, rows: Sequence[tuple[int, str, T]]) -> list[T]:
        """`first_sighting` for a batch of (line, id, item) rows of one file, in line order: the items
        whose id is new (a repeat is handled by the guard, as one row at a time would be). The ids are
        kept as 20-byte SHA-1 digests (`SeenIds`), not as strings, so a large source's ids fit."""
        if self._seen is None:
            self._seen = SeenIds(keep_where=self.guard.policy == "error")
        firsts = self._seen.add([row_id for _, row_id, _ in rows], str(path), [line for line, _, _ in rows])
        kept = []
        for (line, row_id, item), first in zip(rows, firsts):
            if first is None:
                kept.append(item)
                continue
            self.guard.bad(path, line, f"duplicate id {row_id!r}: already read at {first[0]}, line {first[1]} "
                                       "(ids must be unique across all split files of a source)", "duplicate_id")
        return kept

    def forget(self, row_ids: Sequence[str], values: Sequence[tuple[str, str]] = ()) -> None:
        """Drop ids (`first_sighting`) and keys (`agrees`: (what, key)) that can never be read again
        (a reader that knows a dialogue's rows are all read), so memory stays bounded by a dialogue."""
        for row_id in row_ids:
            self._first_seen.pop(row_id, None)
        for key in values:
            self._first_value.pop(key, None)

    def agrees(self, path: str | Path, line: int, key: str, value: str, what: str) -> bool:
        """False (after the guard raised or counted it as `conflicting_<what>`) when `key` was read before
        with a different `value` (one GoEmotions comment id, one text; one ED conversation, one label)."""
        first = self._first_value.setdefault((what, key), (value, path, line))
        if first[0] == value:
            return True
        self.guard.bad(path, line, f"{what} {value!r} of {key!r} differs from {first[0]!r} at {first[1]}, line "
                                   f"{first[2]}", f"conflicting_{what}")
        return False

    def require_rows(self, path: str | Path, kept: int) -> None:
        """Refuse a file that had no data rows, or none left after its bad rows were skipped."""
        rows_before, skipped_before = self._file_start
        read = self.report.rows_read - rows_before
        if read == 0:
            raise EmptyInputError(f"{path}: no data rows; an empty split file is refused (remove the file, "
                                  "or restore its rows)")
        if kept == 0:
            skipped = sum(self.report.skipped.values()) - skipped_before
            raise EmptyInputError(f"{path}: none of its {read:,} data rows is usable ({skipped:,} skipped as "
                                  "bad rows); a split file with no usable rows is refused")


class SeenIds:
    """A set of ids kept as 20-byte SHA-1 digests in a few sorted numpy runs (plus, with `keep_where`,
    the file and line where each was first read: 28 bytes an id), for exact duplicate checks over
    sources whose ids would not fit in memory as strings. Ids are added a batch at a time."""

    def __init__(self, keep_where: bool = True):
        self.keep_where = keep_where
        self._runs: list[tuple[np.ndarray, np.ndarray]] = []  # (sorted digests, where codes)
        self._paths: list[str] = []

    def __len__(self) -> int:
        return sum(len(digests) for digests, _ in self._runs)

    def add(self, ids: Sequence[str], path: str, lines: Sequence[int]) -> list[tuple[str, int] | None]:
        """Add a batch read from `path` at `lines`; per id, None when new, else where it was first read
        (an earlier batch, or earlier in this one; `("an earlier row", 0)` without `keep_where`)."""
        if not ids:
            return []
        if path not in self._paths:
            self._paths.append(path)
        digests = np.array([hashlib.sha1(i.encode("utf-8")).digest() for i in ids], dtype="S20")
        where = (np.int64(self._paths.index(path)) << 40) + np.asarray(lines, np.int64)
        first = np.full(len(ids), -1, np.int64)
        for run, run_where in self._runs:
            pos = np.minimum(np.searchsorted(run, digests), len(run) - 1)
            hit = (run[pos] == digests) & (first < 0)
            first[hit] = run_where[pos[hit]] if self.keep_where else 0
        unique, index, inverse = np.unique(digests, return_index=True, return_inverse=True)
        repeat = (index[inverse] != np.arange(len(ids))) & (first < 0)
        first[repeat] = where[index[inverse][repeat]]
        new = index[first[index] < 0]
        self._push(digests[new], where[new])
        return [None if code < 0 else self._where(int(code)) for code in first]

    def _where(self, code: int) -> tuple[str, int]:
        if not self.keep_where:
            return ("an earlier row", 0)
        return self._paths[code >> 40], code & ((1 << 40) - 1)

    def _push(self, digests: np.ndarray, where: np.ndarray) -> None:
        if not len(digests):
            return
        order = np.argsort(digests, kind="stable")
        self._runs.append((digests[order], where[order] if self.keep_where else where[:0]))
        while len(self._runs) > 1 and len(self._runs[-2][0]) <= 2 * len(self._runs[-1][0]):
            (a, wa), (b, wb) = self._runs.pop(), self._runs.pop()
            merged = np.concatenate([b, a])
            order = np.argsort(merged, kind="stable")
            self._runs.append((merged[order], np.concatenate([wb, wa])[order] if self.keep_where else wa))


def check_records(data, max_chars: int, policy: str):
    """The edge checks for records that did not come from a local file (Hub rows, registered readers
    without `max_chars`), by row id: a duplicate id is refused; a text over `max_chars` is an error,
    or under `skip` a drop counted as `too_many_chars`."""
    duplicated = data.records["id"].duplicated()
    if duplicated.any():
        raise EmodataError(f"{data.origin}: duplicate id {data.records['id'][duplicated].iloc[0]!r} "
                           "(ids must be unique across all splits of a source)")
    lengths = data.records["text"].str.len()
    over = (lengths > max_chars).to_numpy()
    if not over.any():
        return data
    if policy != "skip":
        first = data.records[over].iloc[0]
        raise EmodataError(f"{data.origin}: row {first['id']!r}: utterance is {int(lengths[over].iloc[0]):,} "
                           f"characters long, over the limit of {max_chars:,} (--max-chars); "
                           "--on-bad-row skip counts and skips such rows")
    data.report.skipped["too_many_chars"] += int(over.sum())
    data.records = data.records[~over].reset_index(drop=True)
    return data
