"""Backbone screening: rank candidate models evaluated under the same budget by the paper's composite
z-score  Score = 0.4·z(MacroF1) + 0.4·[z(ρ_VAD) − z(RMSE_VAD)] + 0.2·z(Quality).

- z(x) = (x − mean) / std across the candidates, population std (ddof 0); z = 0 for every candidate
  when the std is 0 (all equal, or a single candidate).
- ρ_VAD = `vad_pearson` and RMSE_VAD = `vad_rmse` of `emodata.core.metrics.evaluate_outputs`.
- Quality = mean of three shares in [0, 1]: JSON parse rate (`json_rate`: an output holds a decodable
  JSON object), structural validity (`parse_ok`: the object passes the contract schema) and the
  short-rationale preference (`short_rationale`: valid answers whose rationale has 1..12 words).
- A metric that is undefined for a candidate (None, e.g. no valid output) takes its worst value:
  MacroF1 0, ρ 0 (no linear relation), RMSE 1 (the largest possible error on [0, 1]), a share 0.
Input rows are `{"name": ..., **metrics}` or `{"name": ..., "metrics": {...}}` (a metrics.json `mean`
works as the metrics). Output rows are sorted by score (then name) and carry rank, the raw values
used and every z part.
"""
from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from emodata.core.errors import EmodataError

WEIGHTS = {"macro_f1": 0.4, "vad": 0.4, "quality": 0.2}
WORST = {"macro_f1": 0.0, "vad_pearson": 0.0, "vad_rmse": 1.0, "json_rate": 0.0, "parse_ok": 0.0,
         "short_rationale": 0.0}
COLUMNS = ("rank", "name", "score", "macro_f1", "vad_pearson", "vad_rmse", "quality", "z_macro_f1",
           "z_vad_pearson", "z_vad_rmse", "z_quality")


def _value(metrics: Mapping[str, Any], key: str) -> float:
    value = metrics.get(key)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return WORST[key]
    return float(value)


def quality(metrics: Mapping[str, Any]) -> float:
    """Mean of JSON parse rate, structural validity (ParseOK) and short-rationale preference."""
    return float(np.mean([_value(metrics, k) for k in ("json_rate", "parse_ok", "short_rationale")]))


def zscores(values: Sequence[float]) -> list[float]:
    """z-scores with the population std; all 0 when the std is 0."""
    x = np.asarray(values, dtype=float)
    std = float(x.std()) if len(x) else 0.0
    if std == 0.0:
        return [0.0] * len(x)
    return [float(z) for z in (x - x.mean()) / std]


def rank_candidates(results: list[dict]) -> list[dict]:
    """Candidates sorted by the composite z-score (best first), with their raw values and z parts."""
    rows = []
    for i, result in enumerate(results):
        if "name" not in result:
            raise ValueError(f"screening result {i} has no 'name'")
        metrics = result.get("metrics", result)
        rows.append({"name": str(result["name"]), "macro_f1": _value(metrics, "macro_f1"),
                     "vad_pearson": _value(metrics, "vad_pearson"), "vad_rmse": _value(metrics, "vad_rmse"),
                     "quality": quality(metrics)})
    names = [r["name"] for r in rows]
    if len(set(names)) != len(names):
        raise ValueError(f"screening candidates must have distinct names (got {names})")
    for key in ("macro_f1", "vad_pearson", "vad_rmse", "quality"):
        for row, z in zip(rows, zscores([r[key] for r in rows])):
            row[f"z_{key}"] = z
    for row in rows:
        row["score"] = (WEIGHTS["macro_f1"] * row["z_macro_f1"]
                        + WEIGHTS["vad"] * (row["z_vad_pearson"] - row["z_vad_rmse"])
                        + WEIGHTS["quality"] * row["z_quality"])
    rows.sort(key=lambda r: (-r["score"], r["name"]))
    for rank, row in enumerate(rows, 1):
        row["rank"] = rank
    return [{k: row[k] for k in COLUMNS} for row in rows]


def format_table(ranked: Sequence[Mapping[str, Any]]) -> str:
    """A Markdown table of ranked candidates (numbers to 4 decimals)."""
    def cell(value):
        return f"{value:.4f}" if isinstance(value, float) else str(value)

    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(cell(row[c]) for c in COLUMNS) + " |" for row in ranked]
    return "\n".join(lines) + "\n"


def write_table(ranked: Sequence[Mapping[str, Any]], out_dir: str | Path) -> list[Path]:
    """screening.csv and screening.md in `out_dir`."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    csv_path, md_path = out / "screening.csv", out / "screening.md"
    with open(csv_path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(ranked)
    md_path.write_text(format_table(ranked), encoding="utf-8")
    return [csv_path, md_path]


#: The screening floor's candidate name: TF-IDF + logistic regression (labeling_functions/end_model.py)
#: trained on the build's train labels, with a ridge regression on the same features for VAD.
BASELINE = "tfidf-lr"

#: (train records, evaluated records, label space, seed) -> one contract answer per evaluated record.
#: `emodata/cli.py` passes `emodata.baseline.tfidf_lr_answers` (the trainer may not import the pipeline).
BaselineAnswers = Callable[[Sequence[dict], Sequence[dict], Sequence[str], int], Sequence[str]]


def baseline_metrics(manifest: str | Path, split: str, seed: int, answers: BaselineAnswers,
                     max_rows: int = 0) -> dict:
    """Metrics of a model-free baseline on a manifest split, by the evaluator's own definitions.

    `answers` is fit on the manifest's (verified) train records and writes a contract answer per row of
    `split` (its first `max_rows`, 0 = all) that `evaluate_outputs` scores like any generated text, so
    its row in the screening table is comparable with the neural candidates'.
    """
    from emodata.core.manifest import Manifest
    from emodata.core.metrics import evaluate_outputs
    from emodata.core.reader import read_split

    loaded = Manifest.load(manifest)
    train = read_split(loaded, "train").to_pylist()
    rows = read_split(loaded, split).to_pylist()
    rows = rows[:max_rows] if max_rows else rows
    outputs = list(answers(train, rows, loaded.labels, seed))
    if len(outputs) != len(rows):
        raise EmodataError(f"{loaded.path} split {split}: the baseline gave {len(outputs)} answers for "
                           f"{len(rows)} rows")
    return evaluate_outputs(outputs, rows, loaded.labels)
