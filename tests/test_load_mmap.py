"""`emodata.load` memory-maps Arrow IPC files from a cache keyed by the shards' SHA-1s, like `datasets`,
and never trusts a cache file or a changed build without checking."""
from __future__ import annotations

import pytest

from emodata.core.errors import VerificationError
from emodata.core.manifest import Manifest
from emodata.export import arrow_cache_key, features, load

datasets = pytest.importorskip("datasets")


def _flip_byte(path, offset=-100):
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


def _files(cache):
    """name -> (inode, size): a rewrite (temp file + rename) gives a new inode; a hit only refreshes mtime."""
    return {p.name: (p.stat().st_ino, p.stat().st_size) for p in cache.iterdir()}


def test_load_memory_maps_a_cache_reused_across_loads(sample_build, tmp_path):
    from datasets.table import MemoryMappedTable

    cache = tmp_path / "arrow"
    first = load(sample_build.manifest_path, cache_dir=cache)
    for name, split in first.items():
        assert isinstance(split.data, MemoryMappedTable), name          # not an in-memory copy
        (cached,) = split.cache_files
        assert cached["filename"].startswith(str(cache)), name
    files = _files(cache)
    assert len(files) == 2 * len(first)                                 # one .arrow + its record per split
    warnings = []
    again = load(sample_build.manifest_path, cache_dir=cache, warn=warnings.append)
    assert _files(cache) == files and not warnings                      # reused, not rewritten
    for name in first:
        assert again[name].features == first[name].features
        assert again[name]["id"] == first[name]["id"]


def test_cache_key_follows_shards_and_label_space(sample_build):
    manifest = Manifest.load(sample_build.manifest_path)
    shards = manifest.split_names()["train"]
    feats = features(manifest.labels, manifest.data["label_space"]["ekman_labels"])
    key = arrow_cache_key(shards, feats, "train")
    assert key == arrow_cache_key([dict(s) for s in shards], feats, "train")
    changed = [dict(shards[0], sha1="0" * 40)] + shards[1:]
    assert arrow_cache_key(changed, feats, "train") != key
    other = features(list(reversed(manifest.labels)), manifest.data["label_space"]["ekman_labels"])
    assert arrow_cache_key(shards, other, "train") != key


def test_a_changed_cache_file_is_converted_again_with_a_warning(sample_build, tmp_path):
    cache = tmp_path / "arrow"
    want = {name: split["text"] for name, split in load(sample_build.manifest_path, cache_dir=cache).items()}
    arrow = max(cache.glob("*.arrow"), key=lambda p: p.stat().st_size)
    _flip_byte(arrow)
    warnings = []
    got = load(sample_build.manifest_path, cache_dir=cache, warn=warnings.append)
    assert len(warnings) == 1 and str(arrow) in warnings[0] and "SHA-1" in warnings[0]
    assert {name: split["text"] for name, split in got.items()} == want
    load(sample_build.manifest_path, cache_dir=cache, warn=warnings.append)
    assert len(warnings) == 1                                           # the rewritten file checks out


def test_a_cache_file_without_its_record_is_not_used(sample_build, tmp_path):
    cache = tmp_path / "arrow"
    load(sample_build.manifest_path, cache_dir=cache)
    record = next(cache.glob("*.json"))
    record.unlink()
    warnings = []
    load(sample_build.manifest_path, cache_dir=cache, warn=warnings.append)
    assert len(warnings) == 1 and record.name in warnings[0]
    assert record.is_file()


def test_a_changed_shard_is_refused_even_with_a_warm_cache(build_copy, tmp_path):
    cache = tmp_path / "arrow"
    load(build_copy, cache_dir=cache)
    _flip_byte(build_copy.parent.parent / "data" / "goemotions" / "train.parquet")
    with pytest.raises(VerificationError, match="train.parquet"):
        load(build_copy, cache_dir=cache)


def test_load_prunes_least_recently_used_files_beyond_the_budget(sample_build, tmp_path, monkeypatch):
    import os

    cache = tmp_path / "arrow"
    cache.mkdir()
    stale = []
    for i in range(3):  # three old cache files from other builds, 1 KiB each, oldest first
        path = cache / f"{i:040x}.arrow"
        path.write_bytes(b"x" * 1024)
        path.with_suffix(".json").write_text("{}")
        os.utime(path, (1_000_000 + i, 1_000_000 + i))
        stale.append(path)
    monkeypatch.setenv("EMODATA_ARROW_CACHE_MAX_BYTES", "0")
    loaded = load(sample_build.manifest_path, cache_dir=cache)
    used = {f["filename"] for split in loaded.values() for f in split.cache_files}
    assert {str(p) for p in cache.glob("*.arrow")} == used        # every stale file gone, this load's kept
    assert not any(p.with_suffix(".json").exists() for p in stale)
    assert all(len(split) for split in loaded.values())           # still readable after the prune


def test_load_keeps_recently_used_files_within_the_budget(sample_build, tmp_path, monkeypatch):
    import os

    cache = tmp_path / "arrow"
    load(sample_build.manifest_path, cache_dir=cache)
    used = sorted(cache.glob("*.arrow"))
    size = sum(p.stat().st_size for p in used)
    old = cache / ("f" * 40 + ".arrow")
    old.write_bytes(b"y" * 10)
    os.utime(old, (1_000_000, 1_000_000))
    monkeypatch.setenv("EMODATA_ARROW_CACHE_MAX_BYTES", str(size + 10))
    load(sample_build.manifest_path, cache_dir=cache)
    assert old.exists()                                            # within budget: nothing deleted
    monkeypatch.setenv("EMODATA_ARROW_CACHE_MAX_BYTES", str(size + 9))
    load(sample_build.manifest_path, cache_dir=cache)
    assert not old.exists() and all(p.exists() for p in used)      # the least recently used goes first


def test_a_bad_cache_budget_is_refused(sample_build, tmp_path, monkeypatch):
    from emodata.core.errors import EmodataError

    monkeypatch.setenv("EMODATA_ARROW_CACHE_MAX_BYTES", "lots")
    with pytest.raises(EmodataError, match="EMODATA_ARROW_CACHE_MAX_BYTES"):
        load(sample_build.manifest_path, cache_dir=tmp_path / "arrow")
