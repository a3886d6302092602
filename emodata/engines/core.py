"""The engine interface and the pure helpers every engine shares (partitioning, ordered concat).

An engine runs the build's per-partition work: `map(func, parts, shared)` computes
`[func(*shared, part) for part in parts]` and returns the results in order. The build maps only
functions that are pure per partition (the annotate stage, flip-pair generation, labelling and
encoding a shard), so where the work runs (in-process, Dask workers) never changes an output.
`annotate` is the annotate stage on top of `map`: exactly what one in-process `annotate_frame`
call returns (same rows, order and dtypes). Like Snorkel's `labeling/apply/core.py` + one module
per engine.
"""
from __future__ import annotations

import abc
import math
from typing import Callable, Sequence

import pandas as pd

from ..annotate import Annotator, annotate_frame

Progress = Callable[[int], None]


def row_parts(frame: pd.DataFrame, bounds: Sequence[tuple[int, int]]) -> list[pd.DataFrame]:
    """The row ranges `bounds` of `frame`, as frames."""
    return [frame.iloc[start:stop] for start, stop in bounds]


def annotate_part(annotator: Annotator, records: pd.DataFrame) -> pd.DataFrame:
    """The annotate stage as a map task: `annotate_frame(records, annotator)`, shared object first."""
    return annotate_frame(records, annotator)


class Engine(abc.ABC):
    """Where per-partition work runs. Use as a context manager: resources it starts are released."""

    name: str = "abstract"

    @abc.abstractmethod
    def map(self, func: Callable, parts: Sequence, shared: tuple = (),
            progress: Progress | None = None) -> list:
        """`[func(*shared, part) for part in parts]`, computed by this engine, results in order.

        `func` must be a module-level function (it may travel to other processes); `shared` objects
        are sent once, not per part, and an `Annotator` among them arrives as an equal Annotator
        (rebuilt and checked on the worker). `progress(len(part))` follows each finished part.
        """

    @abc.abstractmethod
    def partitions(self, n_rows: int) -> list[tuple[int, int]]:
        """How this engine cuts `n_rows` rows of row-wise work into parts (contiguous, in order)."""

    def map_rows(self, func: Callable, frame: pd.DataFrame, shared: tuple = (),
                 progress: Progress | None = None) -> list:
        """`map` over this engine's row partitions of `frame` (for row-wise `func`)."""
        return self.map(func, row_parts(frame, self.partitions(len(frame))), shared, progress)

    def annotate(self, records: pd.DataFrame, annotator: Annotator,
                 progress: Progress | None = None) -> pd.DataFrame:
        """`annotate_frame(records, annotator)`, computed per partition by this engine."""
        if len(records) == 0:
            return annotate_frame(records, annotator)
        return concat_partitions(self.map_rows(annotate_part, records, (annotator,), progress))

    def start(self) -> None:
        """Acquire what the engine needs now rather than at the first `annotate` (no-op by default)."""

    def describe(self) -> dict:
        """A short description for progress notes and benchmarks (never hashed into outputs)."""
        return {"engine": self.name}

    def close(self) -> None:
        """Release what the engine started (clusters, clients); safe to call twice."""

    def __enter__(self) -> "Engine":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def partition_bounds(n_rows: int, n_workers: int, max_rows: int, per_worker: int = 4) -> list[tuple[int, int]]:
    """Contiguous [start, stop) row ranges covering 0..n_rows in order.

    At least `per_worker` partitions per worker (so no worker idles at the end while another
    finishes a big one) and none longer than `max_rows` (bounds worker memory); never empty.
    """
    if n_rows <= 0:
        return []
    if n_workers < 1 or max_rows < 1:
        raise ValueError(f"n_workers and max_rows must be >= 1, got {n_workers} and {max_rows}")
    n_parts = min(n_rows, max(math.ceil(n_rows / max_rows), per_worker * n_workers))
    cuts = [i * n_rows // n_parts for i in range(n_parts + 1)]
    return list(zip(cuts[:-1], cuts[1:]))


def concat_partitions(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate per-partition results in order, as if the whole frame had been annotated at once.

    A column whose dtype differs between partitions (e.g. all-missing in one partition, so inferred
    as object there) is re-inferred from its values over all rows, like a whole-frame column would be.
    """
    if not parts:
        raise ValueError("no partitions to concatenate")
    frame = pd.concat(parts, ignore_index=True)
    for column in frame.columns:
        if len({str(p[column].dtype) for p in parts}) > 1:
            values = [v for p in parts for v in p[column].tolist()]
            frame[column] = pd.Series(values, index=frame.index)
    return frame
