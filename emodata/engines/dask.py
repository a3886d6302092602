"""The Dask engine: the build's per-partition work on `dask.distributed` workers.

`map(func, parts, shared)` submits one task per part, `run_part(func, part, *shared)`. Shared
objects are scattered once (broadcast to every worker), not sent per task. An Annotator travels as
a recipe (its dataclass fields except the spaCy pipeline, plus the spaCy model name); each worker
process rebuilds the Annotator once, caches it, and checks that its `key()` equals the client's, so a
worker with another spaCy, lexicon or emodata version fails loudly instead of annotating differently.
Results come back in part order. At most `IN_FLIGHT_PER_THREAD` tasks per worker thread are
submitted at a time, so the cluster never holds more than a few partitions of a large corpus.
Row-wise work is cut by `partition_bounds` (contiguous partitions of at most `PARTITION_ROWS` rows).
"""
from __future__ import annotations

import dataclasses
import logging
import socket
import threading
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence

from emodata.annotate import Annotator
from emodata.core.errors import EmodataError
from emodata.text.nlp import load_pipeline
from emodata.engines.core import Consume, Engine, Progress, environment_fingerprint, partition_bounds

#: Longest partition, in records (bounds the memory of one task).
PARTITION_ROWS = 20_000
#: Tasks submitted ahead per worker thread: enough to keep workers busy, few enough to bound memory.
IN_FLIGHT_PER_THREAD = 2
#: Seconds to wait for a `--scheduler` to answer and to have at least one worker.
CONNECT_TIMEOUT_S = 30


@dataclass(frozen=True)
class AnnotatorRecipe:
    """What a worker needs to rebuild an Annotator: its class and fields, minus the spaCy pipeline."""

    cls: type
    spacy_model: str
    fields: dict[str, Any]
    description: dict
    key: str

    @classmethod
    def of(cls, annotator: Annotator, spacy_model: str) -> "AnnotatorRecipe":
        """The recipe of `annotator`, whose pipeline is `load_pipeline(spacy_model)`."""
        if not dataclasses.is_dataclass(annotator):
            raise TypeError(f"the Dask engine needs a dataclass annotator, got {type(annotator).__name__}")
        fields = {f.name: getattr(annotator, f.name) for f in dataclasses.fields(annotator)
                  if f.init and f.name != "pipeline"}
        return cls(type(annotator), spacy_model, fields, annotator.describe(), annotator.key())

    def build(self) -> Annotator:
        """Load the pipeline and rebuild the Annotator; raise if it would annotate differently."""
        annotator = self.cls(pipeline=load_pipeline(self.spacy_model), **self.fields)
        if annotator.key() != self.key:
            mine = annotator.describe()
            diff = "; ".join(f"{k}: worker {mine.get(k)!r} vs client {self.description.get(k)!r}"
                             for k in sorted(set(mine) | set(self.description))
                             if mine.get(k) != self.description.get(k))
            raise EmodataError(f"Dask worker on {socket.gethostname()} would annotate differently from the "
                               f"client ({diff}); install the same emodata, spaCy model and lexicon on every worker")
        return annotator


_ANNOTATORS: dict[str, Annotator] = {}
_ANNOTATORS_LOCK = threading.Lock()


def worker_annotator(recipe: AnnotatorRecipe) -> Annotator:
    """The Annotator of `recipe`, built once per worker process (spaCy and lexicon load once)."""
    with _ANNOTATORS_LOCK:
        if recipe.key not in _ANNOTATORS:
            _ANNOTATORS[recipe.key] = recipe.build()
        return _ANNOTATORS[recipe.key]


def _on_worker(obj: Any) -> Any:
    """A shared object as the task sees it: a recipe becomes the worker's cached Annotator."""
    return worker_annotator(obj) if isinstance(obj, AnnotatorRecipe) else obj


def run_part(func: Callable, part: Any, *shared: Any) -> Any:
    """Worker task: `func(*shared, part)`, with recipes rebuilt into Annotators."""
    return func(*(_on_worker(obj) for obj in shared), part)


class DaskEngine(Engine):
    """Runs map tasks on a Dask cluster: the one at `scheduler`, else a LocalCluster of `workers` processes.

    Nothing starts until the first `map` (or `start()`). A LocalCluster started here (one thread per
    worker process) is shut down by `close()`; with a `scheduler` only the client is closed. At start
    every worker must run one thread (`dask worker ADDRESS --nthreads 1 --nworkers N`: the tasks are
    pure-Python CPU work, so threads only contend for the GIL, and spaCy pipelines and Snorkel label
    models, shared by a process's threads, are not thread-safe) and report the client's
    `environment_fingerprint` (same library versions and emodata files), else it is refused.
    """

    name = "dask"

    def __init__(self, spacy_model: str, workers: int = 1, scheduler: str | None = None,
                 partition_rows: int = PARTITION_ROWS):
        self.spacy_model = spacy_model
        self.workers = workers
        self.scheduler = scheduler
        self.partition_rows = partition_rows
        self.shares_disk = scheduler is None  # a LocalCluster's workers run on this machine
        self.client = None
        self._cluster = None
        self._closed = False

    def start(self) -> None:
        """Connect to `scheduler`, or start the LocalCluster; once (later calls do nothing)."""
        from distributed import Client, LocalCluster

        if self._closed:
            raise EmodataError("the Dask engine is closed")
        if self.client is not None:
            return
        try:
            if self.scheduler:
                try:
                    self.client = Client(self.scheduler, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
                    self.client.wait_for_workers(1, timeout=CONNECT_TIMEOUT_S)
                except (OSError, TimeoutError) as exc:
                    raise EmodataError(f"--scheduler {self.scheduler}: no Dask scheduler with workers answered "
                                       f"within {CONNECT_TIMEOUT_S}s ({type(exc).__name__}: {exc})") from exc
            else:
                self._cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=True,
                                             dashboard_address=":0", silence_logs=logging.CRITICAL)
                self.client = Client(self._cluster, set_as_default=False)
            self._check_workers()
        except BaseException:
            self.close()
            raise

    def _check_workers(self) -> None:
        """Refuse workers with several threads or another environment (they would compute differently)."""
        threaded = {w: n for w, n in self.client.nthreads().items() if n != 1}
        if threaded:
            raise EmodataError(f"Dask workers {sorted(threaded)} run {sorted(set(threaded.values()))} threads; "
                               "emodata needs one thread per worker process (dask worker ADDRESS --nthreads 1 "
                               "--nworkers N): spaCy pipelines and label models are not thread-safe")
        mine = environment_fingerprint()
        for worker, theirs in self.client.run(environment_fingerprint).items():  # also imports our modules there
            diff = "; ".join(f"{k}: worker {theirs.get(k)!r} vs client {mine.get(k)!r}"
                             for k in sorted(set(mine) | set(theirs)) if mine.get(k) != theirs.get(k))
            if diff:
                raise EmodataError(f"Dask worker {worker} would compute differently from the client ({diff}); "
                                   "install the same emodata and library versions on every worker")

    def threads(self) -> int:
        """Worker threads in the cluster now (starts it if needed)."""
        self.start()
        return max(1, sum(self.client.nthreads().values()))

    def describe(self) -> dict:
        """Engine, scheduler address and worker count (as requested until the cluster has started)."""
        started = self.client is not None
        return {"engine": self.name, "scheduler": self.scheduler or "LocalCluster",
                "workers": len(self.client.nthreads()) if started else self.workers,
                "threads": self.threads() if started else None}

    def partitions(self, n_rows: int, align: int = 1) -> list[tuple[int, int]]:
        """Enough partitions to keep every worker thread busy, none much over `partition_rows` rows."""
        return partition_bounds(n_rows, self.threads(), self.partition_rows, align=align)

    def _portable(self, obj: Any) -> Any:
        return AnnotatorRecipe.of(obj, self.spacy_model) if isinstance(obj, Annotator) else obj

    def map(self, func: Callable, parts: Iterable, shared: tuple = (), progress: Progress | None = None,
            consume: Consume | None = None) -> list:
        """`[func(*shared, part) for part in parts]` on the workers, results in part order (see `Engine.map`;
        an iterator of parts is drawn only as tasks are submitted)."""
        from distributed import as_completed

        if isinstance(parts, Sequence) and not parts:
            return []
        threads = self.threads()
        futures_shared = self.client.scatter([self._portable(obj) for obj in shared], broadcast=True, hash=False)
        results: dict[int, Any] = {}
        todo = iter(enumerate(parts))
        position: dict[str, int] = {}
        inputs: dict[str, Any] = {}
        sizes: dict[str, int] = {}
        running = as_completed(loop=self.client.loop)

        def submit_next() -> None:
            item = next(todo, None)
            if item is not None:
                index, part = item
                # Scattered, not embedded in the task: Dask's way to send data (no "large graph" warning).
                (data,) = self.client.scatter([part], hash=False)
                future = self.client.submit(run_part, func, data, *futures_shared, pure=False)
                position[future.key] = index
                inputs[future.key] = data
                sizes[future.key] = len(part)  # a part may be built on demand: never ask for it twice
                running.add(future)

        try:
            for _ in range(IN_FLIGHT_PER_THREAD * threads):
                submit_next()
            for future in running:
                result = future.result()  # re-raises a worker's exception here, with its traceback
                index = position.pop(future.key)
                size = sizes.pop(future.key)
                inputs.pop(future.key).release()
                future.release()
                results[index] = consume(index, result) if consume is not None else result
                del result
                if progress is not None:
                    progress(size)
                submit_next()
        finally:
            if running.futures:
                self.client.cancel(list(running.futures))
            for data in inputs.values():
                data.release()
            for future in futures_shared:
                future.release()
        return [results[i] for i in range(len(results))]

    def close(self) -> None:
        """Close the client and shut down a LocalCluster we started (not a `--scheduler` cluster)."""
        client, cluster = self.client, self._cluster
        self.client = self._cluster = None
        self._closed = True
        try:
            if client is not None:
                client.close()
        finally:
            if cluster is not None:
                cluster.close()
