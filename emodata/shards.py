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
from typing import Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
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


#: Joins a row's labels into one key (label names never hold it).
_LABEL_SEPARATOR = "\x1f"


def _ekman_of(catalog, labels: pa.Array) -> pa.Array:
    """Each row's labels (an Arrow list array) grouped into Ekman-7 (`catalog.group`), computed once per
    distinct label set and taken back to the rows by Arrow."""
    keys = pc.binary_join(labels, _LABEL_SEPARATOR).dictionary_encode()
    groups = [catalog.group("ekman7", key.split(_LABEL_SEPARATOR) if key else [])
              for key in keys.dictionary.to_pylist()]
    return pa.array(groups, pa.list_(pa.string())).take(keys.indices)


def _values(frame: pd.DataFrame, name: str) -> pd.Series | np.ndarray:
    """A column for `pa.array`: an Arrow-backed column as is (no copy through Python objects), any other
    as Python objects (so an empty or all-missing float column converts to any Arrow type)."""
    column = frame[name]
    return column if hasattr(column.array, "__arrow_array__") else column.to_numpy(dtype=object)


def _strings(frame: pd.DataFrame, name: str) -> pa.Array:
    """A text column as Arrow strings (missing values, None or NaN, as null)."""
    return pa.array(_values(frame, name), pa.string(), from_pandas=True)


def _lists(frame: pd.DataFrame, name: str) -> pa.Array:
    """A column of string lists (Python lists or numpy arrays per row) as Arrow lists of strings."""
    return pa.array(frame[name].to_numpy(dtype=object), pa.list_(pa.string()))


def _record_columns(frame: pd.DataFrame, split: str, min_tokens: int, max_tokens: int) -> dict[str, pa.Array]:
    """RECORD_SCHEMA's columns of a frame's rows, built column by column (no per-row Python records)."""
    catalog = load_catalog()
    n = len(frame)
    n_tokens = frame["n_tokens"].to_numpy()
    labels = _lists(frame, "labels")
    vad = [pa.array(frame[c].to_numpy(dtype=np.float64), pa.float64()) for c in ("vad_v", "vad_a", "vad_d")]
    qc = [pa.array(np.full(n, "en", dtype=object), pa.string()), pa.array(n_tokens, pa.int32()),
          pa.array((min_tokens <= n_tokens) & (n_tokens <= max_tokens), pa.bool_()), pa.array(np.ones(n, bool)),
          pa.nulls(n, pa.bool_()), pa.array(frame["example_unclear"].to_numpy(dtype=bool), pa.bool_())]
    data = {
        "id": _strings(frame, "id"), "source": _strings(frame, "source"),
        "split": pa.array(np.full(n, split, dtype=object), pa.string()), "source_split": _strings(frame, "source_split"),
        "text": _strings(frame, "text"), "context": _lists(frame, "context"),
        "speaker": _strings(frame, "speaker"), "conv_id": _strings(frame, "conv_id"),
        "turn": pa.array([None if _none_if_nan(x) is None else int(x) for x in frame["turn"].tolist()], pa.int32()),
        "situation": _strings(frame, "situation"),
        "labels": labels, "labels_ekman": _ekman_of(catalog, labels),
        "source_labels": _lists(frame, "source_labels"),
        "vad": pa.StructArray.from_arrays(vad, fields=list(RECORD_SCHEMA.field("vad").type)),
        "vad_conf": pa.array(frame["vad_conf"].to_numpy(dtype=np.float64), pa.float64()),
        "rationale": _strings(frame, "rationale"),
        "qc_flags": pa.StructArray.from_arrays(qc, fields=list(RECORD_SCHEMA.field("qc_flags").type)),
        "dedup_key": _strings(frame, "dedup_key"),
    }
    for name in ("appraisal", "appraisal_prototype", "weak_labels", "weak_probs", "weak_labels_ekman",
                 "weak_probs_ekman"):
        kind = RECORD_SCHEMA.field(name).type
        if name not in frame.columns:
            data[name] = pa.nulls(n, kind)
        else:  # appraisal*: an Arrow struct column or dicts; weak_*: lists or arrays (None: null)
            data[name] = pa.array(_values(frame, name), kind, from_pandas=True)
    return data


def to_record_table(frame: pd.DataFrame, split: str, min_tokens: int, max_tokens: int) -> pa.Table:
    """Build the record table (RECORD_SCHEMA) of the rows of one shard, in their frozen order.

    Reads RECORD_INPUT_COLUMNS, plus `appraisal*` and `weak_*` columns when present (else null).
    """
    missing = [c for c in RECORD_INPUT_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"to_record_table: the frame lacks column(s) {missing}")
    data = _record_columns(frame.reset_index(drop=True), split, min_tokens, max_tokens)
    return pa.Table.from_arrays([data[name] for name in RECORD_SCHEMA.names], schema=RECORD_SCHEMA)


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


#: One encoder for every JSONL line (json.dumps with these options would build a new one per call).
_JSON = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": "))


def record_to_json(record: dict) -> str:
    """One JSONL line in the paper's record schema (fields in schema order, UTF-8)."""
    return _JSON.encode(record)


#: Rows converted to Python objects at a time when a shard is written as JSONL (bounds that peak).
JSONL_BATCH_ROWS = 5_000

#: A JSON string literal as `_JSON` writes it (the C encoder json uses, ensure_ascii=False).
_JSON_STRING = json.encoder.encode_basestring
#: What `_JSON` writes for a Python scalar, keyed by the scalar's repr where the two differ.
_JSON_SCALARS = {"None": "null", "True": "true", "False": "false", "nan": "NaN", "inf": "Infinity",
                 "-inf": "-Infinity"}


def _with_nulls(array: pa.Array, texts: list[str]) -> list[str]:
    """`texts` (one per value) with "null" where `array` is null."""
    if array.null_count:
        for i in np.flatnonzero(~array.is_valid().to_numpy(zero_copy_only=False)).tolist():
            texts[i] = "null"
    return texts


def _json_numbers(array: pa.Array) -> list[str]:
    """The JSON text of each value of a number or boolean array: each distinct value (by its bits, so
    -0.0 stays apart from 0.0) written once as json writes it (repr; NaN, Infinity, true, false)."""
    values = array.fill_null(False if pa.types.is_boolean(array.type) else 0).to_numpy(zero_copy_only=False)
    if pa.types.is_floating(array.type):
        values = values.astype(np.float64)
        bits, inverse = np.unique(values.view(np.int64), return_inverse=True)
        distinct = bits.view(np.float64).tolist()
    else:
        distinct, inverse = np.unique(values, return_inverse=True)
        distinct = distinct.tolist()
    texts = np.array([_JSON_SCALARS.get(t, t) for t in map(repr, distinct)], dtype=object)
    return _with_nulls(array, texts[inverse.reshape(-1)].tolist())


def _json_list(array: pa.Array) -> list[str]:
    """The JSON text of each list of a list array (its values encoded once, column-wise)."""
    offsets = array.offsets.to_numpy()
    first = int(offsets[0])
    values = _json_texts(array.values.slice(first, int(offsets[-1]) - first))
    bounds = (offsets - first).tolist()
    return _with_nulls(array, ["[" + ", ".join(values[a:b]) + "]" for a, b in zip(bounds, bounds[1:])])


def _json_texts(array: pa.Array) -> list[str]:
    """The JSON text `_JSON` writes for each value of an Arrow array (what `record_to_json` writes for
    it inside a record), built column-wise: strings and numbers per value by the json module's own C
    functions, lists and structs from their children's texts."""
    kind = array.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return ["null" if v is None else _JSON_STRING(v) for v in array.to_pylist()]
    if pa.types.is_null(kind):
        return ["null"] * len(array)
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind):
        return _json_numbers(array)
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        return _json_list(array)
    if pa.types.is_struct(kind):
        template = "{" + ", ".join(_JSON_STRING(f.name).replace("%", "%%") + ": %s" for f in kind) + "}"
        fields = [_json_texts(child) for child in array.flatten()]
        texts = [template % row for row in zip(*fields)] if fields else ["{}"] * len(array)
        return _with_nulls(array, texts)
    return [_JSON.encode(v) for v in array.to_pylist()]


def _jsonl_pieces(table: pa.Table) -> Iterator[bytes]:
    """The JSONL export of a table, `JSONL_BATCH_ROWS` rows at a time: UTF-8, a record per line, fields
    in schema order, each line the bytes `record_to_json` gives for the row's record, built column by
    column (`_json_texts`)."""
    template = "{" + ", ".join(_JSON_STRING(n).replace("%", "%%") + ": %s" for n in table.schema.names) + "}\n"
    for batch in table.to_batches(JSONL_BATCH_ROWS):
        columns = [_json_texts(column) for column in batch.columns]
        yield "".join([template % row for row in zip(*columns)]).encode("utf-8")


def encode_jsonl(table: pa.Table) -> bytes:
    """The JSONL export of a shard (`_jsonl_pieces`, joined)."""
    return b"".join(_jsonl_pieces(table))


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


def write_table(table: pa.Table, base: Path) -> WrittenShard:
    """Write a record (or pairs) table as `base`.parquet and `base`.jsonl, the bytes `encode_table` gives,
    the JSONL a batch at a time as it is encoded (the file is never whole in memory); what was written."""
    parquet = encode_parquet(table)
    write_bytes(Path(f"{base}.parquet"), parquet)
    digest = hashlib.sha1()
    with open(f"{base}.jsonl", "wb") as out:
        for piece in _jsonl_pieces(table):
            out.write(piece)
            digest.update(piece)
    return WrittenShard(hashlib.sha1(parquet).hexdigest(), digest.hexdigest(), table.num_rows)


def encode_table(table: pa.Table) -> EncodedShard:
    """Parquet + JSONL bytes of a record (or pairs) table."""
    return EncodedShard(encode_parquet(table), encode_jsonl(table), table.num_rows)
