"""Reading a build into the small, flat pandas frames the gate validates (no Great Expectations here).

Shards are read once, only the columns the checks need, by the one shard reader (`emodata.core.reader`:
paths inside the build) with `verify=False`: the gate judges rows and counts itself and must report a
changed build rather than refuse it (`emodata verify` checks the SHA-1s). Structs are flattened
(`vad.v` → `vad_v`, `qc_flags.len` → `qc_len`) and list columns are reduced to scalar helper columns
(`labels_count`, `labels_unknown`, ...), so the frames GX sees hold only hashable scalars: GX
fingerprints every batch and falls back to pickling the whole frame when a cell is a list, which
costs more than all the expectations together (cf. gx #4774).

`load_frames` reads the whole build into these frames at once (the reference); the streamed gate
(`scan.py`, `streamed.py`) builds the same `records` frame a batch of shards at a time with
`record_part` and `finish_records`, and the small frames with `small_frames.py`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from emodata.core.hashing import normalize_text
from emodata.core.reader import listed_file, read_shard
from emodata.core.schema import RECORD_SCHEMA, REQUIRED_COLUMNS

from expectations.checks import LEAK_ROLES, NOT_NULL_COLUMNS, OPTIONAL_UNIT_COLUMNS

#: Columns read from each record shard (when present).
READ_COLUMNS = ("id", "source", "split", "text", "labels", "vad", "vad_conf", "qc_flags", "conv_id")
PAIRS_ROLE = "pairs"
#: Columns of a pairs shard the pairs suite reads (emodata.flips.PAIRS_SCHEMA has these and more).
PAIR_COLUMNS = ("pair_id", "id", "id_flip", "text", "text_flip", "kind", "v", "v_flip")


def is_pairs_shard(shard: dict) -> bool:
    """A Valence-Flip pairs shard: role `pairs` (or a shard named .../pairs)."""
    return shard.get("role") == PAIRS_ROLE or Path(str(shard.get("path", ""))).stem == PAIRS_ROLE


@dataclass
class BuildFrames:
    """The frames of one build, plus what the suites need to size their checks."""

    records: pd.DataFrame
    columns: pd.DataFrame
    counts: pd.DataFrame
    labels: pd.DataFrame
    vad: pd.DataFrame
    pairs: pd.DataFrame | None
    optional_columns: list[tuple[str, str]] = field(default_factory=list)
    mixed_rows: dict[str, int] = field(default_factory=dict)
    largest_dev_group: dict[str, int] = field(default_factory=dict)
    unreadable: list[str] = field(default_factory=list)

    def frame(self, name: str) -> pd.DataFrame | None:
        """A frame by its check name (records, columns, counts, labels, vad, pairs)."""
        return getattr(self, name)


def _struct_field(table: pa.Table, column: str, name: str, n: int) -> pa.ChunkedArray:
    if column in table.column_names:
        col = table[column]
        if pa.types.is_struct(col.type) and col.type.get_field_index(name) >= 0:
            return pc.struct_field(col, name)
    return pa.chunked_array([pa.nulls(n)])


def _column(table: pa.Table, name: str, n: int, type_: pa.DataType = pa.string()) -> pa.ChunkedArray:
    return table[name] if name in table.column_names else pa.chunked_array([pa.nulls(n, type_)])


def _list_helpers(col: pa.ChunkedArray, allowed: set[str] | None) -> tuple[np.ndarray, list]:
    """Per row: number of elements (NaN for a null list) and the '|'-joined elements outside `allowed`."""
    arr = col.combine_chunks()
    n = len(arr)
    count = pc.list_value_length(arr).to_numpy(zero_copy_only=False).astype("float64")
    unknown: list = [None] * n
    if allowed is not None and n:
        flat = pc.list_flatten(arr)
        parents = pc.list_parent_indices(arr).to_numpy(zero_copy_only=False)
        ok = pc.fill_null(pc.is_in(flat, value_set=pa.array(sorted(allowed), pa.string())), False)
        bad = np.flatnonzero(~ok.to_numpy(zero_copy_only=False))
        values = flat.to_pylist() if len(bad) else []
        for i in bad:
            row = int(parents[i])
            label = "<null>" if values[i] is None else str(values[i])
            unknown[row] = label if unknown[row] is None else f"{unknown[row]}|{label}"
    return count, unknown


def _numeric_parts(name: str, col: pa.ChunkedArray) -> dict[str, np.ndarray]:
    """Helper columns for an optional probability-like column (scalar, struct, list or map of numbers).

    Scalars and struct fields become value columns (`appraisal_certainty`); lists and maps become
    `<name>_min`, `<name>_max` and `<name>_nulls` (null elements inside the list). A null value, list
    or struct field is allowed: it is how weak supervision says "no LF voted" (abstain).
    """
    arr = col.combine_chunks()
    t = arr.type
    if pa.types.is_struct(t):
        out: dict[str, np.ndarray] = {}
        for i in range(t.num_fields):
            sub = pc.struct_field(arr, i)
            if arr.null_count:  # a null struct makes every field null
                sub = pc.if_else(pc.is_null(arr), pa.scalar(None, sub.type), sub)
            out.update(_numeric_parts(f"{name}_{t.field(i).name}", pa.chunked_array([sub])))
        return out
    if pa.types.is_map(t):
        arr = pa.ListArray.from_arrays(arr.offsets, arr.items, mask=arr.is_null())
        t = arr.type
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        n = len(arr)
        flat = pc.list_flatten(arr)
        parents = pc.list_parent_indices(arr).to_numpy(zero_copy_only=False)
        values = pc.cast(flat, pa.float64()).to_numpy(zero_copy_only=False)
        nulls = np.bincount(parents[np.isnan(values)], minlength=n).astype("int64")
        frame = pd.DataFrame({"row": parents, "x": values}).groupby("row")["x"].agg(["min", "max"])
        lo = np.full(n, np.nan)
        hi = np.full(n, np.nan)
        lo[frame.index.to_numpy()] = frame["min"].to_numpy()
        hi[frame.index.to_numpy()] = frame["max"].to_numpy()
        return {f"{name}_min": lo, f"{name}_max": hi, f"{name}_nulls": nulls}
    return {name: pc.cast(arr, pa.float64()).to_numpy(zero_copy_only=False)}


def _roles_per_key(keys: pa.Array, role_codes: np.ndarray) -> np.ndarray:
    """For each row, in how many distinct leak roles its key occurs (rows of other roles: 1)."""
    n = len(keys)
    if not n:
        return np.ones(0, dtype=np.int64)
    codes = pc.dictionary_encode(keys, null_encoding="encode").indices.to_numpy(zero_copy_only=False).astype(np.int64)
    k = len(LEAK_ROLES)
    leak = role_codes >= 0
    combos = np.unique(codes[leak] * k + role_codes[leak])
    per_key = np.bincount(combos // k, minlength=int(codes.max()) + 1)
    out = np.ones(n, dtype=np.int64)
    out[leak] = per_key[codes[leak]]
    return out


def normalise_text(text: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Whitespace-normalised, casefolded text (`" ".join(t.split()).casefold()`), the key of the
    no-shared-text check."""
    return pa.array([None if t is None else normalize_text(t) for t in text.to_pylist()], pa.string())


def _null_fields(records: pd.DataFrame) -> np.ndarray:
    """Per row, '|'-joined names of NOT_NULL_COLUMNS that are null (None when none is)."""
    out = np.full(len(records), None, dtype=object)
    masks = {col: records[col].isna().to_numpy() for col in NOT_NULL_COLUMNS}
    for i in np.flatnonzero(np.logical_or.reduce(list(masks.values()))) if len(records) else []:
        out[i] = "|".join(col for col, mask in masks.items() if mask[i])
    return out


@dataclass
class _ShardReads:
    """What reading the shards gives `load_frames`: per-shard record frames and the checks' raw rows."""

    parts: list[pd.DataFrame] = field(default_factory=list)
    column_rows: list[tuple] = field(default_factory=list)
    count_rows: list[tuple] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    pairs_tables: list[pa.Table] = field(default_factory=list)
    label_counts: list[tuple] = field(default_factory=list)
    texts: list[pa.ChunkedArray] = field(default_factory=list)
    role_codes: list[np.ndarray] = field(default_factory=list)


def record_part(table: pa.Table, shard: dict, name: str, present: set[str], labels_allowed: set[str]
                ) -> tuple[pd.DataFrame, tuple]:
    """One record shard's frame (one row per record, the `records` columns of `checks.py` before the
    cross-shard helpers) and its label counts (split group, source, rows, label value counts)."""
    n = table.num_rows
    text = _column(table, "text", n)
    labels = _column(table, "labels", n, pa.list_(pa.string()))
    label_count, unknown = _list_helpers(labels, labels_allowed)
    # grouped by split (role), not by file: a split written as several files is one group
    counts = (f"{shard.get('source')}/{shard.get('role')}", shard.get("source"), n,
              pc.value_counts(pc.list_flatten(labels)).to_pylist())
    role = shard.get("role")
    data = {
        "id": _column(table, "id", n).to_numpy(),
        "source": _column(table, "source", n).to_numpy(),
        "split": _column(table, "split", n).to_numpy(),
        "shard": np.full(n, name, dtype=object),
        "role": np.full(n, role, dtype=object),
        "shard_split": np.full(n, shard.get("split"), dtype=object),
        "shard_source": np.full(n, shard.get("source"), dtype=object),
        "text_chars": pc.utf8_length(pc.utf8_trim_whitespace(text)).to_numpy().astype("float64"),
        "labels_count": label_count,
        "labels_unknown": np.array(unknown, dtype=object),
        "vad_v": _struct_field(table, "vad", "v", n).to_numpy().astype("float64"),
        "vad_a": _struct_field(table, "vad", "a", n).to_numpy().astype("float64"),
        "vad_d": _struct_field(table, "vad", "d", n).to_numpy().astype("float64"),
        "vad_conf": _column(table, "vad_conf", n, pa.float64()).to_numpy().astype("float64"),
        "qc_len": _struct_field(table, "qc_flags", "len", n).to_numpy().astype("float64"),
        "qc_lang": _struct_field(table, "qc_flags", "lang", n).to_numpy(),
        "_conv": _column(table, "conv_id", n).to_numpy(),
    }
    for opt in OPTIONAL_UNIT_COLUMNS:
        if opt in present:
            data.update(_numeric_parts(opt, table[opt]))
    return pd.DataFrame(data), counts


def role_code(role: str | None) -> int:
    """A shard role's index in LEAK_ROLES (-1: not a leak role)."""
    return LEAK_ROLES.index(role) if role in LEAK_ROLES else -1


def _record_part(table: pa.Table, shard: dict, name: str, present: set[str], labels_allowed: set[str],
                 reads: _ShardReads) -> None:
    """Add one record shard's frame (and its label counts, texts and role codes) to `reads`."""
    frame, counts = record_part(table, shard, name, present, labels_allowed)
    reads.parts.append(frame)
    reads.label_counts.append(counts)
    reads.texts.append(_column(table, "text", table.num_rows))
    reads.role_codes.append(np.full(table.num_rows, role_code(shard.get("role")), dtype=np.int64))


def listed_shards(root: Path, manifest: dict) -> Iterator[tuple[int, dict, Path, str, int]]:
    """Each shard the manifest lists: (position, entry, path, name, listed rows); a path leading out of
    the build is refused (SHA-1s are `emodata verify`'s job)."""
    for i, shard in enumerate(manifest.get("shards", [])):
        path = listed_file(root, shard, root / "manifests", verify=False)
        yield i, shard, path, shard.get("name", shard["path"]), int(shard.get("rows", -1))


def shard_schema(path: Path) -> pa.Schema | None:
    """A shard's Parquet schema; None when the file cannot be read (the gate reports it, not raises)."""
    try:
        return pq.read_schema(path)
    except (OSError, pa.ArrowException):
        return None


def readable_schema(path: Path, name: str, expected: int, unreadable: list[str], count_rows: list[tuple]
                    ) -> pa.Schema | None:
    """`shard_schema`; an unreadable shard is added to `unreadable` and counted with -1 rows."""
    schema = shard_schema(path)
    if schema is None:
        unreadable.append(name)
        count_rows.append(("shard", f"shard {name}", expected, -1))
    return schema


def schema_rows(name: str, schema: pa.Schema) -> list[tuple]:
    """The `columns` frame's rows of one record shard: (shard, column, present, type_ok, type)."""
    present = set(schema.names)
    return [(name, col, col in present,
             col in present and schema.field(col).type.equals(RECORD_SCHEMA.field(col).type),
             str(schema.field(col).type) if col in present else None) for col in REQUIRED_COLUMNS]


def _read_shards(root: Path, manifest: dict) -> _ShardReads:
    """Read every shard the manifest lists (paths inside the build; SHA-1s are `emodata verify`'s job)."""
    labels_allowed = set((manifest.get("label_space") or {}).get("labels") or [])
    reads = _ShardReads()
    listed_in = root / "manifests"
    for _, shard, path, name, expected in listed_shards(root, manifest):
        schema = readable_schema(path, name, expected, reads.unreadable, reads.count_rows)
        if schema is None:
            continue
        present = set(schema.names)
        if is_pairs_shard(shard):
            table = read_shard(root, shard, listed_in, verify=False)
            reads.pairs_tables.append(table)
            reads.count_rows.append(("shard", f"shard {name}", expected, table.num_rows))
            continue
        reads.column_rows += schema_rows(name, schema)
        table = read_shard(root, shard, listed_in, READ_COLUMNS + OPTIONAL_UNIT_COLUMNS, verify=False,
                           missing_ok=True)
        reads.count_rows.append(("shard", f"shard {name}", expected, table.num_rows))
        _record_part(table, shard, name, present, labels_allowed, reads)
    return reads


def _mix_counts(records: pd.DataFrame, manifest: dict, pairs_tables: list[pa.Table],
                count_rows: list[tuple]) -> tuple[dict[str, int], dict[str, int]]:
    """Per mixed source: train+dev rows and the largest dev dialogue; appends the mix and role counts to
    `count_rows`; adds `is_source_a` and `is_dev` to `records`."""
    mix = manifest.get("mix") or {}
    mixed_sources = [s for s, share in ((mix.get("source_a"), mix.get("a", 0)), (mix.get("source_b"), mix.get("b", 0)))
                     if s and share]
    in_mix = (records["role"].isin(["train", "dev"]) & records["source"].isin(mixed_sources)).to_numpy()
    records["is_source_a"] = (records["source"] == mix.get("source_a")).astype("float64")
    records["is_dev"] = (records["role"] == "dev").astype("float64")
    mixed_rows, largest_dev_group = {}, {}
    for s in mixed_sources:
        mine = in_mix & (records["source"] == s).to_numpy()
        mixed_rows[s] = int(mine.sum())
        dev = records[mine & (records["role"] == "dev").to_numpy()]
        groups = dev["_conv"].where(dev["_conv"].notna(), dev["id"])
        largest_dev_group[s] = int(groups.value_counts().max()) if len(groups) else 1
    for key in ("a", "b"):
        src = mix.get(f"source_{key}")
        if src and f"rows_{key}" in mix:
            count_rows.append(("mix", f"mix.rows_{key} ({src} train+dev)", int(mix[f"rows_{key}"]),
                               mixed_rows.get(src, 0)))
    if "rows" in mix:
        count_rows.append(("mix", "mix.rows (train+dev)", int(mix["rows"]), int(in_mix.sum())))
    for role, expected in sorted((manifest.get("counts") or {}).items()):
        actual = (sum(t.num_rows for t in pairs_tables) if role == PAIRS_ROLE
                  else int((records["role"] == role).sum()))
        count_rows.append(("role", f"counts.{role}", int(expected), actual))
    return mixed_rows, largest_dev_group


def empty_records() -> pd.DataFrame:
    """The records frame of a build without record rows (the columns `record_part` makes)."""
    return pd.DataFrame({c: pd.Series(dtype=object) for c in (
        "id", "source", "split", "shard", "role", "shard_split", "shard_source", "labels_unknown", "qc_lang",
        "_conv")} | {c: pd.Series(dtype="float64") for c in (
            "text_chars", "labels_count", "vad_v", "vad_a", "vad_d", "vad_conf", "qc_len")})


def finish_records(records: pd.DataFrame) -> list[tuple[str, str]]:
    """Complete a records frame in place (null element counts of shards without an optional column are
    0; `null_fields`); returns its optional helper columns as (column, "value" | "nulls")."""
    optional = optional_columns(list(records.columns))
    for col, kind in optional:
        if kind == "nulls":  # rows of shards without the column have no null elements
            records[col] = records[col].fillna(0).astype("int64")
    records["null_fields"] = _null_fields(records)
    return optional


def optional_columns(columns: list[str]) -> list[tuple[str, str]]:
    """The optional helper columns among a records frame's `columns`, as (column, "value" | "nulls")."""
    return [(col, "nulls" if col.endswith("_nulls") else "value") for col in columns
            if any(col == opt or col.startswith(f"{opt}_") for opt in OPTIONAL_UNIT_COLUMNS)]


def load_frames(root: Path, manifest: dict) -> BuildFrames:
    """Read every shard of the build under `root` into the gate's frames (the whole build at once: the
    reference the streamed gate, `expectations.scan`, must match)."""
    from expectations.small_frames import count_frame, label_groups, pairs_frame, vad_stats

    reads = _read_shards(root, manifest)
    if reads.parts:
        records = pd.concat(reads.parts, ignore_index=True)
        text_all = pa.chunked_array([c for t in reads.texts for c in t.chunks], pa.string())
        roles_all = np.concatenate(reads.role_codes)
    else:
        records = empty_records()
        text_all, roles_all = pa.chunked_array([], pa.string()), np.zeros(0, dtype=np.int64)
    optional = finish_records(records)
    records["id_roles"] = _roles_per_key(pa.array(records["id"].to_numpy(dtype=object), pa.string()), roles_all)
    records["text_roles"] = _roles_per_key(normalise_text(text_all), roles_all)
    mixed_rows, largest_dev_group = _mix_counts(records, manifest, reads.pairs_tables, reads.count_rows)
    pairs = None
    if reads.pairs_tables:
        train = (records["role"] == "train").to_numpy()
        ids = records["id"].to_numpy()[train]
        pairs = pairs_frame(reads.pairs_tables, dict(zip(ids, text_all.filter(pa.array(train)).to_pylist())),
                            dict(zip(ids, records["vad_v"].to_numpy()[train])), set(records["id"].dropna()))
    return BuildFrames(
        records=records.drop(columns=["_conv"]),
        columns=pd.DataFrame(reads.column_rows, columns=["shard", "column", "present", "type_ok", "type"]),
        counts=count_frame(reads.count_rows), labels=label_groups(reads.label_counts), vad=vad_stats(records),
        pairs=pairs, optional_columns=optional, mixed_rows=mixed_rows, largest_dev_group=largest_dev_group,
        unreadable=reads.unreadable)
