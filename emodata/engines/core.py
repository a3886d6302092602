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
from typing import Any, Callable, Iterable, Iterator, Sequence

import pandas as pd

from emodata.annotate import Annotator, annotate_frame

Progress = Callable[[int], None]
#: done(index, part) -> whether annotated part `index` is already on disk (`Engine.annotate_to`).
Done = Callable[[int, pd.DataFrame], bool]
#: consume(index, result) -> what to keep of a part's result (see `Engine.map`).
Consume = Callable[[int, Any], Any]
#: Libraries whose version can change what a worker computes or encodes (pyarrow writes its version
#: into every Parquet footer), checked equal on every worker by `environment_fingerprint`.
FINGERPRINT_LIBRARIES = ("numpy", "pandas", "pyarrow", "scipy", "sklearn", "spacy", "snorkel", "torch")
#: Packages whose source (and data files) the build's map tasks run: hashed into the fingerprint.
FINGERPRINT_PACKAGES = ("emodata", "labeling_functions", "catalog", "expectations", "trainer")


def environment_fingerprint() -> dict[str, str]:
    """What makes two processes compute the same map results: library versions and a SHA-1 of the
    installed emodata packages' files (code, catalog YAML, LF keyword lists). Compared between the
    client and every Dask worker before work is sent."""
    import hashlib
    import importlib
    from pathlib import Path

    out = {}
    for name in FINGERPRINT_LIBRARIES:
        module = importlib.import_module(name)
        out[name] = str(getattr(module, "__version__", "unknown"))
    digest = hashlib.sha1()
    for name in FINGERPRINT_PACKAGES:
        root = Path(importlib.import_module(name).__file__).parent
        for path in sorted(root.rglob("*")):
            if path.is_file() and path.suffix in (".py", ".yaml", ".yml", ".txt", ".json") and "__pycache__" not in path.parts:
                digest.update(f"{name}/{path.relative_to(root).as_posix()}".encode() + b"\0" + path.read_bytes())
    out["emodata_sources"] = digest.hexdigest()
    return out


#: Most rows of one annotated part (a partition of the annotate stage, written to disk as it completes).
PART_ROWS = 20_000


def cut_bounds(bounds: Sequence[tuple[int, int]], max_rows: int) -> list[tuple[int, int]]:
    """`bounds` with every range longer than `max_rows` cut into contiguous pieces of at most `max_rows`."""
    if max_rows < 1:
        raise ValueError(f"max_rows must be >= 1, got {max_rows}")
    return [(s, min(s + max_rows, stop)) for start, stop in bounds for s in range(start, stop, max_rows)]


def row_parts(frame: pd.DataFrame, bounds: Sequence[tuple[int, int]]) -> list[pd.DataFrame]:
    """The row ranges `bounds` of `frame`, as frames."""
    return [frame.iloc[start:stop] for start, stop in bounds]


def pending_parts(records: pd.DataFrame | Iterable[pd.DataFrame], bounds: Callable[[int], list[tuple[int, int]]],
                  done: Done | None = None, progress: Progress | None = None) -> tuple[Iterator[pd.DataFrame], list[int]]:
    """(the parts still to annotate, drawn lazily; the index of each one drawn so far). `records` is a
    whole frame, cut by `bounds(n_rows)`, or an iterable of parts; parts with `done(index, part)` are
    skipped (their rows still count in `progress`)."""
    parts = row_parts(records, bounds(len(records))) if isinstance(records, pd.DataFrame) else records
    index: list[int] = []

    def todo() -> Iterator[pd.DataFrame]:
        for i, part in enumerate(parts):
            if done is not None and done(i, part):
                if progress is not None:
                    progress(len(part))
                continue
            index.append(i)
            yield part

    return todo(), index


def annotate_part(annotator: Annotator, records: pd.DataFrame) -> pd.DataFrame:
    """The annotate stage as a map task: `annotate_frame(records, annotator)`, shared object first."""
    return annotate_frame(records, annotator)


class Engine(abc.ABC):
    """Where per-partition work runs. Use as a context manager: resources it starts are released."""

    name: str = "abstract"
    #: Whether map tasks run where they can write into this process's folders (the write stage's tasks
    #: then write their shard files themselves; else their bytes come back to be written here).
    shares_disk: bool = True

    @abc.abstractmethod
    def map(self, func: Callable, parts: Iterable, shared: tuple = (), progress: Progress | None = None,
            consume: Consume | None = None) -> list:
        """`[func(*shared, part) for part in parts]`, computed by this engine, results in order (`parts`
        may be an iterator: it is drawn as work is sent, so a lazily built part is held only while used).

        `func` must be a module-level function (it may travel to other processes); `shared` objects
        are sent once, not per part, and an `Annotator` among them arrives as an equal Annotator
        (rebuilt and checked on the worker). `progress(len(part))` follows each finished part.
        `consume(index, result)`, when given, runs here as each result arrives (in any order) and
        its return value is kept instead of the result, so big results (shard bytes) are written
        and freed one at a time rather than all held until the end.
        """

    @abc.abstractmethod
    def partitions(self, n_rows: int, align: int = 1) -> list[tuple[int, int]]:
        """How this engine cuts `n_rows` rows of row-wise work into parts (contiguous, in order;
        every cut at a multiple of `align`)."""

    def map_rows(self, func: Callable, frame: pd.DataFrame, shared: tuple = (),
                 progress: Progress | None = None, align: int = 1) -> list:
        """`map` over this engine's row partitions of `frame` (for row-wise `func`)."""
        return self.map(func, row_parts(frame, self.partitions(len(frame), align)), shared, progress)

    def annotate(self, records: pd.DataFrame, annotator: Annotator,
                 progress: Progress | None = None) -> pd.DataFrame:
        """`annotate_frame(records, annotator)`, computed per partition by this engine."""
        if len(records) == 0:
            return annotate_frame(records, annotator)
        return concat_partitions(self.map_rows(annotate_part, records, (annotator,), progress))

    def annotate_to(self, records: pd.DataFrame | Iterable[pd.DataFrame], annotator: Annotator, consume: Consume,
                    progress: Progress | None = None, max_rows: int = PART_ROWS, done: Done | None = None) -> list:
        """The annotate stage per part: each part's annotated rows go to `consume(index, frame)` as soon
        as it completes (it writes them to disk), so no more than a few parts are held at once;
        `consume`'s results, in order. `records` is a whole frame (cut into this engine's partitions of
        at most `max_rows` rows) or an iterable of parts, drawn one at a time (a source stream's
        `record_parts`). A part for which `done(index, part)` is true (already on disk) is skipped."""
        parts, index = pending_parts(records, lambda n: cut_bounds(self.partitions(n), max_rows), done, progress)
        return self.map(annotate_part, parts, (annotator,), progress, consume=lambda k, frame: consume(index[k], frame))

    def start(self) -> None:
        """Acquire what the engine needs now rather than at the first `map` (no-op by default)."""

    def describe(self) -> dict:
        """A short description for progress notes and benchmarks (never hashed into outputs)."""
        return {"engine": self.name}

    def close(self) -> None:
        """Release what the engine started (clusters, clients); safe to call twice."""

    def __enter__(self) -> "Engine":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def partition_bounds(n_rows: int, n_workers: int, max_rows: int, per_worker: int = 4,
                     align: int = 1) -> list[tuple[int, int]]:
    """Contiguous [start, stop) row ranges covering 0..n_rows in order.

    At least `per_worker` partitions per worker (so no worker idles at the end while another
    finishes a big one) and none longer than `max_rows` (bounds worker memory); never empty.
    With `align` > 1 every cut is at a multiple of `align` (rounded down; fewer partitions when
    rows are few), so a task that batches rows by `align` sees the batches one whole run would.
    """
    if n_rows <= 0:
        return []
    if n_workers < 1 or max_rows < 1 or align < 1:
        raise ValueError(f"n_workers, max_rows and align must be >= 1, got {n_workers}, {max_rows} and {align}")
    n_parts = min(n_rows, max(math.ceil(n_rows / max_rows), per_worker * n_workers))
    cuts = sorted({i * n_rows // n_parts // align * align for i in range(n_parts)} | {n_rows})
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
