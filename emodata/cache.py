"""Annotated-source cache: Parquet + read report, keyed by input content hash and annotate config."""
from __future__ import annotations

import hashlib
import io
import json
import os
import sys
from pathlib import Path
from typing import Callable

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from emodata.core.atomic import write_bytes_atomically
from emodata.core.hashing import sha1_json


def sha1_bytes(data: bytes) -> str:
    """SHA-1 hex digest of bytes."""
    return hashlib.sha1(data).hexdigest()


def default_cache_dir() -> Path:
    """`$EMODATA_CACHE`, else `~/.cache/emodata`."""
    return Path(os.environ.get("EMODATA_CACHE", Path.home() / ".cache" / "emodata"))


class AnnotatedCache:
    """Stores one annotated source per key; writes are atomic (temp file, then rename).

    An entry is a Parquet file and a JSON file holding the read report and the SHA-1 of the Parquet
    bytes and of the report (`FORMAT`). `get` re-hashes both: an entry that was edited, truncated or
    written by an older emodata is a cache miss, reported by a warning line (`warn`), never used. The
    SHA-1s guard against corruption and edits of one file; the cache folder itself is trusted not to be
    rewritten consistently by an attacker (the key commits to the inputs and the annotate config).
    """

    FORMAT = 2

    def __init__(self, root: str | Path | None, enabled: bool = True,
                 warn: Callable[[str], None] | None = None):
        self.root = Path(root) if root else default_cache_dir()
        self.enabled = enabled
        self.warn = warn or (lambda message: print(f"warning: {message}", file=sys.stderr))

    @staticmethod
    def key(source: str, fingerprint: str, reader_options: dict, annotator_key: str) -> str:
        """Cache key of one annotated source."""
        return sha1_json({"source": source, "inputs": fingerprint, "reader": reader_options,
                          "annotate": annotator_key})

    def _paths(self, source: str, key: str) -> tuple[Path, Path]:
        base = self.root / "annotated" / f"{source}-{key[:20]}"
        return base.with_suffix(".parquet"), base.with_suffix(".json")

    def get(self, source: str, key: str) -> tuple[pd.DataFrame, dict] | None:
        """The cached (annotated frame, read report), or None: absent, or failing its own SHA-1 (warned)."""
        data, meta = self._paths(source, key)
        if not (self.enabled and data.is_file() and meta.is_file()):
            return None
        raw = data.read_bytes()
        try:
            entry = json.loads(meta.read_text(encoding="utf-8"))
            ok = (isinstance(entry, dict) and entry.get("format") == self.FORMAT
                  and entry.get("data_sha1") == sha1_bytes(raw) and entry.get("key") == key
                  and entry.get("report_sha1") == sha1_json(entry.get("report")))
        except (UnicodeDecodeError, json.JSONDecodeError):
            ok = False
        if not ok:
            self.warn(f"annotated cache entry {data} failed its SHA-1 check (edited, truncated or from an older "
                      "emodata); ignored, the source is annotated again")
            return None
        return pq.read_table(pa.BufferReader(raw)).to_pandas(), entry["report"]

    def put(self, source: str, key: str, frame: pd.DataFrame, report: dict) -> None:
        """Store an annotated frame and its read report, with their SHA-1s (the JSON file is written last)."""
        if not self.enabled:
            return
        data, meta = self._paths(source, key)
        data.parent.mkdir(parents=True, exist_ok=True)
        buffer = io.BytesIO()
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), buffer)
        raw = buffer.getvalue()
        entry = {"format": self.FORMAT, "key": key, "data_sha1": sha1_bytes(raw), "report": report,
                 "report_sha1": sha1_json(report)}
        for path, payload in ((data, raw), (meta, json.dumps(entry, sort_keys=True).encode("utf-8"))):
            write_bytes_atomically(path, payload)
