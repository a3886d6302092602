"""Annotated-source cache: Parquet + read report, keyed by input content hash and annotate config."""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .hashing import sha1_json


def default_cache_dir() -> Path:
    """`$EMODATA_CACHE`, else `~/.cache/emodata`."""
    return Path(os.environ.get("EMODATA_CACHE", Path.home() / ".cache" / "emodata"))


class AnnotatedCache:
    """Stores one annotated source per key; writes are atomic (temp file, then rename)."""

    def __init__(self, root: str | Path | None, enabled: bool = True):
        self.root = Path(root) if root else default_cache_dir()
        self.enabled = enabled

    @staticmethod
    def key(source: str, fingerprint: str, reader_options: dict, annotator_key: str) -> str:
        """Cache key of one annotated source."""
        return sha1_json({"source": source, "inputs": fingerprint, "reader": reader_options,
                          "annotate": annotator_key})

    def _paths(self, source: str, key: str) -> tuple[Path, Path]:
        base = self.root / "annotated" / f"{source}-{key[:20]}"
        return base.with_suffix(".parquet"), base.with_suffix(".json")

    def get(self, source: str, key: str) -> tuple[pd.DataFrame, dict] | None:
        """The cached (annotated frame, read report) or None."""
        data, meta = self._paths(source, key)
        if not (self.enabled and data.is_file() and meta.is_file()):
            return None
        return pq.read_table(data).to_pandas(), json.loads(meta.read_text(encoding="utf-8"))

    def put(self, source: str, key: str, frame: pd.DataFrame, report: dict) -> None:
        """Store an annotated frame and its read report."""
        if not self.enabled:
            return
        data, meta = self._paths(source, key)
        data.parent.mkdir(parents=True, exist_ok=True)
        for path, write in ((data, lambda p: pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), p)),
                            (meta, lambda p: Path(p).write_text(json.dumps(report, sort_keys=True), "utf-8"))):
            fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
            os.close(fd)
            try:
                write(tmp)
                os.replace(tmp, path)
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
