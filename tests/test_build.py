"""End-to-end builds on the sample corpus: layout, ratios, splits, determinism, atomicity, cache."""
from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from catalog import load_catalog
from emodata import annotate as annotate_module
from emodata.build import build
from emodata.core.errors import BadRowError, DataNotFoundError, EmodataError
from emodata.core.manifest import Manifest
from emodata.mix import Ratio, mixture_sizes
from emodata.sources import SAMPLE_DIR
from emodata.verify import verify

from tests.conftest import sample_config


def _rows(manifest: Manifest, role: str) -> list[dict]:
    return [r for s in manifest.shards(role) for r in pq.read_table(manifest.shard_path(s)).to_pylist()]


def test_layout_and_manifest(sample_build):
    root = sample_build.root
    assert root.name == "mix_20_80"
    assert sample_build.manifest_path == root / "manifests" / "mix_20_80.json"
    for rel in ("checksums.sha1", "index/permutation.parquet", "data/goemotions/train.parquet",
                "data/goemotions/dev.jsonl", "data/empatheticdialogues/train.parquet",
                "data/dailydialog/dev_dailydialog_weak.parquet"):
        assert (root / rel).is_file(), rel
    manifest = json.loads(sample_build.manifest_path.read_text())
    assert manifest["mix"]["a"] == 20 and manifest["seed"] == 42 and manifest["dev_frac"] == 0.05
    assert manifest["lexicon"]["name"] == "nrclex-proxy" and manifest["thresholds"]["vad_conf_min"] == 0.25
    assert manifest["catalog"]["sha1"] == load_catalog().sha1
    assert manifest["label_space"]["labels"][-1] == "other" and len(manifest["label_space"]["labels"]) == 29
    assert manifest["pipeline"]["name"] and manifest["emodata"]["version"]
    assert verify(sample_build.manifest_path) == []


def test_mixture_sizes_and_split_fractions(sample_build):
    m = Manifest.load(sample_build.manifest_path)
    mix = m.data["mix"]
    pools = {name: info["rows_kept"] - info["rows_used"].get("test", 0)
             - info["drops"].get("duplicate_text_across_sources", 0)
             for name, info in m.data["sources"].items() if name != "dailydialog"}
    assert (mix["rows_a"], mix["rows_b"]) == mixture_sizes(pools["goemotions"], pools["empatheticdialogues"],
                                                           Ratio(20, 80))
    assert abs(mix["rows_a"] / mix["rows"] - 0.2) < 0.01
    train, dev = _rows(m, "train"), _rows(m, "dev")
    assert len(train) + len(dev) == mix["rows"]
    assert 0.04 <= len(dev) / mix["rows"] <= 0.12   # small sample: dialogues are kept whole


def test_no_id_or_text_shared_across_splits(sample_build):
    m = Manifest.load(sample_build.manifest_path)
    seen_ids, seen_texts = {}, {}
    for role in ("train", "dev", "test", "probe"):
        rows = _rows(m, role)
        ids = {r["id"] for r in rows}
        texts = {" ".join(r["text"].split()).casefold() for r in rows}
        assert len(ids) == len(rows)
        for other, other_ids in seen_ids.items():
            assert not ids & other_ids, (role, other)
            assert not texts & seen_texts[other], (role, other)
        seen_ids[role], seen_texts[role] = ids, texts


def test_records_respect_thresholds_and_label_space(sample_build):
    m = Manifest.load(sample_build.manifest_path)
    labels, tau = set(m.labels), m.data["thresholds"]["vad_conf_min"]
    rows = [r for role in ("train", "dev", "test", "probe") for r in _rows(m, role)]
    assert rows
    for r in rows:
        assert all(0.0 < r["vad"][k] < 1.0 for k in "vad")
        assert r["vad_conf"] >= tau and set(r["labels"]) <= labels and r["labels"]
        assert 3 <= r["qc_flags"]["len"] <= 128 and r["qc_flags"]["lang"] == "en"
        assert r["rationale"] and r["split"] in ("train", "dev", "test")
    ed = [r for r in rows if r["source"] == "empatheticdialogues"]
    assert all(r["conv_id"] and r["turn"] >= 1 and r["situation"] for r in ed)
    assert any(r["context"] for r in ed)


def test_two_builds_are_byte_identical(sample_build, tmp_path):
    (again,) = build(sample_config(tmp_path, no_cache=True))
    assert (again.root / "checksums.sha1").read_bytes() == (sample_build.root / "checksums.sha1").read_bytes()
    assert again.manifest_path.read_bytes() == sample_build.manifest_path.read_bytes()


def test_second_mix_reuses_the_annotated_cache(sample_build, tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("annotate ran although the cache holds this source")

    monkeypatch.setattr("emodata.engines.local.annotate_frame", refuse)
    (result,) = build(sample_config(tmp_path, mix=["80:20"]))
    assert result.manifest["mix"]["a"] == 80 and verify(result.manifest_path) == []
    assert annotate_module.annotate_frame is not refuse


def test_single_source_and_several_mixes(tmp_path):
    results = build(sample_config(tmp_path, mix=["100:0", "0:100"], probe=False))
    assert [r.name for r in results] == ["mix_100_0", "mix_0_100"]
    for result, source in zip(results, ("goemotions", "empatheticdialogues")):
        shards = result.manifest["shards"]
        assert {s["source"] for s in shards if s["role"] != "pairs"} == {source}
        # the Valence-Flip pairs shard is the mix's own, drawn from that single source's train rows
        (pairs,) = [s for s in shards if s["role"] == "pairs"]
        assert pairs["source"] == "mix" and pairs["path"] == "pairs/train_pairs.parquet"
        train_ids = {r["id"] for s in shards if s["role"] == "train"
                     for r in pq.read_table(result.root / s["path"], columns=["id"]).to_pylist()}
        pair_ids = pq.read_table(result.root / pairs["path"], columns=["id"]).column("id").to_pylist()
        assert pair_ids and set(pair_ids) <= train_ids
        assert all(i.startswith(f"{source}:") for i in pair_ids)


def test_existing_output_needs_overwrite(sample_build):
    with pytest.raises(EmodataError, match="--overwrite"):
        build(sample_config(sample_build.root.parent))


def _copy_sample(tmp_path: Path) -> Path:
    import shutil

    data = tmp_path / "data"
    shutil.copytree(SAMPLE_DIR, data)
    return data


def test_probe_drops_texts_of_the_mix_test_split(tmp_path, sample_build):
    """A DailyDialog utterance equal to a mix test row leaves the probe (counted), so the QC gate's
    no-text-across-roles check holds (it failed on a 3-corpus build before the probe was checked
    against test rows)."""
    import pyarrow.parquet as pq

    from emodata.sources.dailydialog import detokenize

    test_texts = pq.read_table(sample_build.root / "data" / "empatheticdialogues" / "test.parquet")["text"].to_pylist()
    spaced = {t: t.replace(",", " ,").replace(".", " .").replace("!", " !").replace("?", " ?") for t in test_texts}
    text, line = next((t, s) for t, s in spaced.items() if detokenize(s) == t and len(t.split()) >= 3)
    data = _copy_sample(tmp_path)
    for name, row in (("dialogues_text.txt", f"{line} __eou__ Thanks a lot for telling me that . __eou__"),
                      ("dialogues_emotion.txt", "0 0"), ("dialogues_act.txt", "1 1")):
        with open(data / "dailydialog" / name, "a", encoding="utf-8") as handle:
            handle.write(row + "\n")
    (result,) = build(sample_config(tmp_path / "out", sample=False, data_dir=str(data)))
    base = sample_build.manifest["sources"]["dailydialog"]["drops"].get("text_in_mix", 0)
    assert result.manifest["sources"]["dailydialog"]["drops"]["text_in_mix"] == base + 1
    probe = pq.read_table(result.root / "data" / "dailydialog" / "dev_dailydialog_weak.parquet")["text"].to_pylist()
    assert text not in probe


def test_bad_source_row_fails_atomically(tmp_path):
    data = _copy_sample(tmp_path)
    with open(data / "goemotions" / "train.tsv", "a", encoding="utf-8") as handle:
        handle.write("a row without its other fields\n")
    out = tmp_path / "out"
    with pytest.raises(BadRowError, match=r"train\.tsv, line \d+"):
        build(sample_config(out, sample=False, data_dir=str(data)))
    assert not out.exists() or not any(out.iterdir())


def test_bad_rows_skipped_are_counted(tmp_path):
    data = _copy_sample(tmp_path)
    with open(data / "goemotions" / "train.tsv", "a", encoding="utf-8") as handle:
        handle.write("a row without its other fields\n")
    (result,) = build(sample_config(tmp_path / "out", sample=False, data_dir=str(data), on_bad_row="skip"))
    assert result.manifest["sources"]["goemotions"]["reader_skipped"] == {"wrong_field_count": 1}


def test_missing_source_says_how_to_supply_it(tmp_path):
    with pytest.raises(DataNotFoundError, match="--data-dir") as info:
        build(sample_config(tmp_path / "out", sample=False, data_dir=str(tmp_path)))
    assert "--sample" in str(info.value) and "empatheticdialogues" in str(info.value)
    assert not (tmp_path / "out").exists()


def test_a_mix_built_beside_another_has_the_same_manifest(sample_build, tmp_path):
    results = build(sample_config(tmp_path, mix=["50:50", "20:80"]))
    assert results[1].manifest_path.read_bytes() == sample_build.manifest_path.read_bytes()


def test_goemotions_raw_format_build(tmp_path):
    (result,) = build(sample_config(tmp_path, mix=["100:0"], goemotions_format="raw", probe=False))
    info = result.manifest["sources"]["goemotions"]
    assert [f["name"] for f in info["files"]] == ["goemotions_1.csv"]
    assert info["reader_skipped"].get("no_rater_agreement", 0) >= 1
    assert result.manifest["config"]["goemotions_format"] == "raw"
