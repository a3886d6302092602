"""Issue 13, faults: a build killed at any stage leaves the previous build verifiable at its path; one
build at a time per OUT (a lock naming the PID); cache entries re-verified by their own SHA-1; builds
too small to train on refused. Kills are real: a child process SIGKILLs itself at the stage."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from emodata.build import build
from emodata.cache import AnnotatedCache
from emodata.core.errors import EmodataError
from emodata.publish import LOCK_FILE, out_lock, publish, recover
from emodata.verify import verify

from tests.conftest import REPO, sample_config

SAMPLE_DIR = REPO / "emodata" / "sample_data"
NAME = "mix_20_80"

# A child build with one stage replaced by a SIGKILL of itself (or, for "hold", a pause until told).
CHILD = textwrap.dedent("""
    import os, signal, sys, time
    from pathlib import Path
    stage, out, cache = sys.argv[1:4]
    import emodata.build as B, emodata.freeze as F, emodata.publish as P, emodata.engines.local as L, expectations as X
    from emodata.core.config import BuildConfig

    def die(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGKILL)

    if stage == "annotate":
        L.annotate_frame = die
    elif stage == "write":
        F._write_index = die  # the write stage (emodata/freeze.py)
    elif stage == "qc":
        X.run_gate = die
    elif stage == "publish-before-swap":
        P._renameat2_exchange = die
    elif stage == "publish-after-swap":
        swap = P._renameat2_exchange
        P._renameat2_exchange = lambda a, b: (swap(a, b), die())
    elif stage == "publish-fallback-between-renames":
        P._renameat2_exchange = lambda a, b: False
        rename, calls = os.rename, []
        def rename_then_die(a, b):
            calls.append(a)
            if len(calls) == 2:
                die()
            rename(a, b)
        P.os.rename = rename_then_die
    elif stage == "hold":
        gate = X.run_gate
        def held(*args, **kwargs):
            Path(out, "holding").touch()
            while not Path(out, "release").exists():
                time.sleep(0.1)
            return gate(*args, **kwargs)
        X.run_gate = held
    B.build(BuildConfig(mix=["20:80"], sample=True, out=out, cache_dir=cache, quiet=True, overwrite=True, seed=7))
""")


def _child(stage: str, out: Path, cache: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", CHILD, stage, str(out), str(cache)], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.fixture(scope="module")
def previous(tmp_path_factory):
    """A published build (seed 42) and a warm cache; tests copy the build into their own OUT."""
    base = tmp_path_factory.mktemp("faults")
    (result,) = build(sample_config(base / "out", cache_dir=str(base / "cache")))
    return result, base / "cache"


def _own_out(previous, tmp_path) -> tuple[Path, Path, bytes]:
    result, _ = previous
    out = tmp_path / "out"
    shutil.copytree(result.root, out / NAME)
    manifest = out / NAME / "manifests" / f"{NAME}.json"
    return out, manifest, manifest.read_bytes()


@pytest.mark.parametrize("stage", ["annotate", "write", "qc", "publish-before-swap"])
def test_kill_at_each_stage_leaves_the_previous_build_verifiable(stage, previous, tmp_path):
    out, manifest, before = _own_out(previous, tmp_path)
    cache = tmp_path / "fresh-cache" if stage == "annotate" else previous[1]  # annotate runs only on a miss
    child = _child(stage, out, cache)
    _, err = child.communicate(timeout=300)
    assert child.returncode == -9, err  # it really was killed
    assert manifest.read_bytes() == before and verify(manifest) == []
    assert json.loads(before)["seed"] == 42
    # the next build into OUT takes over the dead PID's lock and removes the half-written folder
    notes: list[str] = []
    with out_lock(out, notes.append):
        pass
    assert any("stale build lock" in n and str(child.pid) in n for n in notes), notes
    if stage != "annotate":  # killed after the temporary folder was made
        assert any("left by a killed build" in n for n in notes), notes
    assert sorted(p.name for p in out.iterdir()) == [NAME]
    assert verify(manifest) == []


def test_kill_right_after_the_swap_leaves_the_new_build_verifiable(previous, tmp_path):
    out, manifest, before = _own_out(previous, tmp_path)
    child = _child("publish-after-swap", out, previous[1])
    child.communicate(timeout=300)
    assert child.returncode == -9
    assert json.loads(manifest.read_text())["seed"] == 7 and verify(manifest) == []  # the new one, complete
    leftovers = [p for p in out.iterdir() if p.name.startswith(f".{NAME}.tmp-")]
    assert leftovers and (leftovers[0] / "manifests" / f"{NAME}.json").read_bytes() == before  # the old one
    with out_lock(out, lambda note: None):
        pass
    assert sorted(p.name for p in out.iterdir()) == [NAME]


def test_fallback_kill_between_renames_is_recovered(previous, tmp_path):
    out, manifest, before = _own_out(previous, tmp_path)
    child = _child("publish-fallback-between-renames", out, previous[1])
    child.communicate(timeout=300)
    assert child.returncode == -9
    assert not manifest.exists()  # the documented window of the fallback
    notes: list[str] = []
    with out_lock(out, notes.append):  # what the next build does first
        pass
    assert any(n.startswith(f"recovered {out / NAME}") for n in notes), notes
    assert manifest.read_bytes() == before and verify(manifest) == []


def test_publish_swaps_with_the_old_build_complete_until_then(tmp_path):
    final, new = tmp_path / "b", tmp_path / ".b.tmp-1"
    final.mkdir()
    (final / "old").write_text("old")
    new.mkdir()
    (new / "new").write_text("new")
    seen = []

    def exchange(a, b):
        seen.append(sorted(p.name for p in b.iterdir()))  # just before the swap: the old build, whole
        return False  # and take the fallback path

    publish(new, final, exchange=exchange)
    assert seen == [["old"]] and sorted(p.name for p in final.iterdir()) == ["new"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b"]
    (tmp_path / ".c.tmp-2").mkdir()
    publish(tmp_path / ".c.tmp-2", tmp_path / "c")  # first publish: one rename
    assert (tmp_path / "c").is_dir()


def test_two_concurrent_builds_into_one_out_one_wins(previous, tmp_path):
    out, manifest, _ = _own_out(previous, tmp_path)
    child = _child("hold", out, previous[1])
    try:
        deadline = time.monotonic() + 240
        while not (out / "holding").exists():
            assert child.poll() is None and time.monotonic() < deadline, child.communicate()[1]
            time.sleep(0.2)
        with pytest.raises(EmodataError, match=f"build in progress by PID {child.pid}"):
            build(sample_config(out, overwrite=True, cache_dir=str(previous[1])))
        (out / "release").touch()
        _, err = child.communicate(timeout=300)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 0, err
    assert json.loads(manifest.read_text())["seed"] == 7 and verify(manifest) == []  # the winner's build
    assert not (out / LOCK_FILE).exists()


def test_stale_lock_of_a_dead_pid_is_taken_over(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    out = tmp_path / "out"
    out.mkdir()
    (out / LOCK_FILE).write_text(dead.stdout)
    notes: list[str] = []
    with out_lock(out, notes.append):
        assert (out / LOCK_FILE).read_text().strip() == str(os.getpid())
        with pytest.raises(EmodataError, match=f"build in progress by PID {os.getpid()}"):
            with out_lock(out, notes.append):  # a second taker (another open file description) refuses
                pass
    assert notes == [f"taking over the stale build lock {out / LOCK_FILE} of PID {dead.stdout.strip()} "
                     "(no longer running)"]
    assert not out.joinpath(LOCK_FILE).exists()


def test_recover_leaves_unrelated_folders_alone(tmp_path):
    (tmp_path / ".hidden").mkdir()
    (tmp_path / "mix_20_80").mkdir()
    recover(tmp_path, lambda note: pytest.fail(note))
    assert sorted(p.name for p in tmp_path.iterdir()) == [".hidden", "mix_20_80"]


def _cached_parquet(cache: Path) -> list[Path]:
    return sorted((cache / "annotated").glob("goemotions-*/part-*.parquet"))


def test_tampered_cache_entry_is_a_reported_miss_never_used(tmp_path, capfd):
    # its own clean build and cache (the module's could predate an edit of LF code: another cache key)
    (result,) = build(sample_config(tmp_path / "clean", cache_dir=str(tmp_path / "cache")))
    (entry,) = _cached_parquet(tmp_path / "cache")
    table = pq.read_table(entry)
    texts = table.column("text").to_pylist()
    texts = ["TAMPERED " + t for t in texts]
    pq.write_table(table.set_column(table.schema.get_field_index("text"), "text", pa.array(texts)), entry)
    capfd.readouterr()
    (again,) = build(sample_config(tmp_path / "out", cache_dir=str(tmp_path / "cache")))
    err = capfd.readouterr().err
    assert f"annotated cache entry {entry.parent} failed its SHA-1 check" in err
    assert again.manifest["shards"] == result.manifest["shards"]  # byte-identical shards to the clean build's
    assert "TAMPERED" not in " ".join(pq.read_table(again.root / "data" / "goemotions" / "train.parquet")
                                      .column("text").to_pylist())
    # the entry was re-annotated and re-written: now it verifies again
    assert "TAMPERED" not in " ".join(pq.read_table(entry).column("text").to_pylist())


def test_cache_entry_checks_its_report_and_format(tmp_path):
    import pandas as pd

    warned: list[str] = []
    cache = AnnotatedCache(tmp_path, warn=warned.append)
    frame = pd.DataFrame({"id": ["a", "b"], "text": ["x", "y"]})
    cache.put("goemotions", "k" * 40, frame, {"rows_read": 2})
    got, report = cache.get("goemotions", "k" * 40)
    assert got.read(["id", "text"]).equals(frame) and report == {"rows_read": 2} and warned == []
    meta = next(tmp_path.glob("annotated/*/entry.json"))
    entry = json.loads(meta.read_text())
    entry["report"]["rows_read"] = 3  # an edited report
    meta.write_text(json.dumps(entry))
    assert cache.get("goemotions", "k" * 40) is None and len(warned) == 1
    meta.write_text(json.dumps({"rows_read": 2}))  # an entry of the old format, without SHA-1s
    assert cache.get("goemotions", "k" * 40) is None and len(warned) == 2
    meta.write_bytes(b"\xff\xfe")
    assert cache.get("goemotions", "k" * 40) is None and len(warned) == 3


def _duplicate_corpus(folder: Path) -> Path:
    """GoEmotions files whose rows are all one text (distinct ids): one row survives deduplication."""
    ge = folder / "goemotions"
    shutil.copytree(SAMPLE_DIR / "goemotions", ge)
    for f in ge.glob("goemotions_*.csv"):
        f.unlink()
    text = "I am so happy and grateful for this wonderful gift today"
    for split, n in (("train", 60), ("dev", 10)):
        (ge / f"{split}.tsv").write_text("".join(f"{text}\t17\t{split}{i:04d}\n" for i in range(n)), encoding="utf-8")
    return folder


def test_corpus_of_duplicates_is_refused_as_too_small(tmp_path):
    data = _duplicate_corpus(tmp_path / "data")
    with pytest.raises(EmodataError) as info:
        build(sample_config(tmp_path / "out", sample=False, data_dir=str(data), mix=["100:0"], probe=False))
    message = str(info.value)
    assert "mix_100_0: only 1 train row(s), fewer than --min-train-rows 10" in message
    assert "goemotions: 1 train rows drawn" in message and "duplicate" in message
    assert not (tmp_path / "out").exists()  # nothing written: lock file and the OUT it created removed
    # the gate is configurable: with a minimum of 1 the same corpus builds
    (small,) = build(sample_config(tmp_path / "out", sample=False, data_dir=str(data), mix=["100:0"], probe=False,
                                   min_train_rows=1, flip_frac=0.0, end_model="off"))
    assert small.manifest["counts"]["train"] == 1
