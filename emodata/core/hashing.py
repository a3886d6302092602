"""SHA-1 helpers shared by manifests, caches and checksums."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

_CHUNK = 1 << 20


def sha1_file(path: str | Path) -> str:
    """SHA-1 hex digest of a file's bytes."""
    digest = hashlib.sha1()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def normalize_text(text: str) -> str:
    """The exact-text duplicate form: whitespace collapsed, case-folded."""
    return " ".join(text.split()).casefold()


def sha1_text(text: str) -> str:
    """SHA-1 hex digest of a UTF-8 string."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def canonical_json(obj: Any) -> str:
    """JSON with sorted keys and no whitespace: the form every hash is taken over."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha1_json(obj: Any) -> str:
    """SHA-1 of an object's canonical JSON."""
    return sha1_text(canonical_json(obj))
