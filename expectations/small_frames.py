"""The gate's small frames, whole-frame and streamed gate alike: `counts`, `labels` (top label share per
group), `vad` (VAD mean/std per source) and `pairs` (one row per Valence-Flip pair with the helper
columns the pairs suite checks)."""
from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import pyarrow as pa

from expectations.checks import DEFAULT_TOP_SHARE, MIN_GROUP_ROWS, REFERENCE_TOP_SHARE, top_share_bound
from expectations.frames import PAIR_COLUMNS, normalise_text


def pairs_frame(tables: list[pa.Table], text_of: dict, v_of: dict, record_ids: set) -> pd.DataFrame:
    """One row per Valence-Flip pair (the `emodata.flips.PAIRS_SCHEMA` layout) with the helper columns
    the pairs suite checks.

    `text_of` / `v_of`: text and vad.v of train records by id (at least every pair's `id`; the last
    record of an id wins); `record_ids`: record ids (at least those equal to a pair's `id_flip`).
    `missing_columns` names PAIR_COLUMNS a shard lacks (their values are then null); `id_in_train`:
    `id` is a train record; `id_flip_new`: `id_flip` is no record's id in any shard; `text_matches`
    / `v_train_error`: the pair's x is its train record's text and valence (null when `id` is not a
    train record, so only `id_in_train` reports it); `texts_differ` after whitespace/case
    normalisation; `v_sum_error` = |v + v_flip − 1|.
    """
    parts = []
    for table in tables:
        n = table.num_rows
        missing = [c for c in PAIR_COLUMNS if c not in table.column_names]
        col = {c: (table[c].to_pylist() if c in table.column_names else [None] * n) for c in PAIR_COLUMNS}
        v = np.array([np.nan if x is None else float(x) for x in col["v"]], dtype="float64")
        v_flip = np.array([np.nan if x is None else float(x) for x in col["v_flip"]], dtype="float64")
        keys = normalise_text(pa.array(col["text"], pa.string())).to_pylist()
        keys_flip = normalise_text(pa.array(col["text_flip"], pa.string())).to_pylist()
        in_train = [i in text_of for i in col["id"]]
        parts.append(pd.DataFrame({
            "pair": [p if p is not None else f"{i}|{j}" for p, i, j in zip(col["pair_id"], col["id"], col["id_flip"])],
            "id": col["id"], "id_flip": col["id_flip"], "kind": col["kind"],
            "missing_columns": ["|".join(missing) if missing else None] * n,
            "id_in_train": in_train,
            "id_flip_new": [j is not None and j not in record_ids for j in col["id_flip"]],
            "text_matches": [text_of[i] == t if ok else None for i, t, ok in zip(col["id"], col["text"], in_train)],
            "v_train_error": [abs(float(v_of[i]) - x) if ok else np.nan for i, x, ok in zip(col["id"], v, in_train)],
            "texts_differ": [a is not None and b is not None and a != b for a, b in zip(keys, keys_flip)],
            "v_sum_error": np.abs(v + v_flip - 1.0),
        }))
    frame = pd.concat(parts, ignore_index=True)
    return frame.astype({"v_train_error": "float64", "v_sum_error": "float64", "text_matches": "object"})


def count_frame(count_rows: list[tuple]) -> pd.DataFrame:
    """The `counts` frame: one row per counted item (kind, item, expected, actual)."""
    return pd.DataFrame(count_rows, columns=["kind", "item", "expected", "actual"]).astype(
        {"expected": "int64", "actual": "int64"})


def vad_stats(records: pd.DataFrame) -> pd.DataFrame:
    """Mean and (sample) standard deviation of vad v/a/d per source with >= MIN_GROUP_ROWS rows."""
    cols = ["vad_v", "vad_a", "vad_d"]
    grouped = records.groupby("source", sort=True)[cols]
    size = grouped.size()
    stats = grouped.agg(["mean", "std"])
    stats.columns = [f"{c}_{stat}" for c, stat in stats.columns]
    stats.insert(0, "rows", size)
    stats = stats[stats["rows"] >= MIN_GROUP_ROWS].reset_index()
    return stats.astype({c: "float64" for c in stats.columns if c.startswith("vad_")})


def label_groups(label_counts: list[tuple[str, str, int, list[dict]]]) -> pd.DataFrame:
    """Top label share per source, and per split of a source with several splits.

    `label_counts`: (split name, source, rows, label value counts) per shard file; the files of one
    split are pooled. A row's label set counts once per label, so shares are "fraction of rows
    carrying the label". Groups under MIN_GROUP_ROWS rows are left out.
    """
    def pool(key_of) -> dict[str, tuple[str, int, Counter]]:
        pooled: dict[str, tuple[str, int, Counter]] = {}
        for name, source, n, counts in label_counts:
            key = key_of(name, source)
            _, total, counter = pooled.get(key, (source, 0, Counter()))
            counter.update({c["values"]: c["counts"] for c in counts if c["values"] is not None})
            pooled[key] = (source, total + n, counter)
        return pooled

    per_source = pool(lambda name, source: source)
    per_split = pool(lambda name, source: name)
    splits_of = Counter(source for source, _, _ in per_split.values())
    groups = [(key, source, n, counter) for key, (source, n, counter) in sorted(per_source.items())]
    groups += [(key, source, n, counter) for key, (source, n, counter) in per_split.items() if splits_of[source] > 1]
    rows = []
    for group, source, n, counter in groups:
        if n < MIN_GROUP_ROWS or not counter:
            continue
        label, top = min(counter.items(), key=lambda kv: (-kv[1], kv[0]))
        expected = REFERENCE_TOP_SHARE.get(source, DEFAULT_TOP_SHARE)
        rows.append((group, n, label, round(top / n, 6), expected, round(top_share_bound(expected), 6)))
    return pd.DataFrame(rows, columns=["group", "rows", "top_label", "top_share", "expected", "max_share"])
