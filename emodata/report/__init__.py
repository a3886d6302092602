"""The visual build report: one self-contained HTML page (figures embedded as base64 PNG) + the PNGs.

`write_report(manifest_path, out_dir=None)` reads a manifest (`emodata.core.manifest.Manifest`) and its
shards and writes OUT_DIR/report.html and the figures OUT_DIR/NN_name.png (default OUT_DIR:
OUT/mix_A_B-derived/report, beside the frozen build). File names are fixed (`FIGURES`); figures of a
previous run that are not produced again are removed, so the folder always matches the page. PNGs
carry no version/time metadata, so the same build and matplotlib give byte-identical files.

The package has three layers:
  data.py, stages.py      what the page shows, from the manifest and the shards (no HTML, no matplotlib)
  figures.py, figures_stages.py   matplotlib figures → PNG bytes (house style: emodata.core.figstyle)
  html.py + templates/*.html.j2   the page (Jinja2, autoescaped); no JSON in table cells
and lf_markdown.py renders the build's manifests/lf_report.md.

Always drawn (from the manifest and the shards):
  01_label_distribution.png   share of rows carrying each label, per source and split (horizontal bars)
  02_vad_histograms.png       V, A and D histograms per source
  03_valence_arousal.png      V–A scatter per source, points coloured by Ekman group
  04_vad_conf.png             vad_conf per source with the τ cut (thresholds.vad_conf_min)
  05_drops.png                rows dropped per reason per source (sources.NAME.drops, .reader_skipped)

Optional sections render when their manifest key is present and otherwise say "Not in this build".
The shapes read (extra keys are listed as text; missing parts are skipped, never fatal):

  lf_analysis = {"lfs": [{"name", "coverage", "overlap", "conflict", "polarity"?, "emp_acc"?, "votes"?}],
                 "confusion": {"labels", "matrix" (rows gold), "method"},   # → 07_label_model_confusion.png
                 "scores" / "scores_ekman": {METHOD: {"macro_f1", ...}}, "chosen" / "chosen_ekman",
                 "by_split": {SPLIT: {"n", "fine"/"ekman": {METHOD: scores}}}, "labeler", "notes",
                 "pooled_splits"}                                           # → 06_lf_coverage_conflict.png
  appraisal = {"atoms": {ATOM: {"counts": {bucket: int}} | {"buckets": [...], "counts": [...]}
                                | {"bins": [edge, ...], "counts": [...], "coverage"?, "mean"?,
                                   "vs_prototype"?}},                       # → 08_appraisal_atoms.png
               "enisear_cv_auc": {"Dimension (atom)": ROC-AUC, ..., "mean": float}?,  # human ratings
               "model"?, "verifier"?}
      (without a manifest summary, a struct column `appraisal` of floats in the shards is histogrammed)
  pairs = {"n_pairs", "by_kind": {KIND: int | {"pairs", "s_flip_mean"}}, "s_flip_hist"?,   # → 09_flip_pairs.png
           "judges": {KIND: {JUDGE: share, "judged": int}}?, "candidates"?, "rejected"?, "rows"?,
           "validity"?, "examples_by_kind": {KIND: [{"text", "text_flip"}]}? (else "examples")}
      (the pairs shard's `kind` and `s_flip` columns are counted instead when present;
       S_flip = |(v(x) − ½) + (v(x') − ½)|, lower is better; see emodata/flips/summary.py)
  qc = {"success": bool, "suites": {SUITE: {"evaluated", "failed_critical", "failed_warning",
        "skipped"?}}, "outcomes"?: [...]}       # → 10_qc_summary.png; outcomes also from manifests/qc.json
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from emodata.report.data import NOT_IN_BUILD, SECTIONS, collect
from emodata.report.stages import appraisal_atoms

__all__ = ["write_report", "FIGURES", "SECTIONS", "NOT_IN_BUILD", "appraisal_atoms"]


def __getattr__(name: str) -> Any:
    """`FIGURES` on first use: matplotlib is imported only by what draws (the build imports
    `emodata.report.lf_markdown` and never draws)."""
    if name == "FIGURES":
        from emodata.report.figures import FIGURES

        return FIGURES
    raise AttributeError(f"module 'emodata.report' has no attribute {name!r}")


def write_report(manifest_path: Path, out_dir: Path | None = None) -> Path:
    """Write OUT_DIR/report.html (self-contained) and its PNG figures; return the HTML path. Default
    OUT_DIR: OUT/mix_A_B-derived/report, beside the frozen build (never inside it)."""
    from emodata.export import derived_root
    from emodata.report.figures import FIGURES, render_figures
    from emodata.report.html import render_page

    data = collect(Path(manifest_path))
    out = Path(out_dir) if out_dir is not None else derived_root(data.loaded) / "report"
    out.mkdir(parents=True, exist_ok=True)
    pngs = render_figures(data)
    for key, name in FIGURES.items():
        path = out / name
        if key in pngs:
            path.write_bytes(pngs[key])
        elif path.exists():
            path.unlink()
    report = out / "report.html"
    report.write_text(render_page(data, pngs), encoding="utf-8")
    return report
