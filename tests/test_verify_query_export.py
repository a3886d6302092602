"""verify catches every change; DuckDB views; HF datasets round trip; JSONL and SFT exports; CLI."""
from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest

from emodata import connect, load
from emodata.cli import main
from emodata.export import export
from emodata.core.manifest import Manifest
from emodata.verify import verify
from emodata.core.contract import parse_output


def _flip_byte(path, offset=-100):
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


def test_verify_names_a_changed_shard_byte(build_copy):
    shard = build_copy.parent.parent / "data" / "goemotions" / "train.parquet"
    _flip_byte(shard)
    problems = verify(build_copy)
    assert any(p.startswith("data/goemotions/train.parquet: SHA-1") for p in problems)


def test_verify_names_missing_files_and_bad_counts(build_copy):
    root = build_copy.parent.parent
    (root / "data" / "empatheticdialogues" / "dev.jsonl").unlink()
    manifest = json.loads(build_copy.read_text())
    manifest["counts"]["train"] += 1
    build_copy.write_text(json.dumps(manifest))
    problems = verify(build_copy)
    assert "data/empatheticdialogues/dev.jsonl: missing" in problems
    assert any(p.startswith("counts.train:") for p in problems)


def test_cli_verify_exit_codes(build_copy, capsys):
    assert main(["verify", str(build_copy)]) == 0
    _flip_byte(build_copy.parent.parent / "data" / "dailydialog" / "dev_dailydialog_weak.jsonl", 10)
    assert main(["verify", str(build_copy)]) == 1
    assert "dev_dailydialog_weak.jsonl" in capsys.readouterr().err


def test_query_counts_match_manifest(sample_build):
    con = connect(sample_build.manifest_path)
    got = dict(con.execute("SELECT source, count(*) FROM train GROUP BY 1").fetchall())
    manifest = Manifest.load(sample_build.manifest_path)
    expected = {s["source"]: s["rows"] for s in manifest.shards("train")}
    assert got == expected
    assert con.execute("SELECT count(*) FROM dailydialog").fetchone()[0] == manifest.data["counts"]["probe"]
    assert con.execute("SELECT count(*) FROM goemotions_dev").fetchone()[0] == \
        manifest.shards("dev", "goemotions")[0]["rows"]
    assert con.execute("SELECT max(vad.v) <= 1 FROM dev").fetchone()[0] is True


def test_query_refuses_a_changed_shard(build_copy):
    from emodata.core.errors import VerificationError

    _flip_byte(build_copy.parent.parent / "data" / "goemotions" / "dev.parquet")
    for allow_external in (False, True):
        with pytest.raises(VerificationError, match="dev.parquet"):
            connect(build_copy, allow_external=allow_external)


def test_cli_query_csv(sample_build, capsys):
    assert main(["query", "SELECT count(*) AS n FROM dev", "--manifest", str(sample_build.manifest_path),
                 "--format", "csv"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "n" and int(lines[1]) == sample_build.manifest["counts"]["dev"]


def test_load_round_trips_every_row(sample_build):
    manifest = Manifest.load(sample_build.manifest_path)
    dataset = load(sample_build.manifest_path)
    assert set(dataset) == {"train", "validation", "test", "dailydialog"}   # the Hub's name of dev
    names = dataset["train"].features["labels"].feature.names
    assert names == manifest.labels
    for split, shards in manifest.split_names().items():
        rows = [r for s in shards for r in pq.read_table(manifest.shard_path(s)).to_pylist()]
        ds = dataset[{"dev": "validation"}.get(split, split)]
        assert len(ds) == len(rows)
        # label columns come back as ClassLabel ids (the weak ones too): compare them by name
        class_labels = {col: ds.features[col].feature.names
                        for col in ("labels", "labels_ekman", "weak_labels", "weak_labels_ekman")}
        for got, want in zip(ds, rows):
            got = dict(got)
            for col, col_names in class_labels.items():
                got[col] = None if got[col] is None else [col_names[i] for i in got[col]]
            assert got == want


def test_export_sft_lines_hold_the_one_line_answer(sample_build, tmp_path):
    out = export(sample_build.manifest_path, "sft", tmp_path / "sft")
    manifest = Manifest.load(sample_build.manifest_path)
    lines = (out / "train.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == manifest.data["counts"]["train"]
    for line in lines:
        example = json.loads(line)
        answer = example["messages"][-1]["content"]
        assert "\n" not in answer
        parsed = parse_output(answer, manifest.labels)
        assert parsed.ok and parsed.answer["labels"] == sorted(parsed.answer["labels"])


def test_export_jsonl_and_hf(sample_build, tmp_path):
    from datasets import load_from_disk

    out = export(sample_build.manifest_path, "jsonl", tmp_path / "jsonl")
    dev = [json.loads(x) for x in (out / "dev.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(dev) == sample_build.manifest["counts"]["dev"] and {"id", "vad", "labels"} <= set(dev[0])
    hf = load_from_disk(str(export(sample_build.manifest_path, "hf", tmp_path / "hf")))
    assert hf["validation"].num_rows == len(dev)


def test_cli_build_without_data_explains(tmp_path, capsys):
    assert main(["build", "--out", str(tmp_path / "o"), "--data-dir", str(tmp_path), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "goemotions" in err and "--sample" in err


def test_cli_help_lists_build_options(capsys):
    with pytest.raises(SystemExit):
        main(["build", "--help"])
    out = capsys.readouterr().out
    for flag in ("--mix", "--seed", "--dev-frac", "--vad-conf-min", "--lexicon", "--data-dir", "--on-bad-row"):
        assert flag in out
