"""The end model (TF-IDF + LR on label sets), the build's end-model check and the all-turns probe."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from emodata.build import build
from labeling_functions.end_model import fit_end_model, read_sets, sample_rows

from tests.conftest import sample_config

NAMES = ["anger", "joy", "sadness", "neutral"]
WORDS = {"anger": "furious rage", "joy": "happy delighted", "sadness": "crying tears", "neutral": "table chair"}


def _toy(n: int = 240, seed: int = 0) -> tuple[list[str], list[list[str]]]:
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for i in range(n):
        label = NAMES[i % 4]
        filler = " ".join(rng.choice(["the", "a", "today", "we", "it", "was"], 4))
        texts.append(f"{filler} {WORDS[label].split()[(i // 4) % 2]} {filler}")
        labels.append([label])
    return texts, labels


def test_end_model_learns_cues_and_is_deterministic():
    texts, labels = _toy()
    a = fit_end_model(texts, labels, NAMES, seed=3)
    b = fit_end_model(texts, labels, NAMES, seed=3)
    test = ["we were furious today", "so happy", "tears again", "a chair"]
    assert a.predict_sets(test) == [["anger"], ["joy"], ["sadness"], ["neutral"]]
    assert np.array_equal(a.predict_proba(test), b.predict_proba(test))


def test_end_model_skips_unlabelled_rows_and_bounds_its_sample():
    texts, labels = _toy()
    labels = [[] if i % 3 == 0 else x for i, x in enumerate(labels)]  # every LF abstained on a third
    model = fit_end_model(texts, labels, NAMES, seed=1, max_rows=50)
    assert model.info == {"rows_with_label": 160, "rows_offered": 240} and model.trained_rows == 50
    assert list(sample_rows(160, 50, 1)) == list(sample_rows(160, 50, 1)) != list(sample_rows(160, 50, 2))
    assert len(sample_rows(10, 50, 1)) == 10


def test_read_sets_keeps_close_runners_up():
    probs = np.array([[0.5, 0.3, 0.2, 0.0], [0.1, 0.1, 0.7, 0.1]])
    assert read_sets(probs, NAMES, rel=0.5, max_labels=2) == [["anger", "joy"], ["sadness"]]


def test_build_reports_the_end_model_beside_the_weak_labels(sample_build):
    manifest = sample_build.manifest
    check = manifest["end_model"]
    assert set(check["models"]) == {"weak", "gold"}
    report = (sample_build.root / "manifests" / "lf_report.md").read_text()
    assert "## End model" in report
    for name, entry in check["splits"].items():
        assert name in report
        for key in ("weak_labels", "end_model_weak", "end_model_gold"):
            assert 0.0 <= entry[key]["macro_f1"] <= 1.0
    # the all-turns probe holds every gold-tagged DailyDialog turn, the probe shard only the filtered ones
    probe_rows = manifest["counts"]["probe"]
    all_tagged = check["splits"]["dailydialog/all_tagged"]["weak_labels"]["n"]
    drops = manifest["sources"]["dailydialog"]["drops"]
    assert all_tagged == probe_rows + sum(v for k, v in drops.items() if k != "text_in_mix")
    assert all_tagged > probe_rows
    assert "dropped:" in manifest["lf_analysis"]["notes"]["dailydialog/dev_dailydialog_weak"]


def test_end_model_off_skips_the_check(tmp_path):
    (result,) = build(sample_config(tmp_path, mix=["100:0"], end_model="off", flip_frac=0.0))
    assert "end_model" not in result.manifest
    assert "## End model" not in (result.root / "manifests" / "lf_report.md").read_text()


def _replace_gold(src: Path, dst: Path) -> None:
    """A copy of the sample corpus in its original formats with every gold label replaced."""
    shutil.copytree(src, dst)
    for name in ("train.tsv", "dev.tsv", "test.tsv"):
        path = dst / "goemotions" / name
        lines = [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines()]
        path.write_text("".join(f"{t}\t27\t{i}\n" for t, _, i in lines), encoding="utf-8")
    (dst / "goemotions" / "goemotions_1.csv").unlink()
    for name in ("train.csv", "valid.csv", "test.csv"):
        path = dst / "empatheticdialogues" / name
        header, *rows = path.read_text(encoding="utf-8").splitlines()
        fixed = [",".join(p[:2] + ["terrified"] + p[3:]) for p in (r.split(",") for r in rows)]
        path.write_text("\n".join([header, *fixed]) + "\n", encoding="utf-8")
    path = dst / "dailydialog" / "dialogues_emotion.txt"
    path.write_text("".join(" ".join("3" for _ in line.split()) + "\n"
                            for line in path.read_text(encoding="utf-8").splitlines()), encoding="utf-8")


def _weak_by_id(result) -> dict[str, tuple]:
    rows = {}
    for shard in result.manifest["shards"]:
        if shard["role"] == "pairs":
            continue
        for r in pq.read_table(result.root / shard["path"]).to_pylist():
            rows[r["id"]] = (r["labels"], tuple(r["weak_labels"]), tuple(r["weak_labels_ekman"]),
                             json.dumps(r["weak_probs"]), json.dumps(r["weak_probs_ekman"]))
    return rows


def test_weak_labels_never_read_gold(sample_build, tmp_path):
    """A build whose gold labels are all replaced gives identical weak labels on every row."""
    from emodata.sources.base import __file__ as base_file

    sample = Path(base_file).resolve().parents[1] / "sample_data"
    _replace_gold(sample, tmp_path / "data")
    (other,) = build(sample_config(tmp_path / "out", sample=False, data_dir=str(tmp_path / "data"), flip_frac=0.0))
    ours, theirs = _weak_by_id(sample_build), _weak_by_id(other)
    shared = set(ours) & set(theirs)
    assert len(shared) > 0.8 * len(ours)
    assert any(ours[i][0] != theirs[i][0] for i in shared)  # the gold labels did change
    assert all(ours[i][1:] == theirs[i][1:] for i in shared)
