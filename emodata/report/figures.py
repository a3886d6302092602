"""The report's figures drawn from the records: matplotlib `Figure`s (Agg canvas; pyplot and the global
backend are never touched) in the house style of `emodata.core.figstyle`, written as byte-stable PNGs.

`render_figures(data)` draws every figure the data has and returns {key: PNG bytes}; keys and file
names are `FIGURES` (fixed, so reports diff cleanly). The weak-supervision figures are in
`emodata.report.figures_stages`.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from emodata.core.figstyle import CYCLE, DPI, OKABE_ITO, figure_png, style_axes
from emodata.report.data import ROW_ROLES, ReportData, drop_table

SOURCE_COLOURS = {"goemotions": OKABE_ITO["blue"], "empatheticdialogues": OKABE_ITO["vermillion"],
                  "dailydialog": OKABE_ITO["green"]}
GROUP_COLOURS = {"train": OKABE_ITO["blue"], "dev": OKABE_ITO["orange"], "test": OKABE_ITO["green"],
                 "probe": OKABE_ITO["purple"]}
EKMAN_COLOURS = {"anger": OKABE_ITO["vermillion"], "disgust": OKABE_ITO["green"], "fear": OKABE_ITO["purple"],
                 "joy": OKABE_ITO["orange"], "sadness": OKABE_ITO["blue"], "surprise": OKABE_ITO["sky"],
                 "neutral": OKABE_ITO["grey"], "none": OKABE_ITO["black"]}
SCATTER_MAX = 6000
#: Figure key → file name (fixed, so reports diff cleanly).
FIGURES = {
    "labels": "01_label_distribution.png",
    "vad_hist": "02_vad_histograms.png",
    "va_scatter": "03_valence_arousal.png",
    "vad_conf": "04_vad_conf.png",
    "drops": "05_drops.png",
    "lf": "06_lf_coverage_conflict.png",
    "confusion": "07_label_model_confusion.png",
    "appraisal": "08_appraisal_atoms.png",
    "flips": "09_flip_pairs.png",
    "qc": "10_qc_summary.png",
}


def _source_colour(name: str, order: list[str]) -> str:
    if name in SOURCE_COLOURS:
        return SOURCE_COLOURS[name]
    return CYCLE[order.index(name) % len(CYCLE)] if name in order else CYCLE[-1]


def new_figure(width: float, height: float) -> Figure:
    """A constrained-layout figure of width × height inches at the house DPI."""
    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


def no_data(ax: Any, text: str = "no rows") -> None:
    """Say `text` in an empty panel."""
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, fontsize=11, color="#555555")
    ax.set_xticks([])
    ax.set_yticks([])


def fig_labels(rows: pd.DataFrame, sources: list[str], label_order: list[str]) -> Figure:
    """Share of rows carrying each label, one panel per source, one bar per split/role."""
    panels = []
    for source in sources:
        sub = rows[rows["source"] == source]
        groups = [r for r in ROW_ROLES if (sub["role"] == r).any()]
        counts = {}
        for role in groups:
            labels = sub.loc[sub["role"] == role, "labels"]
            counts[role] = pd.Series([x for ls in labels for x in ls], dtype=object).value_counts()
        seen = set().union(*[set(c.index) for c in counts.values()]) if counts else set()
        order = [x for x in label_order if x in seen] + sorted(seen - set(label_order))
        panels.append((source, groups, counts, order, sub))
    heights = [max(1.2, 0.1 * max(len(p[3]), 1) * max(len(p[1]), 1.6)) + 0.6 for p in panels] or [2.0]
    fig = new_figure(9.0, sum(heights) + 0.4)
    axes = fig.subplots(len(panels) or 1, 1, gridspec_kw={"height_ratios": heights}, squeeze=False)[:, 0]
    for ax, (source, groups, counts, order, sub) in zip(axes, panels):
        style_axes(ax)
        if not order:
            no_data(ax)
            ax.set_title(source, loc="left", fontsize=11, fontweight="bold")
            continue
        y = np.arange(len(order))
        width = 0.8 / len(groups)
        if len(groups) > 1:   # shade every other label's band, so each group of bars reads as one label
            for yi in y[1::2]:
                ax.axhspan(yi - 0.5, yi + 0.5, color="#f2f4f7", zorder=0, linewidth=0)
        for i, role in enumerate(groups):
            n = int((sub["role"] == role).sum())
            share = [100.0 * counts[role].get(label, 0) / n for label in order]
            ax.barh(y - 0.4 + width * (i + 0.5), share, height=width, color=GROUP_COLOURS[role],
                    label=f"{role} (n={n:,})")
        ax.set_yticks(y, order, fontsize=8.5 if len(order) > 15 else 9.5)
        ax.invert_yaxis()
        ax.set_xlabel("% of rows with the label (multi-label: rows can count several times)", fontsize=9)
        ax.set_title(source, loc="left", fontsize=11, fontweight="bold")
        ax.legend(fontsize=8.5, loc="upper right", frameon=True, framealpha=0.9, edgecolor="#cccccc")
    fig.suptitle("Label distribution per source and split", fontsize=12)
    return fig


def fig_vad_hist(rows: pd.DataFrame, sources: list[str]) -> Figure:
    """Histograms of V, A and D (share of rows per bin), one line per source."""
    fig = new_figure(10.0, 3.6)
    axes = fig.subplots(1, 3, sharey=True)
    bins = np.linspace(0.0, 1.0, 41)
    for ax, key, name in zip(axes, "vad", ("valence", "arousal", "dominance")):
        style_axes(ax)
        for source in sources:
            values = rows.loc[rows["source"] == source, key].dropna().to_numpy() if key in rows else np.array([])
            if not len(values):
                continue
            weights = np.full(len(values), 100.0 / len(values))
            colour = _source_colour(source, sources)
            ax.hist(values, bins=bins, weights=weights, histtype="stepfilled", alpha=0.18, color=colour)
            ax.hist(values, bins=bins, weights=weights, histtype="step", linewidth=1.6, color=colour,
                    label=f"{source} (n={len(values):,}, mean {values.mean():.2f})")
        ax.set_xlim(0, 1)
        ax.set_xlabel(f"{name} ({key.upper()})", fontsize=10)
        ax.grid(axis="y", color="#dddddd", linewidth=0.6)
    axes[0].set_ylabel("% of rows", fontsize=10)
    handles, labels = axes[0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="outside lower center", ncols=min(3, len(handles)), fontsize=9,
                   frameon=False)
    fig.suptitle("Lexicon VAD per source (after smoothing, kept rows)", fontsize=12)
    return fig


def _primary_ekman(labels: Any) -> str:
    labels = list(labels) if labels is not None else []
    for label in labels:
        if label != "neutral":
            return label
    return "neutral" if labels else "none"


def fig_va_scatter(rows: pd.DataFrame, sources: list[str]) -> Figure:
    """Valence vs arousal per source; points coloured by their first non-neutral Ekman group."""
    n = max(len(sources), 1)
    fig = new_figure(min(3.9 * n, 12.0) + 1.6, 4.3)
    axes = fig.subplots(1, n, squeeze=False, sharey=True)[0]
    rng = np.random.default_rng(0)
    shown = set()
    for ax, source in zip(axes, sources or [""]):
        ax.spines[["top", "right"]].set_visible(False)
        sub = rows[(rows["source"] == source)]
        if "v" in sub:
            sub = sub.dropna(subset=["v", "a"])
        if not len(sub) or "v" not in sub:
            no_data(ax)
            ax.set_title(source, fontsize=11, fontweight="bold")
            continue
        total = len(sub)
        size = 5 if total > 2000 else 16   # few points: draw them big enough to see
        if total > SCATTER_MAX:
            sub = sub.iloc[np.sort(rng.choice(total, SCATTER_MAX, replace=False))]
        group = (sub["labels_ekman"].map(_primary_ekman) if "labels_ekman" in sub
                 else pd.Series("none", index=sub.index))
        # neutral and label-less rows first, so the emotion groups are drawn on top of them
        order = ["neutral", "none"] + [g for g in EKMAN_COLOURS if g not in ("neutral", "none")]
        for name in order:
            mask = (group == name).to_numpy()
            if not mask.any():
                continue
            ax.scatter(sub["v"].to_numpy()[mask], sub["a"].to_numpy()[mask], size, alpha=0.45,
                       color=EKMAN_COLOURS[name], linewidths=0, rasterized=True,
                       label=name if name not in shown else None)
            shown.add(name)
        ax.axvline(0.5, color="#bbbbbb", linewidth=0.8, zorder=0)
        ax.axhline(0.5, color="#bbbbbb", linewidth=0.8, zorder=0)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_aspect("equal")
        ax.set_xlabel("valence", fontsize=10)
        note = f" ({len(sub):,} of {total:,} shown)" if total > len(sub) else f" (n={total:,})"
        ax.set_title(source + note, fontsize=10.5, fontweight="bold")
        ax.tick_params(labelsize=9)
    axes[0].set_ylabel("arousal", fontsize=10)
    handles, labels = [], []
    for ax in axes:
        h, lab = ax.get_legend_handles_labels()
        handles += h
        labels += lab
    if handles:
        order = [g for g in EKMAN_COLOURS if g in labels]
        pairs = dict(zip(labels, handles))
        legend = fig.legend([pairs[g] for g in order], [g if g != "none" else "no Ekman label (other)" for g in order],
                            loc="outside right center", fontsize=9, frameon=False, title="Ekman group",
                            markerscale=3)
        for handle in legend.legend_handles:
            handle.set_alpha(1)
    fig.suptitle("Valence–arousal per source", fontsize=12)
    return fig


def fig_vad_conf(rows: pd.DataFrame, sources: list[str], manifest: dict) -> Figure:
    """vad_conf of kept rows per source, with the τ cut and how many rows fell below it."""
    tau = (manifest.get("thresholds") or {}).get("vad_conf_min")
    fig = new_figure(9.0, 4.4)
    ax = fig.subplots()
    style_axes(ax)
    ax.grid(axis="y", color="#dddddd", linewidth=0.6)
    values_all = rows["vad_conf"].dropna().to_numpy() if "vad_conf" in rows else np.array([])
    low = min([x for x in (tau, values_all.min() if len(values_all) else None) if x is not None], default=0.0)
    start = max(0.0, np.floor((low - 0.1) * 20) / 20)  # zoom on the populated range, τ always visible
    bins = np.linspace(start, 1.0, int(round((1.0 - start) / 0.0125)) + 1)
    notes = []
    for source in sources:
        values = rows.loc[rows["source"] == source, "vad_conf"].dropna().to_numpy() if "vad_conf" in rows else []
        dropped = ((manifest.get("sources") or {}).get(source, {}).get("drops") or {}).get("low_vad_conf", 0)
        notes.append(f"{source} {dropped:,}")
        if not len(values):
            continue
        colour = _source_colour(source, sources)
        weights = np.full(len(values), 100.0 / len(values))
        ax.hist(values, bins=bins, weights=weights, histtype="stepfilled", alpha=0.18, color=colour)
        ax.hist(values, bins=bins, weights=weights, histtype="step", linewidth=1.6, color=colour,
                label=f"{source} kept (n={len(values):,}, median {np.median(values):.2f})")
    if tau is not None:
        ax.axvline(tau, color="black", linestyle="--", linewidth=1.4, label=f"τ = {tau:g} (vad_conf_min)")
        ax.axvspan(start, tau, color="#eeeeee", zorder=0)
    ax.set_xlim(start, 1.0)
    ax.set_xlabel("vad_conf = covered content words / content words", fontsize=10)
    ax.set_ylabel("% of kept rows", fontsize=10)
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="outside lower center", ncols=min(3, len(handles)), fontsize=9,
                   frameon=False)
    ax.set_title("Lexicon coverage of kept rows (shards hold only rows with vad_conf ≥ τ)\n"
                 "rows dropped below τ: " + " · ".join(notes), fontsize=10.5)
    return fig


def fig_drops(manifest: dict, sources: list[str]) -> Figure:
    """Rows dropped per reason, one panel per source."""
    table = drop_table(manifest, sources)
    heights = [0.32 * max(len(items), 1) + 0.9 for items in table.values()] or [1.5]
    fig = new_figure(9.0, sum(heights) + 0.4)
    axes = fig.subplots(len(heights), 1, gridspec_kw={"height_ratios": heights}, squeeze=False)[:, 0]
    for ax, (source, items) in zip(axes, table.items()):
        style_axes(ax)
        info = (manifest.get("sources") or {}).get(source, {})
        read, kept = info.get("rows_read", 0), info.get("rows_kept", 0)
        share = f" ({kept / read:.1%})" if read else ""
        ax.set_title(f"{source}: read {read:,}, kept {kept:,}{share}", loc="left", fontsize=10.5,
                     fontweight="bold")
        if not items:
            no_data(ax, "no rows dropped")
            continue
        y = np.arange(len(items))
        values = [n for _, n, _ in items]
        colours = [OKABE_ITO["vermillion"] if stage == "reader" else OKABE_ITO["blue"] for _, _, stage in items]
        ax.barh(y, values, color=colours, height=0.65)
        ax.set_yticks(y, [r for r, _, _ in items], fontsize=9.5)
        ax.invert_yaxis()
        top = max(values)
        for yi, n in zip(y, values):
            ax.text(n + top * 0.01, yi, f"{n:,}", va="center", fontsize=9)
        ax.set_xlim(0, top * 1.15)
        ax.set_xlabel("rows dropped", fontsize=9.5)
    fig.suptitle("Rows dropped per reason (blue: filters, vermillion: reader skips)", fontsize=12)
    return fig




def render_figures(data: ReportData) -> dict[str, bytes]:
    """Every figure the data has, as {FIGURES key: PNG bytes} (the weak-supervision ones included)."""
    from emodata.report.figures_stages import stage_figures

    rows, sources, manifest = data.rows, data.sources, data.manifest
    figures = {"labels": fig_labels(rows, sources, data.label_order), "vad_hist": fig_vad_hist(rows, sources),
               "va_scatter": fig_va_scatter(rows, sources), "vad_conf": fig_vad_conf(rows, sources, manifest),
               "drops": fig_drops(manifest, sources)}
    figures.update(stage_figures(data.sections))
    return {key: figure_png(fig) for key, fig in figures.items()}
