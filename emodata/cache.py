"""Annotated sources on disk: Parquet parts keyed by input content hash and annotate config.

The annotate stage writes each source as numbered Parquet parts, one per partition, as each partition
completes (`PartWriter`); the build never holds a whole annotated source in memory, it reads the columns
(`AnnotatedParts.read`) or the rows (`AnnotatedParts.take`) each stage needs from the parts. With the
cache on, the parts are a cache entry (`AnnotatedCache.get`/`writer`); with `--no-cache` they go to a
scratch folder removed when the build ends.
"""
from __future__ import annotations

import fcntl
import hashlib
import io
import json
import os
import shutil
import sys
import tempfile
from functools import cached_property
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute  # noqa: F401  (pa.compute)
import pyarrow.parquet as pq

from emodata.core.atomic import write_bytes_atomically
from emodata.core.hashing import sha1_file, sha1_json

ENTRY_FILE = "entry.json"


def sha1_bytes(data: bytes) -> str:
    """SHA-1 hex digest of bytes."""
    return hashlib.sha1(data).hexdigest()


def default_cache_dir() -> Path:
    """`$EMODATA_CACHE`, else `~/.cache/emodata`."""
    return Path(os.environ.get("EMODATA_CACHE", Path.home() / ".cache" / "emodata"))


class AnnotatedParts:
    """One annotated source on disk: Parquet parts holding its rows in order (part i: rows
    `starts[i]`..`starts[i+1]`). Every read is cast to one schema unified over the parts, so a column
    reads the same whatever the partition size (e.g. a part whose column is all missing)."""

    def __init__(self, paths: Sequence[Path], rows: Sequence[int]):
        self.paths = [Path(p) for p in paths]
        self.rows = [int(n) for n in rows]
        self.starts = np.cumsum([0, *self.rows], dtype=np.int64)

    @classmethod
    def listed(cls, folder: Path, parts: Sequence[dict]) -> "AnnotatedParts":
        """The parts an entry lists (`{"file", "rows", ...}` each, in order) inside `folder`."""
        return cls([folder / p["file"] for p in parts], [p["rows"] for p in parts])

    def __len__(self) -> int:
        return int(self.starts[-1])

    @cached_property
    def schema(self) -> pa.Schema:
        """The parts' schemas unified (a null-typed column takes the type the other parts give it)."""
        schemas = [pq.read_schema(p) for p in self.paths]
        if not schemas:
            return pa.schema([])
        return pa.unify_schemas(schemas, promote_options="permissive").with_metadata(schemas[0].metadata)

    @property
    def columns(self) -> list[str]:
        """The stored columns."""
        return list(self.schema.names)

    def _target(self, columns: Sequence[str]) -> pa.Schema:
        return pa.schema([self.schema.field(c) for c in columns], metadata=self.schema.metadata)

    def _part(self, index: int, columns: Sequence[str]) -> pa.Table:
        return pq.read_table(self.paths[index], columns=list(columns)).cast(self._target(columns))

    def read(self, columns: Sequence[str]) -> pd.DataFrame:
        """`columns` of every row, in order (read part by part; only these columns are decoded)."""
        columns = [c for c in columns if c in self.schema.names]
        tables = [self._part(i, columns) for i in range(len(self.paths))]
        table = pa.concat_tables(tables) if tables else self._target(columns).empty_table()
        return table.to_pandas()

    def distinct(self, column: str) -> set:
        """The distinct non-missing values of `column` (empty when there is no such column), part by part."""
        if column not in self.schema.names:
            return set()
        values: set = set()
        for index in range(len(self.paths)):
            values.update(v for v in self._part(index, [column]).column(0).unique().to_pylist() if v is not None)
        return values

    def nonempty_positions(self, column: str) -> np.ndarray:
        """Positions of the rows whose list `column` holds at least one value (a missing list counts as
        empty), read part by part: e.g. the gold-tagged turns of the probe."""
        found = []
        for index in range(len(self.paths)):
            lengths = pa.compute.list_value_length(self._part(index, [column]).column(0)).fill_null(0)
            found.append(np.flatnonzero(lengths.to_numpy() > 0) + self.starts[index])
        return np.concatenate(found).astype(np.int64) if found else np.empty(0, np.int64)

    def take(self, positions: Sequence[int] | np.ndarray, columns: Sequence[str]) -> pd.DataFrame:
        """`columns` of the rows at `positions` (0-based over the whole source), in the order given;
        only the parts holding one of them are read."""
        return self.take_table(positions, columns).to_pandas()

    def take_table(self, positions: Sequence[int] | np.ndarray, columns: Sequence[str]) -> pa.Table:
        """`take` as an Arrow table (no pandas conversion)."""
        columns = [c for c in columns if c in self.schema.names]
        positions = np.asarray(positions, dtype=np.int64)
        if len(positions) and (positions.min() < 0 or positions.max() >= len(self)):
            raise IndexError(f"row positions outside 0..{len(self) - 1}")
        order = np.argsort(positions, kind="stable")
        ordered = positions[order]
        part_of = np.searchsorted(self.starts, ordered, side="right") - 1
        tables = [self._part(int(i), columns).take(pa.array(ordered[part_of == i] - self.starts[i]))
                  for i in np.unique(part_of)]
        table = pa.concat_tables(tables) if tables else self._target(columns).empty_table()
        inverse = np.empty_like(order)
        inverse[order] = np.arange(len(order))
        return table.take(pa.array(inverse))


    def scatter(self, destination: np.ndarray, rank: np.ndarray, columns: Sequence[str],
                folder: Path) -> dict[int, Path]:
        """One pass over the parts: every row `p` with `destination[p]` >= 0 is appended to the spill file
        `folder/DEST.arrow` (Arrow IPC, `columns` plus `_rank` = `rank[p]`); {destination: its file}.
        Holds one part at a time; `read_spill` gives a destination's rows back in `_rank` order. This is
        how the write stage gathers each shard file's rows (in the frozen, shuffled draw order) with one
        read of the parts instead of one per shard file."""
        columns = [c for c in columns if c in self.schema.names]
        target = self._target(columns).append(pa.field("_rank", pa.int64()))
        writers: dict[int, pa.ipc.RecordBatchFileWriter] = {}
        try:
            for index in range(len(self.paths)):
                start, stop = int(self.starts[index]), int(self.starts[index + 1])
                dest = destination[start:stop]
                if not (dest >= 0).any():
                    continue
                table = self._part(index, columns).append_column("_rank", pa.array(rank[start:stop], pa.int64()))
                for value in np.unique(dest[dest >= 0]):
                    if value not in writers:
                        writers[value] = pa.ipc.new_file(folder / f"{value:05d}.arrow", target)
                    writers[value].write_table(table.take(pa.array(np.flatnonzero(dest == value))))
        finally:
            for writer in writers.values():
                writer.close()
        return {int(value): folder / f"{value:05d}.arrow" for value in writers}

    @staticmethod
    def read_spill(path: Path, columns: Sequence[str]) -> pd.DataFrame:
        """`columns` of a spill file's rows (`scatter`), in `_rank` order."""
        with pa.memory_map(str(path)) as source:
            table = pa.ipc.open_file(source).read_all()
        table = table.take(pa.compute.sort_indices(table, [("_rank", "ascending")]))
        return table.select([c for c in columns if c in table.column_names]).to_pandas()


def ids_sha1(frame: pd.DataFrame) -> str:
    """SHA-1 of a part's record ids, in order (what a resumed part must hold)."""
    return sha1_bytes("\n".join(map(str, frame["id"].tolist())).encode("utf-8"))


class PartWriter:
    """Writes one annotated source's parts into a temporary folder as partitions complete (`put`, any
    order), then moves the folder into place with its `entry.json` (`commit`).

    Resumable (`resume_rows`: the part size): the folder is `.NAME.partial` beside the entry, locked
    (`flock`) while this writer owns it, and every part is written (then renamed) with a sidecar naming the
    cache key, the part size, its rows, a SHA-1 of its ids and the Parquet file's SHA-1. A build killed
    during the annotate stage leaves the folder; the next build with the same key and part size re-uses
    each part whose sidecar and file check out (`done`) and annotates only the rest. Another build
    holding the lock makes this one write to a private folder instead.
    """

    def __init__(self, final: Path, key: str, resume_rows: int | None = None):
        self.final, self.key, self.resume_rows = final, key, resume_rows
        final.parent.mkdir(parents=True, exist_ok=True)
        self._lock: int | None = None
        self.folder = self._locked_partial() if resume_rows else None
        if self.folder is None:
            self.folder = Path(tempfile.mkdtemp(prefix=f".{final.name}.tmp-", dir=final.parent))
        self.parts: dict[int, dict] = {}
        self.resumed: list[int] = []  # indices of the parts re-used from an interrupted build

    def _locked_partial(self) -> Path | None:
        """The fixed resumable folder, locked for this writer; None when another writer holds it."""
        folder = self.final.parent / f".{self.final.name}.partial"
        folder.mkdir(exist_ok=True)
        try:
            fd = os.open(folder, os.O_RDONLY)
        except OSError:  # committed (renamed) by its owner meanwhile
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if os.stat(folder).st_ino != os.fstat(fd).st_ino:  # renamed by its owner before we locked it
                raise OSError("moved")
        except OSError:
            os.close(fd)
            return None
        self._lock = fd
        return folder

    def _unlock(self) -> None:
        if self._lock is not None:
            os.close(self._lock)  # closing the descriptor releases the flock
            self._lock = None

    def done(self, index: int, part: pd.DataFrame) -> bool:
        """Whether partition `index` (its reader records `part`) is already written here by an interrupted
        build with this key and part size (its sidecar and Parquet SHA-1 check out); it is then kept."""
        if not self.resume_rows:
            return False
        name = f"part-{index:05d}.parquet"
        try:
            meta = json.loads((self.folder / f"part-{index:05d}.json").read_text(encoding="utf-8"))
            ok = (meta == {"key": self.key, "part_rows": self.resume_rows, "rows": len(part),
                           "ids_sha1": ids_sha1(part), "sha1": meta.get("sha1")}
                  and sha1_file(self.folder / name) == meta["sha1"])
        except (OSError, UnicodeDecodeError, ValueError, TypeError):
            ok = False
        if ok:
            self.parts[index] = {"file": name, "rows": len(part), "sha1": meta["sha1"]}
            self.resumed.append(index)
        return ok

    def put(self, index: int, frame: pd.DataFrame) -> int:
        """Write partition `index` (rows in source order) as one Parquet part; its row count."""
        buffer = io.BytesIO()
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), buffer)
        raw = buffer.getvalue()
        name = f"part-{index:05d}.parquet"
        write_bytes_atomically(self.folder / name, raw)
        self.parts[index] = {"file": name, "rows": len(frame), "sha1": sha1_bytes(raw)}
        if self.resume_rows:  # the sidecar last: a part without one is never re-used
            meta = {"key": self.key, "part_rows": self.resume_rows, "rows": len(frame), "ids_sha1": ids_sha1(frame),
                    "sha1": self.parts[index]["sha1"]}
            write_bytes_atomically(self.folder / f"part-{index:05d}.json", json.dumps(meta, sort_keys=True).encode())
        return len(frame)

    def commit(self, report: dict) -> AnnotatedParts:
        """Write `entry.json` (parts with their SHA-1s, the read report) and move the folder into place
        (without the resumable sidecars or a killed build's leftovers)."""
        parts = [self.parts[i] for i in sorted(self.parts)]
        if sorted(self.parts) != list(range(len(parts))):
            raise RuntimeError(f"annotated parts {sorted(self.parts)} are not 0..{len(parts) - 1}")
        listed = {p["file"] for p in parts}
        for path in self.folder.iterdir():
            if path.name not in listed:
                path.unlink()
        entry = {"format": AnnotatedCache.FORMAT, "key": self.key, "parts": parts, "report": report,
                 "report_sha1": sha1_json(report)}
        (self.folder / ENTRY_FILE).write_text(json.dumps(entry, sort_keys=True), encoding="utf-8")
        if self._same_entry_in_place(parts):  # another build committed these very parts meanwhile and may
            self.abort()                      # be reading them: keep its files, drop ours
        else:
            if self.final.exists():
                shutil.rmtree(self.final)
            os.replace(self.folder, self.final)
            self._unlock()
        return AnnotatedParts.listed(self.final, parts)

    def _same_entry_in_place(self, parts: list[dict]) -> bool:
        """Whether the destination already holds an intact entry of this key with exactly these parts."""
        try:
            entry = json.loads((self.final / ENTRY_FILE).read_text(encoding="utf-8"))
            return (entry.get("key") == self.key and entry.get("parts") == parts
                    and all(sha1_file(self.final / p["file"]) == p["sha1"] for p in parts))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError):
            return False

    def abort(self, keep: bool = False) -> None:
        """Remove the temporary folder (nothing was committed); with `keep`, a resumable folder stays for
        the next build to resume from."""
        if not (keep and self.resume_rows and self._lock is not None):
            shutil.rmtree(self.folder, ignore_errors=True)
        self._unlock()


class AnnotatedCache:
    """Stores one annotated source per key as a folder of Parquet parts and an `entry.json` holding the
    read report and every part's row count and SHA-1 (`FORMAT`). `get` re-hashes every part: an entry
    that was edited, truncated or written by an older emodata is a cache miss, reported by a warning
    line (`warn`), never used. The SHA-1s guard against corruption and edits of one file; the cache
    folder itself is trusted not to be rewritten consistently by an attacker (the key commits to the
    inputs and the annotate config). Disabled (`--no-cache`), parts go to a scratch folder that `close`
    removes, inside `scratch_in` (the build's OUT: its own disk, not the system temp folder).
    """

    FORMAT = 3

    def __init__(self, root: str | Path | None, enabled: bool = True,
                 warn: Callable[[str], None] | None = None, scratch_in: str | Path | None = None):
        self.root = Path(root) if root else default_cache_dir()
        self.enabled = enabled
        self.scratch_in = Path(scratch_in) if scratch_in else None  # where a disabled cache's scratch folder goes
        self.warn = warn or (lambda message: print(f"warning: {message}", file=sys.stderr))
        self._scratch: Path | None = None

    @staticmethod
    def key(source: str, fingerprint: str, reader_options: dict, annotator_key: str) -> str:
        """Cache key of one annotated source."""
        return sha1_json({"source": source, "inputs": fingerprint, "reader": reader_options,
                          "annotate": annotator_key})

    def folder(self, source: str, key: str) -> Path:
        """Where the entry of (`source`, `key`) lives."""
        return self.root / "annotated" / f"{source}-{key[:20]}"

    def get(self, source: str, key: str) -> tuple[AnnotatedParts, dict] | None:
        """The cached (parts, read report), or None: absent, or failing its SHA-1s (warned)."""
        folder = self.folder(source, key)
        meta = folder / ENTRY_FILE
        if not (self.enabled and meta.is_file()):
            return None
        try:
            entry = json.loads(meta.read_text(encoding="utf-8"))
            ok = (isinstance(entry, dict) and entry.get("format") == self.FORMAT and entry.get("key") == key
                  and entry.get("report_sha1") == sha1_json(entry.get("report"))
                  and all((folder / p["file"]).is_file() and sha1_file(folder / p["file"]) == p["sha1"]
                          for p in entry["parts"]))
        except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError):
            ok = False
        if not ok:
            self.warn(f"annotated cache entry {folder} failed its SHA-1 check (edited, truncated or from an older "
                      "emodata); ignored, the source is annotated again")
            return None
        parts = entry["parts"]
        return AnnotatedParts.listed(folder, parts), entry["report"]

    def writer(self, source: str, key: str, resume_rows: int | None = None) -> PartWriter:
        """A writer of the entry (`source`, `key`): in the cache (resumable with `resume_rows`, the part
        size: `PartWriter`), or in the scratch folder when disabled."""
        if self.enabled:
            return PartWriter(self.folder(source, key), key, resume_rows)
        if self._scratch is None:  # named like a temporary folder: the next build into OUT removes a killed one's
            if self.scratch_in is not None:
                self.scratch_in.mkdir(parents=True, exist_ok=True)
            self._scratch = Path(tempfile.mkdtemp(prefix=".emodata-annotated.tmp-", dir=self.scratch_in))
        return PartWriter(self._scratch / f"{source}-{key[:20]}", key)

    def put(self, source: str, key: str, frame: pd.DataFrame, report: dict) -> AnnotatedParts:
        """Store a whole annotated frame as one part (tests, small sources); its parts."""
        writer = self.writer(source, key)
        writer.put(0, frame)
        return writer.commit(report)

    def close(self) -> None:
        """Remove the scratch folder of a disabled cache (parts of this build only)."""
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None
