"""DuckDB over a build: views named train, dev, test, dailydialog, pairs and SOURCE_SPLIT (one per source and split).

Every Parquet path comes from the one verified reader (`emodata.core.reader.listed_file`): inside the
build and with the SHA-1 its manifest lists, so a query never reads a changed or escaping shard."""
from __future__ import annotations

import re
from pathlib import Path

import duckdb

from emodata.core.errors import EmodataError
from emodata.core.manifest import Manifest
from emodata.core.reader import listed_file


def _quote_paths(paths: list[Path]) -> str:
    return "[" + ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths) + "]"


def view_shards(manifest: Manifest) -> dict[str, list[dict]]:
    """View name → shard entries: role views (train/dev/test), the probe by source, `pairs` (Valence-Flip
    pairs), and one view per source and split (SOURCE_SPLIT, e.g. goemotions_train; all of a split's
    shard files together, never one view per file)."""
    views: dict[str, list[dict]] = dict(manifest.split_names())
    pairs = manifest.shards(role="pairs")
    if pairs:
        views["pairs"] = pairs
    for shard in manifest.data["shards"]:
        if shard["role"] in ("train", "dev", "test"):
            views.setdefault(re.sub(r"\W", "_", f"{shard['source']}_{shard['role']}"), []).append(shard)
    return views


def view_names(manifest: Manifest) -> dict[str, list[Path]]:
    """View name → Parquet files (`view_shards`), each checked by `listed_file` (inside the build, its
    listed SHA-1; a shard in several views is hashed once)."""
    checked: dict[str, Path] = {}

    def path(shard: dict) -> Path:
        if shard["path"] not in checked:
            checked[shard["path"]] = listed_file(manifest.root, shard, manifest.path)
        return checked[shard["path"]]

    return {view: [path(s) for s in shards] for view, shards in view_shards(manifest).items()}


def connect(manifest: str | Path, database: str = ":memory:", allow_external: bool = False) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with one view per split, source and split, and the pairs (see `view_shards`).

    Read-only by default: the build's Parquet files (checked by `view_names`: inside the build, listed
    SHA-1) are registered as Arrow datasets (read by pyarrow), then DuckDB's file system access is
    switched off and the configuration locked, so SQL cannot read (`read_text('/etc/passwd')`, `read_csv`), write
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
