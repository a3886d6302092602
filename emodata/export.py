"""Import a build into external trainers: HF `datasets`, record JSONL, chat-messages SFT JSONL.

Shards are read by the one verified shard reader (`emodata.core.reader`: paths inside the build, SHA-1
and row counts as the manifest lists them); the HF features are derived from the record schema
(`emodata.core.schema.hf_features`), never written out again here."""
from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from emodata.core.atomic import atomic_dir, write_atomically
from emodata.core.contract import sft_example
from emodata.core.errors import EmodataError
from emodata.core.manifest import Manifest
from emodata.cache import default_cache_dir
from emodata.core.hashing import sha1_file, sha1_json
from emodata.core.reader import listed_file, read_shards, read_split
from emodata.core.schema import RECORD_SCHEMA, hf_features
from emodata.shards import record_to_json


#: The Hub's split name for each build role ("dev" files are the paper's dev split, `validation` on the Hub).
HUB_SPLIT_NAMES = {"dev": "validation"}


def features(labels: list[str], ekman_labels: list[str]):
    """HF `datasets` features of the record schema (`emodata.core.schema.hf_features`: label columns as
    Sequence(ClassLabel) of the build's label spaces)."""
    return hf_features(RECORD_SCHEMA, {"unified": list(labels), "ekman7": list(ekman_labels)})


def _class_ids(column: pa.ChunkedArray, names: list[str], where: str) -> pa.ChunkedArray:
    """A list<string> column as list<int64> ClassLabel ids (vectorised; null lists stay null)."""
    value_set = pa.array(names, pa.string())
    chunks = []
    for chunk in column.chunks:
        ids = pc.index_in(chunk.values, value_set=value_set)
        if ids.null_count != chunk.values.null_count:
            unknown = sorted(set(pc.filter(chunk.values, pc.is_null(ids)).to_pylist()) - {None})
            raise EmodataError(f"{where}: label(s) {unknown} are not in the build's label space")
        chunks.append(pa.ListArray.from_arrays(chunk.offsets, ids.cast(pa.int64()), mask=chunk.is_null()))
    return pa.chunked_array(chunks, pa.list_(pa.int64()))


def to_hf_table(table: pa.Table, feats, where: str) -> pa.Table:
    """A record table in the Arrow layout of `feats` (label names encoded as ClassLabel ids)."""
    from datasets import ClassLabel

    columns = []
    for name in table.column_names:
        feature = feats[name]
        inner = getattr(feature, "feature", None)
        if isinstance(inner, ClassLabel):
            columns.append(_class_ids(table[name], inner.names, f"{where} column {name}"))
        else:
            columns.append(table[name])
    return pa.Table.from_arrays(columns, schema=feats.arrow_schema)


#: Layout version of the memory-mapped Arrow cache (part of every key: a new layout never reads an old file).
ARROW_CACHE_FORMAT = 1

#: Default byte budget of the Arrow cache (`EMODATA_ARROW_CACHE_MAX_BYTES` overrides it): after a split is
#: converted, the least recently used files beyond it are deleted.
ARROW_CACHE_MAX_BYTES = 8 * 2**30


def arrow_cache_budget() -> int:
    """The Arrow cache's byte budget: `$EMODATA_ARROW_CACHE_MAX_BYTES`, else `ARROW_CACHE_MAX_BYTES`."""
    raw = os.environ.get("EMODATA_ARROW_CACHE_MAX_BYTES")
    if raw is None:
        return ARROW_CACHE_MAX_BYTES
    try:
        budget = int(raw)
    except ValueError:
        raise EmodataError(f"EMODATA_ARROW_CACHE_MAX_BYTES={raw!r}: expected a whole number of bytes") from None
    if budget < 0:
        raise EmodataError(f"EMODATA_ARROW_CACHE_MAX_BYTES={raw!r}: must not be negative")
    return budget


def prune_arrow_cache(cache: Path, budget: int, keep: set[Path], warn) -> list[Path]:
    """Delete the least recently used Arrow files (and their records) of `cache` until the files in it
    total at most `budget` bytes; files in `keep` (the ones this load uses) are never deleted. A file that a
    running process has memory-mapped stays readable by it (POSIX unlink). Returns what was deleted."""
    files = []
    for path in cache.glob("*.arrow"):
        try:
            stat = path.stat()
        except OSError:
            continue  # deleted meanwhile by another process
        files.append((stat.st_mtime, path.name, path, stat.st_size))
    total = sum(size for *_, size in files)
    deleted = []
    for _, _, path, size in sorted(files):  # oldest use first (a hit refreshes the mtime)
        if total <= budget:
            break
        if path in keep:
            continue
        try:
            path.unlink()
            path.with_suffix(".json").unlink(missing_ok=True)
        except OSError as exc:
            warn(f"cannot prune Arrow cache file {path} ({exc})")
            continue
        total -= size
        deleted.append(path)
    return deleted


def arrow_cache_key(shards: list[dict], feats, split: str) -> str:
    """Key of one split's Arrow cache file: the listed SHA-1s of its shards (in order), the features
    (label spaces included) and the cache layout; the same shards and features always give the same key."""
    return sha1_json({"format": ARROW_CACHE_FORMAT, "split": split, "shards": [s.get("sha1") for s in shards],
                      "features": feats.to_dict()})


def _cache_problem(path: Path, meta: Path, rows: int) -> str | None:
    """Why a cached Arrow file may not be used (None: it is the file written for this key, unchanged)."""
    try:
        recorded = json.loads(meta.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return f"unreadable record {meta.name} ({exc})"
    if recorded.get("format") != ARROW_CACHE_FORMAT or recorded.get("rows") != rows:
        return f"{meta.name} records format {recorded.get('format')} / {recorded.get('rows')} rows, expected " \
               f"format {ARROW_CACHE_FORMAT} / {rows} rows"
    actual = sha1_file(path)
    return None if actual == recorded.get("sha1") else f"SHA-1 {actual} != recorded {recorded.get('sha1')}"


def _write_arrow(table: pa.Table, path: Path, meta: Path) -> None:
    """Write `table` as an Arrow IPC stream (the format `datasets` memory-maps), then its record
    (format, rows, SHA-1 of the file); a file without its record is a miss."""
    def arrow(tmp: str) -> None:
        with pa.OSFile(tmp, "wb") as sink, pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)

    write_atomically(path, arrow)
    record = json.dumps({"format": ARROW_CACHE_FORMAT, "rows": table.num_rows, "sha1": sha1_file(path)},
                        sort_keys=True)
    write_atomically(meta, lambda tmp: Path(tmp).write_text(record + "\n", encoding="utf-8"))


def _split_dataset(loaded: Manifest, name: str, shards: list[dict], feats, cache: Path, warn):
    """One split as a memory-mapped `datasets.Dataset`: from the Arrow cache when its file checks out
    (the shards' SHA-1s as listed, the file's own SHA-1 and rows as recorded), else converted from the
    shards through the verified reader and cached."""
    from datasets import Dataset, DatasetInfo, NamedSplit

    hub_name = HUB_SPLIT_NAMES.get(name, name)
    info, split = DatasetInfo(features=feats), NamedSplit(hub_name)
    path = cache / f"{arrow_cache_key(shards, feats, hub_name)}.arrow"
    meta = path.with_suffix(".json")
    rows = sum(int(s.get("rows", -1)) for s in shards)
    if path.is_file():
        for shard in shards:  # the build must still be what its manifest lists (refuses a changed build)
            listed_file(loaded.root, shard, loaded.path)
        problem = _cache_problem(path, meta, rows)
        if problem is None:
            os.utime(path)  # marks it recently used for prune_arrow_cache
            return Dataset.from_file(str(path), info=info, split=split, in_memory=False)
        warn(f"Arrow cache file {path} not used: {problem}; converting the shards again")
    table = to_hf_table(read_shards(loaded, shards), feats, f"{loaded.path} split {name}")
    try:
        _write_arrow(table, path, meta)
    except OSError as exc:
        warn(f"cannot write the Arrow cache {cache} ({exc}); split {hub_name} is held in memory")
        return Dataset(table, info=info, split=split)
    return Dataset.from_file(str(path), info=info, split=split, in_memory=False)


def load(manifest: str | Path, cache_dir: str | Path | None = None, warn=None):
    """The build as a `datasets.DatasetDict` (train, validation (= the paper's dev), test, dailydialog —
    those present) with the same ClassLabel features `datasets.load_dataset(BUILD_DIR)` gives.

    Like `datasets`, each split is an Arrow IPC stream file in a cache, memory-mapped (`Dataset.from_file`):
    `cache_dir` (default `$EMODATA_CACHE/arrow` or `~/.cache/emodata/arrow`) holds one file per split,
    keyed by its shards' SHA-1s and the features. The shards are checked against the manifest on every
    load and a cache file against its own recorded SHA-1; a file failing that is converted again
    (`warn`ed: default a line on stderr), never used. After loading, the least recently used files beyond
    the cache's byte budget (`EMODATA_ARROW_CACHE_MAX_BYTES`, default 8 GiB) are deleted (`prune_arrow_cache`)."""
    from datasets import DatasetDict

    loaded = Manifest.load(manifest)
    feats = features(loaded.labels, loaded.data["label_space"]["ekman_labels"])
    cache = Path(cache_dir) if cache_dir else default_cache_dir() / "arrow"
    warn = warn or (lambda message: print(f"warning: {message}", file=sys.stderr))
    budget = arrow_cache_budget()
    splits = {HUB_SPLIT_NAMES.get(name, name): _split_dataset(loaded, name, shards, feats, cache, warn)
              for name, shards in loaded.split_names().items()}
    if cache.is_dir():
        prune_arrow_cache(cache, budget, {Path(f["filename"]) for d in splits.values() for f in d.cache_files}, warn)
    return DatasetDict(splits)


def derived_root(manifest: Manifest) -> Path:
    """Where derived outputs (report, Data Docs, exports) go by default: OUT/mix_A_B-derived/, beside the
    frozen build, so the build folder holds exactly what its manifest lists."""
    return manifest.root.parent / f"{manifest.root.name}-derived"


def export(manifest: str | Path, fmt: str, out: str | Path | None = None, overwrite: bool = False) -> Path:
    """Write the build as `hf` (save_to_disk), `jsonl` (records) or `sft` (chat messages); atomic.
    Default folder: `derived_root(manifest)/exports/FORMAT`; an existing one needs `overwrite`."""
    loaded = Manifest.load(manifest)
    final = Path(out) if out else derived_root(loaded) / "exports" / fmt
    if fmt not in ("hf", "jsonl", "sft"):
        raise ValueError(f"unknown export format {fmt!r} (hf, jsonl, sft)")
    if final.exists() and not overwrite:
        raise EmodataError(f"{final} already exists; pass --overwrite to replace it")
    with atomic_dir(final) as tmp:
        if fmt == "hf":
            from datasets.utils.logging import disable_progress_bar

            shutil.rmtree(tmp)
            disable_progress_bar()  # datasets' own bars would interleave with our output
            load(manifest).save_to_disk(str(tmp))
        else:
            for name in loaded.split_names():
                with open(tmp / f"{name}.jsonl", "w", encoding="utf-8", newline="\n") as handle:
                    for record in read_split(loaded, name).to_pylist():
                        line = (json.dumps(sft_example(record, loaded.labels), ensure_ascii=False)
                                if fmt == "sft" else record_to_json(record))
                        handle.write(line + "\n")
    return final
