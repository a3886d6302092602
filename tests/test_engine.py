"""Engines of the annotate stage (in-process and Dask) and the synthetic scale-test generator.

The acceptance test of issue #7: a build on a `distributed.LocalCluster` of 2 worker processes gives
the same manifest and shard SHA-1s as the in-process build.
"""
from __future__ import annotations

import dataclasses
import json
import time

import numpy as np
import pandas as pd
import psutil
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from emodata.annotate import annotate_frame, make_annotator
from emodata.build import build
from emodata.core.config import BuildConfig
from emodata.engines import annotate_records, concat_partitions, engine_kind, open_engine, partition_bounds
from emodata.engines.core import Engine, annotate_part
from emodata.engines.dask import AnnotatorRecipe, DaskEngine, run_part
from emodata.engines.local import LocalEngine
from emodata.core.errors import EmodataError
from emodata.text.lexicon import load_lexicon
from emodata.core.manifest import Manifest
from emodata.shards import shard_files
from emodata.text.nlp import load_pipeline
from emodata.sources import SAMPLE_DIR, locate, read_source
from emodata.sources.dailydialog import read_dailydialog
from emodata.sources.goemotions import read_goemotions
from emodata.synthetic import split_clause, write_synthetic_dailydialog, write_synthetic_goemotions
from labeling_functions.emotion import emotion_lfs

from tests.conftest import sample_config


@pytest.fixture(scope="module")
def annotator():
    """The build's kind of annotator, LFs included (they travel to the workers in the recipe)."""
    return make_annotator(load_pipeline("en_core_web_sm"), load_lexicon(None), "on", lfs=emotion_lfs())


@pytest.fixture(scope="module")
def records():
    return read_source(locate("goemotions", sample=True)).records


@pytest.fixture(scope="module")
def cluster():
    """A LocalCluster of 2 worker processes (1 thread each), as a --scheduler would give."""
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                      silence_logs=40) as local:
        yield local


def _new_children(before: set[int], wait_s: float = 15.0) -> set[int]:
    """Child processes started since `before` that are still alive after up to `wait_s` seconds."""
    def running(p: psutil.Process) -> bool:
        try:
            return p.status() != psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return False

    deadline = time.monotonic() + wait_s
    while True:
        alive = {p.pid for p in psutil.Process().children(recursive=True) if running(p)} - before
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.2)


# --- pure helpers ---------------------------------------------------------------------------------

@pytest.mark.parametrize("n_rows, workers, max_rows", [(1, 2, 10), (7, 2, 10), (150, 2, 20_000), (1000, 3, 64),
                                                       (57_535, 2, 20_000), (200_001, 1, 20_000)])
def test_partition_bounds_cover_rows_in_order(n_rows, workers, max_rows):
    bounds = partition_bounds(n_rows, workers, max_rows)
    assert bounds[0][0] == 0 and bounds[-1][1] == n_rows
    assert all(prev[1] == nxt[0] for prev, nxt in zip(bounds, bounds[1:]))  # contiguous, in order
    assert all(0 < stop - start <= max_rows for start, stop in bounds)
    assert len(bounds) >= min(n_rows, 4 * workers)  # enough partitions to balance the workers
    assert partition_bounds(0, workers, max_rows) == []


def test_partition_bounds_align_cuts_to_batches():
    bounds = partition_bounds(5000, 2, 20_000, align=512)
    assert bounds[0][0] == 0 and bounds[-1][1] == 5000 and len(bounds) > 1
    assert all(start % 512 == 0 for start, _ in bounds)
    assert partition_bounds(100, 2, 20_000, align=512) == [(0, 100)]  # fewer rows than a batch: one part
    with pytest.raises(ValueError, match="align"):
        partition_bounds(10, 1, 10, align=0)


class SmallPartsEngine(LocalEngine):
    """In-process, but cuts row-wise work into parts of at most 3 rows: shows that no stage's output
    depends on where partitions fall, without a cluster."""

    name = "small-parts"
    annotate = Engine.annotate  # per part, not LocalEngine's one whole-frame call

    def partitions(self, n_rows, align=1):
        return partition_bounds(n_rows, 1, 3, align=align)


def test_outputs_do_not_depend_on_partitions(tmp_path, monkeypatch):
    (whole,) = build(sample_config(tmp_path / "whole", cache_dir=str(tmp_path / "cache-whole"), shard_rows=8))
    monkeypatch.setattr("emodata.build.open_engine", lambda config: SmallPartsEngine())
    (parts,) = build(sample_config(tmp_path / "parts", cache_dir=str(tmp_path / "cache-parts"), shard_rows=8))
    assert json.loads(parts.manifest_path.read_text()) == json.loads(whole.manifest_path.read_text())
    assert (parts.root / "checksums.sha1").read_text() == (whole.root / "checksums.sha1").read_text()


def test_flip_pairs_do_not_depend_on_partitions():
    from emodata.flips import make_pairs

    pipeline = load_pipeline("en_core_web_sm")
    scorer = make_annotator(pipeline, load_lexicon(None))
    train = annotate_frame(read_source(locate("goemotions", sample=True)).records, scorer)
    whole, whole_tally = make_pairs(train, scorer, pipeline, flip_frac=1.0, seed=5, batch_size=2)
    parts, parts_tally = make_pairs(train, scorer, pipeline, flip_frac=1.0, seed=5, batch_size=2,
                                    engine=SmallPartsEngine())
    assert whole.num_rows > 3 and parts.equals(whole)
    assert parts_tally == whole_tally and parts_tally["rows:selected"] == len(train)


def test_concat_partitions_equals_whole_frame_inference():
    # One partition where a column is all missing is inferred as object there; the whole frame is not.
    columns = {"v": [None, None, 0.5, 0.25], "r": [None, None, "a", "b"], "n": [1, 2, 3, 4],
               "t": [["x"], [], ["y", "z"], ["w"]]}
    whole = pd.DataFrame(columns)
    parts = [pd.DataFrame({c: v[:2] for c, v in columns.items()}), pd.DataFrame({c: v[2:] for c, v in columns.items()})]
    assert parts[0]["v"].dtype != whole["v"].dtype and parts[0]["r"].dtype != whole["r"].dtype
    pd.testing.assert_frame_equal(concat_partitions(parts), whole)
    with pytest.raises(ValueError):
        concat_partitions([])


def test_engine_kind_and_bad_options():
    assert engine_kind("local", 1, None) == "local"
    assert engine_kind("dask", 1, None) == "dask"
    assert engine_kind("local", 2, None) == "dask"            # --workers N > 1 goes through Dask
    assert engine_kind("local", 1, "tcp://host:8786") == "dask"
    with pytest.raises(EmodataError, match="--engine"):
        engine_kind("spark", 1, None)
    with pytest.raises(EmodataError, match="--workers"):
        engine_kind("local", 0, None)
    config = BuildConfig(engine="dask", workers=2, scheduler="tcp://x:1")
    assert {"engine", "workers", "scheduler"}.isdisjoint(config.hashed())  # never part of the config hash
    assert config.sha1() == BuildConfig().sha1()


def test_local_engine_is_annotate_frame(records, annotator):
    seen = []
    out = annotate_records(records, annotator, BuildConfig(), progress=seen.append)
    pd.testing.assert_frame_equal(out, annotate_frame(records, annotator))
    assert sum(seen) == len(records)


def test_recipe_rebuilds_the_annotator_and_rejects_a_different_one(records, annotator):
    recipe = AnnotatorRecipe.of(annotator, "en_core_web_sm")
    assert "pipeline" not in recipe.fields
    assert recipe.build().key() == annotator.key()
    part = records.iloc[10:40]
    pd.testing.assert_frame_equal(run_part(annotate_part, part, recipe), annotate_frame(part, annotator))
    # A worker whose annotator would differ (here: another epsilon) must refuse, naming the difference.
    other = dataclasses.replace(recipe, fields={**recipe.fields, "epsilon": 0.02}, key=recipe.key + "-x")
    with pytest.raises(EmodataError, match="epsilon"):
        other.build()


# --- Dask ---------------------------------------------------------------------------------------

def test_dask_build_matches_in_process_build(tmp_path, cluster, monkeypatch):
    calls = []
    original = DaskEngine.annotate_to
    original_map = DaskEngine.map

    def counting(self, records, annotator, consume, progress=None, max_rows=20_000, done=None):
        calls.append(records)  # a source's parts, streamed
        return original(self, records, annotator, consume, progress, max_rows, done)

    def mapping(self, func, parts, shared=(), progress=None, consume=None):
        mapped.append((func.__name__, len(parts) if hasattr(parts, "__len__") else None))  # annotate: a stream
        return original_map(self, func, parts, shared, progress, consume)

    mapped = []
    monkeypatch.setattr(DaskEngine, "annotate_to", counting)
    monkeypatch.setattr(DaskEngine, "map", mapping)
    # shard_rows=8: the bigger splits are written as several files, one write task each.
    (local,) = build(sample_config(tmp_path / "local", cache_dir=str(tmp_path / "cache-local"), shard_rows=8))
    (dask,) = build(sample_config(tmp_path / "dask", cache_dir=str(tmp_path / "cache-dask"), engine="dask",
                                  scheduler=cluster.scheduler_address, shard_rows=8))
    assert len(calls) == 3 and all(calls)  # goemotions, empatheticdialogues, dailydialog all went to Dask
    tasks = [name for name, _ in mapped]
    assert tasks.count("annotate_part") == 3 and tasks.count("flip_part") == 1  # every row-wise stage ran on Dask
    local_manifest = json.loads(local.manifest_path.read_text())
    dask_manifest = json.loads(dask.manifest_path.read_text())
    record_files = [s for s in local_manifest["shards"] if s["role"] != "pairs"]
    assert dict(mapped)["encode_records"] == len(record_files) > 8  # one task per shard file
    assert any(s["name"] == "empatheticdialogues/train-00000-of-00012" for s in record_files)
    assert {"engine", "workers", "scheduler"}.isdisjoint(dask_manifest["config"])
    assert dask_manifest == local_manifest
    assert [s["sha1"] for s in dask_manifest["shards"]] == [s["sha1"] for s in local_manifest["shards"]]
    assert (dask.root / "checksums.sha1").read_text() == (local.root / "checksums.sha1").read_text()
    entries = {name: sorted((tmp_path / name / "annotated").glob("*/entry.json")) for name in ("cache-local", "cache-dask")}
    assert [e.read_bytes() for e in entries["cache-dask"]] == [e.read_bytes() for e in entries["cache-local"]]  # same parts


def test_shard_files_cut_rows_in_order_and_name_them_like_hugging_face():
    assert shard_files("train", 10, 50) == [("train", 0, 10)]
    assert shard_files("dev", 0, 50) == [("dev", 0, 0)]  # an empty split is still one (empty) file
    files = shard_files("train", 23, 10)
    assert [name for name, _, _ in files] == ["train-00000-of-00003", "train-00001-of-00003", "train-00002-of-00003"]
    assert [(start, stop) for _, start, stop in files] == [(0, 10), (10, 20), (20, 23)]
    with pytest.raises(ValueError, match="shard_rows"):
        shard_files("train", 5, 0)


def test_shard_rows_only_cuts_files(tmp_path):
    """Splitting a split into files changes file names, never the records: the files concatenate to
    the one-file shard, Parquet rows and JSONL bytes alike."""
    (whole,) = build(sample_config(tmp_path / "whole", cache_dir=str(tmp_path / "cache")))
    (cut,) = build(sample_config(tmp_path / "cut", cache_dir=str(tmp_path / "cache"), shard_rows=7))
    manifests = [json.loads(r.manifest_path.read_text()) for r in (whole, cut)]
    assert manifests[1]["config"]["shard_rows"] == 7 and manifests[0]["counts"] == manifests[1]["counts"]
    for key in ("sources", "mix", "lf_analysis", "appraisal", "pairs", "index", "weak_supervision"):
        assert manifests[1][key] == manifests[0][key], key
    for split in ("train", "dev", "test", "dailydialog"):
        groups = [Manifest.load(r.manifest_path).split_names()[split] for r in (whole, cut)]
        tables = [pa.concat_tables([pq.read_table(r.root / s["path"]) for s in g]) for r, g in zip((whole, cut), groups)]
        assert tables[1].equals(tables[0]), split
        jsonl = [b"".join((r.root / s["jsonl"]["path"]).read_bytes() for s in g) for r, g in zip((whole, cut), groups)]
        assert jsonl[1] == jsonl[0]
    cut_train = Manifest.load(cut.manifest_path).split_names()["train"]
    assert len(cut_train) > 2 and all(s["rows"] <= 7 for s in cut_train)


def test_annotate_stores_appraisal_votes_equal_to_applying_the_lfs_later(records):
    from labeling_functions.appraisal import APPRAISAL_ATOMS, appraisal_matrices, flat_appraisal_lfs

    from labeling_functions.core import apply_lfs

    pipeline, lexicon = load_pipeline("en_core_web_sm"), load_lexicon(None)
    plain = annotate_frame(records, make_annotator(pipeline, lexicon, "on"))
    stored = annotate_frame(records, make_annotator(pipeline, lexicon, "on", lfs=emotion_lfs(),
                                                    appraisal_lfs=flat_appraisal_lfs()))
    later = appraisal_matrices(plain)
    expected = np.concatenate([later[atom] for atom in APPRAISAL_ATOMS], axis=1)
    assert np.array_equal(np.stack(stored["appraisal_votes"]), expected)
    assert np.array_equal(np.stack(stored["emotion_votes"]), apply_lfs(plain, emotion_lfs()))
    assert (expected != -1).any()  # some appraisal LF voted on the sample
    assert {"appraisal_votes", "emotion_votes"}.isdisjoint(plain.columns)


def test_workers_start_a_local_cluster_and_stop_it_also_on_error(records, annotator):
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    seen = []

    def fail(n):
        raise RuntimeError("stop")

    with pytest.raises(RuntimeError, match="stop"):
        with open_engine(BuildConfig(workers=2)) as engine:
            assert isinstance(engine, DaskEngine) and not _new_children(before, wait_s=0)  # nothing until used
            out = engine.annotate(records, annotator, progress=seen.append)
            assert len(_new_children(before, wait_s=0)) >= 2 and engine.describe()["workers"] == 2
            pd.testing.assert_frame_equal(out, annotate_frame(records, annotator))  # same rows, order, dtypes
            assert len(seen) > 1 and sum(seen) == len(records)  # progress per partition
            engine.annotate(records, annotator, progress=fail)
    assert not _new_children(before)  # the cluster we started is gone


def test_workers_that_would_compute_differently_are_refused(cluster, monkeypatch):
    import os

    from emodata.engines import core

    client_pid, real = os.getpid(), core.environment_fingerprint

    def client_differs():  # runs on the workers too (sent by value): only the client's answer changes
        out = real()
        return {**out, "pyarrow": "0.0-other"} if os.getpid() == client_pid else out

    monkeypatch.setattr("emodata.engines.dask.environment_fingerprint", client_differs)
    with pytest.raises(EmodataError, match="pyarrow: worker .* vs client '0.0-other'"):
        DaskEngine("en_core_web_sm", scheduler=cluster.scheduler_address).start()


def test_multithreaded_workers_are_refused():
    from distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=2, processes=True, dashboard_address=":0",
                      silence_logs=40) as threaded:
        with pytest.raises(EmodataError, match="one thread per worker"):
            DaskEngine("en_core_web_sm", scheduler=threaded.scheduler_address).start()


def test_unreachable_scheduler_is_a_clear_error(monkeypatch):
    monkeypatch.setattr("emodata.engines.dask.CONNECT_TIMEOUT_S", 1)
    with pytest.raises(EmodataError, match="--scheduler tcp://127.0.0.1:9"):
        DaskEngine("en_core_web_sm", scheduler="tcp://127.0.0.1:9").start()


# --- synthetic scale-test data --------------------------------------------------------------------

def test_split_clause():
    assert split_clause("I was happy, but then it rained all day") == ("I was happy,", "but then it rained all day")
    assert split_clause("one two  three four") == ("one two", "three four")
    assert split_clause("word") == ("word", "")


def test_synthetic_goemotions_scales_rows_deterministically(tmp_path):
    src = SAMPLE_DIR / "goemotions"
    real = read_goemotions(src, fmt="simplified").records
    counts = write_synthetic_goemotions(src, tmp_path / "a", factor=3, seed=7)
    write_synthetic_goemotions(src, tmp_path / "b", factor=3, seed=7)
    write_synthetic_goemotions(src, tmp_path / "c", factor=3, seed=8)
    for name in counts:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert any((tmp_path / "a" / n).read_bytes() != (tmp_path / "c" / n).read_bytes() for n in counts)
    syn = read_goemotions(tmp_path / "a").records  # the normal reader reads it
    assert len(syn) == 3 * len(real) == sum(counts.values())
    for split in ("train", "validation", "test"):
        assert (syn["source_split"] == split).sum() == 3 * (real["source_split"] == split).sum()
    assert syn["id"].str.startswith("goemotions:syn-").all() and syn["id"].is_unique
    heads = {i.split(":", 1)[1]: split_clause(t)[0] for i, t in zip(real["id"], real["text"])}
    assert all(t.startswith(heads[i.split("-", 2)[2]]) for i, t in zip(syn["id"], syn["text"]))
    assert (~syn["text"].isin(set(real["text"]))).mean() > 0.5  # mostly new sentences
    vocabulary = {w for t in real["text"] for w in t.split()}
    assert all(w in vocabulary for t in syn["text"] for w in t.split())  # recombined real words only
    assert all(labels for labels in syn["source_labels"])
    assert "SYNTHETIC" in (tmp_path / "a" / "SOURCE.md").read_text()
    with pytest.raises(EmodataError, match="not empty"):
        write_synthetic_goemotions(src, tmp_path / "a", factor=1)


def test_synthetic_dailydialog_scales_dialogues(tmp_path):
    src = SAMPLE_DIR / "dailydialog"
    real = read_dailydialog(src).records
    write_synthetic_dailydialog(src, tmp_path / "a", factor=2, seed=1)
    write_synthetic_dailydialog(src, tmp_path / "b", factor=2, seed=1)
    text = "train/dialogues_train.txt"
    assert (tmp_path / "a" / text).read_bytes() == (tmp_path / "b" / text).read_bytes()
    syn = read_dailydialog(tmp_path / "a").records
    assert len(syn) == 2 * len(real) and syn["conv_id"].nunique() == 2 * real["conv_id"].nunique()
    assert syn["id"].is_unique
    # each dialogue keeps the real turn count and emotions
    real_turns = real.groupby("conv_id", sort=False)["source_labels"].apply(lambda s: [x[0] for x in s]).tolist()
    syn_turns = syn.groupby("conv_id", sort=False)["source_labels"].apply(lambda s: [x[0] for x in s]).tolist()
    assert syn_turns == real_turns * 2


def test_empatheticdialogues_standin_is_read_by_the_ed_reader(tmp_path):
    from emodata.sources.empathetic import read_empathetic
    from emodata.synthetic import write_standin_empatheticdialogues

    sizes = {"train": 30, "validation": 5, "test": 4}
    counts = write_standin_empatheticdialogues(SAMPLE_DIR / "dailydialog", tmp_path / "a", factor=2, seed=3,
                                               conversations=sizes)
    write_standin_empatheticdialogues(SAMPLE_DIR / "dailydialog", tmp_path / "b", factor=2, seed=3,
                                      conversations=sizes)
    assert all((tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes()
               for f in ("train.csv", "valid.csv", "test.csv"))
    assert "STAND-IN" in (tmp_path / "a" / "SOURCE.md").read_text()
    data = read_empathetic(tmp_path / "a")
    assert not data.report.skipped and not data.report.repaired  # exact release format, nothing repaired
    for split, n in sizes.items():
        rows = data.records[data.records["source_split"] == split]
        assert len(rows) == counts[split] and rows["conv_id"].nunique() == 2 * n
        assert rows.groupby("conv_id").size().between(1, 5).all()
    assert data.records["text"].str.contains(",").any()  # `_comma_` written and read back as commas
