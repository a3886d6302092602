"""The write stage's spill files live in OUT beside the staging folder (not the system temp folder) and
are removed when the build succeeds and when it fails (issue #18)."""
from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

import emodata.build as build_module
import emodata.freeze as freeze_module
from emodata.build import build

from tests.conftest import sample_config


@pytest.fixture
def spill_folders(monkeypatch, tmp_path):
    """Every spill folder the write stage makes, with the files it held while the encode ran; the
    system temp folder pointed at an empty folder that must stay empty."""
    made: list[Path] = []
    seen: list[str] = []
    system_tmp = tmp_path / "system-tmp"
    system_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(system_tmp))
    original_folder, original_encode = freeze_module.spill_folder, build_module.encode_records

    def folder(ctx):
        made.append(original_folder(ctx))
        return made[-1]

    def encode(*args):
        seen.extend(sorted(p.name for p in made[-1].iterdir()))
        return original_encode(*args)

    monkeypatch.setattr(freeze_module, "spill_folder", folder)
    monkeypatch.setattr(build_module, "encode_records", encode)
    return made, seen, system_tmp


def test_spill_files_go_beside_the_staging_folder_and_are_removed_on_success(tmp_path, spill_folders):
    made, seen, system_tmp = spill_folders
    out = tmp_path / "out"
    (result,) = build(sample_config(out, cache_dir=str(tmp_path / "cache"), shard_rows=9))
    assert len(made) == 1 and made[0].parent == out and made[0].name.startswith(f".{result.name}.tmp-spill-")
    assert any(name.endswith(".arrow") for name in seen)  # the spills were there while the files were encoded
    assert not made[0].exists()
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".emodata")) == [result.name]
    assert list(system_tmp.iterdir()) == []


def test_spill_files_are_removed_when_the_write_stage_fails(tmp_path, spill_folders, monkeypatch):
    made, seen, system_tmp = spill_folders
    calls = []
    encode = build_module.encode_records

    def failing(*args):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("disk full while encoding")
        return encode(*args)

    monkeypatch.setattr(build_module, "encode_records", failing)
    out = tmp_path / "out"
    with pytest.raises(RuntimeError, match="disk full"):
        build(sample_config(out, cache_dir=str(tmp_path / "cache"), shard_rows=9))
    assert len(made) == 1 and made[0].parent == out and any(name.endswith(".arrow") for name in seen)
    assert not made[0].exists()
    assert not out.exists() or [p.name for p in out.iterdir() if not p.name.startswith(".emodata")] == []
    assert list(system_tmp.iterdir()) == []


def test_no_cache_parts_go_to_out_not_the_system_temp_folder_and_are_removed(tmp_path, spill_folders, monkeypatch):
    from emodata.cache import AnnotatedCache

    made, seen, system_tmp = spill_folders
    scratch = []
    writer = AnnotatedCache.writer

    def recording(self, source, key, **options):
        result = writer(self, source, key, **options)
        scratch.append(self._scratch)
        return result

    monkeypatch.setattr(AnnotatedCache, "writer", recording)
    out = tmp_path / "out"
    (result,) = build(sample_config(out, no_cache=True))
    assert scratch and all(s is not None and s.parent == out and s.name.startswith(".emodata-annotated.tmp-")
                           for s in scratch)
    assert not any(s.exists() for s in scratch)
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".emodata.lock")) == [result.name]
    assert list(system_tmp.iterdir()) == []
