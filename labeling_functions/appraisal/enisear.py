"""Reader for enISEAR appraisal TSVs (Hofmann et al., COLING 2020): event texts + 7 binary dimensions.

Two layouts, both TAB-separated (CRLF kept by the authors, CSV-style quoting of a few texts):
- majority: `Sentence_id Prior_Emotion Sentence Attention Certainty Effort Pleasant Responsibility
  Control Circumstance` (0/1 = majority of three annotators, the paper's gold);
- per-annotator: `<Dim>_a1 <Dim>_a2 <Dim>_a3 <Dim>_majority` for each dimension (the majority is read).

A wrong header, a missing field or a rating other than 0/1 raises `EmodataError` naming file and line.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emodata.core.errors import EmodataError

#: enISEAR's seven dimensions, exactly as spelled in the TSV header, in header order.
ENISEAR_DIMENSIONS: tuple[str, ...] = ("Attention", "Certainty", "Effort", "Pleasant", "Responsibility",
                                       "Control", "Circumstance")
ID_COLUMNS: tuple[str, ...] = ("Sentence_id", "Prior_Emotion", "Sentence")
MAJORITY_HEADER = ID_COLUMNS + ENISEAR_DIMENSIONS
ANNOTATOR_HEADER = ID_COLUMNS + tuple(f"{d}_{s}" for d in ENISEAR_DIMENSIONS
                                      for s in ("a1", "a2", "a3", "majority"))
MAJORITY_FILE = "enISEAR_appraisal_majority_dev.tsv"


@dataclass(frozen=True)
class EniSearData:
    """Sentences, their emotion and the majority ratings (n × 7 uint8, columns `ENISEAR_DIMENSIONS`)."""

    ids: tuple[str, ...]
    emotions: tuple[str, ...]
    texts: tuple[str, ...]
    ratings: np.ndarray
    path: str

    def __len__(self) -> int:
        return len(self.texts)


def _rating(value: str, path: Path, line: int, column: str) -> int:
    if value not in ("0", "1"):
        raise EmodataError(f"{path}: line {line}: column {column}: rating {value!r} is not 0 or 1")
    return int(value)


def read_enisear(path: str | Path) -> EniSearData:
    """Read an enISEAR appraisal TSV (majority or per-annotator layout) into `EniSearData`."""
    path = Path(path)
    if path.is_dir():
        path = path / MAJORITY_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise EmodataError(f"{path}: enISEAR file not found") from None
    except UnicodeDecodeError as exc:
        raise EmodataError(f"{path}: not UTF-8 ({exc})") from None
    rows = list(csv.reader(text.splitlines(), delimiter="\t"))
    if not rows:
        raise EmodataError(f"{path}: line 1: empty file, expected an enISEAR header")
    header = tuple(rows[0])
    if header == MAJORITY_HEADER:
        columns = list(ENISEAR_DIMENSIONS)
    elif header == ANNOTATOR_HEADER:
        columns = [f"{d}_majority" for d in ENISEAR_DIMENSIONS]
    else:
        missing = [c for c in MAJORITY_HEADER if c not in header]
        raise EmodataError(f"{path}: line 1: not an enISEAR appraisal header (missing columns {missing}); "
                           f"expected the majority layout {list(MAJORITY_HEADER)} or the per-annotator layout")
    where = [header.index(c) for c in columns]
    ids, emotions, texts, ratings = [], [], [], []
    for line, row in enumerate(rows[1:], start=2):
        if not row:
            continue
        if len(row) != len(header):
            raise EmodataError(f"{path}: line {line}: {len(row)} fields, expected {len(header)} "
                               f"(a missing or extra column)")
        if not row[2].strip():
            raise EmodataError(f"{path}: line {line}: empty Sentence")
        ids.append(row[0])
        emotions.append(row[1])
        texts.append(row[2])
        ratings.append([_rating(row[j], path, line, header[j]) for j in where])
    if not texts:
        raise EmodataError(f"{path}: no sentences after the header")
    return EniSearData(tuple(ids), tuple(emotions), tuple(texts), np.asarray(ratings, dtype=np.uint8).reshape(-1, 7),
                       str(path))
