"""Model-free scoring (`emodata score`): predictions JSONL against gold JSONL or a manifest split."""
from __future__ import annotations

import argparse
import json

import pytest

from emodata.core.config import add_arguments, from_namespace
from emodata.core.errors import EmodataError
from emodata.core.manifest import Manifest
from emodata.core.reader import read_split
from emodata.core.contract import serialize_target
from trainer.score import ScoreConfig, read_predictions, run_score, score


def write_jsonl(path, rows):
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8")
    return path


GOLD = [{"id": "a", "labels": ["joy"], "vad": {"v": 0.8, "a": 0.5, "d": 0.5}},
        {"id": "b", "labels": ["anger"], "vad": {"v": 0.2, "a": 0.8, "d": 0.6}},
        {"id": 3, "labels": ["joy", "sadness"], "vad": {"v": 0.4, "a": 0.4, "d": 0.4}}]


@pytest.fixture
def gold_file(tmp_path):
    return write_jsonl(tmp_path / "gold.jsonl", GOLD)


def parse_cli(argv):
    parser = argparse.ArgumentParser()
    add_arguments(parser, ScoreConfig)
    return from_namespace(ScoreConfig, parser.parse_args(argv))


def test_missing_ids_count_as_invalid_and_metrics_follow_the_protocol(tmp_path, gold_file):
    pred = write_jsonl(tmp_path / "pred.jsonl", [
        {"id": "a", "output": "ok " + serialize_target(["joy"], {"v": 0.7, "a": 0.5, "d": 0.5}, "glad")},
        {"id": "3", "output": "no idea"},          # ids compare as strings: matches gold id 3
        "",                                         # blank lines are skipped
        {"id": "zzz", "output": None},              # not in gold: ignored, counted
    ])
    result = score(pred, gold_file)
    assert result["n"] == 3 and result["n_valid"] == 1 and result["parse_ok"] == pytest.approx(1 / 3)
    assert result["missing_ids"] == 1 and result["pred_ids_not_in_gold"] == 1
    assert result["parse_failures"] == {"missing": 1, "no_json_object": 1}
    # K* = anger, joy, sadness; only row a is valid: joy TP -> F1 1, anger and sadness 0.
    assert result["macro_f1"] == pytest.approx(1 / 3)
    assert result["vad_1mrmse"] == pytest.approx(1 - (0.01 / 3) ** 0.5)
    assert not result["label_space_checked"]


def test_cli_prints_one_json_object_and_writes_the_same(tmp_path, gold_file, capsys):
    pred = write_jsonl(tmp_path / "pred.jsonl", [
        {"id": "b", "output": serialize_target(["anger"], {"v": 0.2, "a": 0.8, "d": 0.6}, "mad")}])
    out = tmp_path / "sub" / "score.json"
    config = parse_cli(["--pred", str(pred), "--gold", str(gold_file), "--out", str(out)])
    assert config.split == "dev"
    assert run_score(config) == 0
    printed = json.loads(capsys.readouterr().out)
    for key in ("n", "parse_ok", "macro_f1", "macro_p", "macro_r", "vad_1mrmse"):
        assert key in printed
    assert printed["vad_1mrmse"] == pytest.approx(1.0) and printed["parse_ok"] == pytest.approx(1 / 3)
    assert json.loads(out.read_text(encoding="utf-8")) == printed


@pytest.mark.parametrize("lines, message", [
    ([{"id": "a", "output": "x"}, "{not json"], r"pred.jsonl, line 2: not valid JSON"),
    ([{"id": "a", "output": "x"}, {"id": "b", "output": "y"}, {"id": "a", "output": "z"}],
     r"pred.jsonl, line 3: duplicate id 'a' \(first on line 1\)"),
    ([{"id": "a"}], r"pred.jsonl, line 1: missing 'output'"),
    ([{"output": "x"}], r"pred.jsonl, line 1: missing 'id'"),
    ([{"id": "a", "output": {"labels": []}}], r"pred.jsonl, line 1: 'output' must be a string or null"),
    (["[1, 2]"], r"pred.jsonl, line 1: expected a JSON object, got list"),
])
def test_bad_prediction_lines_name_file_and_line(tmp_path, gold_file, lines, message):
    pred = write_jsonl(tmp_path / "pred.jsonl", lines)
    with pytest.raises(EmodataError, match=message):
        run_score(ScoreConfig(pred=str(pred), gold=str(gold_file)))


def test_bad_gold_lines_and_missing_files(tmp_path):
    pred = write_jsonl(tmp_path / "pred.jsonl", [{"id": "a", "output": "x"}])
    bad = write_jsonl(tmp_path / "gold.jsonl", [GOLD[0], {"id": "b", "labels": "joy"}])
    with pytest.raises(EmodataError, match=r"gold.jsonl, line 2: 'labels' must be a list of strings"):
        score(pred, bad)
    bad_vad = write_jsonl(tmp_path / "gold2.jsonl", [{"id": "a", "labels": [], "vad": {"v": "high"}}])
    with pytest.raises(EmodataError, match=r"gold2.jsonl, line 1: 'vad'"):
        score(pred, bad_vad)
    nan_vad = write_jsonl(tmp_path / "gold3.jsonl", ['{"id": "a", "labels": [], "vad": {"v": NaN, "a": 0, "d": 0}}'])
    with pytest.raises(EmodataError, match=r"gold3.jsonl, line 1: 'vad' must be an object with finite"):
        score(pred, nan_vad)
    with pytest.raises(EmodataError, match="gold file not found"):
        score(pred, tmp_path / "nope.jsonl")
    with pytest.raises(EmodataError, match="needs --pred"):
        run_score(ScoreConfig(gold=str(bad)))


def test_read_predictions_keeps_null_outputs(tmp_path):
    pred = write_jsonl(tmp_path / "p.jsonl", [{"id": 1, "output": None}, {"id": "2", "output": "t"}])
    assert read_predictions(pred) == {"1": None, "2": "t"}


def test_manifest_gold_reads_the_split_and_checks_the_label_space(sample_build, tmp_path):
    manifest = Manifest.load(sample_build.manifest_path)
    dev = read_split(manifest, "dev").to_pylist()
    first, second = dev[0], dev[1]
    pred = write_jsonl(tmp_path / "pred.jsonl", [
        {"id": first["id"], "output": serialize_target(first["labels"], first["vad"], "r")},
        {"id": second["id"], "output": serialize_target(["not-a-label"], second["vad"], "r")},
    ])
    result = score(pred, sample_build.manifest_path, "dev")
    assert result["n"] == len(dev) and result["n_valid"] == 1 and result["label_space_checked"]
    assert result["parse_failures"]["unknown_label"] == 1
    assert result["parse_failures"]["missing"] == len(dev) - 2
    # VAD is rounded to 2 decimals by the contract, so the single valid row is off by at most 0.005.
    assert 1 - 0.005 <= result["vad_1mrmse"] <= 1.0
    test_result = score(pred, sample_build.manifest_path, "test")
    assert test_result["n_valid"] == 0 and test_result["pred_ids_not_in_gold"] == 2
    with pytest.raises(EmodataError, match="no split 'validation'"):
        score(pred, sample_build.manifest_path, "validation")
