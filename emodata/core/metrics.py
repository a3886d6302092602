"""Evaluation metrics of the EmoLoom-2B protocol: ParseOK, Macro-P/R/F1 over the gold label subspace,
VAD 1−RMSE, S_flip and the composite dev score S. Pure Python + numpy (no torch), so model-free scoring
and the screening ranker use exactly the code the trainer uses.

Definitions (paper brief, "Output contract"; every choice the brief leaves open is marked *):
- N = all examples, including missing outputs (None, e.g. an overflowed input that was never decoded)
  and outputs that fail to parse. An output is *valid* when `emodata.core.contract.parse_output` finds a
  JSON object that passes the schema; V = the valid ones. ParseOK = |V| / N.
- * When a label space is given, an answer naming a label outside it breaks the schema (reason
  `unknown_label`, the contract's rule), so it is invalid. Without one, any list of strings is valid.
- K* = labels that occur in the gold labels of ALL N examples (not only V), sorted.
- For each k in K*: TP/FP/FN counted on V only (the predicted labels of a valid answer as a set);
  P = TP/(TP+FP+ε), R = TP/(TP+FN+ε), F1 = 2PR/(P+R+ε), ε = 1e-9. Macro-P/R/F1 = unweighted means
  over K*. Predicted labels outside K* count nowhere (they are neither FP of a K* label nor a class).
  * Empty K* (no gold labels at all) gives Macro-P/R/F1 = None; an empty V gives 0 for every class.
- RMSE_VAD = sqrt(Σ_{i∈V} ||v_i − v̂_i||² / (3|V|)) over v, a, d; reported as vad_1mrmse = 1 − RMSE.
  * None when no valid output has a gold VAD. * Gold rows with `vad` None or absent (labels-only gold)
  are left out of the VAD metrics only; `n_vad` says how many rows they were computed on.
- * vad_pearson = mean over v, a, d of Pearson's r between predicted and gold on the same rows; a
  dimension with fewer than 2 rows or zero variance on either side is undefined and left out of the
  mean; None when all three are undefined (`vad_pearson_dims` holds the per-dimension values).
- label_coverage = share of K* predicted at least once by a valid output (None when K* is empty).
- parse_failures = failure reason -> count, most common first (ties by name); a missing output has
  reason `missing`.
- * Screening quality parts: json_rate = share of all N whose text holds a decodable JSON object
  (schema aside); short_rationale = share of V whose rationale has 1..MAX_RATIONALE_WORDS words
  (None when V is empty).
- S_flip = mean over pairs (x, x') of |(v(x) − ½) + (v(x') − ½)| (valence only; 0 = perfectly mirrored).
- * Composite dev score S = MacroF1 + β(1−RMSE) + γ·ParseOK with β = γ = 1 by default: the brief gives
  no values, and all three terms lie in [0, 1], so equal weights make S ∈ [0, 3] with no term dominant.
  A missing term (None) counts as 0.
"""
from __future__ import annotations

import math
from collections import Counter
from typing import Any, Mapping, Sequence

import numpy as np

from emodata.core.contract import MAX_RATIONALE_WORDS, parse_output

EPS = 1e-9
VAD_KEYS = ("v", "a", "d")
#: Parse-failure reasons that mean "no decodable JSON object at all" (the rest are schema failures).
NOT_JSON_REASONS = ("missing", "no_json_object", "invalid_json")
#: Scalar metrics (the columns of metrics CSVs and the keys averaged over seeds).
SCALAR_KEYS = ("n", "n_valid", "parse_ok", "macro_f1", "macro_p", "macro_r", "vad_1mrmse", "vad_rmse",
               "vad_pearson", "label_coverage", "json_rate", "short_rationale", "n_vad")


def s_flip(v: Sequence[float], v_flip: Sequence[float]) -> float:
    """Mean |(v(x) − ½) + (v(x′) − ½)| over valence pairs; nan when there are no pairs."""
    a = np.asarray(v, dtype=float)
    b = np.asarray(v_flip, dtype=float)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"s_flip needs two equal-length 1-D sequences (got {a.shape} and {b.shape})")
    if not len(a):
        return float("nan")
    return float(np.mean(np.abs((a - 0.5) + (b - 0.5))))


def _gold_labels(item: Mapping, row: int) -> set[str]:
    labels = item.get("labels") if isinstance(item, Mapping) else None
    if not isinstance(labels, (list, tuple)) or not all(isinstance(x, str) for x in labels):
        raise ValueError(f"gold row {row}: 'labels' must be a list of strings (got {labels!r})")
    return set(labels)


def _gold_vad(item: Mapping, row: int) -> tuple[float, float, float] | None:
    vad = item.get("vad")
    if vad is None:
        return None
    try:
        values = tuple(float(vad[k]) for k in VAD_KEYS)
    except (KeyError, TypeError, ValueError):
        raise ValueError(f"gold row {row}: 'vad' must be an object with numeric v, a, d (got {vad!r})") from None
    if not all(math.isfinite(x) for x in values):
        raise ValueError(f"gold row {row}: 'vad' has a non-finite value ({vad!r})")
    return values


def _pearson(x: np.ndarray, y: np.ndarray) -> float | None:
    if len(x) < 2 or np.std(x) == 0 or np.std(y) == 0:
        return None
    return float(np.corrcoef(x, y)[0, 1])


def _ratio_metrics(tp: int, fp: int, fn: int) -> dict[str, float]:
    p = tp / (tp + fp + EPS)
    r = tp / (tp + fn + EPS)
    return {"p": p, "r": r, "f1": 2 * p * r / (p + r + EPS)}


def _set_scores(pred: Sequence[set[str]], gold: Sequence[set[str]], k_star: Sequence[str]) -> dict[str, Any]:
    """Per-class and macro P/R/F1 over `k_star` from paired label sets (labels outside K* ignored)."""
    tp, fp, fn = Counter(), Counter(), Counter()
    keep = set(k_star)
    for p, g in zip(pred, gold):
        p, g = set(p) & keep, set(g)
        tp.update(p & g)
        fp.update(p - g)
        fn.update(g - p)
    per_label = {k: {**_ratio_metrics(tp[k], fp[k], fn[k]), "support": tp[k] + fn[k]} for k in k_star}
    macro = {m: (float(np.mean([per_label[k][m] for k in k_star])) if k_star else None) for m in ("p", "r", "f1")}
    return {"macro_f1": macro["f1"], "macro_p": macro["p"], "macro_r": macro["r"], "per_label": per_label,
            "labels_gold": list(k_star)}


def evaluate_outputs(outputs: Sequence[str | None], gold: Sequence[Mapping],
                     label_space: Sequence[str] | None = None) -> dict[str, Any]:
    """Score raw model outputs against gold records (`labels`, `vad`) by the module's definitions.

    `outputs[i]` is the generated text for `gold[i]`, or None when there is none (counts as invalid).
    """
    if len(outputs) != len(gold):
        raise ValueError(f"{len(outputs)} outputs for {len(gold)} gold rows (they must pair up)")
    gold_sets = [_gold_labels(item, i) for i, item in enumerate(gold)]
    gold_vads = [_gold_vad(item, i) for i, item in enumerate(gold)]
    k_star = sorted(set().union(*gold_sets)) if gold_sets else []
    k_index = set(k_star)
    failures: Counter = Counter()
    predicted: set[str] = set()
    valid_pred: list[set[str]] = []
    valid_gold: list[set[str]] = []
    pred_vad, true_vad = [], []
    n_valid = n_json = n_short = 0
    for text, gold_set, gold_vad in zip(outputs, gold_sets, gold_vads):
        parsed = parse_output(text, label_space) if text is not None else None
        if parsed is None or not parsed.ok:
            reason = "missing" if parsed is None else parsed.reason
            failures[reason] += 1
            n_json += reason not in NOT_JSON_REASONS
            continue
        n_valid += 1
        n_json += 1
        answer = parsed.answer
        words = str(answer.get("rationale", "")).split()
        n_short += 1 <= len(words) <= MAX_RATIONALE_WORDS
        pred_set = set(answer["labels"]) & k_index
        predicted |= pred_set
        valid_pred.append(pred_set)
        valid_gold.append(gold_set)
        if gold_vad is not None:
            pred_vad.append([float(answer["vad"][k]) for k in VAD_KEYS])
            true_vad.append(gold_vad)
    n = len(gold)
    scores = _set_scores(valid_pred, valid_gold, k_star)
    per_label = scores["per_label"]
    for k in k_star:  # support over all N gold rows, not only the valid ones
        per_label[k]["support"] = sum(k in g for g in gold_sets)
    rmse = pearson = None
    dims: dict[str, float | None] = {k: None for k in VAD_KEYS}
    if pred_vad:
        pv, tv = np.asarray(pred_vad), np.asarray(true_vad)
        rmse = float(np.sqrt(np.sum((pv - tv) ** 2) / (3 * len(pv))))
        dims = {k: _pearson(pv[:, j], tv[:, j]) for j, k in enumerate(VAD_KEYS)}
        defined = [r for r in dims.values() if r is not None]
        pearson = float(np.mean(defined)) if defined else None
    return {
        "n": n,
        "n_valid": n_valid,
        "parse_ok": n_valid / n if n else 0.0,
        "macro_f1": scores["macro_f1"],
        "macro_p": scores["macro_p"],
        "macro_r": scores["macro_r"],
        "vad_1mrmse": None if rmse is None else 1.0 - rmse,
        "vad_rmse": rmse,
        "vad_pearson": pearson,
        "vad_pearson_dims": dims,
        "n_vad": len(pred_vad),
        "label_coverage": len(predicted) / len(k_star) if k_star else None,
        "json_rate": n_json / n if n else 0.0,
        "short_rationale": n_short / n_valid if n_valid else None,
        "labels_gold": k_star,
        "per_label": per_label,
        "parse_failures": dict(sorted(failures.items(), key=lambda kv: (-kv[1], kv[0]))),
    }


def composite_score(metrics: Mapping[str, Any], beta: float = 1.0, gamma: float = 1.0) -> float:
    """S = MacroF1 + β(1−RMSE) + γ·ParseOK (Alg. 2); a missing term counts as 0."""
    def term(key: str) -> float:
        value = metrics.get(key)
        return 0.0 if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)

    return term("macro_f1") + beta * term("vad_1mrmse") + gamma * term("parse_ok")


def label_set_scores(pred: Sequence[set[str]], gold: Sequence[set[str]]) -> dict[str, Any]:
    """Macro-P/R/F1 of predicted label sets against gold sets, over K* = labels present in gold.

    The same definitions as `evaluate_outputs` (ε = 1e-9, predicted labels outside K* count nowhere)
    for callers that already hold label sets, e.g. weak labels in the LF report.
    """
    if len(pred) != len(gold):
        raise ValueError(f"{len(pred)} predicted label sets for {len(gold)} gold sets (they must pair up)")
    k_star = sorted(set().union(*gold)) if gold else []
    return _set_scores(pred, gold, k_star)
