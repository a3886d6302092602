"""Resumable annotation (issue #18): a build interrupted during the annotate stage leaves its finished parts;
the next build with the same inputs and config re-uses them (SHA-1 checked, never a half-written one),
annotates only the rest and commits the very cache entry a cold build writes."""
from __future__ import annotations

import pytest

from emodata.build import build
from emodata.cache import PartWriter

from tests.conftest import sample_config


class Interrupted(Exception):
    """Stands for a kill in the middle of the annotate stage."""


def _entries(cache):
    """{entry folder name: (entry.json bytes, {part file: bytes})} of a cache."""
    return {folder.name: ((folder / "entry.json").read_bytes(),
                          {p.name: p.read_bytes() for p in sorted(folder.glob("part-*.parquet"))})
            for folder in sorted((cache / "annotated").iterdir()) if not folder.name.startswith(".")}


def _counting_puts(monkeypatch, fail_after=None):
    puts = []
    original = PartWriter.put

    def put(self, index, frame):
        if fail_after is not None and len(puts) == fail_after:
            raise Interrupted(f"killed after {fail_after} parts")
        puts.append((self.final.name, index))
        return original(self, index, frame)

    monkeypatch.setattr(PartWriter, "put", put)
    return puts


def test_an_interrupted_annotate_stage_resumes_from_its_parts(tmp_path, monkeypatch, capfd):
    (cold,) = build(sample_config(tmp_path / "cold", cache_dir=str(tmp_path / "cold-cache"), part_rows=7))
    expected = _entries(tmp_path / "cold-cache")
    cache = tmp_path / "cache"
    killed = _counting_puts(monkeypatch, fail_after=5)
    with pytest.raises(Interrupted):
        build(sample_config(tmp_path / "out", cache_dir=str(cache), part_rows=7))
    partial = [f for f in (cache / "annotated").iterdir() if f.name.endswith(".partial")]
    committed = sum(len(parts) for _, parts in _entries(cache).values())
    left = len(list(partial[0].glob("part-*.parquet")))
    assert len(partial) == 1 and left == len(killed) - committed >= 3  # the source being annotated: its parts so far
    # A half-written part (here: truncated after its sidecar was written) is never re-used.
    damaged = sorted(partial[0].glob("part-*.parquet"))[1]
    damaged.write_bytes(damaged.read_bytes()[:100])
    monkeypatch.undo()
    puts = _counting_puts(monkeypatch)
    capfd.readouterr()
    (resumed,) = build(sample_config(tmp_path / "out", cache_dir=str(cache), part_rows=7, quiet=False))
    err = capfd.readouterr().err
    assert f"resumed {left - 1} annotated part(s)" in err
    assert damaged.name.replace(".parquet", "") in {f"part-{i:05d}" for _, i in puts}  # re-annotated
    assert len(puts) == sum(len(parts) for _, parts in expected.values()) - len(killed) + 1
    assert _entries(cache) == expected  # the very entry a cold build writes: parts and entry.json
    assert not [f for f in (cache / "annotated").iterdir() if f.name.startswith(".")]  # nothing left over
    assert (resumed.root / "checksums.sha1").read_bytes() == (cold.root / "checksums.sha1").read_bytes()


def test_parts_of_another_part_size_are_not_resumed(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    _counting_puts(monkeypatch, fail_after=3)
    with pytest.raises(Interrupted):
        build(sample_config(tmp_path / "a", cache_dir=str(cache), part_rows=7))
    monkeypatch.undo()
    puts = _counting_puts(monkeypatch)
    build(sample_config(tmp_path / "b", cache_dir=str(cache), part_rows=5))
    annotated = len(puts)
    build(sample_config(tmp_path / "c", cache_dir=str(tmp_path / "cold"), part_rows=5))
    assert annotated == len(puts) // 2 and _entries(cache) == _entries(tmp_path / "cold")


def test_a_second_writer_of_a_locked_entry_writes_a_private_folder(tmp_path):
    final = tmp_path / "annotated" / "s-key"
    first = PartWriter(final, "k" * 40, resume_rows=7)
    second = PartWriter(final, "k" * 40, resume_rows=7)
    assert first.folder.name == ".s-key.partial" and second.folder != first.folder
    second.abort(keep=True)  # not resumable: removed
    assert not second.folder.exists()
    first.abort(keep=True)
    assert first.folder.exists()
    third = PartWriter(final, "k" * 40, resume_rows=7)  # the lock was released with the first writer
    assert third.folder == first.folder
    third.abort()
    assert not first.folder.exists()
