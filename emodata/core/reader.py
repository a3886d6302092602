"""The one verified shard reader: every consumer of a frozen build reads its Parquet files here.

A manifest is data read from disk, so each file it lists is first resolved inside the build
(`emodata.core.safepath.inside_build`: no `../`, absolute path or symlink out), then hashed and compared
with the SHA-1 the manifest lists, and after reading its row count is compared with the listed `rows`;
a difference raises `VerificationError` naming the file. Reads return Arrow tables: of one shard, of a
user-facing split (train, dev, test, each probe by its source: `Manifest.split_names`), of a role (e.g.
the flip pairs) and/or a source, optionally only some columns.

Who reads through it: the trainer (`trainer.data`, `trainer.score`, `trainer.screen`), `emodata export`
and `emodata.load` (`emodata.export`), `emodata verify` (`emodata.core.verify`, which collects
`file_problem` instead of raising), and the QC gate (`expectations.frames`, with `verify=False`: the gate
judges the rows and counts of a build that may have changed and reports what it finds instead of
refusing; `emodata verify` is the hash check).
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import pyarrow as pa
import pyarrow.parquet as pq

from emodata.core.errors import EmodataError, VerificationError
from emodata.core.hashing import sha1_file
from emodata.core.manifest import Manifest
from emodata.core.safepath import inside_build


def file_problem(path: Path, sha1: str) -> str | None:
    """What is wrong with a listed file: `missing`, `SHA-1 X != manifest Y`, or None when it is as listed."""
    if not path.is_file():
        return "missing"
    actual = sha1_file(path)
    return None if actual == sha1 else f"SHA-1 {actual} != manifest {sha1}"


def listed_file(root: Path, entry: dict, listed_in: str | Path, verify: bool = True) -> Path:
    """The absolute path of a file a manifest lists (`entry`: path, sha1), refused unless it lies inside
    the build; with `verify`, VerificationError unless it exists with the listed SHA-1."""
    path = inside_build(root, entry.get("path"), listed_in)
    if verify:
        problem = file_problem(path, entry.get("sha1"))
        if problem:
            raise VerificationError(f"{path}: {problem} (listed in {listed_in}); refusing to read a changed build "
                                    "(rebuild it, or run `emodata verify` to list every mismatch)")
    return path


def read_shard(root: Path, shard: dict, listed_in: str | Path, columns: Sequence[str] | None = None, *,
               verify: bool = True, missing_ok: bool = False) -> pa.Table:
    """One shard as an Arrow table (`listed_file`, then its row count against the listed `rows` when
    `verify`). `columns`: read only these; one the shard lacks is an error naming it, or with
    `missing_ok` left out (the table then lacks it too)."""
    path = listed_file(root, shard, listed_in, verify)
    if columns is not None:
        present = set(pq.read_schema(path).names)
        absent = [c for c in columns if c not in present]
        if absent and not missing_ok:
            raise EmodataError(f"{path}: no column(s) {', '.join(absent)} (listed in {listed_in})")
        columns = [c for c in columns if c in present]
    table = pq.read_table(path, columns=None if columns is None else list(columns))
    if verify and table.num_rows != shard.get("rows"):
        raise VerificationError(f"{path}: {table.num_rows} rows != manifest {shard.get('rows')} (listed in {listed_in})")
    return table


def read_shards(manifest: Manifest, shards: Sequence[dict], columns: Sequence[str] | None = None, *,
                verify: bool = True, missing_ok: bool = False) -> pa.Table:
    """Several shards of `manifest` as one table, in the given order (a column only some of them have
    is null in the others' rows)."""
    tables = [read_shard(manifest.root, s, manifest.path, columns, verify=verify, missing_ok=missing_ok)
              for s in shards]
    if not tables:
        return pa.table({c: pa.nulls(0) for c in columns or ()})
    return pa.concat_tables(tables, promote_options="default")


def read_split(manifest: Manifest, split: str, columns: Sequence[str] | None = None, *,
               verify: bool = True, missing_ok: bool = False) -> pa.Table:
    """Every shard of one user-facing split (train, dev, test, or a probe such as dailydialog) as one
    table; a split the build does not have is an error naming the ones it has."""
    groups = manifest.split_names()
    if split not in groups:
        raise EmodataError(f"{manifest.path}: no split {split!r} (has {', '.join(groups) or 'none'})")
    return read_shards(manifest, groups[split], columns, verify=verify, missing_ok=missing_ok)


def read_splits(manifest: Manifest, columns: Sequence[str] | None = None, *, verify: bool = True,
                missing_ok: bool = False) -> dict[str, pa.Table]:
    """{split name: table} for every user-facing split of the build, in `split_names` order."""
    return {name: read_shards(manifest, shards, columns, verify=verify, missing_ok=missing_ok)
            for name, shards in manifest.split_names().items()}


def read_role(manifest: Manifest, role: str | None, columns: Sequence[str] | None = None, *,
              source: str | None = None, verify: bool = True, missing_ok: bool = False) -> pa.Table:
    """Every shard of one role (train, dev, test, probe, pairs; None = all) and, with `source`, of one
    source, as one table (no rows when there is none)."""
    return read_shards(manifest, manifest.shards(role=role, source=source), columns, verify=verify,
                       missing_ok=missing_ok)
