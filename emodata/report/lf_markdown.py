"""The build's Markdown LF report (manifests/lf_report.md): aggregator scores per labelled split, the
end-model check, the LF table and, given the manifest, the appraisal atoms' ROC-AUC on human ratings
and the Valence-Flip pairs' acceptance by each judge with the seeded pairs per kind to read.

The appraisal and flip tables come from the same functions as the HTML report's
(`emodata.report.stages`), so the two never disagree.
"""
from __future__ import annotations

from typing import Any, Mapping

from emodata.card import md_table
from emodata.report.stages import appraisal_auc, judge_table, pair_examples
from emodata.weak import end_model_markdown


def _train_scores(info: dict) -> str:
    scores = info.get("train_macro_f1") or {}
    return ", ".join(f"{m} {v:.4f}" for m, v in scores.items()) if scores else "not compared"


def _score_lines(full: dict) -> list[str]:
    """The aggregator-scores table: one row per split, label space and aggregator."""
    lines = ["| split | space | aggregator | Macro-F1 | no neutral | Macro-P | Macro-R | rows with a weak label |",
             "|---|---|---|---|---|---|---|---|"]
    for name, report in list(full["splits"].items()) + ([("pooled", full["pooled"])] if "pooled" in full else []):
        for space in ("fine", "ekman"):
            for method, s in report[space]["scores"].items():
                emotions = "n/a" if s.get("macro_f1_emotions") is None else f"{s['macro_f1_emotions']:.4f}"
                lines.append(f"| {name} | {space} | {method} | {s['macro_f1']:.4f} | {emotions} | {s['macro_p']:.4f} | "
                             f"{s['macro_r']:.4f} | {s['coverage']:.3f} |")
    return lines


def _lf_lines(pooled: dict) -> list[str]:
    lines = ["", "## Labeling functions (pooled labelled splits)", "",
             "| LF | polarity | coverage | overlap | conflict | votes | emp. acc. |", "|---|---|---|---|---|---|---|"]
    for row in pooled["lfs"]:
        acc = "n/a" if row.get("emp_acc") is None else f"{row['emp_acc']:.3f}"
        lines.append(f"| {row['name']} | {', '.join(row['polarity'])} | {row['coverage']:.4f} | "
                     f"{row['overlap']:.4f} | {row['conflict']:.4f} | {row.get('votes', 0)} | {acc} |")
    return lines


def appraisal_markdown(appraisal: Any) -> list[str]:
    """The appraisal atoms' cross-validated ROC-AUC per enISEAR dimension (none: a line saying so)."""
    rows, mean = appraisal_auc(appraisal)
    lines = ["", "## Appraisal atoms vs human ratings (enISEAR)", ""]
    if not rows:
        return lines + ["This build's appraisal summary has no cross-validated ROC-AUC on human ratings."]
    lines += ["ROC-AUC of the appraisal classifier's P(high) per enISEAR dimension, cross-validated on the "
              "shared enISEAR data (gold: majority of 3 annotators; 0.5 = chance).", "",
              md_table(["enISEAR dimension", "atom", "ROC-AUC"], [[d, a, f"{auc:.4f}"] for d, a, auc in rows])]
    if mean is not None:
        lines += ["", f"Mean ROC-AUC over {len(rows)} dimensions: **{mean:.4f}**."]
    return lines


def _share(x: Any) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


def flips_markdown(pairs: Any) -> list[str]:
    """Flip acceptance per kind and judge, then the seeded pairs of each kind (none: a line saying so)."""
    lines = ["", "## Valence-Flip pairs: acceptance by each judge", ""]
    judges = judge_table(pairs)
    if not judges:
        return lines + ["This build stored no per-judge acceptance of its flip candidates."]
    shares = [i for i, h in enumerate(judges.header) if h.startswith("accepted by ")]
    lines += [judges.caption + ".", "",
              md_table(judges.header, [[_share(c) if i in shares else c for i, c in enumerate(row)]
                                       for row in judges.rows])]
    for kind, examples in pair_examples(pairs).items():
        lines += ["", f"### {kind}: {len(examples)} pairs to read (seeded random sample)", "",
                  md_table(["text", "flipped text"], [[t.replace("\n", " "), f.replace("\n", " ")]
                                                      for t, f in examples])]
    return lines


def lf_report_markdown(full: dict, manifest: Mapping[str, Any] | None = None) -> str:
    """The LF report as Markdown: aggregator scores per split, the end-model check, the LF table of the
    pooled splits and, given the `manifest`, appraisal ROC-AUC on human ratings and flip acceptance."""
    lines = ["# Labeling-function report", "",
             "Weak labels vs gold on the labelled dev splits of this mix (and the DailyDialog probe).",
             "Macro-F1 over the labels present in gold (ε = 1e-9), as the evaluator computes it.", ""]
    labeler = full["labeler"]
    lines += [f"Aggregator shipped: fine = **{labeler['fine']['aggregator']}**, Ekman-7 = "
              f"**{labeler['ekman']['aggregator']}** (chosen by Macro-F1 on the mix's train gold: fine "
              f"{_train_scores(labeler['fine'])}; Ekman {_train_scores(labeler['ekman'])}).", ""]
    lines += _score_lines(full)
    for name, note in full.get("notes", {}).items():
        lines += ["", f"*{name}*: {note}"]
    if "end_model" in full:
        lines += end_model_markdown(full["end_model"])
    if "pooled" in full:
        lines += _lf_lines(full["pooled"])
    if manifest is not None:
        lines += appraisal_markdown(manifest.get("appraisal")) + flips_markdown(manifest.get("pairs"))
    return "\n".join(lines) + "\n"
