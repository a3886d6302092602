"""DuckDB over a build: views named train, dev, test, dailydialog, pairs and SOURCE_SPLIT per shard."""
from __future__ import annotations

import re
from pathlib import Path

import duckdb

from .manifest import Manifest


def _quote_paths(paths: list[Path]) -> str:
    return "[" + ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths) + "]"


def view_names(manifest: Manifest) -> dict[str, list[Path]]:
    """View name → Parquet files: role views (train/dev/test), the probe by source, `pairs` (Valence-Flip
    pairs), and one view per shard."""
    views: dict[str, list[Path]] = {}
    for name, shards in manifest.split_names().items():
        views[name] = [manifest.shard_path(s) for s in shards]
    pairs = manifest.shards(role="pairs")
    if pairs:
        views["pairs"] = [manifest.shard_path(s) for s in pairs]
    for shard in manifest.data["shards"]:
        base = Path(shard["path"]).stem
        view = base if shard["role"] == "probe" else f"{shard['source']}_{base}"
        views[re.sub(r"\W", "_", view)] = [manifest.shard_path(shard)]
    return views


def connect(manifest: str | Path, database: str = ":memory:") -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with one view per split/shard of the build (see `view_names`)."""
    loaded = Manifest.load(manifest)
    con = duckdb.connect(database)
    for view, paths in view_names(loaded).items():
        con.execute(f'CREATE OR REPLACE VIEW "{view}" AS SELECT * FROM read_parquet({_quote_paths(paths)})')
    return con


def run_query(sql: str, manifest: str | Path) -> tuple[list[str], list[tuple]]:
    """Run SQL over a build; returns (column names, rows)."""
    con = connect(manifest)
    try:
        cursor = con.execute(sql)
        columns = [d[0] for d in cursor.description] if cursor.description else []
        return columns, cursor.fetchall()
    finally:
        con.close()
