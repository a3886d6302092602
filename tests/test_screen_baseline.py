"""`emodata screen --models tfidf-lr`: the TF-IDF + LR floor ranked with the neural candidates' metrics.

The floor's answers come from the pipeline side (emodata/baseline.py, over labeling_functions.end_model);
the trainer only scores them, so `emodata/cli.py` is what joins the two."""
from __future__ import annotations

import csv

import pytest

from emodata.baseline import tfidf_lr_answers
from emodata.cli import main
from emodata.core.errors import EmodataError
from trainer.cli import run_screen
from trainer.config import ScreenConfig
from trainer.screen import BASELINE, baseline_metrics


def test_baseline_is_scored_by_the_evaluator(sample_build):
    metrics = baseline_metrics(sample_build.manifest_path, "dev", seed=11, answers=tfidf_lr_answers)
    assert metrics["n"] == sample_build.manifest["counts"]["dev"]
    assert metrics["parse_ok"] == 1.0 and metrics["json_rate"] == 1.0 and metrics["short_rationale"] == 1.0
    assert 0.0 <= metrics["macro_f1"] <= 1.0
    assert metrics["vad_rmse"] is not None and metrics["vad_rmse"] < 0.5
    again = baseline_metrics(sample_build.manifest_path, "dev", seed=11, answers=tfidf_lr_answers)
    assert again["macro_f1"] == metrics["macro_f1"]


def test_screen_ranks_the_baseline(sample_build, tmp_path, capsys):
    assert main(["screen", "--manifest", str(sample_build.manifest_path), "--models", BASELINE,
                 "--out", str(tmp_path)]) == 0
    with open(tmp_path / "screening.csv", encoding="utf-8") as handle:
        (row,) = list(csv.DictReader(handle))
    assert row["name"] == BASELINE and row["rank"] == "1"


def test_screen_without_the_baseline_answers_says_so(sample_build, tmp_path):
    config = ScreenConfig(manifest=str(sample_build.manifest_path), models=BASELINE, out=str(tmp_path))
    with pytest.raises(EmodataError, match="needs the baseline's answers"):
        run_screen(config)
