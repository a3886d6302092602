"""The streamed gate's reading of a build: memory bounded by a batch of shards, not by the build.

Pass 1 (`scan_build`) reads each record shard's `id`, `source`, `text`, `conv_id` and `vad` once and
keeps only compact facts: a 64-bit hash of every id and every normalised text (16 bytes a row), the
train/dev rows' roles and sources (the mix frame of the mean checks, 5 bytes a train/dev row), the dev
dialogue keys of the mixed sources, and what the pairs suite needs about the pairs' own ids. The
cross-shard checks are decided from the hashes: a hash group with two ids (id unique) or two roles
(the leak checks) makes its rows candidates, whose exact ids and texts are then read back
(`_confirm`), so a hash collision can neither fail nor pass a check. Shard row counts, schemas and
the union of optional helper columns come from the same pass.

Pass 2 (`iter_batches`) reads the record shards again, a batch of whole shards up to a row budget at a
time, into the whole-frame gate's `records` frame (`frames.record_part`), with the cross-shard
helper columns filled in from pass 1.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from emodata.core.reader import read_shard
from expectations.checks import OPTIONAL_UNIT_COLUMNS
from expectations.frames import (READ_COLUMNS, _column, _numeric_parts, _roles_per_key, _struct_field,
                                 empty_records, finish_records, is_pairs_shard, normalise_text, record_part,
                                 listed_shards, readable_schema, role_code,
                                 schema_rows, shard_schema)

#: Columns pass 1 reads from each record shard.
SCAN_COLUMNS = ("id", "source", "text", "conv_id", "vad")
_MIX_ROLES = ("train", "dev")


@dataclass
class RecordShard:
    """A readable record shard of the build: where its rows sit in the whole-frame row order."""

    shard: dict
    name: str
    rows: int
    start: int
    present: frozenset


@dataclass
class BuildScan:
    """What pass 1 learnt about a build (see the module docstring)."""

    shards: list[RecordShard] = field(default_factory=list)
    column_rows: list[tuple] = field(default_factory=list)
    count_rows: list[tuple] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    pairs_tables: list[pa.Table] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)      # the whole-frame records columns, in order
    rows: int = 0
    id_roles: tuple = (np.zeros(0, np.int64), np.zeros(0, np.int64))    # (rows, roles holding the id) where not 1
    text_roles: tuple = (np.zeros(0, np.int64), np.zeros(0, np.int64))  # (rows, roles holding the text) where not 1
    duplicate_ids: list[tuple[int, str]] = field(default_factory=list)  # (row, id) of repeated ids, in order
    mix: pd.DataFrame | None = None                            # train/dev rows: role, source, is_source_a, is_dev
    mixed_rows: dict[str, int] = field(default_factory=dict)
    largest_dev_group: dict[str, int] = field(default_factory=dict)
    text_of: dict = field(default_factory=dict)                # pairs' ids -> train text / vad.v
    v_of: dict = field(default_factory=dict)
    flip_ids_used: set = field(default_factory=set)            # pairs' id_flip values that are record ids


@dataclass
class _Hashes:
    """Pass 1's per-row compact columns, one array per record shard."""

    ids: list[np.ndarray] = field(default_factory=list)
    texts: list[np.ndarray] = field(default_factory=list)
    roles: list[np.ndarray] = field(default_factory=list)
    null_ids: list[np.ndarray] = field(default_factory=list)
    mix_roles: list[np.ndarray] = field(default_factory=list)
    mix_sources: list[pa.Array] = field(default_factory=list)
    dev_groups: list[pd.DataFrame] = field(default_factory=list)


def _hash(values: np.ndarray) -> np.ndarray:
    """64-bit hashes of an object array of strings (None included), stable across runs."""
    return pd.util.hash_array(values, categorize=False)


def _optional_names(schema: pa.Schema) -> list[str]:
    """The helper columns `record_part` makes of a shard's optional columns (from its schema alone)."""
    names: list[str] = []
    for opt in OPTIONAL_UNIT_COLUMNS:
        if opt in schema.names:
            names += list(_numeric_parts(opt, pa.chunked_array([], schema.field(opt).type)))
    return names


def _read_pairs(root: Path, manifest: dict, listed_in: Path) -> dict[int, pa.Table | None]:
    """The pairs shards by manifest position (None: unreadable)."""
    return {i: None if shard_schema(path) is None else read_shard(root, shard, listed_in, verify=False)
            for i, shard, path, _, _ in listed_shards(root, manifest) if is_pairs_shard(shard)}


def _scan_rows(table: pa.Table, shard: dict, mix: dict, pair_ids: pa.Array, flip_ids: pa.Array,
               scan: BuildScan, acc: _Hashes) -> None:
    """Pass 1 over one record shard's rows."""
    n = table.num_rows
    role = shard.get("role")
    ids = _column(table, "id", n)
    acc.ids.append(_hash(ids.to_numpy()))
    acc.null_ids.append(np.flatnonzero(pc.is_null(ids).to_numpy(zero_copy_only=False)) + scan.rows)
    acc.texts.append(_hash(normalise_text(_column(table, "text", n)).to_numpy(zero_copy_only=False)))
    acc.roles.append(np.full(n, role_code(role), dtype=np.int8))
    if role in _MIX_ROLES:
        source = _column(table, "source", n)
        acc.mix_roles.append(np.full(n, _MIX_ROLES.index(role), dtype=np.int8))
        acc.mix_sources.append(pc.dictionary_encode(source.combine_chunks()))
        if role == "dev":
            keep = pc.is_in(source, value_set=pa.array(mix["sources"], pa.string())).to_numpy(zero_copy_only=False)
            acc.dev_groups.append(pd.DataFrame({"source": source.to_numpy()[keep], "id": ids.to_numpy()[keep],
                                                "_conv": _column(table, "conv_id", n).to_numpy()[keep]}))
    if len(pair_ids) and role == "train":
        hit = np.flatnonzero(pc.is_in(ids, value_set=pair_ids, skip_nulls=False).to_numpy(zero_copy_only=False))
        if len(hit):
            keys = ids.take(hit).to_pylist()
            scan.text_of.update(zip(keys, _column(table, "text", n).take(hit).to_pylist()))
            v = _struct_field(table, "vad", "v", n).to_numpy().astype("float64")[hit]
            scan.v_of.update(zip(keys, v))
    if len(flip_ids):
        hit = pc.is_in(ids, value_set=flip_ids).to_numpy(zero_copy_only=False)
        scan.flip_ids_used.update(ids.filter(pa.array(hit)).to_pylist())


def _pair_keys(tables: list[pa.Table]) -> tuple[pa.Array, pa.Array]:
    """The pairs' `id` values (nulls included) and non-null `id_flip` values."""
    ids = [t["id"].combine_chunks() for t in tables if "id" in t.column_names]
    flips = [t["id_flip"].combine_chunks() for t in tables if "id_flip" in t.column_names]
    ids_all = pa.concat_arrays([a.cast(pa.string()) for a in ids]) if ids else pa.array([], pa.string())
    flips_all = pa.concat_arrays([a.cast(pa.string()) for a in flips]) if flips else pa.array([], pa.string())
    return pc.unique(ids_all), pc.unique(flips_all.drop_null())


def scan_build(root: Path, manifest: dict) -> BuildScan:
    """Pass 1: read every shard the manifest lists once, keeping compact facts (module docstring)."""
    root = Path(root)
    listed_in = root / "manifests"
    pairs = _read_pairs(root, manifest, listed_in)
    scan, acc = BuildScan(), _Hashes()
    scan.pairs_tables = [t for t in pairs.values() if t is not None]
    pair_ids, flip_ids = _pair_keys(scan.pairs_tables)
    mix = _mix_spec(manifest)
    columns = [list(empty_records().columns)]
    for i, shard, path, name, expected in listed_shards(root, manifest):
        if i in pairs and pairs[i] is not None:
            scan.count_rows.append(("shard", f"shard {name}", expected, pairs[i].num_rows))
            continue
        schema = readable_schema(path, name, expected, scan.unreadable, scan.count_rows)
        if schema is None:
            continue
        present = set(schema.names)
        scan.column_rows += schema_rows(name, schema)
        table = read_shard(root, shard, listed_in, SCAN_COLUMNS, verify=False, missing_ok=True)
        scan.count_rows.append(("shard", f"shard {name}", expected, table.num_rows))
        _scan_rows(table, shard, mix, pair_ids, flip_ids, scan, acc)
        scan.shards.append(RecordShard(shard, name, table.num_rows, scan.rows, frozenset(present)))
        scan.rows += table.num_rows
        columns.append(list(columns[0]) + _optional_names(schema))
    # the column order pd.concat gives the whole-frame gate's parts
    scan.columns = list(pd.concat([pd.DataFrame(columns=c) for c in columns]).columns)
    _mix_facts(scan, acc, manifest, mix)
    _cross_shard_facts(root, listed_in, scan, acc)
    return scan


def _mix_spec(manifest: dict) -> dict:
    mix = manifest.get("mix") or {}
    sources = [s for s, share in ((mix.get("source_a"), mix.get("a", 0)), (mix.get("source_b"), mix.get("b", 0)))
               if s and share]
    return {"sources": sources, "source_a": mix.get("source_a")}


def _mix_facts(scan: BuildScan, acc: _Hashes, manifest: dict, mix: dict) -> None:
    """The mix frame of the mean checks (train/dev rows only: every row their conditions select, in the
    whole frame's order), mixed rows per source, largest dev dialogue and the mix and role counts
    (as `frames._mix_counts` appends them)."""
    if acc.mix_sources:
        source = pa.chunked_array(acc.mix_sources).unify_dictionaries().to_pandas()
        role = pd.Categorical.from_codes(np.concatenate(acc.mix_roles), categories=list(_MIX_ROLES))
    else:
        source, role = pd.Series([], dtype="category"), pd.Categorical([], categories=list(_MIX_ROLES))
    frame = pd.DataFrame({"role": role, "source": pd.Categorical(source)})
    frame["is_source_a"] = (frame["source"] == mix["source_a"]).astype("float64")
    frame["is_dev"] = (frame["role"] == "dev").astype("float64")
    scan.mix = frame
    dev = pd.concat(acc.dev_groups, ignore_index=True) if acc.dev_groups else pd.DataFrame(
        {"source": [], "id": [], "_conv": []}, dtype=object)
    in_mix = frame["source"].isin(mix["sources"]).to_numpy()
    for s in mix["sources"]:
        scan.mixed_rows[s] = int((in_mix & (frame["source"] == s).to_numpy()).sum())
        mine = dev[(dev["source"] == s).to_numpy()]
        groups = mine["_conv"].where(mine["_conv"].notna(), mine["id"])
        scan.largest_dev_group[s] = int(groups.value_counts().max()) if len(groups) else 1
    spec = manifest.get("mix") or {}
    for key in ("a", "b"):
        src = spec.get(f"source_{key}")
        if src and f"rows_{key}" in spec:
            scan.count_rows.append(("mix", f"mix.rows_{key} ({src} train+dev)", int(spec[f"rows_{key}"]),
                                    scan.mixed_rows.get(src, 0)))
    if "rows" in spec:
        scan.count_rows.append(("mix", "mix.rows (train+dev)", int(spec["rows"]), int(in_mix.sum())))
    for role_name, expected in sorted((manifest.get("counts") or {}).items()):
        actual = (sum(t.num_rows for t in scan.pairs_tables) if role_name == "pairs"
                  else sum(s.rows for s in scan.shards if s.shard.get("role") == role_name))
        scan.count_rows.append(("role", f"counts.{role_name}", int(expected), actual))


def _multi_role_rows(keys: np.ndarray, roles: np.ndarray) -> np.ndarray:
    """The rows (sorted) of leak roles whose hashed key occurs in two or more leak roles: one sort, no
    per-key table (about 20 bytes a row while it runs)."""
    rows = np.flatnonzero(roles >= 0)
    order = np.lexsort((roles[rows], keys[rows]))
    rows = rows[order]
    del order
    k, r = keys[rows], roles[rows]
    new_key = np.r_[True, k[1:] != k[:-1]]
    new_pair = new_key | np.r_[True, r[1:] != r[:-1]]
    del k, r
    starts = np.flatnonzero(new_key)
    distinct = np.add.reduceat(new_pair.astype(np.int64), starts) if len(starts) else np.zeros(0, np.int64)
    multi = np.repeat(distinct > 1, np.diff(np.r_[starts, len(rows)]))
    return np.sort(rows[multi])


def _repeated_rows(keys: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Of `rows`, those whose hashed key occurs at least twice among them (sorted)."""
    if not len(rows):
        return rows
    order = np.argsort(keys[rows], kind="stable")
    rows = rows[order]
    k = keys[rows]
    same = k[1:] == k[:-1]
    hit = np.r_[same, False] | np.r_[False, same]
    return np.sort(rows[hit])


def _cross_shard_facts(root: Path, listed_in: Path, scan: BuildScan, acc: _Hashes) -> None:
    """Id uniqueness and the two leak checks from the hashes, candidates confirmed exactly."""
    if not scan.rows:
        return
    roles = np.concatenate(acc.roles)
    ids = np.concatenate(acc.ids)
    id_cand = _multi_role_rows(ids, roles)
    text_cand = _multi_role_rows(np.concatenate(acc.texts), roles)
    named = np.ones(len(ids), dtype=bool)
    named[np.concatenate(acc.null_ids)] = False
    dup_cand = _repeated_rows(ids, np.flatnonzero(named))
    del ids, named
    wanted = np.union1d(np.union1d(id_cand, text_cand), dup_cand)
    if not len(wanted):
        return
    exact_id, exact_text = _confirm(root, listed_in, scan, wanted)
    pos = {int(r): i for i, r in enumerate(wanted)}
    found = []
    for cand, exact in ((id_cand, exact_id), (text_cand, exact_text)):
        values = _roles_per_key(pa.array([exact[pos[int(r)]] for r in cand], pa.string()),
                                roles[cand].astype(np.int64))
        found.append((cand[values != 1].astype(np.int64), values[values != 1]))
    scan.id_roles, scan.text_roles = found
    if len(dup_cand):
        keys = pd.Series([exact_id[pos[int(r)]] for r in dup_cand], dtype=object)
        repeated = keys.duplicated(keep=False).to_numpy()
        scan.duplicate_ids = [(int(r), k) for r, k, hit in zip(dup_cand, keys, repeated) if hit]


def _confirm(root: Path, listed_in: Path, scan: BuildScan, rows: np.ndarray) -> tuple[list, list]:
    """The exact ids and normalised texts of the given global rows (sorted), read back shard by shard."""
    ids: list = []
    texts: list = []
    for rec in scan.shards:
        local = rows[(rows >= rec.start) & (rows < rec.start + rec.rows)] - rec.start
        if not len(local):
            continue
        table = read_shard(root, rec.shard, listed_in, ("id", "text"), verify=False, missing_ok=True)
        take = pa.array(local)
        ids += _column(table, "id", table.num_rows).take(take).to_pylist()
        texts += normalise_text(_column(table, "text", table.num_rows).take(take)).to_pylist()
    return ids, texts


def iter_batches(root: Path, manifest: dict, scan: BuildScan, batch_rows: int
                 ) -> Iterator[tuple[pd.DataFrame, list[tuple]]]:
    """Pass 2: (records frame, label counts per shard) per batch of whole shards of at most `batch_rows`
    rows (a larger shard is a batch of its own); at least one (empty) batch."""
    root = Path(root)
    listed_in = root / "manifests"
    labels_allowed = set((manifest.get("label_space") or {}).get("labels") or [])
    batch: list[RecordShard] = []
    for rec in scan.shards + [None]:
        if batch and (rec is None or sum(r.rows for r in batch) + rec.rows > batch_rows):
            yield _batch_frame(root, listed_in, scan, batch, labels_allowed)
            batch = []
        if rec is not None:
            batch.append(rec)
    if not scan.shards:
        records = empty_records()
        finish_records(records)
        yield _with_cross_shard(records, scan, 0), []


def _batch_frame(root: Path, listed_in: Path, scan: BuildScan, batch: list[RecordShard],
                 labels_allowed: set[str]) -> tuple[pd.DataFrame, list[tuple]]:
    parts, counts = [], []
    for rec in batch:
        table = read_shard(root, rec.shard, listed_in, READ_COLUMNS + OPTIONAL_UNIT_COLUMNS, verify=False,
                           missing_ok=True)
        frame, label_counts = record_part(table, rec.shard, rec.name, set(rec.present), labels_allowed)
        parts.append(frame)
        counts.append(label_counts)
    records = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    for col in scan.columns:
        if col not in records.columns:  # an optional helper column only other shards have (as pd.concat)
            records[col] = np.full(len(records), np.nan)
    records = records[scan.columns]
    finish_records(records)
    return _with_cross_shard(records, scan, batch[0].start), counts


def _with_cross_shard(records: pd.DataFrame, scan: BuildScan, start: int) -> pd.DataFrame:
    """Add the pass-1 helper columns (id_roles, text_roles) to a batch whose first row is global `start`."""
    n = len(records)
    for name, (rows, values) in (("id_roles", scan.id_roles), ("text_roles", scan.text_roles)):
        col = np.ones(n, dtype=np.int64)
        lo, hi = np.searchsorted(rows, [start, start + n])
        col[rows[lo:hi] - start] = values[lo:hi]
        records[name] = col
    return records.drop(columns=["_conv"])
