"""The typed manifest (emodata/core/manifest.py): it reads and writes the build's JSON byte for byte,
refuses other schema versions and shapes naming the file and key, and answers the card's questions."""
from __future__ import annotations

import json

import pytest

from emodata.cli import main
from emodata.core.errors import EmodataError
from emodata.core.manifest import SCHEMA_VERSION, Manifest, ManifestError, QcSummary, Shard, dumps
from emodata.stages import SourceRoles


def _rewrite(path, change) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(dumps(data), encoding="utf-8")


def test_reads_and_writes_the_build_manifest_byte_for_byte(sample_build):
    text = sample_build.manifest_path.read_text(encoding="utf-8")
    manifest = Manifest.load(sample_build.manifest_path)
    assert manifest.dumps() == text
    assert Manifest.from_dict(json.loads(text)).to_dict() == json.loads(text) == sample_build.manifest
    assert manifest.root == sample_build.root and manifest.path == sample_build.manifest_path.resolve()
    assert isinstance(manifest.qc, QcSummary) and manifest.qc.success is True
    assert all(isinstance(s, Shard) for s in manifest.shard_entries)


def test_typed_accessors_answer_from_the_json(sample_build):
    manifest = Manifest.load(sample_build.manifest_path)
    data = json.loads(sample_build.manifest_path.read_text(encoding="utf-8"))
    groups = manifest.split_names()
    assert list(groups) == ["train", "dev", "test", "dailydialog"]
    assert sum(s.rows for s in groups["train"]) == data["counts"]["train"]
    assert [s.path for s in manifest.pair_shards()] == ["pairs/train_pairs.parquet"] and manifest.has_flips
    assert manifest.built_sources() == ["goemotions", "empatheticdialogues", "dailydialog"]
    assert manifest.mix.source_a == data["mix"]["source_a"] and manifest.thresholds.vad_conf_min == 0.25
    assert manifest.artifact("appraisal_verifier").sha1 == data["artifacts"][0]["sha1"]
    rows = manifest.qc.suite_rows()
    assert [r["suite"] for r in rows][:3] == ["record", "mix", "distribution"]
    assert all(r["passed"] == r["evaluated"] for r in rows)
    shard = manifest.shards(role="train", source="goemotions")[0]
    assert shard["rows"] == shard.rows and dict(shard) == data["shards"][0]     # still reads as its JSON dict


def test_other_schema_versions_are_refused_naming_the_file(build_copy):
    _rewrite(build_copy, lambda d: d.update(schema_version=SCHEMA_VERSION + 1))
    with pytest.raises(ManifestError) as info:
        Manifest.load(build_copy)
    assert str(build_copy) in str(info.value) and f"schema_version {SCHEMA_VERSION + 1}" in str(info.value)
    assert isinstance(info.value, EmodataError) and isinstance(info.value, ValueError)
    _rewrite(build_copy, lambda d: d.pop("schema_version"))
    with pytest.raises(ManifestError, match="not an emodata manifest"):
        Manifest.load(build_copy)


def test_verify_says_which_file_has_an_unknown_version(build_copy, capsys):
    _rewrite(build_copy, lambda d: d.update(schema_version=99))
    assert main(["verify", str(build_copy)]) == 2
    err = capsys.readouterr().err
    assert str(build_copy) in err and "schema_version 99 is not supported" in err


@pytest.mark.parametrize("change, problem", [
    (lambda d: d["shards"][1].update(rows="12"), r"shards\[1\]\.rows: expected int, got str"),
    (lambda d: d["mix"].pop("rows_b"), r"mix\.rows_b: missing"),
    (lambda d: d["sources"]["goemotions"]["files"][0].update(lines=3), r"sources\.goemotions\.files\[0\]: unknown key"),
    (lambda d: d.update(qc={"passed": True}), r"qc\.success: missing"),
    (lambda d: d.update(seed=True), r"seed: expected int, got bool"),
])
def test_wrong_shapes_are_refused_naming_file_and_key(build_copy, change, problem):
    _rewrite(build_copy, change)
    with pytest.raises(ManifestError, match=problem) as info:
        Manifest.load(build_copy)
    assert str(build_copy) in str(info.value)


def test_unknown_top_level_keys_are_kept_but_not_read(build_copy):
    _rewrite(build_copy, lambda d: d.update(weak_labels={"method": "majority_vote"}))
    manifest = Manifest.load(build_copy)
    assert manifest.extra == {"weak_labels": {"method": "majority_vote"}}
    assert manifest.dumps() == build_copy.read_text(encoding="utf-8")


def test_optional_parts_are_left_out_when_absent(sample_build):
    data = json.loads(sample_build.manifest_path.read_text(encoding="utf-8"))
    for key in ("pairs", "end_model", "qc", "weak_supervision", "lf_analysis", "appraisal", "artifacts"):
        data.pop(key)
    manifest = Manifest.from_dict(data)
    assert manifest.qc is None and manifest.pairs is None and manifest.to_dict() == data
    assert manifest.has_flips    # the pairs shard is still listed


def test_source_roles_come_from_the_registry():
    from emodata.core import registry
    from emodata.sources import register_source, source_entry

    assert SourceRoles.from_registry() == SourceRoles("goemotions", "empatheticdialogues", "dailydialog")
    assert SourceRoles.from_registry().probe_shard == "dev_dailydialog_weak"
    entry = source_entry("dailydialog")
    registry.unregister(registry.sources, "dailydialog")
    try:
        with pytest.raises(EmodataError, match="role 'probe'"):
            SourceRoles.from_registry()
    finally:
        register_source("dailydialog", entry.reader, entry.from_hub, entry.stream)
