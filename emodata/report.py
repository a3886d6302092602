"""The visual build report: one self-contained HTML page (figures embedded as base64 PNG) + the PNGs.

`write_report(manifest_path, out_dir=None)` reads a manifest (`emodata.core.manifest.Manifest`) and its
shards and writes OUT_DIR/report.html and the figures OUT_DIR/NN_name.png (default OUT_DIR: the build
root's `report/` folder). File names are fixed (`FIGURES`); figures of a previous run that are not
produced again are removed, so the folder always matches the page. The page starts with the build's
name, mix, counts, lexicon and pipeline, then has one `<h2 id=...>` per entry of `SECTIONS`.
Figures are drawn on `matplotlib.figure.Figure` objects (Agg canvas; pyplot and the global backend
are never touched) at DPI 110 with the Okabe–Ito colour-blind-safe palette; PNGs carry no
version/time metadata, so the same build and matplotlib give byte-identical files.

Always drawn (from the manifest and the shards):
  01_label_distribution.png   share of rows carrying each label, per source and split (horizontal bars)
  02_vad_histograms.png       V, A and D histograms per source
  03_valence_arousal.png      V–A scatter per source, points coloured by Ekman group
  04_vad_conf.png             vad_conf per source with the τ cut (thresholds.vad_conf_min)
  05_drops.png                rows dropped per reason per source (sources.NAME.drops, .reader_skipped)

Optional sections render when their manifest key is present and otherwise say "Not in this build".
The shapes read (extra keys are listed as they are; missing parts are skipped, never fatal):

  lf_analysis = {
      "lfs": [{"name": str, "coverage": float, "overlap": float, "conflict": float,
               "polarity": [str, ...]?, "emp_acc": float?}, ...],          # → 06_lf_coverage_conflict.png
      "confusion": {"labels": [str, ...], "matrix": [[int, ...], ...],       # rows gold, columns predicted
                    "method": "label_model" | "majority_vote"},              # → 07_label_model_confusion.png
      "scores": {"label_model": {"macro_f1": float, ...}, "majority_vote": {...}},
      "chosen": "label_model" | "majority_vote"}
      ("label_model_vs_gold" is accepted as another name for "confusion".)
  appraisal = {"atoms": {ATOM: {"counts": {bucket: int}}                      # named buckets (ordered
                                                                             #   low < mid < high ...), or
                           | {"buckets": [str, ...], "counts": [int, ...]}    # buckets in a given order, or
                           | {"bins": [edge, ...], "counts": [int, ...]}},    # a histogram (len(bins)=n+1)
               ...}                                                          # → 08_appraisal_atoms.png
      (without a manifest summary, a struct column `appraisal` of floats in the shards is histogrammed)
  pairs = {"n_pairs": int,
           "by_kind": {KIND: int | {"pairs": int, "s_flip_mean": float}},
           "s_flip_hist": {"bins": [edge, ...], "counts": [int, ...]}?}      # → 09_flip_pairs.png
      (shards with role "pairs" and columns `kind` (or `flip_kind`), `s_flip` are used instead when present;
       `pairs.examples` = [{"kind", "text", "text_flip"}, ...] is shown as a table;
       S_flip = |(v(x) − ½) + (v(x') − ½)|, lower is better)
  qc = {"success": bool,                                   # the QC gate's summary (expectations/gate.py)
        "suites": {SUITE: {"evaluated": int, "failed_critical": int, "failed_warning": int,
                           "skipped": [str, ...]?}},                          # → 10_qc_summary.png
        "outcomes": [{"suite": str, "check": str, "expectation": str, "column": str?, "severity": str,
                      "success": bool, "observed": any}, ...]?, ...}          # table (failing ones first)
      ("passed" is read like "success", and "results" / "expectations" like "outcomes". When the manifest
       holds only the summary, the gate's full results MANIFEST_DIR/qc.json supply the outcomes.)
"""
from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from matplotlib.figure import Figure

from emodata.card import QC_RESULT_COLUMNS, qc_passed, qc_rest, qc_results, qc_suites
from emodata.core.manifest import Manifest

DPI = 110
#: Okabe & Ito (2008) colour-blind-safe palette.
OKABE_ITO = {"orange": "#E69F00", "sky": "#56B4E9", "green": "#009E73", "yellow": "#F0E442",
             "blue": "#0072B2", "vermillion": "#D55E00", "purple": "#CC79A7", "black": "#000000",
             "grey": "#999999"}
CYCLE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
SOURCE_COLOURS = {"goemotions": OKABE_ITO["blue"], "empatheticdialogues": OKABE_ITO["vermillion"],
                  "dailydialog": OKABE_ITO["green"]}
GROUP_COLOURS = {"train": OKABE_ITO["blue"], "dev": OKABE_ITO["orange"], "test": OKABE_ITO["green"],
                 "probe": OKABE_ITO["purple"]}
EKMAN_COLOURS = {"anger": OKABE_ITO["vermillion"], "disgust": OKABE_ITO["green"], "fear": OKABE_ITO["purple"],
                 "joy": OKABE_ITO["orange"], "sadness": OKABE_ITO["blue"], "surprise": OKABE_ITO["sky"],
                 "neutral": OKABE_ITO["grey"], "none": OKABE_ITO["black"]}
ROW_ROLES = ("train", "dev", "test", "probe")
SCATTER_MAX = 6000

#: (id, heading) of every section, in page order.
SECTIONS = (
    ("summary", "Build summary"),
    ("labels", "Label distribution"),
    ("vad", "VAD distributions"),
    ("vad-conf", "Lexicon coverage (vad_conf) and the τ cut"),
    ("drops", "Dropped rows"),
    ("lf-analysis", "Labeling functions: coverage and conflict"),
    ("label-model", "Label model vs gold"),
    ("appraisal", "Appraisal atoms"),
    ("flips", "Valence-Flip pairs"),
    ("qc", "QC gate"),
)
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
NOT_IN_BUILD = "Not in this build"


# ------------------------------------------------------------------------------------------ data access

def _source_colour(name: str, order: list[str]) -> str:
    if name in SOURCE_COLOURS:
        return SOURCE_COLOURS[name]
    return CYCLE[order.index(name) % len(CYCLE)] if name in order else CYCLE[-1]


def load_rows(manifest: Manifest) -> pd.DataFrame:
    """The record shards' plotted columns, one row per record: source, role, labels, v/a/d, vad_conf."""
    frames = []
    wanted = ("source", "labels", "labels_ekman", "vad", "vad_conf", "appraisal")
    for shard in manifest.data.get("shards", []):
        if shard.get("role") not in ROW_ROLES:
            continue
        path = manifest.shard_path(shard)
        names = set(pq.read_schema(path).names)
        table = pq.read_table(path, columns=[c for c in wanted if c in names])
        frame = pd.DataFrame({"source": shard["source"], "role": shard["role"]}, index=range(table.num_rows))
        if "labels" in names:
            frame["labels"] = table.column("labels").to_pylist()
        if "labels_ekman" in names:
            frame["labels_ekman"] = table.column("labels_ekman").to_pylist()
        if "vad" in names:
            vad = table.column("vad").combine_chunks()
            for key in "vad":
                frame[key] = vad.field(key).to_numpy(zero_copy_only=False)
        if "vad_conf" in names:
            frame["vad_conf"] = table.column("vad_conf").to_numpy()
        if "appraisal" in names:
            frame["appraisal"] = table.column("appraisal").to_pylist()
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=["source", "role", "labels", "labels_ekman", "v", "a", "d", "vad_conf"])
    return pd.concat(frames, ignore_index=True)


def load_pairs(manifest: Manifest) -> pd.DataFrame | None:
    """Flip-pair shards (role "pairs") with `flip_kind` and optional `s_flip`, or None."""
    frames = []
    for shard in manifest.shards(role="pairs"):
        path = manifest.shard_path(shard)
        names = pq.read_schema(path).names
        kind = "flip_kind" if "flip_kind" in names else "kind" if "kind" in names else None
        if kind is None:
            continue
        frame = pq.read_table(path, columns=[c for c in (kind, "s_flip") if c in names]).to_pandas()
        frames.append(frame.rename(columns={kind: "flip_kind"}))
    return pd.concat(frames, ignore_index=True) if frames else None


def _sources_in_order(manifest: dict, rows: pd.DataFrame) -> list[str]:
    mix = manifest.get("mix") or {}
    first = [s for s in (mix.get("source_a"), mix.get("source_b")) if s]
    present = set(rows["source"]) if len(rows) else set()
    present |= {n for n, info in (manifest.get("sources") or {}).items() if any((info.get("rows_used") or {}).values())}
    return sorted(present, key=lambda n: (first.index(n) if n in first else len(first), n))


# ---------------------------------------------------------------------------------------------- figures

def _new_figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    return fig


def style_axes(ax) -> None:
    """The house style of every emodata figure: no top/right spines, light x grid, small ticks."""
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(labelsize=9)
    ax.grid(axis="x", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)


def figure_png(fig: Figure) -> bytes:
    """A figure as PNG bytes, byte-stable (no software/date metadata)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, facecolor="white", metadata={"Software": None})
    return buffer.getvalue()


def _no_data(ax, text: str = "no rows") -> None:
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
    heights = [max(1.2, 0.14 * max(len(p[3]), 1) * max(len(p[1]), 1.6)) + 0.6 for p in panels] or [2.0]
    fig = _new_figure(9.0, sum(heights) + 0.4)
    axes = fig.subplots(len(panels) or 1, 1, gridspec_kw={"height_ratios": heights}, squeeze=False)[:, 0]
    for ax, (source, groups, counts, order, sub) in zip(axes, panels):
        style_axes(ax)
        if not order:
            _no_data(ax)
            ax.set_title(source, loc="left", fontsize=11, fontweight="bold")
            continue
        y = np.arange(len(order))
        width = 0.8 / len(groups)
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
    fig = _new_figure(10.0, 3.6)
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
    fig = _new_figure(min(3.9 * n, 12.0) + 1.6, 4.3)
    axes = fig.subplots(1, n, squeeze=False, sharey=True)[0]
    rng = np.random.default_rng(0)
    shown = set()
    for ax, source in zip(axes, sources or [""]):
        ax.spines[["top", "right"]].set_visible(False)
        sub = rows[(rows["source"] == source)]
        if "v" in sub:
            sub = sub.dropna(subset=["v", "a"])
        if not len(sub) or "v" not in sub:
            _no_data(ax)
            ax.set_title(source, fontsize=11, fontweight="bold")
            continue
        total = len(sub)
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
            ax.scatter(sub["v"].to_numpy()[mask], sub["a"].to_numpy()[mask], s=5, alpha=0.45,
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
    fig = _new_figure(9.0, 4.4)
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


def drop_table(manifest: dict, sources: list[str]) -> dict[str, list[tuple[str, int, str]]]:
    """Per source: (reason, rows, stage) for reader skips and filter drops, largest first."""
    out = {}
    for source in sources:
        info = (manifest.get("sources") or {}).get(source, {})
        items = [(f"reader: {k}", int(v), "reader") for k, v in (info.get("reader_skipped") or {}).items() if v]
        items += [(k, int(v), "filter") for k, v in (info.get("drops") or {}).items() if v]
        out[source] = sorted(items, key=lambda t: (-t[1], t[0]))
    return out


def fig_drops(manifest: dict, sources: list[str]) -> Figure:
    """Rows dropped per reason, one panel per source."""
    table = drop_table(manifest, sources)
    heights = [0.32 * max(len(items), 1) + 0.9 for items in table.values()] or [1.5]
    fig = _new_figure(9.0, sum(heights) + 0.4)
    axes = fig.subplots(len(heights), 1, gridspec_kw={"height_ratios": heights}, squeeze=False)[:, 0]
    for ax, (source, items) in zip(axes, table.items()):
        style_axes(ax)
        info = (manifest.get("sources") or {}).get(source, {})
        read, kept = info.get("rows_read", 0), info.get("rows_kept", 0)
        share = f" ({kept / read:.1%})" if read else ""
        ax.set_title(f"{source}: read {read:,}, kept {kept:,}{share}", loc="left", fontsize=10.5,
                     fontweight="bold")
        if not items:
            _no_data(ax, "no rows dropped")
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
    ax.set_xlabel("% of rows", fontsize=10)
    ax.legend(fontsize=8.5, frameon=True, loc="lower right", ncols=len(metrics))
    ax.set_title("Labeling functions by coverage: coverage, overlap, conflict", fontsize=11, loc="left")
    return fig


def _confusion(lf: dict) -> dict | None:
    conf = lf.get("confusion") or lf.get("label_model_vs_gold")
    if isinstance(conf, dict) and conf.get("labels") and conf.get("matrix"):
        return conf
    return None


def fig_confusion(conf: dict) -> Figure:
    """Gold (rows) × predicted (columns), shaded by share of the gold row, annotated with counts."""
    labels = [str(x) for x in conf["labels"]]
    matrix = np.asarray(conf["matrix"], dtype=float)
    totals = matrix.sum(axis=1, keepdims=True)
    share = np.divide(matrix, totals, out=np.zeros_like(matrix), where=totals > 0)
    size = min(0.42 * len(labels) + 2.8, 14.0)
    fig = _new_figure(size + 1.2, size)
    ax = fig.subplots()
    image = ax.imshow(share, cmap="Blues", vmin=0.0, vmax=1.0)   # light for 0: readable text on every cell
    ax.set_xticks(range(len(labels)), labels, rotation=60, ha="right", fontsize=10)
    ax.set_yticks(range(len(labels)), labels, fontsize=10)
    ax.set_xlabel(f"predicted ({conf.get('method', 'label model')})", fontsize=10)
    ax.set_ylabel("gold", fontsize=10)
    if len(labels) <= 30:
        for i in range(len(labels)):
            for j in range(len(labels)):
                if matrix[i, j]:
                    ax.text(j, i, f"{int(matrix[i, j]):,}", ha="center", va="center",
                            fontsize=9 if len(labels) <= 16 else 6.5,
                            color="white" if share[i, j] > 0.55 else "black")
    fig.colorbar(image, ax=ax, shrink=0.8, label="share of gold row")
    ax.set_title("Label model vs gold", fontsize=11)
    return fig


#: Bucket names put in their natural order (manifests are written with sorted keys).
ORDINAL = ("very_low", "low", "medium_low", "mid", "medium", "neutral", "medium_high", "high", "very_high",
           "negative", "positive", "none", "unknown", "n/a")


def _bucket_key(name: str) -> tuple:
    low = name.lower()
    if low in ORDINAL:
        return (0, ORDINAL.index(low), "")
    try:
        return (1, float(low.replace("–", "-").split("-")[0] or "nan"), low)
    except ValueError:
        return (2, 0.0, low)


def _atom_series(spec: Any) -> tuple[list[str], list[float]] | None:
    if not isinstance(spec, dict):
        return None
    counts = spec.get("counts")
    if isinstance(counts, dict):
        names = sorted(counts, key=lambda k: _bucket_key(str(k)))
        return [str(k) for k in names], [float(counts[k]) for k in names]
    buckets = spec.get("buckets")
    if isinstance(counts, list) and isinstance(buckets, list) and len(buckets) == len(counts):
        return [str(b) for b in buckets], [float(c) for c in counts]
    bins = spec.get("bins")
    if isinstance(counts, list) and isinstance(bins, list) and len(bins) == len(counts) + 1:
        return [f"{bins[i]:g}–{bins[i + 1]:g}" for i in range(len(counts))], [float(c) for c in counts]
    return None


def appraisal_atoms(manifest: dict, rows: pd.DataFrame) -> dict[str, tuple[list[str], list[float]]]:
    """Per atom: (bucket names, counts) from the manifest summary, else from an `appraisal` column."""
    atoms = {}
    summary = manifest.get("appraisal")
    if isinstance(summary, dict) and isinstance(summary.get("atoms"), dict):
        for name, spec in summary["atoms"].items():
            series = _atom_series(spec)
            if series:
                atoms[str(name)] = series
    if not atoms and "appraisal" in rows:
        values = [r for r in rows["appraisal"] if isinstance(r, dict)]
        names = sorted({k for r in values for k in r})
        edges = np.linspace(0.0, 1.0, 11)
        for name in names:
            data = np.array([r[name] for r in values if isinstance(r.get(name), (int, float))], dtype=float)
            if len(data):
                counts, _ = np.histogram(np.clip(data, 0, 1), bins=edges)
                atoms[name] = ([f"{edges[i]:.1f}–{edges[i + 1]:.1f}" for i in range(10)], counts.tolist())
    return atoms


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


def flip_summary(manifest: dict, pairs: pd.DataFrame | None) -> dict | None:
    """{"by_kind": {kind: n}, "s_flip": {kind: mean}, "hist": (bins, counts) | None}, or None."""
    if pairs is not None and len(pairs):
        by_kind = pairs["flip_kind"].astype(str).value_counts().sort_index()
        result = {"by_kind": {k: int(v) for k, v in by_kind.items()}, "s_flip": {}, "hist": None}
        if "s_flip" in pairs:
            result["s_flip"] = {k: float(v) for k, v in
                                pairs.groupby(pairs["flip_kind"].astype(str))["s_flip"].mean().items()}
            edges = np.linspace(0.0, 0.5, 26)
            counts, _ = np.histogram(np.clip(pairs["s_flip"].dropna().to_numpy(), 0, 0.5), bins=edges)
            result["hist"] = (edges.tolist(), counts.tolist())
        return result
    info = manifest.get("pairs")
    if not isinstance(info, dict) or not isinstance(info.get("by_kind"), dict):
        return None
    by_kind, s_flip = {}, {}
    for kind, value in sorted(info["by_kind"].items()):
        if isinstance(value, dict):
            by_kind[kind] = int(value.get("pairs", value.get("n", 0)) or 0)
            if isinstance(value.get("s_flip_mean"), (int, float)):
                s_flip[kind] = float(value["s_flip_mean"])
        else:
            by_kind[kind] = int(value)
    hist = info.get("s_flip_hist")
    hist = (hist["bins"], hist["counts"]) if isinstance(hist, dict) and "bins" in hist and "counts" in hist else None
    return {"by_kind": by_kind, "s_flip": s_flip, "hist": hist}


def fig_flips(summary: dict) -> Figure:
    """Pairs per flip kind, and S_flip (mean per kind and/or its histogram)."""
    panels = 1 + bool(summary["s_flip"]) + bool(summary["hist"])
    fig = _new_figure(4.0 * panels + 0.6, 3.8)
    axes = fig.subplots(1, panels, squeeze=False)[0]
    kinds = list(summary["by_kind"])
    ax = axes[0]
    style_axes(ax)
    ax.barh(range(len(kinds)), list(summary["by_kind"].values()), color=OKABE_ITO["blue"])
    ax.set_yticks(range(len(kinds)), kinds, fontsize=9)
    ax.invert_yaxis()
    ax.set_xlabel("pairs", fontsize=10)
    ax.set_title("pairs per flip kind", fontsize=10.5)
    i = 1
    if summary["s_flip"]:
        ax = axes[i]
        style_axes(ax)
        names = [k for k in kinds if k in summary["s_flip"]]
        ax.barh(range(len(names)), [summary["s_flip"][k] for k in names], color=OKABE_ITO["orange"])
        ax.set_yticks(range(len(names)), names, fontsize=9)
        ax.invert_yaxis()
        ax.set_xlabel("mean S_flip (lower is better)", fontsize=10)
        ax.set_title("S_flip per kind", fontsize=10.5)
        i += 1
    if summary["hist"]:
        ax = axes[i]
        ax.spines[["top", "right"]].set_visible(False)
        bins, counts = summary["hist"]
        ax.stairs(counts, bins, fill=True, color=OKABE_ITO["green"])
        ax.set_xlabel("S_flip = |(v(x) − ½) + (v(x') − ½)|", fontsize=10)
        ax.set_ylabel("pairs", fontsize=10)
        ax.set_title("S_flip distribution", fontsize=10.5)
    fig.suptitle("Valence-Flip pairs", fontsize=12)
    return fig


# ------------------------------------------------------------------------------------------------ HTML

CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:1100px;margin:2em auto;
padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.6em 0;font-size:.92em}
th,td{border:1px solid #ddd;padding:.25em .6em;text-align:left;vertical-align:top}
th{background:#f4f4f4}td.num{text-align:right;font-variant-numeric:tabular-nums}
img{max-width:100%;height:auto;border:1px solid #eee;margin:.5em 0}
.note{background:#f7f7f7;border-left:4px solid #999;padding:.5em .8em;color:#444}
.pass{color:#006d4f;font-weight:bold}.fail{color:#b34700;font-weight:bold}
nav a{margin-right:.9em}code{background:#f4f4f4;padding:0 .25em}
"""


def _e(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return html.escape(f"{value:.4g}")
    if isinstance(value, int):
        return f"{value:,}"
    if value is None:
        return "–"
    if isinstance(value, (dict, list)):  # readable "key: value; ..." text, never raw JSON
        from expectations.docs import plain_value

        return html.escape(plain_value(value))
    return html.escape(str(value))


def _table(header: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = []
    for row in rows:
        cells = []
        for value in row:
            if isinstance(value, tuple) and len(value) == 2 and value[0] == "raw":
                cells.append(f"<td>{value[1]}</td>")
            elif isinstance(value, (int, float)) and not isinstance(value, bool):
                cells.append(f'<td class="num">{_e(value)}</td>')
            else:
                cells.append(f"<td>{_e(value)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _kv(data: dict) -> str:
    return _table(["key", "value"], [[k, data[k]] for k in sorted(data)])


def _note(text: str) -> str:
    return f'<p class="note">{html.escape(text)}</p>'


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt)}">'


def _qc_status(qc: Any) -> str:
    if not qc:
        return "not in this build"
    passed = qc_passed(qc) if isinstance(qc, dict) else None
    return "present" if passed is None else "passed" if passed else "FAILED"


def _summary_html(manifest: dict, sources: list[str], rows: pd.DataFrame, path_name: str) -> str:
    mix = manifest.get("mix") or {}
    lexicon = manifest.get("lexicon") or {}
    pipeline = manifest.get("pipeline") or {}
    emo = manifest.get("emodata") or {}
    share = mix.get("share_a_actual")
    facts = [
        ["name", manifest.get("name")],
        ["manifest", path_name],
        ["mix", f"{mix.get('source_a')} : {mix.get('source_b')} = {mix.get('a')}:{mix.get('b')} — "
                f"{mix.get('rows_a', 0):,} + {mix.get('rows_b', 0):,} = {mix.get('rows', 0):,} rows"
                + (f", actual share of A {share:.1%}" if isinstance(share, (int, float)) else "")],
        ["counts", ", ".join(f"{k} {v:,}" for k, v in (manifest.get("counts") or {}).items())],
        ["lexicon", f"{lexicon.get('name')} v{lexicon.get('version')} ({lexicon.get('entries', 0):,} entries, "
                    f"{lexicon.get('source')}, sha1 {str(lexicon.get('sha1'))[:12]})"],
        ["pipeline", f"{pipeline.get('name')} {pipeline.get('version')} (spaCy {pipeline.get('spacy')}"
                     + ("" if pipeline.get("has_model", True) else ", blank tokenizer") + ")"],
        ["thresholds", ", ".join(f"{k} {v}" for k, v in (manifest.get("thresholds") or {}).items())],
        ["seed / dev_frac", f"{manifest.get('seed')} / {manifest.get('dev_frac')}"],
        ["emodata", f"{emo.get('version')} (git {emo.get('git_commit')})"],
        ["config_sha1", manifest.get("config_sha1")],
        ["QC gate", _qc_status(manifest.get("qc"))],
    ]
    parts = [_table(["field", "value"], facts)]
    source_rows = []
    for source in sources:
        info = (manifest.get("sources") or {}).get(source, {})
        used = info.get("rows_used") or {}
        source_rows.append([source, (info.get("card") or {}).get("license"), info.get("rows_read"),
                            info.get("rows_kept"), ", ".join(f"{k} {v:,}" for k, v in used.items())])
    parts.append(_table(["source", "license", "rows read", "rows kept", "rows used"], source_rows))
    shard_rows = [[s["name"], s["role"], s["rows"], s["path"]] for s in manifest.get("shards", [])]
    parts.append(_table(["shard", "role", "rows", "path"], shard_rows))
    return "".join(parts)


def _lf_html(lf: dict, figure: str | None) -> str:
    parts = []
    lfs = lf.get("lfs") if isinstance(lf.get("lfs"), list) else []
    if figure:
        parts.append(figure)
    if lfs:
        keys = ["name"] + [k for k in ("coverage", "overlap", "conflict", "emp_acc", "polarity")
                           if any(k in x for x in lfs)]
        parts.append(_table(keys, [[x.get(k) for k in keys] for x in lfs]))
    else:
        parts.append(_note("lf_analysis has no per-LF table (key `lfs`)."))
    rest = {k: v for k, v in lf.items() if k not in ("lfs", "confusion", "label_model_vs_gold", "scores", "chosen")}
    if rest:
        parts.append(_kv(rest))
    return "".join(parts)


def _label_model_html(lf: dict, figure: str | None) -> str:
    parts = []
    if lf.get("chosen"):
        parts.append(f"<p>Shipped weak labels: <b>{_e(lf['chosen'])}</b>.</p>")
    scores = lf.get("scores")
    if isinstance(scores, dict) and scores:
        metrics = sorted({m for v in scores.values() if isinstance(v, dict) for m in v})
        parts.append(_table(["method"] + metrics, [[name] + [v.get(m) if isinstance(v, dict) else v for m in metrics]
                                                   for name, v in scores.items()]))
    if figure:
        parts.append(figure)
    if not parts:
        parts.append(_note("lf_analysis has no label-model scores or confusion matrix."))
    return "".join(parts)


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


def _read_qc_details(manifest_path: Path) -> list[dict]:
    """Outcomes from the gate's full results beside the manifest (manifests/qc.json), if any."""
    path = manifest_path.parent / "qc.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return qc_results(data) if isinstance(data, dict) else []


def _qc_html(qc: Any, figure: str | None = None, details: list[dict] | None = None) -> str:
    if not isinstance(qc, dict):
        return f"<p>{_e(qc)}</p>"
    parts = []
    passed = qc_passed(qc)
    if passed is not None:
        cls, word = ("pass", "passed") if passed else ("fail", "FAILED")
        suite = f" (suite <code>{html.escape(str(qc['suite']))}</code>)" if qc.get("suite") else ""
        parts.append(f'<p>QC gate: <span class="{cls}">{word}</span>{suite}</p>')
    if figure:
        parts.append(figure)
    suites = qc_suites(qc)
    if suites:
        keys = ["suite", "evaluated", "passed", "failed_critical", "failed_warning", "skipped"]
        parts.append(_table(keys, [[row[k] for k in keys] for row in suites]))
    results = qc_results(qc) or details or []
    if results:
        results = sorted(results, key=lambda r: (r.get("success") is not False,
                                                 r.get("severity") != "critical"))
        failed = sum(r.get("success") is False for r in results)
        parts.append(f"<p>{len(results):,} expectations, {failed:,} failing (failing ones first).</p>")
        keys = [k for k in QC_RESULT_COLUMNS if any(k in r for r in results)]
        rows = []
        for r in results:
            row = []
            for k in keys:
                if k == "success" and isinstance(r.get(k), bool):
                    row.append(("raw", f'<span class="{"pass" if r[k] else "fail"}">'
                                       f'{"pass" if r[k] else "fail"}</span>'))
                else:
                    row.append(r.get(k))
            rows.append(row)
        parts.append(_table(keys, rows))
    rest = qc_rest(qc)
    if rest:
        parts.append(_kv(rest))
    return "".join(parts) or _note("The qc entry is empty.")


def write_report(manifest_path: Path, out_dir: Path | None = None) -> Path:
    """Write OUT_DIR/report.html (self-contained) and its PNG figures; return the HTML path. Default
    OUT_DIR: OUT/mix_A_B-derived/report, beside the frozen build."""
    from emodata.export import derived_root

    loaded = Manifest.load(manifest_path)
    manifest = loaded.data
    out = Path(out_dir) if out_dir is not None else derived_root(loaded) / "report"  # never inside the build
    out.mkdir(parents=True, exist_ok=True)
    rows = load_rows(loaded)
    sources = _sources_in_order(manifest, rows)
    label_order = list((manifest.get("label_space") or {}).get("labels") or [])
    pngs: dict[str, bytes] = {}

    def figure(key: str, fig: Figure, alt: str) -> str:
        pngs[key] = figure_png(fig)
        return _img(pngs[key], alt)

    body: dict[str, str] = {}
    body["summary"] = _summary_html(manifest, sources, rows, loaded.path.name)
    body["labels"] = figure("labels", fig_labels(rows, sources, label_order), "label distribution")
    body["vad"] = (figure("vad_hist", fig_vad_hist(rows, sources), "VAD histograms")
                   + figure("va_scatter", fig_va_scatter(rows, sources), "valence-arousal scatter"))
    body["vad-conf"] = figure("vad_conf", fig_vad_conf(rows, sources, manifest), "vad_conf distribution")
    drops = drop_table(manifest, sources)
    body["drops"] = figure("drops", fig_drops(manifest, sources), "dropped rows") + _table(
        ["source", "stage", "reason", "rows"],
        [[s, stage, reason, n] for s, items in drops.items() for reason, n, stage in items])

    lf = manifest.get("lf_analysis")
    if isinstance(lf, dict) and lf:
        lfs = [x for x in lf.get("lfs") or [] if isinstance(x, dict)]
        body["lf-analysis"] = _lf_html(lf, figure("lf", fig_lf(lfs), "LF coverage and conflict") if lfs else None)
        conf = _confusion(lf)
        body["label-model"] = _label_model_html(
            lf, figure("confusion", fig_confusion(conf), "label model vs gold") if conf else None)
    else:
        body["lf-analysis"] = _note(f"{NOT_IN_BUILD}: the manifest has no lf_analysis (no labeling functions ran).")
        body["label-model"] = _note(f"{NOT_IN_BUILD}: no label model was compared with gold labels.")

    atoms = appraisal_atoms(manifest, rows)
    if atoms:
        body["appraisal"] = figure("appraisal", fig_appraisal(atoms), "appraisal atoms")
        if isinstance(manifest.get("appraisal"), dict):
            rest = {k: v for k, v in manifest["appraisal"].items() if k != "atoms"}
            body["appraisal"] += _kv(rest) if rest else ""
    elif manifest.get("appraisal"):
        body["appraisal"] = _kv(manifest["appraisal"]) if isinstance(manifest["appraisal"], dict) else _e(
            manifest["appraisal"])
    else:
        body["appraisal"] = _note(f"{NOT_IN_BUILD}: no appraisal atoms were produced.")

    flips = flip_summary(manifest, load_pairs(loaded))
    if flips and flips["by_kind"]:
        body["flips"] = figure("flips", fig_flips(flips), "Valence-Flip pairs") + _table(
            ["flip kind", "pairs", "mean S_flip"],
            [[k, n, flips["s_flip"].get(k)] for k, n in flips["by_kind"].items()])
        examples = (manifest.get("pairs") or {}).get("examples") or []
        if examples:
            body["flips"] += "<h3>Pairs for a human to read (seeded random sample)</h3>" + _table(
                ["kind", "text", "flipped text"], [[e["kind"], e["text"], e["text_flip"]] for e in examples])
    elif manifest.get("pairs"):
        body["flips"] = _kv(manifest["pairs"]) if isinstance(manifest["pairs"], dict) else _e(manifest["pairs"])
    else:
        body["flips"] = _note(f"{NOT_IN_BUILD}: no Valence-Flip pairs were generated.")

    qc = manifest.get("qc")
    if qc:
        suites = qc_suites(qc) if isinstance(qc, dict) else []
        body["qc"] = _qc_html(qc, figure("qc", fig_qc(suites), "QC summary") if suites else None,
                              _read_qc_details(loaded.path))
    else:
        body["qc"] = _note(f"{NOT_IN_BUILD}: no QC gate results in this manifest.")

    for key, name in FIGURES.items():
        path = out / name
        if key in pngs:
            path.write_bytes(pngs[key])
        elif path.exists():
            path.unlink()

    title = f"emodata build report — {manifest.get('name')}"
    nav = " ".join(f'<a href="#{sid}">{html.escape(heading)}</a>' for sid, heading in SECTIONS)
    sections = "\n".join(f'<section><h2 id="{sid}">{html.escape(heading)}</h2>\n{body[sid]}\n</section>'
                         for sid, heading in SECTIONS)
    page = (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>{CSS}</style></head>\n<body><h1>{html.escape(title)}</h1>\n<nav>{nav}</nav>\n"
            f"{sections}\n</body></html>\n")
    report = out / "report.html"
    report.write_text(page, encoding="utf-8")
    return report
