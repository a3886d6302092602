"""Turning annotated frames into record tables, and writing them as Parquet + JSONL, byte-stably."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from catalog import load_catalog

from .schema import RECORD_SCHEMA

#: Parquet settings fixed so the same table always gives the same bytes.
PARQUET_OPTIONS = {"compression": "zstd", "compression_level": 3, "use_dictionary": True,
                   "write_statistics": True, "data_page_size": 1 << 20, "version": "2.6"}


def _none_if_nan(x):
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else x


def to_record_table(frame: pd.DataFrame, split: str, min_tokens: int, max_tokens: int) -> pa.Table:
    """Build the record table (RECORD_SCHEMA) of the rows of one shard, in their frozen order."""
    catalog = load_catalog()
    rows = frame.to_dict("records")
    n = len(rows)

    def col(name):
        return [r[name] for r in rows]

    data = {
        "id": col("id"), "source": col("source"), "split": [split] * n, "source_split": col("source_split"),
        "text": col("text"), "context": [list(c) for c in col("context")],
        "speaker": [_none_if_nan(x) for x in col("speaker")], "conv_id": [_none_if_nan(x) for x in col("conv_id")],
        "turn": [None if _none_if_nan(x) is None else int(x) for x in col("turn")],
        "situation": [_none_if_nan(x) for x in col("situation")],
        "labels": [list(x) for x in col("labels")],
        "labels_ekman": [catalog.group("ekman7", x) for x in col("labels")],
        "source_labels": [list(x) for x in col("source_labels")],
        "vad": [{"v": r["vad_v"], "a": r["vad_a"], "d": r["vad_d"]} for r in rows],
        "vad_conf": col("vad_conf"), "rationale": col("rationale"),
        "qc_flags": [{"lang": "en", "len": int(r["n_tokens"]), "len_ok": min_tokens <= r["n_tokens"] <= max_tokens,
                      "dedup": True, "tox": None, "example_unclear": bool(r["example_unclear"])} for r in rows],
        "dedup_key": col("dedup_key"),
    }
    for name in ("appraisal", "appraisal_prototype"):
        data[name] = col(name) if name in frame.columns else [None] * n
    for name in ("weak_labels", "weak_probs", "weak_labels_ekman", "weak_probs_ekman"):
        data[name] = [None if x is None else list(x) for x in col(name)] if name in frame.columns else [None] * n
    return pa.Table.from_pydict(data, schema=RECORD_SCHEMA)


def write_parquet(table: pa.Table, path: Path) -> None:
    """Write one Parquet shard with the fixed options."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, **PARQUET_OPTIONS)


def record_to_json(record: dict) -> str:
    """One JSONL line in the paper's record schema (fields in schema order, UTF-8)."""
    return json.dumps(record, ensure_ascii=False, separators=(", ", ": "))


def write_jsonl(table: pa.Table, path: Path) -> None:
    """Write one JSONL export of a shard, a record per line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        for record in table.to_pylist():
            handle.write(record_to_json(record) + "\n")
