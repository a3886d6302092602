"""The flip stage's rows: the seeded draw, its partitions (read on demand) and the pairs table they make.

`make_pairs(train, ...)` is the whole stage on a frame in memory. The build's stage (`emodata.stages.flip_pairs`)
does the same without holding the train rows: it draws on the narrow train rows (`drawn_positions`: ids
only), reads each partition's columns only when the engine takes it (`DrawnParts`), runs
`emodata.flips.pairs.flip_part` on it and assembles the table (`pairs_table`). Same rows, annotator and
seed ⇒ identical table, whatever the partitions and the engine.
"""
from __future__ import annotations

import math
from collections import Counter
from typing import TYPE_CHECKING, Callable, Iterable, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
from spacy.language import Language

from catalog.flips import FlipLexicon, load_flips

from emodata.annotate import Annotator
from emodata.text.nlp import Pipeline
from emodata.flips.pairs import (PAIRS_SCHEMA, REQUIRED_COLUMNS, ROW_OUTCOMES, STORED_COLUMNS, _language,
                                 flip_part)

if TYPE_CHECKING:
    from emodata.engines import Engine

#: Columns of a drawn row the flip stage reads (the stored annotate tokens when present).
READ_COLUMNS = REQUIRED_COLUMNS + STORED_COLUMNS


def check_ids(ids: pd.Series) -> None:
    """Refuse duplicate ids (the draw and the pair ids depend on them), naming the first and its row."""
    dup = ids[ids.duplicated()]
    if len(dup):
        raise ValueError(f"make_pairs: duplicate id {dup.iloc[0]!r} in the train frame (row {dup.index[0]})")


def check_frame(train: pd.DataFrame) -> None:
    """Refuse a train frame without the REQUIRED_COLUMNS, with a duplicate id, a row of another split
    or a non-string text, naming the row."""
    missing = [c for c in REQUIRED_COLUMNS if c not in train.columns]
    if missing:
        raise ValueError(f"make_pairs: the train frame lacks column(s) {missing} (needs {list(REQUIRED_COLUMNS)})")
    check_ids(train["id"])
    if "split" in train.columns:
        other = train[train["split"] != "train"]
        if len(other):
            raise ValueError(f"make_pairs: row {other.index[0]} (id {other['id'].iloc[0]!r}) has split "
                             f"{other['split'].iloc[0]!r}; pairs are made from train rows only")
    bad = [i for i, t in zip(train.index, train["text"]) if not isinstance(t, str)]
    if bad:
        raise ValueError(f"make_pairs: row {bad[0]} (id {train['id'][bad[0]]!r}) has a non-string text")


def draw_rows(n: int, flip_frac: float, seed: int) -> np.ndarray:
    """Sorted positions of the round(flip_frac · n) rows drawn (without replacement) by `seed`."""
    if not 0.0 <= flip_frac <= 1.0 or math.isnan(flip_frac):
        raise ValueError(f"flip_frac must be in [0, 1], not {flip_frac}")
    k = int(round(flip_frac * n))
    return np.sort(np.random.default_rng(seed).choice(n, size=k, replace=False)) if k else np.zeros(0, dtype=int)


def drawn_positions(ids: pd.Series, flip_frac: float, seed: int) -> np.ndarray:
    """Positions (0-based, into `ids`) of the rows drawn for pairs, in id order (the order pairs are made in):
    `draw_rows` over the rows sorted by id, so the draw does not depend on the row order."""
    check_ids(ids.reset_index(drop=True))
    order = ids.reset_index(drop=True).sort_values(kind="stable").index.to_numpy()
    return order[draw_rows(len(order), flip_frac, seed)]


class DrawnParts(Sequence):
    """Partitions of the drawn rows for an engine's `map`: part i is `read(start, stop)` of `bounds[i]`
    (a frame with the READ_COLUMNS, checked like `make_pairs`' frame), read only when the engine takes
    it, so the caller holds the rows of the parts in flight, not every drawn row."""

    def __init__(self, bounds: Sequence[tuple[int, int]], read: Callable[[int, int], pd.DataFrame]):
        self.bounds, self.read = list(bounds), read

    def __len__(self) -> int:
        return len(self.bounds)

    def __getitem__(self, index: int) -> pd.DataFrame:  # type: ignore[override]
        start, stop = self.bounds[index]
        part = self.read(start, stop)
        check_frame(part)
        return part[[c for c in READ_COLUMNS if c in part.columns]]


def part_args(annotator: Annotator, nlp: Language | Pipeline | None, lexicon: FlipLexicon, batch_size: int,
              drafts: bool = True) -> tuple:
    """The shared arguments of `flip_part` for an engine: the workers parse with the annotator's own
    pipeline unless another one is given (None)."""
    return annotator, None if nlp is None or nlp is annotator.pipeline else nlp, lexicon, batch_size, drafts


def pairs_part(index: int, result: tuple[list[dict] | pa.Table, Counter]) -> tuple[pa.Table, Counter]:
    """One partition's `flip_part` result with its pairs as a PAIRS_SCHEMA table: an engine's `consume`
    (`Engine.map`), so the client keeps each finished partition's pairs as Arrow columns, not as dicts."""
    rows, tally = result
    return (rows if isinstance(rows, pa.Table) else pa.Table.from_pylist(rows, schema=PAIRS_SCHEMA)), tally


def pairs_table(results: Iterable[tuple[list[dict] | pa.Table, Counter]],
                n_selected: int) -> tuple[pa.Table, Counter]:
    """The pairs shard (PAIRS_SCHEMA) and tally from `flip_part`'s results (or `pairs_part`'s), partitions
    in draw order: the partitions' tables concatenated into one chunk per column, the same table (and
    Parquet bytes) whatever the partitions."""
    tally: Counter = Counter({f"rows:{k}": 0 for k in ROW_OUTCOMES})
    tally["rows:selected"] = n_selected
    tables = []
    for index, result in enumerate(results):
        table, part_tally = pairs_part(index, result)
        tables.append(table)
        tally.update(part_tally)  # update, not +: keeps the zero counts of ROW_OUTCOMES
    if not tables:
        return pa.Table.from_pylist([], schema=PAIRS_SCHEMA), tally
    return pa.concat_tables(tables).combine_chunks(), tally


def make_pairs(train: pd.DataFrame, annotator: Annotator, nlp: Language | Pipeline, flip_frac: float, seed: int,
               lexicon: FlipLexicon | None = None, batch_size: int = 512,
               engine: "Engine | None" = None, drafts: bool = True) -> tuple[pa.Table, Counter]:
    """The pairs shard (PAIRS_SCHEMA, sorted by id) of a train frame, and the tally of what happened.

    `train`: the annotated train split (columns id, text, labels, vad_v, vad_a, vad_d; never dev or
    test rows). `nlp`: a spaCy pipeline with parser and lemmatizer (a `Pipeline` or a `Language`).
    `engine` (emodata.engines) runs steps 2-5 per partition of the drawn rows (cut at multiples of
    batch_size); without one they run here. Same frame, annotator and seed ⇒ identical table, on any engine.
    """
    check_frame(train)
    _language(nlp)
    lexicon = lexicon or load_flips()
    frame = train.reset_index(drop=True)
    drawn = frame.iloc[drawn_positions(frame["id"], flip_frac, seed)]
    drawn = drawn[[c for c in READ_COLUMNS if c in drawn.columns]].reset_index(drop=True)
    if engine is None:
        results = [flip_part(annotator, nlp, lexicon, batch_size, drafts, drawn)]
    else:
        results = engine.map_rows(flip_part, drawn, part_args(annotator, nlp, lexicon, batch_size, drafts),
                                  align=batch_size)
    return pairs_table(results, len(drawn))
