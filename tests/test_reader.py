"""The one verified shard reader (emodata/core/reader.py): every consumer reads a build through it."""
from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest

from emodata.core.errors import EmodataError, VerificationError
from emodata.core.manifest import Manifest, dumps
from emodata.core.reader import file_problem, read_role, read_shard, read_split, read_splits

SHARD = "data/goemotions/train.parquet"


def test_splits_are_the_listed_shards_rows_in_order(sample_build):
    manifest = Manifest.load(sample_build.manifest_path)
    splits = read_splits(manifest)
    assert list(splits) == list(manifest.split_names())
    for name, shards in manifest.split_names().items():
        direct = [row for s in shards for row in pq.read_table(manifest.shard_path(s)).to_pylist()]
        assert splits[name].to_pylist() == direct
        assert read_split(manifest, name).equals(splits[name])
    with pytest.raises(EmodataError, match=r"no split 'validation' \(has train, dev"):
        read_split(manifest, "validation")


def test_columns_are_projected_and_a_missing_one_is_named(sample_build):
    manifest = Manifest.load(sample_build.manifest_path)
    table = read_split(manifest, "dev", ["id", "vad"])
    assert table.column_names == ["id", "vad"] and table.num_rows == manifest.data["counts"]["dev"]
    with pytest.raises(EmodataError, match="no column.*not_a_column"):
        read_split(manifest, "dev", ["id", "not_a_column"])
    assert read_split(manifest, "dev", ["id", "not_a_column"], missing_ok=True).column_names == ["id"]


def test_a_changed_shard_is_refused_naming_it_unless_verify_is_off(build_copy):
    manifest = Manifest.load(build_copy)
    shard = next(s for s in manifest.shards() if s["path"] == SHARD)
    path = manifest.root / SHARD
    table = pq.read_table(path)
    pq.write_table(table.slice(1), path)  # one row fewer: another SHA-1
    assert file_problem(path, shard["sha1"]).startswith("SHA-1 ")
    with pytest.raises(VerificationError, match=r"goemotions/train\.parquet: SHA-1 \w+ != manifest"):
        read_split(manifest, "train")
    assert read_shard(manifest.root, shard, manifest.path, verify=False).num_rows == table.num_rows - 1
    path.unlink()
    assert file_problem(path, shard["sha1"]) == "missing"
    with pytest.raises(VerificationError, match="train.parquet: missing"):
        read_split(manifest, "train")


def test_row_count_and_path_are_checked_against_the_manifest(build_copy):
    data = json.loads(build_copy.read_text())
    shard = next(s for s in data["shards"] if s["path"] == SHARD)
    shard["rows"] += 1
    build_copy.write_text(dumps(data))
    with pytest.raises(VerificationError, match=r"train\.parquet: \d+ rows != manifest"):
        read_split(Manifest.load(build_copy), "train")
    shard["path"] = "../elsewhere.parquet"
    build_copy.write_text(dumps(data))
    with pytest.raises(EmodataError, match=r"path '\.\./elsewhere\.parquet' resolves to .* outside the build"):
        read_split(Manifest.load(build_copy), "train", verify=False)


def test_roles_without_shards_read_as_no_rows(sample_build):
    manifest = Manifest.load(sample_build.manifest_path)
    assert read_role(manifest, "no_such_role").num_rows == 0
    assert read_role(manifest, "train").num_rows == manifest.data["counts"]["train"]
    goemotions = read_role(manifest, "train", ["source"], source="goemotions")
    assert set(goemotions.column("source").to_pylist()) == {"goemotions"}
    assert goemotions.num_rows == sum(s["rows"] for s in manifest.shards(role="train", source="goemotions"))
