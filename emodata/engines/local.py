"""The in-process engine (the default): every part runs here, one after another."""
from __future__ import annotations

from typing import Callable, Iterable

import pandas as pd

from emodata.annotate import Annotator, annotate_frame
from emodata.engines.core import PART_ROWS, Consume, Done, Engine, Progress, cut_bounds, pending_parts


class LocalEngine(Engine):
    """Runs everything in the calling process; starts nothing."""

    name = "local"

    def map(self, func: Callable, parts: Iterable, shared: tuple = (), progress: Progress | None = None,
            consume: Consume | None = None) -> list:
        """`[func(*shared, part) for part in parts]`, here and in order (see `Engine.map`)."""
        out = []
        for index, part in enumerate(parts):
            result = func(*shared, part)
            out.append(consume(index, result) if consume is not None else result)
            if progress is not None:
                progress(len(part))
        return out

    def partitions(self, n_rows: int, align: int = 1) -> list[tuple[int, int]]:
        """One part: in-process, cutting the rows buys nothing."""
        return [(0, n_rows)] if n_rows > 0 else []

    def annotate(self, records: pd.DataFrame, annotator: Annotator,
                 progress: Progress | None = None) -> pd.DataFrame:
        """`annotate_frame(records, annotator, progress)`, unchanged (progress per batch, not per part)."""
        return annotate_frame(records, annotator, progress=progress)

    def annotate_to(self, records: pd.DataFrame | Iterable[pd.DataFrame], annotator: Annotator, consume: Consume,
                    progress: Progress | None = None, max_rows: int = PART_ROWS, done: Done | None = None) -> list:
        """`annotate_frame` per part, each consumed as it completes (see `Engine.annotate_to`; progress per
        batch, not per part)."""
        parts, index = pending_parts(records, lambda n: cut_bounds(self.partitions(n), max_rows), done, progress)
        return [consume(index[k], annotate_frame(part, annotator, progress=progress)) for k, part in enumerate(parts)]

    def describe(self) -> dict:
        """{"engine": "local", "workers": 1}."""
        return {"engine": self.name, "workers": 1}
