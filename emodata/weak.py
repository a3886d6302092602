"""The build's weak-supervision stage: weak emotion labels, appraisal atoms and the LF report of a mix.

The annotate stage stored every row's emotion and appraisal LF votes (`emotion_votes`,
`appraisal_votes`). For one mix, the aggregators are fit on the mix's train rows only (labeler choice by train gold, never dev), every
written row gets `weak_labels`/`weak_probs` (fine, GoEmotions-28) and `weak_labels_ekman`/
`weak_probs_ekman`, and the LFs and aggregators are scored against gold on each labelled dev split
and the DailyDialog probe. The report goes to `manifests/lf_report.{json,md}`; its summary, in the
shape `emodata/report.py` draws, goes to `manifest["lf_analysis"]`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

import numpy as np
import pandas as pd
from snorkel.labeling import LabelingFunction

from labeling_functions.weak_labels import PROB_DECIMALS, WeakLabeler, fit_weak_labeler, lf_report

if TYPE_CHECKING:
    from labeling_functions.appraisal import AppraisalModel, Verifier

WEAK_COLUMNS = ("weak_labels", "weak_probs", "weak_labels_ekman", "weak_probs_ekman")


def votes_of(frame: pd.DataFrame, n_lfs: int, column: str = "emotion_votes") -> np.ndarray:
    """The LF matrix (rows × LFs) stored in an annotated frame's `column` (emotion LF votes by default)."""
    if not len(frame):
        return np.empty((0, n_lfs), dtype=np.int64)
    matrix = np.stack([np.asarray(v, dtype=np.int64) for v in frame[column]])
    if matrix.shape[1] != n_lfs:
        raise ValueError(f"{column}: rows hold {matrix.shape[1]} LF votes, expected {n_lfs} (annotated with "
                         f"another LF set?)")
    return matrix


def fit_mix_labeler(train: pd.DataFrame, lfs: Sequence[LabelingFunction], fine_labels: Sequence[str], seed: int,
                    aggregator: str) -> WeakLabeler:
    """Fit the weak labeler on a mix's train rows (their gold labels choose the aggregator)."""
    return fit_weak_labeler(votes_of(train, len(lfs)), fine_labels, train["labels"].tolist(), seed, aggregator)


def with_weak_labels(frame: pd.DataFrame, labeler: WeakLabeler, n_lfs: int) -> pd.DataFrame:
    """`frame` plus the four weak-label columns."""
    weak = labeler.label(votes_of(frame, n_lfs))
    return frame.reset_index(drop=True).assign(**{c: weak[c].tolist() for c in WEAK_COLUMNS})


def _summary_scores(part: dict) -> dict:
    return {method: {k: s[k] for k in ("macro_f1", "macro_p", "macro_r", "coverage", "n")}
            for method, s in part["scores"].items()}


def mix_lf_analysis(labelled: dict[str, pd.DataFrame], lfs: Sequence[LabelingFunction],
                    labeler: WeakLabeler) -> tuple[dict, dict]:
    """(manifest summary, full report) of LFs and aggregators on labelled splits by name.

    `labelled` maps a split name (e.g. "goemotions/dev", "dailydialog/probe") to its rows. The
    summary's top-level `lfs`/`confusion`/`scores` are those of all splits pooled.
    """
    n_lfs = len(lfs)
    parts = {name: frame for name, frame in labelled.items() if len(frame)}
    full = {"labeler": labeler.describe(), "splits": {}}
    for name, frame in parts.items():
        full["splits"][name] = lf_report(votes_of(frame, n_lfs), lfs, labeler, frame["labels"].tolist())
    summary: dict = {"labeler": labeler.describe(), "by_split": {}}
    for name, report in full["splits"].items():
        summary["by_split"][name] = {"n": report["n"], "fine": _summary_scores(report["fine"]),
                                     "ekman": _summary_scores(report["ekman"])}
    if parts:
        pooled = pd.concat(parts.values(), ignore_index=True)
        report = lf_report(votes_of(pooled, n_lfs), lfs, labeler, pooled["labels"].tolist())
        full["pooled"] = report
        summary.update(lfs=report["lfs"], confusion=report["fine"]["confusion"],
                       scores={m: s for m, s in _summary_scores(report["fine"]).items()},
                       scores_ekman=_summary_scores(report["ekman"]), chosen=report["fine"]["chosen"],
                       chosen_ekman=report["ekman"]["chosen"], pooled_splits=sorted(parts))
    return summary, full


def lf_report_markdown(full: dict) -> str:
    """The LF report as Markdown: aggregator scores per split, then the LF table of the pooled splits."""
    lines = ["# Labeling-function report", "",
             "Weak labels vs gold on the labelled dev splits of this mix (and the DailyDialog probe).",
             "Macro-F1 over the labels present in gold (ε = 1e-9), as the evaluator computes it.", ""]
    labeler = full["labeler"]
    lines += [f"Aggregator shipped: fine = **{labeler['fine']['aggregator']}**, Ekman-7 = "
              f"**{labeler['ekman']['aggregator']}** (chosen by Macro-F1 on the mix's train gold: fine "
              f"{labeler['fine']['train_macro_f1']}, Ekman {labeler['ekman']['train_macro_f1']}).", "",
              "| split | space | aggregator | Macro-F1 | Macro-P | Macro-R | rows with a weak label |",
              "|---|---|---|---|---|---|---|"]
    for name, report in list(full["splits"].items()) + ([("pooled", full["pooled"])] if "pooled" in full else []):
        for space in ("fine", "ekman"):
            for method, s in report[space]["scores"].items():
                lines.append(f"| {name} | {space} | {method} | {s['macro_f1']:.4f} | {s['macro_p']:.4f} | "
                             f"{s['macro_r']:.4f} | {s['coverage']:.3f} |")
    if "pooled" in full:
        lines += ["", "## Labeling functions (pooled labelled splits)", "",
                  "| LF | polarity | coverage | overlap | conflict | votes | emp. acc. |", "|---|---|---|---|---|---|---|"]
        for row in full["pooled"]["lfs"]:
            acc = "n/a" if row.get("emp_acc") is None else f"{row['emp_acc']:.3f}"
            lines.append(f"| {row['name']} | {', '.join(row['polarity'])} | {row['coverage']:.4f} | "
                         f"{row['overlap']:.4f} | {row['conflict']:.4f} | {row.get('votes', 0)} | {acc} |")
    return "\n".join(lines) + "\n"


def _atom_structs(values: np.ndarray, atoms: Sequence[str]) -> list[dict]:
    return [{a: (None if np.isnan(x) else round(float(x), PROB_DECIMALS)) for a, x in zip(atoms, row)}
            for row in values]


def appraisal_matrices_of(frame: pd.DataFrame, lfs: dict[str, list[LabelingFunction]],
                          atoms: Sequence[str]) -> dict[str, np.ndarray]:
    """atom → its LF matrix, cut from the `appraisal_votes` the annotate stage stored (`lfs[atom]`
    are the atom's LFs, atoms in `atoms` order: the columns of the stored votes)."""
    from labeling_functions.appraisal import split_matrix

    width = sum(len(lfs[atom]) for atom in atoms)
    return split_matrix(votes_of(frame, width, "appraisal_votes"), tuple(atoms), lfs)


@dataclass
class MixAppraisal:
    """A mix's fitted appraisal stage: the per-atom model, the verifier and the manifest summary."""

    model: AppraisalModel
    verifier: Verifier
    summary: dict


def fit_mix_appraisal(parts: dict[str, pd.DataFrame], roles: dict[str, str], seed: int, negation: bool,
                      scope: str) -> MixAppraisal:
    """Fit a mix's appraisal stage on `parts` (by name; `roles[name]` is train/dev/test/probe).

    Per-atom label models and the verifier are fit on the train rows only (held-out text never shapes
    the trainer's L_app, and train values do not depend on dev/test/probe); the summary describes the
    scores of every row and their agreement with the prototypes of the gold labels on the dev rows.
    Rows are written later, per partition, by `with_labels`.
    """
    from catalog import load_catalog
    from labeling_functions.appraisal import (APPRAISAL_ATOMS, appraisal_lfs, appraisal_summary, fit_appraisal,
                                              train_verifier)

    names = [name for name, frame in parts.items() if len(frame)]
    cols = ["lower", "neg", "labels", "appraisal_votes"]
    rows = pd.concat([parts[n][cols].assign(_role=roles[n]) for n in names], ignore_index=True)
    matrices = appraisal_matrices_of(rows, appraisal_lfs(negation), APPRAISAL_ATOMS)
    train = (rows["_role"] == "train").to_numpy()
    train_rows = rows[train].reset_index(drop=True)
    model = fit_appraisal(train_rows, seed, matrices={atom: m[train] for atom, m in matrices.items()},
                          negation=negation)
    pred = model.predict(rows, matrices).reset_index(drop=True)
    verifier, report = train_verifier(train_rows, pred[train].reset_index(drop=True), load_catalog().unified_labels,
                                      seed, negation_scope=scope)
    summary = appraisal_summary(pred, rows["labels"].tolist(), eval_mask=(rows["_role"] == "dev").to_numpy(),
                                model=model, verifier_report=report)
    return MixAppraisal(model, verifier, summary)


def with_labels(labeler: WeakLabeler, n_lfs: int, appraisal: AppraisalModel | None,
                frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` plus the weak-label columns and, given the appraisal model, `appraisal` (its scores)
    and `appraisal_prototype` (s̃ of the gold labels). Row-wise: a map task of the write stage."""
    out = with_weak_labels(frame, labeler, n_lfs)
    if appraisal is not None:
        from catalog.appraisal import load_prototypes

        matrices = appraisal_matrices_of(out, appraisal.lfs, appraisal.atoms)
        pred = appraisal.predict(out, matrices).to_numpy(dtype=float)
        protos = load_prototypes().prototype_matrix(out["labels"].tolist())
        out = out.assign(appraisal=_atom_structs(pred, appraisal.atoms),
                         appraisal_prototype=_atom_structs(protos, appraisal.atoms))
    return out
