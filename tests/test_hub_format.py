"""Hub-ready build folders: `datasets.load_dataset(BUILD_DIR)` and `emodata.load` agree (ClassLabel
features, split names), every Parquet file carries HF features, DuckDB globs read records only."""
from __future__ import annotations

import json

import duckdb
import pyarrow.parquet as pq
import pytest

import emodata
from emodata.core.manifest import Manifest

datasets = pytest.importorskip("datasets")


@pytest.fixture(scope="module")
def hub_views(sample_build, tmp_path_factory):
    """(load_dataset's DatasetDict, emodata.load's DatasetDict) of the sample build."""
    cache = tmp_path_factory.mktemp("hf-cache")
    from datasets.utils.logging import disable_progress_bar

    disable_progress_bar()
    return (datasets.load_dataset(str(sample_build.root), cache_dir=str(cache)),
            emodata.load(sample_build.manifest_path))


def test_load_dataset_and_emodata_load_agree(sample_build, hub_views):
    hub, ours = hub_views
    counts = sample_build.manifest["counts"]
    assert set(hub) == set(ours) == {"train", "validation", "test", "dailydialog"}   # dev -> validation
    assert len(hub["validation"]) == len(ours["validation"]) == counts["dev"]
    for split in hub:
        assert hub[split].features == ours[split].features, split
        labels = ours[split].features["labels"].feature
        assert isinstance(labels, datasets.ClassLabel) and labels.names == sample_build.manifest["label_space"]["labels"]
        assert isinstance(ours[split].features["weak_labels_ekman"].feature, datasets.ClassLabel)
        assert hub[split]["id"] == ours[split]["id"]
        assert hub[split]["labels"] == ours[split]["labels"]          # the same ClassLabel ids, row by row
        assert hub[split]["weak_labels"] == ours[split]["weak_labels"]


def test_class_label_ids_decode_to_the_shard_strings(sample_build, hub_views):
    _, ours = hub_views
    manifest = Manifest.load(sample_build.manifest_path)
    shard = manifest.split_names()["dev"][0]
    strings = pq.read_table(manifest.shard_path(shard), columns=["labels", "weak_labels"]).to_pylist()
    names = ours["validation"].features["labels"].feature
    decoded = [[names.int2str(i) for i in row] for row in ours["validation"]["labels"][:len(strings)]]
    assert decoded == [r["labels"] for r in strings]
    assert any(r["weak_labels"] is None for r in strings) or all(r["weak_labels"] is not None for r in strings)


def test_every_parquet_file_carries_hf_features(sample_build):
    manifest = sample_build.manifest
    assert any(s["role"] == "pairs" for s in manifest["shards"])
    for shard in manifest["shards"]:
        schema = pq.read_schema(sample_build.root / shard["path"])
        meta = json.loads(schema.metadata[b"huggingface"])
        features = datasets.Features.from_dict(meta["info"]["features"])
        assert list(features) == schema.names, shard["path"]
        if shard["role"] != "pairs":
            assert isinstance(features["labels"].feature, datasets.ClassLabel), shard["path"]
            assert features["source_labels"].feature == datasets.Value("string")


def test_duckdb_glob_reads_records_only(sample_build):
    root = sample_build.root
    pairs = [s["path"] for s in sample_build.manifest["shards"] if s["role"] == "pairs"]
    assert pairs and not any(p.startswith("data/") for p in pairs)
    n = duckdb.sql(f"SELECT count(*) FROM '{root}/data/*/*.parquet'").fetchall()[0][0]
    records = sum(s["rows"] for s in sample_build.manifest["shards"] if s["role"] != "pairs")
    assert n == records


def test_query_views_one_per_split_and_source(sample_build):
    names = {r[0] for r in emodata.connect(sample_build.manifest_path).execute("SHOW TABLES").fetchall()}
    assert {"train", "dev", "dailydialog", "pairs", "goemotions_train", "empatheticdialogues_dev"} <= names
    assert not any("-of-" in n or n.endswith(("_00000", "_pairs_train")) for n in names), names
