"""The report's figures of the weak-supervision stages: LFs, label model, appraisal atoms, flips, QC.

Drawn from the sections' contexts (`emodata.report.stages`) in the house style; `stage_figures`
returns the figures whose inputs the build has.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from emodata.core.figstyle import OKABE_ITO, style_axes
from emodata.report.figures import new_figure as _new_figure
from emodata.report.stages import JUDGES

JUDGE_COLOURS = {"vad": OKABE_ITO["grey"], "plain": OKABE_ITO["blue"], "vader": OKABE_ITO["vermillion"]}


def fig_lf(lfs: list[dict]) -> Figure:
    """Coverage, overlap and conflict of each labeling function."""
    metrics = [m for m in ("coverage", "overlap", "conflict") if any(m in lf for lf in lfs)]
    lfs = sorted(lfs, key=lambda lf: (-float(lf.get("coverage") or 0.0), str(lf.get("name", ""))))  # most used first
    names = [str(lf.get("name", f"lf{i}")) for i, lf in enumerate(lfs)]
    fig = _new_figure(9.0, 0.19 * len(lfs) + 1.3)   # compact: one thin group of bars per LF
    ax = fig.subplots()
    style_axes(ax)
    y = np.arange(len(lfs))
    width = 0.8 / max(len(metrics), 1)
    colours = {"coverage": OKABE_ITO["blue"], "overlap": OKABE_ITO["orange"], "conflict": OKABE_ITO["vermillion"]}
    for i, metric in enumerate(metrics):
        values = [100.0 * float(lf.get(metric) or 0.0) for lf in lfs]
        ax.barh(y - 0.4 + width * (i + 0.5), values, height=width, color=colours[metric], label=metric)
    ax.set_yticks(y, names, fontsize=8)
    ax.set_ylim(len(lfs) - 0.5, -0.5)
    covered = [float(lf.get("coverage") or 0.0) for lf in lfs if float(lf.get("coverage") or 0.0) > 0]
    log = len(covered) > 1 and max(covered) / min(covered) > 30   # a long tail stays visible on a log axis
    if log:
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:g}"))
    ax.set_xlabel("% of rows" + (" (log scale)" if log else ""), fontsize=10)
    ax.legend(fontsize=8.5, frameon=True, loc="lower right", ncols=len(metrics))
    ax.set_title("Labeling functions by coverage: coverage, overlap, conflict", fontsize=11, loc="left")
    return fig


def fig_confusion(conf: dict) -> Figure:
    """Gold (rows) × predicted (columns), shaded by share of the gold row, annotated with counts.
    Labels with neither a gold row nor a prediction are left out (the title says how many)."""
    matrix = np.asarray(conf["matrix"], dtype=float)
    used = (matrix.sum(axis=1) > 0) | (matrix.sum(axis=0) > 0)
    if not used.any():
        used[:] = True
    labels = [str(x) for x, keep in zip(conf["labels"], used) if keep]
    matrix = matrix[np.ix_(used, used)]
    totals = matrix.sum(axis=1, keepdims=True)
    share = np.divide(matrix, totals, out=np.zeros_like(matrix), where=totals > 0)
    size = min(0.36 * len(labels) + 2.6, 11.0)
    fig = _new_figure(size + 1.4, size)
    ax = fig.subplots()
    image = ax.imshow(share, cmap="Blues", vmin=0.0, vmax=1.0)   # light for 0: readable text on every cell
    ax.set_xticks(range(len(labels)), labels, rotation=60, ha="right", fontsize=10)
    ax.set_yticks(range(len(labels)), labels, fontsize=10)
    ax.set_xlabel(f"predicted ({conf.get('method', 'label model')})", fontsize=10)
    ax.set_ylabel("gold", fontsize=10)
    if len(labels) <= 30:
        for i, j in zip(*np.nonzero(matrix)):
            n = int(matrix[i, j])
            ax.text(j, i, f"{n / 1000:.0f}k" if n >= 10_000 else f"{n:,}", ha="center", va="center",
                    fontsize=10 if len(labels) <= 16 else 8, color="white" if share[i, j] > 0.55 else "black")
    fig.colorbar(image, ax=ax, shrink=0.8, label="share of gold row")
    left_out = int((~used).sum())
    note = f" ({left_out} labels with no gold row and no prediction left out)" if left_out else ""
    ax.set_title("Label model vs gold" + note, fontsize=11)
    return fig


def fig_appraisal(atoms: dict[str, tuple[list[str], list[float]]]) -> Figure:
    """One small bar chart per appraisal atom."""
    n = len(atoms)
    cols = min(3, n)
    nrows = -(-n // cols)
    fig = _new_figure(3.4 * cols + 0.4, 2.9 * nrows + 0.5)
    axes = fig.subplots(nrows, cols, squeeze=False).ravel()
    for ax, (name, (buckets, counts)) in zip(axes, atoms.items()):
        ax.spines[["top", "right"]].set_visible(False)
        ax.bar(range(len(buckets)), counts, color=OKABE_ITO["blue"])
        ax.set_xticks(range(len(buckets)), buckets, rotation=45 if len(buckets) > 4 else 0,
                      ha="right" if len(buckets) > 4 else "center", fontsize=8)
        ax.set_title(name, fontsize=10, fontweight="bold")
        ax.tick_params(axis="y", labelsize=8.5)
        ax.grid(axis="y", color="#dddddd", linewidth=0.6)
        ax.set_axisbelow(True)
    for ax in axes[n:]:
        ax.set_visible(False)
    fig.suptitle("Appraisal atom distributions (rows per bucket)", fontsize=12)
    return fig


def _bars(ax: Any, names: list[str], values: list[float], colour: str, xlabel: str, title: str) -> None:
    style_axes(ax)
    ax.barh(range(len(names)), values, color=colour)
    ax.set_yticks(range(len(names)), names, fontsize=9)
    ax.invert_yaxis()
    ax.set_xlabel(xlabel, fontsize=10)
    ax.set_title(title, fontsize=10.5)


def _judge_panel(ax: Any, judges: Any) -> None:
    """Grouped bars: per flip kind, the share of judged candidates each judge accepts."""
    style_axes(ax)
    kinds = [row[0] for row in judges.rows]
    width = 0.8 / len(JUDGES)
    for i, (judge, _) in enumerate(JUDGES):
        column = judges.header.index(f"accepted by {judge}")
        values = [100.0 * (row[column] or 0.0) for row in judges.rows]
        ax.barh(np.arange(len(kinds)) - 0.4 + width * (i + 0.5), values, height=width,
                color=JUDGE_COLOURS[judge], label=judge)
    ax.set_yticks(range(len(kinds)), kinds, fontsize=9)
    ax.set_ylim(len(kinds) - 0.5, -0.5)
    ax.set_xlim(0, 100)
    ax.set_xlabel("% of judged candidates accepted", fontsize=10)
    ax.set_title("acceptance by judge", fontsize=10.5)
    ax.legend(fontsize=8.5, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))


def fig_flips(summary: dict, judges: Any = None) -> Figure:
    """Pairs per flip kind, S_flip (mean per kind and/or its histogram) and, given the judges' `Table`
    (`stages.judge_table`), each judge's acceptance per kind."""
    panels = 1 + bool(summary["s_flip"]) + bool(summary["hist"]) + bool(judges)
    nrows = 1 if panels <= 2 else 2   # a 2 × 2 grid for four panels keeps the text readable
    fig = _new_figure(9.5, 3.4 * nrows + 0.4)
    grid = fig.subplots(nrows, -(-panels // nrows), squeeze=False).ravel()
    for ax in grid[panels:]:
        ax.set_visible(False)
    axes = iter(grid)
    kinds = list(summary["by_kind"])
    _bars(next(axes), kinds, list(summary["by_kind"].values()), OKABE_ITO["blue"], "pairs", "pairs per flip kind")
    if summary["s_flip"]:
        names = [k for k in kinds if k in summary["s_flip"]]
        _bars(next(axes), names, [summary["s_flip"][k] for k in names], OKABE_ITO["orange"],
              "mean S_flip (lower is better)", "S_flip per kind")
    if summary["hist"]:
        ax = next(axes)
        ax.spines[["top", "right"]].set_visible(False)
        bins, counts = summary["hist"]
        ax.stairs(counts, bins, fill=True, color=OKABE_ITO["green"])
        ax.set_xlabel("S_flip = |(v(x) − ½) + (v(x') − ½)|", fontsize=10)
        ax.set_ylabel("pairs", fontsize=10)
        ax.set_title("S_flip distribution", fontsize=10.5)
    if judges:
        _judge_panel(next(axes), judges)
    fig.suptitle("Valence-Flip pairs", fontsize=12)
    return fig


def fig_qc(suites: list[dict]) -> Figure:
    """Expectations per QC suite: passed, failed (warning) and failed (critical), stacked."""
    fig = _new_figure(8.0, 0.45 * len(suites) + 1.7)
    ax = fig.subplots()
    style_axes(ax)
    y = np.arange(len(suites))
    left = np.zeros(len(suites))
    for key, label, colour in (("passed", "passed", OKABE_ITO["green"]),
                               ("failed_warning", "failed (warning)", OKABE_ITO["orange"]),
                               ("failed_critical", "failed (critical)", OKABE_ITO["vermillion"])):
        values = np.array([row[key] for row in suites], dtype=float)
        ax.barh(y, values, left=left, color=colour, height=0.6, label=label)
        for yi, x0, v in zip(y, left, values):
            if v:
                ax.text(x0 + v / 2, yi, f"{int(v)}", ha="center", va="center", fontsize=9,
                        color="white" if key != "failed_warning" else "black")
        left += values
    for yi, row in zip(y, suites):
        if not row["evaluated"]:
            ax.text(0.05, yi, f"none evaluated ({row['skipped']} skipped)", va="center", fontsize=9, color="#555555")
        elif row["skipped"]:
            ax.text(left[yi] + 0.1, yi, f"  + {row['skipped']} skipped", va="center", fontsize=9, color="#555555")
    ax.set_yticks(y, [row["suite"] for row in suites], fontsize=10)
    ax.invert_yaxis()
    ax.set_xlabel("expectations", fontsize=10)
    ax.legend(fontsize=9, frameon=False, loc="lower left", bbox_to_anchor=(0.0, 1.0), ncols=3)
    ax.set_title("QC gate per suite", fontsize=11, loc="right")
    return fig




def stage_figures(sections: dict[str, dict[str, Any]]) -> dict[str, Figure]:
    """{FIGURES key: figure} for the stage sections that have a figure's input."""
    out = {}
    if sections["lf-analysis"].get("lfs"):
        out["lf"] = fig_lf(sections["lf-analysis"]["lfs"])
    if sections["label-model"].get("confusion"):
        out["confusion"] = fig_confusion(sections["label-model"]["confusion"])
    if sections["appraisal"].get("atoms"):
        out["appraisal"] = fig_appraisal(sections["appraisal"]["atoms"])
    flips = sections["flips"]
    if flips.get("summary"):
        out["flips"] = fig_flips(flips["summary"], flips["judges"])
    if sections["qc"].get("suites"):
        out["qc"] = fig_qc(sections["qc"]["suites"])
    return out
