"""emodata: emotion-recognition datasets with lexicon VAD and weak supervision, frozen in manifests.

Python API: `build(BuildConfig(...))`, `connect(manifest)` (DuckDB), `load(manifest)` (HF datasets),
`verify(manifest)`.
"""
from __future__ import annotations

__version__ = "0.1.0"

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from emodata.build import build
    from emodata.core.config import BuildConfig
    from emodata.export import load
    from emodata.query import connect
    from emodata.verify import verify

_LAZY = {"build": "build", "BuildConfig": "core.config", "load": "export", "connect": "query", "verify": "verify"}


def __getattr__(name: str):
    # Lazy imports keep `import emodata` cheap (no spaCy/datasets/duckdb until used).
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'emodata' has no attribute {name!r}")


__all__ = ["__version__", "build", "BuildConfig", "load", "connect", "verify"]
