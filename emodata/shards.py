"""Turning annotated frames into record tables, and writing them as Parquet + JSONL, byte-stably.

A split with more than `shard_rows` rows is cut into several files named as Hugging Face names
them (`train-00000-of-00003.parquet`); the cut depends only on the row count and `shard_rows`,
never on the engine, so every engine writes the same files.
"""
from __future__ import annotations

import functools
import hashlib
import io
import json
import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from catalog import load_catalog

from emodata.core.schema import RECORD_SCHEMA, hf_features

#: Parquet settings fixed so the same table always gives the same bytes.
PARQUET_OPTIONS = {"compression": "zstd", "compression_level": 3, "use_dictionary": True,
                   "write_statistics": True, "data_page_size": 1 << 20, "version": "2.6"}


def _none_if_nan(x):
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else x


#: The annotated columns `to_record_table` reads (the optional appraisal/weak-label ones aside).
RECORD_INPUT_COLUMNS = ("id", "source", "source_split", "text", "context", "speaker", "conv_id", "turn", "situation",
                        "labels", "source_labels", "vad_v", "vad_a", "vad_d", "vad_conf", "rationale", "n_tokens",
                        "example_unclear", "dedup_key")


def to_record_table(frame: pd.DataFrame, split: str, min_tokens: int, max_tokens: int) -> pa.Table:
    """Build the record table (RECORD_SCHEMA) of the rows of one shard, in their frozen order.

    Reads RECORD_INPUT_COLUMNS, plus `appraisal*` and `weak_*` columns when present (else null).
    """
    missing = [c for c in RECORD_INPUT_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"to_record_table: the frame lacks column(s) {missing}")
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


@functools.lru_cache(maxsize=8)
def _hf_metadata(schema: pa.Schema) -> dict[bytes, bytes]:
    """The `huggingface` schema metadata `datasets` writes (features, ClassLabel for label columns)."""
    return {b"huggingface": hf_features(schema).arrow_schema.metadata[b"huggingface"]}


def with_hf_metadata(table: pa.Table) -> pa.Table:
    """`table` with HF features in its schema metadata, so `datasets` reads label columns as ClassLabel."""
    return table.replace_schema_metadata({**(table.schema.metadata or {}), **_hf_metadata(table.schema)})


def encode_parquet(table: pa.Table) -> bytes:
    """The bytes of one Parquet shard with the fixed options (and HF features in its metadata)."""
    buffer = io.BytesIO()
    pq.write_table(with_hf_metadata(table), buffer, **PARQUET_OPTIONS)
    return buffer.getvalue()


def write_parquet(table: pa.Table, path: Path) -> None:
    """Write one Parquet shard with the fixed options."""
    write_bytes(path, encode_parquet(table))


def write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path`, creating its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def record_to_json(record: dict) -> str:
    """One JSONL line in the paper's record schema (fields in schema order, UTF-8)."""
    return json.dumps(record, ensure_ascii=False, separators=(", ", ": "))


def encode_jsonl(table: pa.Table) -> bytes:
    """The JSONL export of a shard (UTF-8, a record per line)."""
    return "".join(record_to_json(record) + "\n" for record in table.to_pylist()).encode("utf-8")


def shard_files(stem: str, n_rows: int, shard_rows: int) -> list[tuple[str, int, int]]:
    """(name, start, stop) of the files of a split of `n_rows` rows: `stem` itself when it fits in one
    file of `shard_rows` rows, else `stem-00000-of-0000N` (Hugging Face's naming), rows in order."""
    if shard_rows < 1:
        raise ValueError(f"shard_rows must be >= 1, not {shard_rows}")
    n_files = max(1, math.ceil(n_rows / shard_rows))
    if n_files == 1:
        return [(stem, 0, n_rows)]
    return [(f"{stem}-{i:05d}-of-{n_files:05d}", i * shard_rows, min(n_rows, (i + 1) * shard_rows))
            for i in range(n_files)]


@dataclass(frozen=True)
class EncodedShard:
    """One shard file's Parquet and JSONL bytes and its row count (what a worker sends back)."""

    parquet: bytes
    jsonl: bytes
    rows: int


@dataclass(frozen=True)
class WrittenShard:
    """A shard file written by the task that encoded it (a Dask worker on a shared disk): the SHA-1s of
    its Parquet and JSONL files and its row count, all the client needs for the manifest."""

    parquet_sha1: str
    jsonl_sha1: str
    rows: int


def write_encoded(encoded: EncodedShard, base: Path) -> WrittenShard:
    """Write an encoded shard as `base`.parquet and `base`.jsonl; what was written."""
    write_bytes(Path(f"{base}.parquet"), encoded.parquet)
    write_bytes(Path(f"{base}.jsonl"), encoded.jsonl)
    return WrittenShard(hashlib.sha1(encoded.parquet).hexdigest(), hashlib.sha1(encoded.jsonl).hexdigest(),
                        encoded.rows)


def encode_table(table: pa.Table) -> EncodedShard:
    """Parquet + JSONL bytes of a record (or pairs) table."""
    return EncodedShard(encode_parquet(table), encode_jsonl(table), table.num_rows)
