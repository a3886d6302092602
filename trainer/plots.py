"""Run figures regenerated from a run folder's logs and metrics (never from live state).

`plot_all(run_dir)` writes into RUN_DIR/figures/ and returns the paths it wrote:
  dev_scores_bars.png   Macro-F1/P/R, VAD 1−RMSE, ParseOK and label coverage, one bar group per
                        metrics.json found under RUN_DIR (label: its folder relative to RUN_DIR),
                        the `mean` with ± `std` error bars for multi-seed results
  dev_scores_radar.png  the same six scores on a radar (all lie in [0, 1]), one polygon per metrics.json
  loss_curve.png, lr_curve.png, grad_norm_curve.png
                        from the training log RUN_DIR/train_log.jsonl (lines {"step", "loss", "lr",
                        "grad_norm", ...}): the raw values faint, the rolling median bold and the
                        rolling 25–75% quantile band shaded; rolling windows are centred and
                        max(1, n // 25) logged steps wide (the LR is drawn as a plain line)
A figure whose input is absent is not drawn, and a stale copy of it is removed, so the folder always
matches the run. Figures use `matplotlib.figure.Figure` on the Agg canvas (no pyplot state), the
Okabe & Ito colour-blind-safe palette, light grids and PNGs written without software/date metadata, so
the same logs give identical files.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from emodata.core.errors import EmodataError
from emodata.core.figstyle import CYCLE, DPI, figure_png

TRAIN_LOG = "train_log.jsonl"
FIGURE_DIR = "figures"
SCORES = (("macro_f1", "Macro-F1"), ("macro_p", "Macro-P"), ("macro_r", "Macro-R"),
          ("vad_1mrmse", "VAD 1−RMSE"), ("parse_ok", "ParseOK"), ("label_coverage", "Label coverage"))
CURVES = (("loss", "loss_curve.png", "training loss"), ("lr", "lr_curve.png", "learning rate"),
          ("grad_norm", "grad_norm_curve.png", "gradient norm (before clipping)"))
FIGURES = ("dev_scores_bars.png", "dev_scores_radar.png") + tuple(c[1] for c in CURVES)


def _axes(fig: Figure) -> Any:
    """One plain axes: no top/right spines, small ticks, light grid on both axes behind the data."""
    ax = fig.subplots()
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(labelsize=9)
    ax.grid(color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    return ax


def read_log(path: str | Path) -> pd.DataFrame:
    """The training log JSONL as a frame sorted by step; the error names file and line."""
    from trainer.score import jsonl_objects

    path = Path(path)
    rows = []
    for number, row in jsonl_objects(path, "training log"):
        if not isinstance(row.get("step"), int):
            raise EmodataError(f"{path}, line {number}: a log line needs an integer 'step'")
        rows.append(row)
    frame = pd.DataFrame(rows)
    return frame.sort_values("step", kind="stable").reset_index(drop=True) if len(frame) else frame


def find_metrics(run_dir: str | Path) -> dict[str, dict]:
    """Every metrics.json under `run_dir`, keyed by its folder relative to `run_dir` (sorted)."""
    root = Path(run_dir)
    found = {}
    for path in sorted(root.rglob("metrics.json")):
        if FIGURE_DIR in path.relative_to(root).parts:
            continue
        name = path.parent.relative_to(root).as_posix()
        found[root.name if name == "." else name] = json.loads(path.read_text(encoding="utf-8"))
    return found


def _scores(metrics: Mapping[str, Any]) -> tuple[list[float], list[float]]:
    """(values, std) of SCORES; a multi-seed result gives mean/std, a single result std 0."""
    mean = metrics.get("mean", metrics)
    std = metrics.get("std") or {}
    values = [float(mean.get(k)) if mean.get(k) is not None else np.nan for k, _ in SCORES]
    errors = [float(std.get(k)) if std.get(k) is not None else 0.0 for k, _ in SCORES]
    return values, errors


def fig_bars(results: Mapping[str, Mapping]) -> Figure:
    """Grouped bars of the dev scores, one colour per result, ± std error bars."""
    fig = Figure(figsize=(9.0, 3.8), dpi=DPI, layout="constrained")
    ax = _axes(fig)
    x = np.arange(len(SCORES))
    width = 0.8 / max(len(results), 1)
    for i, (name, metrics) in enumerate(results.items()):
        values, errors = _scores(metrics)
        bars = ax.bar(x - 0.4 + width * (i + 0.5), np.nan_to_num(values), width, yerr=errors, capsize=3,
                      color=CYCLE[i % len(CYCLE)], label=name)
        for bar, value in zip(bars, values):
            text = "n/a" if np.isnan(value) else f"{value:.3f}"
            ax.annotate(text, (bar.get_x() + bar.get_width() / 2, bar.get_height()), ha="center", va="bottom",
                        fontsize=7, xytext=(0, 2), textcoords="offset points")
    ax.set_xticks(x, [label for _, label in SCORES])
    ax.set_ylim(0, 1.1)
    ax.set_ylabel("score (higher is better)")
    ax.legend(fontsize=8, loc="upper left", frameon=False)
    fig.suptitle("Dev scores", fontsize=12)
    return fig


def fig_radar(results: Mapping[str, Mapping]) -> Figure:
    """The dev scores on a radar with axes 0..1, one polygon per result."""
    fig = Figure(figsize=(5.6, 5.2), dpi=DPI, layout="constrained")
    ax = fig.add_subplot(projection="polar")
    angles = np.linspace(0, 2 * np.pi, len(SCORES), endpoint=False)
    closed = np.append(angles, angles[0])
    for i, (name, metrics) in enumerate(results.items()):
        values = np.nan_to_num(_scores(metrics)[0])
        ring = np.append(values, values[0])
        colour = CYCLE[i % len(CYCLE)]
        ax.plot(closed, ring, color=colour, linewidth=1.6, label=name)
        ax.fill(closed, ring, color=colour, alpha=0.12)
    ax.set_xticks(angles, [label for _, label in SCORES], fontsize=8.5)
    ax.set_ylim(0, 1)
    ax.set_yticks([0.25, 0.5, 0.75, 1.0], ["0.25", "0.5", "0.75", "1"], fontsize=7)
    ax.legend(fontsize=8, loc="upper right", bbox_to_anchor=(1.25, 1.1), frameon=False)
    fig.suptitle("Dev scores", fontsize=12)
    return fig


def rolling_band(values: pd.Series, window: int) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Centred rolling (median, 25% quantile, 75% quantile) over `window` points."""
    roll = values.rolling(window, center=True, min_periods=1)
    return roll.median(), roll.quantile(0.25), roll.quantile(0.75)


def fig_curve(log: pd.DataFrame, key: str, title: str, band: bool = True) -> Figure:
    """One logged quantity against the step: raw (faint), rolling median and 25–75% band."""
    fig = Figure(figsize=(7.0, 3.4), dpi=DPI, layout="constrained")
    ax = _axes(fig)
    data = log[["step", key]].dropna()
    steps, values = data["step"].to_numpy(), data[key].astype(float).reset_index(drop=True)
    colour = CYCLE[0]
    if band:
        median, low, high = rolling_band(values, max(1, len(values) // 25))
        ax.plot(steps, values, color=colour, alpha=0.25, linewidth=0.8, label="logged")
        ax.fill_between(steps, low, high, color=colour, alpha=0.2, linewidth=0, label="rolling 25–75%")
        ax.plot(steps, median, color=colour, linewidth=1.8, label="rolling median")
        ax.legend(fontsize=8, frameon=False)
    else:
        ax.plot(steps, values, color=colour, linewidth=1.6)
    ax.set_xlabel("optimizer step")
    ax.set_ylabel(key)
    fig.suptitle(title, fontsize=12)
    return fig


def plot_all(run_dir: str | Path) -> list[Path]:
    """Draw every figure the run folder has inputs for into RUN_DIR/figures/; returns the paths."""
    root = Path(run_dir)
    if not root.is_dir():
        raise FileNotFoundError(f"run folder not found: {root}")
    figures: dict[str, Figure] = {}
    results = find_metrics(root)
    if results:
        figures["dev_scores_bars.png"] = fig_bars(results)
        figures["dev_scores_radar.png"] = fig_radar(results)
    log_path = root / TRAIN_LOG
    if log_path.is_file():
        log = read_log(log_path)
        for key, name, title in CURVES:
            if key in log and log[key].notna().any():
                figures[name] = fig_curve(log, key, title, band=key != "lr")
    out = root / FIGURE_DIR
    out.mkdir(exist_ok=True)
    written = []
    for name in FIGURES:
        path = out / name
        if name in figures:
            path.write_bytes(figure_png(figures[name]))
            written.append(path)
        elif path.exists():
            path.unlink()
    return written
