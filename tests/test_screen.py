"""Backbone screening ranking (hand-computed z-scores), run figures and the environment stamp."""
from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from emodata.core.errors import EmodataError

from trainer.envstamp import check_drift, environment_stamp
from trainer.plots import FIGURES, plot_all, rolling_band
from trainer.screen import format_table, quality, rank_candidates, write_table, zscores

Z = math.sqrt(1.5)  # z of (high, mid, low) with equal steps: ±0.1 / sqrt(0.02 / 3)


def candidate(name, f1, rho, rmse, json_rate, parse_ok, short):
    return {"name": name, "macro_f1": f1, "vad_pearson": rho, "vad_rmse": rmse, "json_rate": json_rate,
            "parse_ok": parse_ok, "short_rationale": short}


def test_rank_matches_hand_computed_z_scores():
    ranked = rank_candidates([
        candidate("c", 0.1, 0.3, 0.3, 0.0, 0.0, None),   # quality 0 (None counts as 0)
        {"name": "a", "metrics": {"macro_f1": 0.3, "vad_pearson": 0.5, "vad_rmse": 0.1, "json_rate": 1.0,
                                  "parse_ok": 1.0, "short_rationale": 1.0}},  # quality 1
        candidate("b", 0.2, 0.7, 0.2, 1.0, 0.5, 0.0),    # quality 0.5
    ])
    assert [r["name"] for r in ranked] == ["a", "b", "c"] and [r["rank"] for r in ranked] == [1, 2, 3]
    a, b, c = ranked
    assert (a["z_macro_f1"], a["z_vad_pearson"], a["z_vad_rmse"], a["z_quality"]) == pytest.approx((Z, 0, -Z, Z))
    assert b["quality"] == pytest.approx(0.5) and b["z_vad_pearson"] == pytest.approx(Z)
    # 0.4·z(F1) + 0.4·(z(ρ) − z(RMSE)) + 0.2·z(Q)
    assert a["score"] == pytest.approx(0.4 * Z + 0.4 * Z + 0.2 * Z)
    assert b["score"] == pytest.approx(0.4 * Z)
    assert c["score"] == pytest.approx(-0.4 * Z - 0.4 * 2 * Z - 0.2 * Z)


def test_undefined_metrics_take_their_worst_value_and_equal_candidates_tie_at_zero():
    ranked = rank_candidates([candidate("x", None, None, None, 1.0, 0.0, None),
                              candidate("y", 0.2, 0.4, 0.5, 1.0, 1.0, 1.0)])
    x = next(r for r in ranked if r["name"] == "x")
    assert (x["macro_f1"], x["vad_pearson"], x["vad_rmse"]) == (0.0, 0.0, 1.0)
    assert x["quality"] == pytest.approx(1 / 3) and ranked[0]["name"] == "y"
    same = rank_candidates([candidate(n, 0.3, 0.5, 0.2, 1, 1, 1) for n in ("q", "p")])
    assert [r["name"] for r in same] == ["p", "q"] and all(r["score"] == 0.0 for r in same)
    assert zscores([0.7]) == [0.0] and quality({"json_rate": 1, "parse_ok": 0.5, "short_rationale": 0}) == 0.5


def test_bad_screening_input():
    with pytest.raises(ValueError, match="distinct names"):
        rank_candidates([candidate("a", 0, 0, 0, 0, 0, 0)] * 2)
    with pytest.raises(ValueError, match="no 'name'"):
        rank_candidates([{"macro_f1": 0.1}])


def test_table_writer(tmp_path):
    ranked = rank_candidates([candidate("a", 0.3, 0.5, 0.1, 1, 1, 1), candidate("b", 0.1, 0.2, 0.3, 1, 1, 1)])
    csv_path, md_path = write_table(ranked, tmp_path)
    frame = pd.read_csv(csv_path)
    assert list(frame["name"]) == ["a", "b"] and frame["score"].iloc[0] == pytest.approx(ranked[0]["score"])
    assert md_path.read_text() == format_table(ranked) and "| 1 | a |" in md_path.read_text()


def test_rolling_band_by_hand():
    median, low, high = rolling_band(pd.Series([1.0, 2.0, 3.0, 4.0, 5.0]), 3)
    assert list(median) == [1.5, 2.0, 3.0, 4.0, 4.5]
    assert list(low) == [1.25, 1.5, 2.5, 3.5, 4.25] and list(high) == [1.75, 2.5, 3.5, 4.5, 4.75]


def write_run(root):
    with open(root / "train_log.jsonl", "w") as handle:
        for step in range(1, 101):
            handle.write(json.dumps({"step": step, "loss": 3.0 / step + 0.01 * (step % 7),
                                     "lr": 1e-3 * min(1.0, step / 3), "grad_norm": 1.0 + (step % 5) / 10}) + "\n")
    (root / "eval" / "dev").mkdir(parents=True)
    (root / "eval" / "dev" / "metrics.json").write_text(json.dumps({
        "mean": {"macro_f1": 0.3, "macro_p": 0.4, "macro_r": 0.25, "vad_1mrmse": 0.9, "parse_ok": 0.95,
                 "label_coverage": None},
        "std": {"macro_f1": 0.01, "macro_p": 0.0, "macro_r": 0.0, "vad_1mrmse": 0.0, "parse_ok": 0.0}}))
    (root / "eval" / "dailydialog").mkdir()
    (root / "eval" / "dailydialog" / "metrics.json").write_text(json.dumps({
        "macro_f1": 0.2, "macro_p": 0.3, "macro_r": 0.2, "vad_1mrmse": 0.8, "parse_ok": 0.9, "label_coverage": 0.5}))


def test_plot_all_draws_every_figure_deterministically_and_drops_stale_ones(tmp_path):
    write_run(tmp_path)
    paths = plot_all(tmp_path)
    assert [p.name for p in paths] == list(FIGURES)
    first = {p.name: p.read_bytes() for p in paths}
    assert all(data.startswith(b"\x89PNG") and len(data) > 5000 for data in first.values())
    again = {p.name: p.read_bytes() for p in plot_all(tmp_path)}
    assert again == first
    (tmp_path / "train_log.jsonl").unlink()
    assert [p.name for p in plot_all(tmp_path)] == ["dev_scores_bars.png", "dev_scores_radar.png"]
    assert not (tmp_path / "figures" / "loss_curve.png").exists()


def test_bad_log_line_names_file_and_line(tmp_path):
    (tmp_path / "train_log.jsonl").write_text('{"step": 1, "loss": 2.0}\n{"loss": 1.0}\n')
    with pytest.raises(EmodataError, match=r"train_log.jsonl, line 2: a log line needs an integer 'step'"):
        plot_all(tmp_path)
    with pytest.raises(FileNotFoundError):
        plot_all(tmp_path / "missing")


def test_environment_stamp_is_json_and_names_the_libraries():
    stamp = environment_stamp()
    json.dumps(stamp)
    for key in ("python", "platform", "cpu", "versions", "cuda_available", "gpu", "driver", "cuda", "cudnn",
                "git_commit"):
        assert key in stamp
    torch = pytest.importorskip("torch")
    assert stamp["versions"]["torch"].split("+")[0] == torch.__version__.split("+")[0]
    assert stamp["cuda_available"] == torch.cuda.is_available()
    assert check_drift(stamp, stamp) == []


def test_drift_warns_on_major_versions_python_minor_and_gpu():
    saved = {"python": "3.12.1", "versions": {"torch": "2.13.0+cpu", "transformers": "5.23.0", "peft": "0.12.0"},
             "cuda": "12.4", "gpu": "NVIDIA H100"}
    current = {"python": "3.12.9", "versions": {"torch": "2.14.1", "transformers": "5.30.0", "peft": "0.13.0"},
               "cuda": "12.8", "gpu": "NVIDIA H100"}
    assert check_drift(saved, current) == []
    current = {"python": "3.13.0", "versions": {"torch": "3.0.0", "transformers": "5.30.0"}, "cuda": "13.0",
               "gpu": "NVIDIA H200"}
    warnings = check_drift(saved, current)
    assert warnings == ["python 3.12.1 -> 3.13.0", "peft 0.12.0 -> not installed",
                        "torch major version 2.13.0+cpu -> 3.0.0", "CUDA major version 12.4 -> 13.0",
                        "GPU NVIDIA H100 -> NVIDIA H200"]
