"""The engine interface and the pure helpers every engine shares (partitioning, ordered concat).

An engine runs the annotate stage, `annotate_frame(records, annotator)`, over a record frame and
returns exactly what one in-process call would return: same rows, same order, same dtypes.
Engines differ only in where the work runs (in-process, Dask workers). Like Snorkel's
`labeling/apply/core.py` + one module per engine.
"""
from __future__ import annotations

import abc
import math
from typing import Callable

import pandas as pd

from ..annotate import Annotator

Progress = Callable[[int], None]


class Engine(abc.ABC):
    """Where the annotate stage runs. Use as a context manager: resources it starts are released."""

    name: str = "abstract"

    @abc.abstractmethod
    def annotate(self, records: pd.DataFrame, annotator: Annotator,
                 progress: Progress | None = None) -> pd.DataFrame:
        """`annotate_frame(records, annotator)`, computed by this engine."""

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
