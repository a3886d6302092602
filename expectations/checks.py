"""The gate's checks, declared as data: which GX expectation runs on which frame, with what bounds.

A `Check` names one Great Expectations expectation (by class name and keyword arguments) in one
logical suite (record, mix, distribution, pairs) and the frame it validates (see `frames.py`):

  records   one row per record of every non-pairs shard (structs flattened, list columns reduced to
            helper columns such as `labels_unknown`)
  columns   one row per (shard, required column): is the column in the shard's Parquet schema, with
            the record schema's type?
  counts    one row per counted item: shard rows, per-source mix rows, per-role counts
  labels    one row per label group (a source, or one of its splits): top label share and its bound
  vad       one row per source: mean and standard deviation of vad v/a/d
  pairs     one row per Valence-Flip pair (only when a `pairs` shard exists)

Nothing here imports Great Expectations; `gate.py` turns checks into expectations when it runs.
All bounds and bands used by the suites are defined (and documented) in this module.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from catalog.flips import FLIP_KINDS
from emodata.core.manifest import ROLES
from emodata.core.schema import APPRAISAL_TYPE, SPLITS

CRITICAL = "critical"
WARNING = "warning"

#: Columns that must never be null in a record (after flattening).
NOT_NULL_COLUMNS = ("id", "source", "split", "labels_count", "text_chars", "vad_v", "vad_a", "vad_d", "vad_conf",
                    "qc_len", "qc_lang")
#: Optional probability-like columns checked (within [0, 1], no null element inside a list) only when a
#: shard has them; a null value means no LF voted and is allowed.
OPTIONAL_UNIT_COLUMNS = ("weak_probs", "weak_probs_ekman", "appraisal", "appraisal_prototype")
#: Roles whose shards must not share an id or an exact text: every record role of a build.
LEAK_ROLES = ROLES

# ---- mix suite tolerances -------------------------------------------------------------------------
#: A share of train+dev may differ from the requested share by this much ...
SHARE_TOLERANCE = 0.005
#: ... or by one row of the mixture, whichever is larger (sizes are floored to whole rows, so a
#: 30:70 mixture of 100 rows cannot be closer than ~0.007).
#: Dev fraction: critical beyond 0.02 absolute, or beyond the largest dialogue kept in dev (the
#: split extends dev to the end of the dialogue it stops in) plus half a row of rounding, whichever
#: is larger; a warning beyond 0.002 or half a row of rounding, whichever is larger.
DEV_FRAC_CRITICAL = 0.02
DEV_FRAC_WARNING = 0.002

# ---- distribution suite bands (warnings) ----------------------------------------------------------
#: Groups (a source, or a shard of it) smaller than this are not checked for label collapse or VAD
#: spread: a handful of rows says nothing about a distribution.
MIN_GROUP_ROWS = 20
#: Expected share of rows carrying the most frequent unified label, per source, from the corpora's
#: published distributions: GoEmotions `neutral` is on about a third of the examples (Demszky et al.
#: 2020; 0.32 in the real 100:0 build); EmpatheticDialogues' 32 labels are roughly balanced and 8 of
#: them map to `other` (about 0.25); DailyDialog is about 83 % `no_emotion` (→ `neutral`, Li et al.
#: 2017). Sources not listed use DEFAULT_TOP_SHARE.
REFERENCE_TOP_SHARE = {"goemotions": 0.33, "empatheticdialogues": 0.25, "dailydialog": 0.83}
DEFAULT_TOP_SHARE = 0.4
#: The check is about collapse (e.g. every row one label): the top label's share may reach
#: max(0.6, min(1.5 × expected, expected + (1 − expected) / 2)), i.e. 0.6 for GoEmotions and
#: EmpatheticDialogues and 0.915 for DailyDialog (where 1.5 × 0.83 would exceed 1 and never fire).
TOP_SHARE_FLOOR = 0.6
#: Per-source bands for the mean and standard deviation of smoothed lexicon VAD (values in [0.01, 0.99]).
#: Observed: real GoEmotions / DailyDialog with NRC-VAD v1 have means v 0.60-0.66, a 0.46-0.48,
#: d 0.53 and std 0.09-0.15; the nrclex proxy on the sample corpus gives means v 0.50-0.54,
#: a 0.54-0.57, d 0.53-0.55 and std 0.06-0.23. A mean outside the band or a near-zero spread means
#: the lexicon or the smoothing went wrong (e.g. every row at the 0.5 fallback).
VAD_MEAN_BANDS = {"vad_v": (0.3, 0.8), "vad_a": (0.2, 0.8), "vad_d": (0.2, 0.8)}
VAD_STD_BAND = (0.01, 0.35)

# ---- pairs suite ---------------------------------------------------------------------------------
#: A Valence-Flip pair's valences must sum to 1 within this (v_flip = 1 − v is stored as computed, so
#: only float rounding separates them); the same bound holds between v and its train record's vad.v.
PAIR_V_SUM_TOLERANCE = 1e-6


def top_share_bound(expected: float) -> float:
    """The largest share the most frequent label may take in a source with this expected top share."""
    return max(TOP_SHARE_FLOOR, min(1.5 * expected, expected + (1.0 - expected) / 2.0))


@dataclass(frozen=True)
class Check:
    """One expectation of the gate.

    `expectation` is a GX class name in `great_expectations.expectations`; `kwargs` its arguments;
    `where` an optional row filter {column: value or list of values} (turned into a GX row_condition).
    """

    name: str
    suite: str
    frame: str
    expectation: str
    kwargs: dict
    severity: str = CRITICAL
    description: str = ""
    where: dict = field(default_factory=dict)

    @property
    def column(self) -> str | None:
        """The column the expectation is about (column_A for pair expectations)."""
        return self.kwargs.get("column") or self.kwargs.get("column_A")


@dataclass(frozen=True)
class Skipped:
    """A check the gate did not run for this build, and why."""

    suite: str
    name: str
    reason: str


def _c(*args, **kwargs) -> Check:
    return Check(*args, **kwargs)


def record_checks(tau: float, min_tokens: int, max_tokens: int, sources: list[str],
                  optional_columns: list[tuple[str, str]]) -> list[Check]:
    """The record suite: schema, identity, text, length, VAD, coverage, labels, split, source, language.

    `optional_columns` lists (helper column, kind) for weak_probs/appraisal parts present in the build,
    kind being "value" (a number per row) or "nulls" (count of null elements per row).
    """
    s = "record"
    checks = [_c(f"{s}.required_columns", s, "columns", "ExpectColumnValuesToBeInSet",
                 {"column": "present", "value_set": [True]},
                 description="every shard has every column of the record schema"),
              _c(f"{s}.column_types", s, "columns", "ExpectColumnValuesToBeInSet",
                 {"column": "type_ok", "value_set": [True]}, where={"present": True},
                 description="every present record-schema column has the schema's Arrow type "
                             "(emodata.core.schema.RECORD_SCHEMA)")]
    checks.append(_c(f"{s}.no_nulls", s, "records", "ExpectColumnValuesToBeNull", {"column": "null_fields"},
                     description="none of " + ", ".join(NOT_NULL_COLUMNS) + " is null (null_fields names "
                                 "the null ones of a row)"))
    checks += [
        _c(f"{s}.id_unique", s, "records", "ExpectColumnValuesToBeUnique", {"column": "id"},
           description="id is unique across all shards of the build"),
        _c(f"{s}.text_non_empty", s, "records", "ExpectColumnValuesToBeBetween",
           {"column": "text_chars", "min_value": 1, "max_value": None},
           description="text has at least one non-space character (text_chars = length of stripped text)"),
        _c(f"{s}.qc_len_range", s, "records", "ExpectColumnValuesToBeBetween",
           {"column": "qc_len", "min_value": min_tokens, "max_value": max_tokens},
           description=f"qc_flags.len (word tokens) within [{min_tokens}, {max_tokens}]"),
    ]
    checks += [_c(f"{s}.{col}_range", s, "records", "ExpectColumnValuesToBeBetween",
                  {"column": col, "min_value": 0.0, "max_value": 1.0},
                  description=f"vad.{col[-1]} within [0, 1]") for col in ("vad_v", "vad_a", "vad_d")]
    checks += [
        _c(f"{s}.vad_conf_min", s, "records", "ExpectColumnValuesToBeBetween",
           {"column": "vad_conf", "min_value": tau, "max_value": 1.0},
           description=f"vad_conf (lexicon coverage) >= tau = {tau} and <= 1"),
        _c(f"{s}.labels_in_label_space", s, "records", "ExpectColumnValuesToBeNull", {"column": "labels_unknown"},
           description="labels are a subset of the manifest's label space (labels_unknown lists the others)"),
        _c(f"{s}.labels_non_empty", s, "records", "ExpectColumnValuesToBeBetween",
           {"column": "labels_count", "min_value": 1, "max_value": None}, severity=WARNING,
           description="every record has at least one label"),
        _c(f"{s}.split_known", s, "records", "ExpectColumnValuesToBeInSet",
           {"column": "split", "value_set": list(SPLITS)}, description="split is train, dev or test"),
        _c(f"{s}.split_matches_shard", s, "records", "ExpectColumnPairValuesToBeEqual",
           {"column_A": "split", "column_B": "shard_split"},
           description="a record's split is its shard's split in the manifest"),
        _c(f"{s}.source_known", s, "records", "ExpectColumnValuesToBeInSet",
           {"column": "source", "value_set": sorted(sources)}, description="source is a catalog source"),
        _c(f"{s}.source_matches_shard", s, "records", "ExpectColumnPairValuesToBeEqual",
           {"column_A": "source", "column_B": "shard_source"},
           description="a record's source is its shard's source in the manifest"),
        _c(f"{s}.qc_lang_en", s, "records", "ExpectColumnValuesToBeInSet",
           {"column": "qc_lang", "value_set": ["en"]}, description='qc_flags.lang == "en"'),
    ]
    for col, kind in optional_columns:
        if kind == "nulls":
            checks.append(_c(f"{s}.{col}_zero", s, "records", "ExpectColumnValuesToBeBetween",
                             {"column": col, "min_value": 0, "max_value": 0},
                             description=f"no null elements ({col} counts them per row)"))
        else:  # null = every LF abstained, allowed; GX skips nulls in the range check
            checks.append(_c(f"{s}.{col}_range", s, "records", "ExpectColumnValuesToBeBetween",
                             {"column": col, "min_value": 0.0, "max_value": 1.0},
                             description=f"{col} within [0, 1]"))
    return checks + appraisal_checks([col for col, _ in optional_columns])


def appraisal_checks(columns: list[str]) -> list[Check]:
    """Where a build has the `appraisal` struct (its helper columns `appraisal_<atom>` among `columns`):
    every atom of the record schema is there and never null (the classifier scores every row; its
    [0, 1] range is the optional-column range check). `appraisal_prototype` may be null (no prototype)."""
    s = "record"
    helpers = {c for c in columns if c.startswith("appraisal_") and not c.startswith("appraisal_prototype_")}
    if not helpers:
        return []
    checks = []
    for atom in APPRAISAL_TYPE.names:
        col = f"appraisal_{atom}"
        checks.append(_c(f"{s}.{col}_present", s, "records", "ExpectColumnToExist", {"column": col},
                         description=f"the appraisal struct has the atom {atom} (emodata.core.schema.APPRAISAL_TYPE)"))
        if col in helpers:
            checks.append(_c(f"{s}.{col}_not_null", s, "records", "ExpectColumnValuesToNotBeNull", {"column": col},
                             description=f"every record has P(high) of {atom} (the classifier never abstains)"))
    return checks


def share_tolerance(rows: int) -> float:
    """Allowed |A share − requested share| for a mixture of `rows` rows."""
    return max(SHARE_TOLERANCE, 1.0 / rows if rows else 1.0)


def dev_tolerances(rows: int, largest_dev_group: int) -> tuple[float, float]:
    """(critical, warning) tolerance of |dev share − dev_frac| for a source with `rows` mixed rows."""
    if not rows:
        return 1.0, 1.0
    rounding = 0.5 / rows
    critical = max(DEV_FRAC_CRITICAL, (max(largest_dev_group, 1) - 1 + 0.5) / rows)
    return critical, max(DEV_FRAC_WARNING, rounding + 1e-12)


def _bounds(center: float, tol: float) -> dict:
    return {"min_value": round(center - tol, 9), "max_value": round(center + tol, 9)}


def mix_checks(manifest: dict, mixed_rows: dict[str, int], largest_dev_group: dict[str, int]
               ) -> tuple[list[Check], list[Skipped]]:
    """The mix suite: A share, dev fraction per source, no id/text leak across roles, row counts."""
    s = "mix"
    mix = manifest.get("mix") or {}
    checks, skipped = [], []
    a, b = mix.get("a", 0), mix.get("b", 0)
    source_a, source_b = mix.get("source_a"), mix.get("source_b")
    total = sum(mixed_rows.values())
    if a and b:
        share = a / (a + b)
        checks.append(_c(f"{s}.share_a", s, "records", "ExpectColumnMeanToBeBetween",
                         {"column": "is_source_a", **_bounds(share, share_tolerance(total))},
                         where={"role": ["train", "dev"], "source": [source_a, source_b]},
                         description=f"{source_a} share of train+dev within {share_tolerance(total):.4g} of "
                                     f"the requested {a}:{b} ({share:.4f})"))
    else:
        skipped.append(Skipped(s, f"{s}.share_a", f"single-source mix {a}:{b}"))
    dev_frac = float(manifest.get("dev_frac", 0.0))
    for source, rows in sorted(mixed_rows.items()):
        if not rows:
            skipped.append(Skipped(s, f"{s}.dev_frac.{source}", "no train/dev rows"))
            continue
        crit, warn = dev_tolerances(rows, largest_dev_group.get(source, 1))
        where = {"role": ["train", "dev"], "source": source}
        checks.append(_c(f"{s}.dev_frac.{source}", s, "records", "ExpectColumnMeanToBeBetween",
                         {"column": "is_dev", **_bounds(dev_frac, crit)}, where=where,
                         description=f"{source}: dev share of train+dev within {crit:.4g} of dev_frac {dev_frac}"))
        checks.append(_c(f"{s}.dev_frac_close.{source}", s, "records", "ExpectColumnMeanToBeBetween",
                         {"column": "is_dev", **_bounds(dev_frac, warn)}, where=where, severity=WARNING,
                         description=f"{source}: dev share of train+dev within {warn:.4g} of dev_frac {dev_frac}"))
    checks += [
        _c(f"{s}.no_id_across_roles", s, "records", "ExpectColumnValuesToBeBetween",
           {"column": "id_roles", "min_value": 1, "max_value": 1},
           description="no id appears in more than one of train/dev/test/probe (id_roles = roles holding the id)"),
        _c(f"{s}.no_text_across_roles", s, "records", "ExpectColumnValuesToBeBetween",
           {"column": "text_roles", "min_value": 1, "max_value": 1},
           description="no exact text (whitespace-normalised, casefolded) appears in more than one of "
                       "train/dev/test/probe (text_roles = roles holding the text)"),
        _c(f"{s}.shard_rows", s, "counts", "ExpectColumnPairValuesToBeEqual",
           {"column_A": "actual", "column_B": "expected"}, where={"kind": "shard"},
           description="each shard's Parquet row count equals the manifest's"),
        _c(f"{s}.mix_rows", s, "counts", "ExpectColumnPairValuesToBeEqual",
           {"column_A": "actual", "column_B": "expected"}, where={"kind": ["mix", "role"]},
           description="train+dev rows per mixed source equal mix.rows_a/rows_b/rows; rows per role equal counts"),
    ]
    return checks, skipped


def distribution_checks(label_groups: int, vad_groups: int) -> tuple[list[Check], list[Skipped]]:
    """The distribution suite (warnings): label collapse per group, VAD mean/std per source."""
    s = "distribution"
    checks, skipped = [], []
    if label_groups:
        checks.append(_c(f"{s}.top_label_share", s, "labels", "ExpectColumnPairValuesAToBeGreaterThanB",
                         {"column_A": "max_share", "column_B": "top_share", "or_equal": True}, severity=WARNING,
                         description="the most frequent label's share of a source (or shard) stays within "
                                     "max(0.6, min(1.5 x expected, expected + (1 - expected)/2))"))
    else:
        skipped.append(Skipped(s, f"{s}.top_label_share", f"no group with >= {MIN_GROUP_ROWS} rows"))
    if vad_groups:
        for col, (lo, hi) in VAD_MEAN_BANDS.items():
            checks.append(_c(f"{s}.{col}_mean", s, "vad", "ExpectColumnValuesToBeBetween",
                             {"column": f"{col}_mean", "min_value": lo, "max_value": hi}, severity=WARNING,
                             description=f"per source: mean of {col} within [{lo}, {hi}]"))
            checks.append(_c(f"{s}.{col}_std", s, "vad", "ExpectColumnValuesToBeBetween",
                             {"column": f"{col}_std", "min_value": VAD_STD_BAND[0], "max_value": VAD_STD_BAND[1]},
                             severity=WARNING, description=f"per source: std of {col} within {list(VAD_STD_BAND)}"))
    else:
        skipped.append(Skipped(s, f"{s}.vad", f"no source with >= {MIN_GROUP_ROWS} rows"))
    return checks, skipped


def pairs_checks() -> list[Check]:
    """The pairs suite: layout, x is a train record, x′ is a new id, texts differ, v + v′ = 1, known kind."""
    s = "pairs"
    return [
        _c(f"{s}.columns_present", s, "pairs", "ExpectColumnValuesToBeNull", {"column": "missing_columns"},
           description="the pairs shard has pair_id, id, id_flip, text, text_flip, kind, v and v_flip "
                       "(missing_columns names the absent ones)"),
        _c(f"{s}.pair_id_unique", s, "pairs", "ExpectColumnValuesToBeUnique", {"column": "pair"},
           description="pair_id is unique"),
        _c(f"{s}.id_in_train", s, "pairs", "ExpectColumnValuesToBeInSet",
           {"column": "id_in_train", "value_set": [True]},
           description="id (the original utterance x) is a record of a train shard: never dev, test or probe"),
        _c(f"{s}.text_matches_train", s, "pairs", "ExpectColumnValuesToBeInSet",
           {"column": "text_matches", "value_set": [True]},
           description="text is exactly the text of the train record `id`"),
        _c(f"{s}.v_matches_train", s, "pairs", "ExpectColumnValuesToBeBetween",
           {"column": "v_train_error", "min_value": 0.0, "max_value": PAIR_V_SUM_TOLERANCE},
           description=f"v is the vad.v of the train record `id` (within {PAIR_V_SUM_TOLERANCE})"),
        _c(f"{s}.id_flip_new", s, "pairs", "ExpectColumnValuesToBeInSet",
           {"column": "id_flip_new", "value_set": [True]},
           description="id_flip (the flipped utterance x') is a new id: no record of any shard has it"),
        _c(f"{s}.id_flip_unique", s, "pairs", "ExpectColumnValuesToBeUnique", {"column": "id_flip"},
           description="id_flip is unique"),
        _c(f"{s}.texts_differ", s, "pairs", "ExpectColumnValuesToBeInSet",
           {"column": "texts_differ", "value_set": [True]},
           description="text and text_flip differ (whitespace-normalised, casefolded)"),
        _c(f"{s}.v_sum_one", s, "pairs", "ExpectColumnValuesToBeBetween",
           {"column": "v_sum_error", "min_value": 0.0, "max_value": PAIR_V_SUM_TOLERANCE},
           description=f"|v + v_flip - 1| <= {PAIR_V_SUM_TOLERANCE}"),
        _c(f"{s}.v_not_null", s, "pairs", "ExpectColumnValuesToNotBeNull", {"column": "v_sum_error"},
           description="v and v_flip are both known"),
        _c(f"{s}.kind_known", s, "pairs", "ExpectColumnValuesToBeInSet",
           {"column": "kind", "value_set": list(FLIP_KINDS)},
           description="kind is a flip kind (" + ", ".join(FLIP_KINDS) + ")"),
    ]


def json_safe(value: Any) -> Any:
    """Plain JSON values from numpy/pandas scalars and containers (NaN → None)."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [json_safe(v) for v in value]
    item = getattr(value, "item", None)  # numpy scalar
    if callable(item):
        try:
            return json_safe(item())
        except (TypeError, ValueError):
            pass
    tolist = getattr(value, "tolist", None)
    if callable(tolist):
        return json_safe(tolist())
    return str(value)
