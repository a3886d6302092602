"""GoEmotions (Demszky et al., 2020): simplified TSV splits and raw per-rater CSV."""
from __future__ import annotations

import csv
import io
import re
from collections import Counter
from pathlib import Path
from typing import Iterable, Iterator, Mapping

from catalog import load_catalog

from emodata.core.errors import BadRowError, DataNotFoundError, EmodataError
from emodata.sources.base import (CHUNK_ROWS, OnBadRow, ReadReport, RowGuard, SourceData, SourceStream,
                                  make_frame, sized_chunks)
from emodata.core.validate import DEFAULT_MAX_CHARS, EdgeChecks, read_utf8

NAME = "goemotions"
TAXONOMY = "goemotions28"
SIMPLIFIED_FILES = {"train": "train.tsv", "validation": "dev.tsv", "test": "test.tsv"}
RAW_PATTERN = "goemotions_*.csv"
RAW_META_COLUMNS = ("text", "id", "author", "subreddit", "link_id", "parent_id", "created_utc",
                    "rater_id", "example_very_unclear")
#: Labels are kept where at least this many raters chose them, as in the authors' simplified data.
MIN_RATER_AGREEMENT = 2
_LABEL_IDS = re.compile(r"[0-9]+(?:,[0-9]+)*", re.ASCII)


def _labels() -> tuple[str, ...]:
    return load_catalog().taxonomies[TAXONOMY].labels


def _check_emotions_file(directory: Path) -> None:
    path = directory / "emotions.txt"
    if path.is_file():
        names = tuple(read_utf8(path).split())
        if names != _labels():
            raise DataNotFoundError(f"{path}: label names differ from the GoEmotions-28 taxonomy "
                                    f"in catalog/ (found {len(names)} names)")


def _record(split: str, text: str, comment_id: str, label_names: Iterable[str], unclear: bool) -> dict:
    catalog = load_catalog()
    names = sorted(set(label_names), key=_labels().index)
    return {"id": f"{NAME}:{comment_id}", "source": NAME, "source_split": split, "text": text,
            "context": [], "speaker": None, "conv_id": None, "turn": None, "situation": None,
            "labels": catalog.to_unified(TAXONOMY, names), "source_labels": names,
            "example_unclear": unclear}


def _label_ids(ids: str, n_labels: int) -> list[int] | None:
    """The label ids of a `1,27` field, or None unless all are ASCII integers in 0..n_labels-1."""
    if not _LABEL_IDS.fullmatch(ids):
        return None
    label_ids = [int(p) for p in ids.split(",")]
    return label_ids if all(i < n_labels for i in label_ids) else None


def _read_simplified(directory: Path, checks: EdgeChecks) -> Iterator[list[dict]]:
    """The simplified TSV files' records, a batch at a time. Ids are checked for repeats per batch of
    `CHUNK_ROWS` rows (`EdgeChecks.first_sightings`, the last check of a row), so the bad rows raised or
    counted are exactly those of a row-at-a-time read."""
    labels = _labels()
    guard = checks.guard
    for split, filename in SIMPLIFIED_FILES.items():
        path = directory / filename
        if not path.is_file():
            continue
        count = 0
        pending: list[tuple[int, str, dict]] = []
        # Lines end at LF only: a lone \r inside text is not a line end.
        _, lines = checks.open_lines(path)
        try:
            for line_no, line in enumerate(lines, start=1):
                row = _simplified_row(path, line_no, checks.clean(line), checks, labels)
                if row is not None:
                    text, comment_id, names = row
                    pending.append((line_no, comment_id, _record(split, text, comment_id, names, False)))
                if len(pending) >= CHUNK_ROWS:
                    batch, pending = pending, []
                    kept = checks.first_sightings(path, batch)
                    count += len(kept)
                    yield kept
        except BadRowError:
            checks.first_sightings(path, pending)  # a repeated id on an earlier line is the first bad row
            raise
        kept = checks.first_sightings(path, pending)
        count += len(kept)
        yield kept
        checks.require_rows(path, count)
        guard.report.add_file(path, count)


def _simplified_row(path: Path, line_no: int, line: str, checks: EdgeChecks,
                    labels: tuple[str, ...]) -> tuple[str, str, list[str]] | None:
    """(text, id, label names) of one TSV line, or None for a bad row (raised or counted); the id's
    repeats are checked by the caller."""
    guard = checks.guard
    fields = line.split("\t")
    guard.report.rows_read += 1
    if len(fields) != 3:
        guard.bad(path, line_no, f"expected 3 tab-separated fields (text, label ids, id), "
                                 f"found {len(fields)}", "wrong_field_count")
        return None
    text, ids, comment_id = fields
    label_ids = _label_ids(ids, len(labels))
    if label_ids is None:
        guard.bad(path, line_no, f"label ids {ids!r} are not comma-separated integers in "
                                 f"0..{len(labels) - 1}", "bad_label_ids")
        return None
    if not text.strip() or not comment_id.strip():
        guard.bad(path, line_no, "empty text or id", "empty_field")
        return None
    if not checks.fits(path, line_no, text):
        return None
    return text, comment_id, [labels[i] for i in label_ids]


def _raw_rows(path: Path, checks: EdgeChecks, expected: list[str]) -> Iterator[tuple[int, list[str]]]:
    """(line, fields) of each data row of one raw CSV, its header checked; csv errors name the line."""
    reader = csv.reader(io.StringIO(checks.open_text(path), newline=""))
    try:
        header = next(reader, None)
        if header != expected:
            raise DataNotFoundError(f"{path}, line 1: not a GoEmotions raw CSV header "
                                    f"(expected {len(expected)} columns starting {RAW_META_COLUMNS[:3]})")
        for row in reader:
            yield reader.line_num, checks.clean_fields(row)
    except csv.Error as exc:  # e.g. a field over the csv module's size limit
        raise EmodataError(f"{path}, line {reader.line_num + 1}: unreadable CSV ({exc})") from None


def _read_raw(paths: list[Path], checks: EdgeChecks, min_agreement: int) -> list[dict]:
    labels = _labels()
    guard = checks.guard
    expected = list(RAW_META_COLUMNS) + list(labels)
    votes: dict[str, Counter] = {}
    unclear: Counter = Counter()
    texts: dict[str, str] = {}
    for path in paths:
        count = 0
        for line_no, row in _raw_rows(path, checks, expected):
            guard.report.rows_read += 1
            if len(row) != len(expected):
                guard.bad(path, line_no, f"expected {len(expected)} fields, found {len(row)}", "wrong_field_count")
                continue
            flags = row[len(RAW_META_COLUMNS):]
            if any(f not in ("0", "1") for f in flags) or row[8] not in ("True", "False"):
                guard.bad(path, line_no, "label columns must be 0/1 and example_very_unclear "
                                         "True/False", "bad_flag")
                continue
            text, comment_id = row[0], row[1]
            if not text.strip() or not comment_id.strip():
                guard.bad(path, line_no, "empty text or id", "empty_field")
                continue
            if not checks.fits(path, line_no, text):
                continue
            if not checks.agrees(path, line_no, comment_id, text, "text"):
                continue
            texts.setdefault(comment_id, text)
            unclear[comment_id] += row[8] == "True"
            votes.setdefault(comment_id, Counter()).update(labels[i] for i, f in enumerate(flags) if f == "1")
            count += 1
        checks.require_rows(path, count)
        guard.report.add_file(path, count)
    rows = []
    for comment_id, counter in votes.items():
        agreed = [name for name, n in counter.items() if n >= min_agreement]
        if not agreed:
            guard.report.skipped["no_rater_agreement"] += 1
            continue
        rows.append(_record("train", texts[comment_id], comment_id, agreed, unclear[comment_id] > 0))
    return rows


def read_goemotions(directory: str | Path, on_bad_row: OnBadRow = "error", fmt: str = "auto",
                    min_agreement: int = MIN_RATER_AGREEMENT, max_chars: int = DEFAULT_MAX_CHARS) -> SourceData:
    """Read GoEmotions from its original files in `directory`.

    `fmt="simplified"` reads train/dev/test.tsv; `fmt="raw"` reads goemotions_*.csv and keeps the
    labels chosen by at least `min_agreement` raters (comments with none are counted and dropped),
    flagging comments any rater marked `example_very_unclear`. `auto` prefers the simplified files.
    Every file passes the edge checks of `emodata.core.validate` (texts up to `max_chars`).
    """
    return stream_goemotions(directory, on_bad_row, fmt, min_agreement, max_chars).collect()


def stream_goemotions(directory: str | Path, on_bad_row: OnBadRow = "error", fmt: str = "auto",
                      min_agreement: int = MIN_RATER_AGREEMENT, max_chars: int = DEFAULT_MAX_CHARS,
                      chunk_rows: int = CHUNK_ROWS) -> SourceStream:
    """`read_goemotions` a chunk of about `chunk_rows` records at a time (the simplified TSV streams;
    the raw CSV's rater rows are aggregated per comment over all files, so it comes as one chunk)."""
    directory = Path(directory)
    report = ReadReport()
    checks = EdgeChecks(RowGuard(on_bad_row, report), max_chars)
    has_simplified = any((directory / f).is_file() for f in SIMPLIFIED_FILES.values())
    raw_paths = sorted(directory.glob(RAW_PATTERN))
    if fmt == "simplified" or (fmt == "auto" and has_simplified):
        if not has_simplified:
            raise DataNotFoundError(f"no GoEmotions simplified TSV ({', '.join(SIMPLIFIED_FILES.values())}) "
                                    f"in {directory}")
        _check_emotions_file(directory)
        groups, origin = _read_simplified(directory, checks), f"local:{directory}:simplified"
    elif fmt in ("raw", "auto"):
        if not raw_paths:
            raise DataNotFoundError(
                f"no GoEmotions files in {directory}: expected train.tsv/dev.tsv/test.tsv (simplified) or "
                "goemotions_1.csv.. (raw), from https://github.com/google-research/google-research/"
                "tree/master/goemotions/data")
        groups, origin = (_read_raw(p, checks, min_agreement) for p in [raw_paths]), f"local:{directory}:raw"
    else:
        raise ValueError(f"unknown GoEmotions format {fmt!r} (auto, simplified, raw)")
    return SourceStream(NAME, origin, sized_chunks(groups, chunk_rows), report)


def goemotions_from_hub(splits: Mapping[str, Iterable[Mapping]], hub_id: str) -> SourceData:
    """Convert the Hub's `simplified` config (text, labels: list[int], id) per split."""
    labels = _labels()
    report = ReadReport()
    rows = []
    for split, examples in splits.items():
        ours = "validation" if split in ("validation", "dev") else split
        for example in examples:
            report.rows_read += 1
            rows.append(_record(ours, example["text"], example["id"],
                                (labels[i] for i in example["labels"]), False))
    return SourceData(NAME, f"hub:{hub_id}", make_frame(rows), report)
