"""GoEmotions (Demszky et al., 2020): simplified TSV splits and raw per-rater CSV."""
from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path
from typing import Iterable, Mapping

from catalog import load_catalog

from ..errors import DataNotFoundError
from .base import OnBadRow, ReadReport, RowGuard, SourceData, make_frame

NAME = "goemotions"
TAXONOMY = "goemotions28"
SIMPLIFIED_FILES = {"train": "train.tsv", "validation": "dev.tsv", "test": "test.tsv"}
RAW_PATTERN = "goemotions_*.csv"
RAW_META_COLUMNS = ("text", "id", "author", "subreddit", "link_id", "parent_id", "created_utc",
                    "rater_id", "example_very_unclear")
#: Labels are kept where at least this many raters chose them, as in the authors' simplified data.
MIN_RATER_AGREEMENT = 2


def _labels() -> tuple[str, ...]:
    return load_catalog().taxonomies[TAXONOMY].labels


def _check_emotions_file(directory: Path) -> None:
    path = directory / "emotions.txt"
    if path.is_file():
        names = tuple(path.read_text(encoding="utf-8").split())
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


def _read_simplified(directory: Path, guard: RowGuard) -> list[dict]:
    labels = _labels()
    rows: list[dict] = []
    for split, filename in SIMPLIFIED_FILES.items():
        path = directory / filename
        if not path.is_file():
            continue
        count = 0
        with open(path, encoding="utf-8", newline="\n") as handle:  # a lone \r inside text is not a line end
            for line_no, line in enumerate(handle, start=1):
                fields = line.rstrip("\r\n").split("\t")
                guard.report.rows_read += 1
                if len(fields) != 3:
                    guard.bad(path, line_no, f"expected 3 tab-separated fields (text, label ids, id), "
                                             f"found {len(fields)}", "wrong_field_count")
                    continue
                text, ids, comment_id = fields
                try:
                    label_ids = [int(x) for x in ids.split(",")]
                    if any(not 0 <= i < len(labels) for i in label_ids):
                        raise ValueError
                except ValueError:
                    guard.bad(path, line_no, f"label ids {ids!r} are not comma-separated integers in "
                                             f"0..{len(labels) - 1}", "bad_label_ids")
                    continue
                if not text.strip() or not comment_id.strip():
                    guard.bad(path, line_no, "empty text or id", "empty_field")
                    continue
                rows.append(_record(split, text, comment_id, (labels[i] for i in label_ids), False))
                count += 1
        guard.report.add_file(path, count)
    return rows


def _read_raw(paths: list[Path], guard: RowGuard, min_agreement: int) -> list[dict]:
    labels = _labels()
    votes: dict[str, Counter] = {}
    raters: Counter = Counter()
    unclear: Counter = Counter()
    texts: dict[str, str] = {}
    for path in paths:
        count = 0
        with open(path, encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            expected = list(RAW_META_COLUMNS) + list(labels)
            if header != expected:
                raise DataNotFoundError(f"{path}, line 1: not a GoEmotions raw CSV header "
                                        f"(expected {len(expected)} columns starting {RAW_META_COLUMNS[:3]})")
            for row in reader:
                line_no = reader.line_num
                guard.report.rows_read += 1
                if len(row) != len(expected):
                    guard.bad(path, line_no, f"expected {len(expected)} fields, found {len(row)}",
                              "wrong_field_count")
                    continue
                flags = row[len(RAW_META_COLUMNS):]
                if any(f not in ("0", "1") for f in flags) or row[8] not in ("True", "False"):
                    guard.bad(path, line_no, "label columns must be 0/1 and example_very_unclear "
                                             "True/False", "bad_flag")
                    continue
                comment_id = row[1]
                texts.setdefault(comment_id, row[0])
                raters[comment_id] += 1
                unclear[comment_id] += row[8] == "True"
                votes.setdefault(comment_id, Counter()).update(
                    labels[i] for i, f in enumerate(flags) if f == "1")
                count += 1
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
                    min_agreement: int = MIN_RATER_AGREEMENT) -> SourceData:
    """Read GoEmotions from its original files in `directory`.

    `fmt="simplified"` reads train/dev/test.tsv; `fmt="raw"` reads goemotions_*.csv and keeps the
    labels chosen by at least `min_agreement` raters (comments with none are counted and dropped),
    flagging comments any rater marked `example_very_unclear`. `auto` prefers the simplified files.
    """
    directory = Path(directory)
    report = ReadReport()
    guard = RowGuard(on_bad_row, report)
    has_simplified = any((directory / f).is_file() for f in SIMPLIFIED_FILES.values())
    raw_paths = sorted(directory.glob(RAW_PATTERN))
    if fmt == "simplified" or (fmt == "auto" and has_simplified):
        if not has_simplified:
            raise DataNotFoundError(f"no GoEmotions simplified TSV ({', '.join(SIMPLIFIED_FILES.values())}) "
                                    f"in {directory}")
        _check_emotions_file(directory)
        rows, origin = _read_simplified(directory, guard), f"local:{directory}:simplified"
    elif fmt in ("raw", "auto"):
        if not raw_paths:
            raise DataNotFoundError(
                f"no GoEmotions files in {directory}: expected train.tsv/dev.tsv/test.tsv (simplified) or "
                "goemotions_1.csv.. (raw), from https://github.com/google-research/google-research/"
                "tree/master/goemotions/data")
        rows, origin = _read_raw(raw_paths, guard, min_agreement), f"local:{directory}:raw"
    else:
        raise ValueError(f"unknown GoEmotions format {fmt!r} (auto, simplified, raw)")
    return SourceData(NAME, origin, make_frame(rows), report)


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
