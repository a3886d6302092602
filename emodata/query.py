"""DuckDB over a build: views named train, dev, test, dailydialog, pairs and SOURCE_SPLIT (one per source and split)."""
from __future__ import annotations

import re
from pathlib import Path

import duckdb

from emodata.core.errors import EmodataError
from emodata.core.manifest import Manifest


def _quote_paths(paths: list[Path]) -> str:
    return "[" + ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths) + "]"


def view_names(manifest: Manifest) -> dict[str, list[Path]]:
    """View name → Parquet files: role views (train/dev/test), the probe by source, `pairs` (Valence-Flip
    pairs), and one view per source and split (SOURCE_SPLIT, e.g. goemotions_train; all of a split's
    shard files together, never one view per file)."""
    views: dict[str, list[Path]] = {}
    for name, shards in manifest.split_names().items():
        views[name] = [manifest.shard_path(s) for s in shards]
    pairs = manifest.shards(role="pairs")
    if pairs:
        views["pairs"] = [manifest.shard_path(s) for s in pairs]
    for shard in manifest.data["shards"]:
        if shard["role"] in ("train", "dev", "test"):
            view = re.sub(r"\W", "_", f"{shard['source']}_{shard['role']}")
            views.setdefault(view, []).append(manifest.shard_path(shard))
    return views


def connect(manifest: str | Path, database: str = ":memory:", allow_external: bool = False) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with one view per split/shard of the build (see `view_names`).

    Read-only by default: the build's Parquet files are registered as Arrow datasets (read by pyarrow,
    paths checked to lie inside the build), then DuckDB's file system access is switched off and the
    configuration locked, so SQL cannot read (`read_text('/etc/passwd')`, `read_csv`), write
    (`COPY ... TO`, the build's own shards included) or `ATTACH` anything. `allow_external=True` opts out:
    plain `read_parquet` views and DuckDB's default access.
    """
    loaded = Manifest.load(manifest)
    con = duckdb.connect(database)
    if allow_external:
        for view, paths in view_names(loaded).items():
            con.execute(f'CREATE OR REPLACE VIEW "{view}" AS SELECT * FROM read_parquet({_quote_paths(paths)})')
        return con
    import pyarrow.dataset as ds

    for view, paths in view_names(loaded).items():
        con.register(view, ds.dataset([str(p) for p in paths], format="parquet"))
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    return con


def run_query(sql: str, manifest: str | Path, allow_external: bool = False) -> tuple[list[str], list[tuple]]:
    """Run SQL over a build; returns (column names, rows). A statement that needs file access outside the
    build's views is refused with a one-line EmodataError unless `allow_external`."""
    con = connect(manifest, allow_external=allow_external)
    try:
        try:
            cursor = con.execute(sql)
        except duckdb.PermissionException as exc:
            first = str(exc).splitlines()[0]
            raise EmodataError(f"query refused: {first} (emodata query is read-only over the build's views; "
                               "--allow-external lets SQL reach other files)") from None
        columns = [d[0] for d in cursor.description] if cursor.description else []
        return columns, cursor.fetchall()
    finally:
        con.close()
