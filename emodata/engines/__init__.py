"""Execution engines of the build's row-wise work: in-process (`local`, the default) and Dask (`dask`).

Every engine maps pure per-partition functions (`Engine.map`) and returns their results in order:
the annotate stage, flip-pair generation, labelling + encoding of shard files. Only where the work
runs differs, so `--engine/--workers/--scheduler` never change a build's outputs.
`open_engine(config)` picks one from the `engines` registry (`emodata.core.registry`), where a user
may register another engine factory `(config) -> Engine`; `annotate_records` is the one-shot annotate stage.
"""
from __future__ import annotations

import pandas as pd

from emodata.annotate import Annotator
from emodata.core import registry
from emodata.core.config import BuildConfig
from emodata.core.errors import EmodataError
from emodata.engines.core import Engine, Progress, concat_partitions, environment_fingerprint, partition_bounds
from emodata.engines.local import LocalEngine


@registry.engines.register("local")
def local_engine(config: BuildConfig) -> Engine:
    """The in-process engine."""
    return LocalEngine()


@registry.engines.register("dask")
def dask_engine(config: BuildConfig) -> Engine:
    """A Dask engine: the `--scheduler` cluster, or a LocalCluster of `--workers` started at the first `map`."""
    from emodata.engines.dask import DaskEngine

    return DaskEngine(config.spacy_model, workers=config.workers, scheduler=config.scheduler)



def engine_kind(engine: str, workers: int, scheduler: str | None) -> str:
    """The engine that runs: `dask` when asked for or implied (`workers` > 1, a `scheduler`), else `engine`."""
    if engine not in registry.engines:
        raise EmodataError(f"--engine must be one of {', '.join(registry.names(registry.engines))}, not {engine!r}")
    if workers < 1:
        raise EmodataError(f"--workers must be at least 1, not {workers}")
    return "dask" if engine == "dask" or workers > 1 or scheduler else engine


def open_engine(config: BuildConfig) -> Engine:
    """The engine `config` asks for (a Dask LocalCluster when `--workers` > 1 and no scheduler).

    A cluster starts at the first `map`, not here. Use the engine as a context manager so a
    cluster it started is shut down, also on error; one engine serves the whole build.
    """
    kind = engine_kind(config.engine, config.workers, config.scheduler)
    return registry.engines.get(kind)(config)


def annotate_records(records: pd.DataFrame, annotator: Annotator, config: BuildConfig,
                     progress: Progress | None = None) -> pd.DataFrame:
    """`annotate_frame(records, annotator)` on the engine of `config`, started and stopped around the call."""
    with open_engine(config) as engine:
        return engine.annotate(records, annotator, progress)


__all__ = ["Engine", "LocalEngine", "annotate_records", "concat_partitions", "engine_kind",
           "environment_fingerprint", "open_engine", "partition_bounds"]
