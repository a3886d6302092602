"""What the report shows of the weak-supervision stages: LFs, label model, appraisal, flips, QC.

Each `*_section` returns a section's context (see `emodata.report.data`): `Table`s of plain cells,
facts, notes and the inputs of the section's figure. A section whose manifest key is absent says
`NOT_IN_BUILD` (its `missing` note). `appraisal_auc`, `judge_table` and `pair_examples` are shared
with the Markdown LF report (`emodata.report.lf_markdown`).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from emodata.core.manifest import QC_RESULT_COLUMNS, QcSummary, qc_outcomes
from emodata.core.typed_json import from_json

from emodata.report.data import NOT_IN_BUILD, Badge, Share, Table, kv_table, plain, qc_passed

#: Bucket names put in their natural order (manifests are written with sorted keys).
ORDINAL = ("very_low", "low", "medium_low", "mid", "medium", "neutral", "medium_high", "high", "very_high",
           "negative", "positive", "none", "unknown", "n/a")
LF_COLUMNS = ("coverage", "overlap", "conflict", "emp_acc", "votes")
LF_KNOWN = ("lfs", "confusion", "scores", "chosen", "by_split", "labeler", "notes", "pooled_splits",
            "scores_ekman", "chosen_ekman")
SCORE_COLUMNS = (("macro_f1", "Macro-F1"), ("macro_f1_emotions", "no neutral"), ("macro_p", "Macro-P"),
                 ("macro_r", "Macro-R"), ("coverage", "rows with a weak label"), ("n", "rows"))
#: What the `pairs.validity` shares measure.
VALIDITY = {"emitted": "pairs whose flipped text crosses valence 0.5 by the lexicon",
            "pre_filter": "generated candidates that pass the validity filter"}
#: The judges of a flip candidate, as `pairs.judges` names them, with what each one is.
JUDGES = (("vad", "negation-aware VAD (the generators' own)"), ("plain", "plain lexicon valence"),
          ("vader", "VADER compound"))

def _missing(text: str) -> dict[str, Any]:
    return {"missing": f"{NOT_IN_BUILD}: {text}"}

# ---------------------------------------------------------------------------------------- LF analysis

def lf_rows(lf: dict) -> list[dict]:
    """The per-LF dicts of `lf_analysis.lfs`, most coverage first (ties by name)."""
    lfs = [x for x in lf.get("lfs") or [] if isinstance(x, dict)]
    return sorted(lfs, key=lambda x: (-float(x.get("coverage") or 0.0), str(x.get("name", ""))))

def score_table(scores: dict, caption: str | None = None) -> Table:
    """Aggregator scores ({method: {metric: value}}) as one row per method."""
    keys = [(k, h) for k, h in SCORE_COLUMNS if any(isinstance(v, dict) and k in v for v in scores.values())]
    return Table(["aggregator"] + [h for _, h in keys],
                 [[m] + [v.get(k) if isinstance(v, dict) else v for k, _ in keys] for m, v in scores.items()],
                 caption)

def _by_split_table(by_split: dict) -> Table:
    keys = [(k, h) for k, h in SCORE_COLUMNS if k != "n"]
    rows = []
    for split, report in by_split.items():
        for space in ("fine", "ekman"):
            for method, s in ((report or {}).get(space) or {}).items():
                rows.append([split, space, method] + [s.get(k) for k, _ in keys] + [s.get("n", report.get("n"))])
    return Table(["split", "label space", "aggregator"] + [h for _, h in keys] + ["rows"], rows,
                 "Weak labels vs gold per labelled split (fine: GoEmotions-28, ekman: Ekman-7)")

def _labeler_facts(labeler: dict) -> Table:
    rows = []
    for space in ("fine", "ekman"):
        info = labeler.get(space)
        if isinstance(info, dict):
            train = info.get("train_macro_f1") or {}
            chosen = ", ".join(f"{m} {v:.4g}" for m, v in train.items()) if train else "not compared"
            rows.append([space, info.get("aggregator"), len(info.get("labels") or []), chosen])
    extra = {k: v for k, v in labeler.items() if k not in ("fine", "ekman")}
    caption = "Aggregators shipped" + (f" ({plain(extra)})" if extra else "")
    return Table(["label space", "aggregator", "labels", "train Macro-F1 per aggregator"], rows, caption)

def lf_section(lf: Any) -> dict[str, Any]:
    """LF coverage/overlap/conflict (the LFs that fired; the silent ones named), per-split scores."""
    if not isinstance(lf, dict) or not lf:
        return _missing("the manifest has no lf_analysis (no labeling functions ran).")
    lfs = lf_rows(lf)
    fired = [x for x in lfs if float(x.get("coverage") or 0.0) > 0]
    keys = [k for k in LF_COLUMNS if any(k in x for x in lfs)]
    out: dict[str, Any] = {
        "lfs": fired,
        "table": Table(["name", "polarity"] + keys,
                       [[x.get("name"), plain(x.get("polarity"))] + [x.get(k) for k in keys] for x in fired],
                       f"{len(fired)} of {len(lfs)} labeling functions voted on the pooled labelled rows "
                       "(most coverage first)"),
        "silent": [str(x.get("name")) for x in lfs if x not in fired],
        "notes": [(str(k), plain(v)) for k, v in (lf.get("notes") or {}).items()],
        "pooled": plain(lf.get("pooled_splits")) if lf.get("pooled_splits") else None,
        "rest": kv_table({k: v for k, v in lf.items() if k not in LF_KNOWN}),
    }
    if isinstance(lf.get("by_split"), dict):
        out["by_split"] = _by_split_table(lf["by_split"])
    if isinstance(lf.get("labeler"), dict):
        out["labeler"] = _labeler_facts(lf["labeler"])
    return out

def confusion(lf: dict) -> dict | None:
    """`lf_analysis.confusion` ({labels, matrix, method}) when it has labels and a matrix."""
    conf = lf.get("confusion")
    return conf if isinstance(conf, dict) and conf.get("labels") and conf.get("matrix") else None

def label_model_section(lf: Any) -> dict[str, Any]:
    """The shipped aggregator, its scores (fine and Ekman-7) and the confusion matrix's input."""
    if not isinstance(lf, dict) or not lf:
        return _missing("no label model was compared with gold labels.")
    tables = [score_table(lf[key], caption) for key, caption in
              (("scores", "Fine labels (pooled labelled splits)"), ("scores_ekman", "Ekman-7 (pooled)"))
              if isinstance(lf.get(key), dict) and lf[key]]
    out = {"chosen": lf.get("chosen"), "chosen_ekman": lf.get("chosen_ekman"), "tables": tables,
           "confusion": confusion(lf)}
    if not tables and out["confusion"] is None:
        out["empty"] = "lf_analysis has no label-model scores or confusion matrix."
    return out

# ------------------------------------------------------------------------------------------- appraisal

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
        edges = np.linspace(0.0, 1.0, 11)
        for name in sorted({k for r in values for k in r}):
            data = np.array([r[name] for r in values if isinstance(r.get(name), (int, float))], dtype=float)
            if len(data):
                counts, _ = np.histogram(np.clip(data, 0, 1), bins=edges)
                atoms[name] = ([f"{edges[i]:.1f}–{edges[i + 1]:.1f}" for i in range(10)], counts.tolist())
    return atoms

def appraisal_auc(appraisal: Any) -> tuple[list[tuple[str, str, float]], float | None]:
    """([(enISEAR dimension, atom, cross-validated ROC-AUC), ...], mean) from `appraisal.enisear_cv_auc`
    (keys "Dimension (atom)" and "mean"); ([], None) when the build has none."""
    auc = appraisal.get("enisear_cv_auc") if isinstance(appraisal, dict) else None
    if not isinstance(auc, dict):
        return [], None
    rows = []
    for key, value in auc.items():
        if key == "mean" or not isinstance(value, (int, float)):
            continue
        dim, _, atom = str(key).partition(" (")
        rows.append((dim, atom.rstrip(")") or dim, float(value)))
    mean = auc.get("mean")
    return rows, float(mean) if isinstance(mean, (int, float)) else None

def _classifier_facts(model: dict) -> Table:
    clf = model.get("classifier") if isinstance(model.get("classifier"), dict) else {}
    training = clf.get("training") if isinstance(clf.get("training"), dict) else {}
    rows = [["classifier", f"{clf.get('name')} v{clf.get('version')} (sha1 {str(clf.get('sha1'))[:12]})"],
            ["trained on", training.get("gold")], ["training rows", training.get("n")],
            ["cross-validation folds", training.get("folds")]] if clf else []
    rows += [[k, plain(model[k])] for k in ("seed", "n_fit_rows", "negation", "lf_sha1") if k in model]
    return Table(["field", "value"], rows, "Appraisal model")

def _agreement_cells(entry: Any) -> list[Any]:
    entry = entry if isinstance(entry, dict) else {}
    return [entry.get("accuracy"), entry.get("majority_accuracy"), entry.get("n_decisive")]

def appraisal_section(manifest: dict, rows: pd.DataFrame) -> dict[str, Any]:
    """Atom histograms' input, the human-rating ROC-AUC table, per-atom coverage and agreement."""
    info = manifest.get("appraisal")
    atoms = appraisal_atoms(manifest, rows)
    if not atoms and not info:
        return _missing("no appraisal atoms were produced.")
    auc_rows, auc_mean = appraisal_auc(info)
    out: dict[str, Any] = {"atoms": atoms, "auc": Table(
        ["enISEAR dimension", "atom", "ROC-AUC"], [list(r) for r in auc_rows],
        "Agreement with human appraisal ratings: ROC-AUC per enISEAR dimension, cross-validated on the shared "
        "enISEAR data (majority of 3 annotators)"), "auc_mean": auc_mean}
    if not isinstance(info, dict):
        return out
    specs = info.get("atoms") if isinstance(info.get("atoms"), dict) else {}
    out["atom_table"] = Table(
        ["atom", "coverage", "mean P(high)", "accuracy vs prototype", "majority baseline", "rows (decisive)"],
        [[a, s.get("coverage"), s.get("mean")] + _agreement_cells(s.get("vs_prototype"))
         for a, s in specs.items() if isinstance(s, dict)],
        f"Atom scores of every row ({info.get('n_rows', '?')} rows); agreement with the gold labels' prototypes "
        f"on {info.get('n_eval', '?')} dev rows")
    if isinstance(info.get("model"), dict):
        out["model"] = _classifier_facts(info["model"])
    verifier = info.get("verifier") if isinstance(info.get("verifier"), dict) else {}
    if isinstance(verifier.get("atoms"), dict):
        out["verifier"] = Table(
            ["atom", "held-out rows", "accuracy vs label model", "majority baseline", "rows (decisive)"],
            [[a, v.get("n_heldout")] + _agreement_cells(v.get("vs_label_model"))
             for a, v in verifier["atoms"].items() if isinstance(v, dict)],
            "Text-only verifier on held-out train rows")
    known = ("atoms", "enisear_cv_auc", "model", "verifier", "n_rows", "n_eval", "prototypes", "prototype_margin")
    out["rest"] = kv_table({k: v for k, v in info.items() if k not in known})
    return out

# ----------------------------------------------------------------------------------------------- flips

def flip_summary(manifest: dict, pairs: pd.DataFrame | None) -> dict | None:
    """{"by_kind": {kind: n}, "s_flip": {kind: mean}, "hist": (bins, counts) | None}, from the pairs
    shard when it has rows, else from the manifest's `pairs` entry; None without either."""
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
            by_kind[kind] = int(value.get("pairs", 0) or 0)
            if isinstance(value.get("s_flip_mean"), (int, float)):
                s_flip[kind] = float(value["s_flip_mean"])
        else:
            by_kind[kind] = int(value)
    hist = info.get("s_flip_hist")
    hist = (hist["bins"], hist["counts"]) if isinstance(hist, dict) and "bins" in hist and "counts" in hist else None
    return {"by_kind": by_kind, "s_flip": s_flip, "hist": hist}

def judge_table(pairs_info: Any) -> Table:
    """Flip acceptance per kind and judge (`pairs.judges`): the share of a kind's judged candidates whose
    polarity each judge sees reversed, and the candidates generated/passed/emitted."""
    judges = pairs_info.get("judges") if isinstance(pairs_info, dict) else None
    if not isinstance(judges, dict):
        return Table([], [])
    candidates = pairs_info.get("candidates") if isinstance(pairs_info.get("candidates"), dict) else {}
    rows = []
    for kind, shares in sorted(judges.items()):   # by name, as the saved manifest has them
        c = candidates.get(kind) if isinstance(candidates.get(kind), dict) else {}
        rows.append([kind, c.get("generated"), shares.get("judged"), *[Share.of(shares.get(j)) for j, _ in JUDGES],
                     c.get("passed"), c.get("emitted")])
    return Table(["flip kind", "candidates", "judged"] + [f"accepted by {j}" for j, _ in JUDGES]
                 + ["passed the filter", "emitted"], rows,
                 "Acceptance by each judge (share of judged candidates whose polarity the judge sees reversed); "
                 + "; ".join(f"{j}: {what}" for j, what in JUDGES))

def pair_examples(pairs_info: Any) -> dict[str, list[tuple[str, str]]]:
    """{kind: [(text, flipped text), ...]}: the seeded draw per kind (`examples_by_kind`), or the
    mixed draw (`examples`) grouped by kind when the build stored only that."""
    if not isinstance(pairs_info, dict):
        return {}
    by_kind = pairs_info.get("examples_by_kind")
    if isinstance(by_kind, dict):
        return {k: [(str(e["text"]), str(e["text_flip"])) for e in v] for k, v in sorted(by_kind.items()) if v}
    out: dict[str, list[tuple[str, str]]] = {}
    for e in pairs_info.get("examples") or []:
        out.setdefault(str(e["kind"]), []).append((str(e["text"]), str(e["text_flip"])))
    return dict(sorted(out.items()))

def flips_section(manifest: dict, pairs: pd.DataFrame | None) -> dict[str, Any]:
    """Pairs per kind with S_flip, acceptance by judge, rejections and the pairs to read."""
    summary = flip_summary(manifest, pairs)
    info = manifest.get("pairs")
    if not (summary and summary["by_kind"]):
        if isinstance(info, dict) and info:
            return {"rest": kv_table(info)}
        return _missing("no Valence-Flip pairs were generated.")
    info = info if isinstance(info, dict) else {}
    validity = info.get("validity") if isinstance(info.get("validity"), dict) else {}
    rejected = info.get("rejected") if isinstance(info.get("rejected"), dict) else {}
    return {
        "summary": summary,
        "kinds": Table(["flip kind", "pairs", "mean S_flip"],
                       [[k, n, summary["s_flip"].get(k)] for k, n in summary["by_kind"].items()]),
        "judges": judge_table(info),
        "validity": Table(["validity", "share"], [[VALIDITY.get(k, k), Share.of(v)] for k, v in validity.items()
                                                  if not isinstance(v, dict)]),
        "rejected": Table(["reason", "rows or candidates"],
                          sorted(([k, v] for k, v in rejected.items() if v), key=lambda r: (-r[1], r[0])),
                          "Rejected, per reason (row outcomes and candidate reasons summed over kinds)"),
        "rows": Table(["row outcome", "rows"], [[k, v] for k, v in (info.get("rows") or {}).items()]),
        "examples": pair_examples(info),
    }

# -------------------------------------------------------------------------------------------------- QC

def read_qc_details(manifest_path: Path) -> list[dict]:
    """Outcomes from the gate's full results beside the manifest (manifests/qc.json), if any."""
    try:
        data = json.loads((manifest_path.parent / "qc.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return qc_outcomes(data)

def _outcome_table(results: list[dict], caption: str, collapsed: bool) -> Table:
    keys = [k for k in QC_RESULT_COLUMNS if any(k in r for r in results)]
    rows = [[(Badge("pass" if r[k] else "fail", "pass" if r[k] else "fail") if k == "success"
              and isinstance(r.get(k), bool) else plain(r.get(k))) for k in keys] for r in results]
    return Table(keys, rows, caption, collapsed)

def qc_section(qc: Any, manifest_path: Path) -> dict[str, Any]:
    """The gate's verdict, expectations per suite, failing outcomes in full and passing ones folded."""
    if not qc:
        return _missing("no QC gate results in this manifest.")
    if not isinstance(qc, dict):
        return {"text": plain(qc)}
    suites = from_json(QcSummary, qc, str(manifest_path), "qc").suite_rows()
    keys = ["suite", "evaluated", "passed", "failed_critical", "failed_warning", "skipped"]
    results = qc_outcomes(qc) or read_qc_details(manifest_path)
    failing = sorted((r for r in results if r.get("success") is False), key=lambda r: r.get("severity") != "critical")
    passing = [r for r in results if r.get("success") is not False]
    return {
        "passed": qc_passed(qc), "suite": qc.get("suite"), "suites": suites, "gx": qc.get("great_expectations"),
        "rows_checked": qc.get("rows"),
        "suite_table": Table(keys, [[row[k] for k in keys] for row in suites]),
        "n_results": len(results), "n_failed": len(failing),
        "failing": _outcome_table(failing, "Failing expectations", False),
        "passing": _outcome_table(passing, f"{len(passing):,} expectations met", True),
        "rest": kv_table({k: v for k, v in qc.items() if k not in ("success", "suites", "great_expectations", "rows")}),
    }

def stage_sections(manifest: dict, rows: pd.DataFrame, pairs: pd.DataFrame | None,
                   manifest_path: Path) -> dict[str, dict[str, Any]]:
    """The contexts of the LF, label-model, appraisal, flips and QC sections."""
    lf = manifest.get("lf_analysis")
    return {"lf-analysis": lf_section(lf), "label-model": label_model_section(lf),
            "appraisal": appraisal_section(manifest, rows), "flips": flips_section(manifest, pairs),
            "qc": qc_section(manifest.get("qc"), manifest_path)}
