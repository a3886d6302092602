"""`emodata verify` / `emodata.verify(manifest)`: the public, CLI-facing name of the whole-build check.

The checks themselves live on the ground floor, in `emodata.core.verify` (with the `checksums.sha1`
writer the build uses), so that the trainer runs exactly the same verification without importing the
pipeline; this module only names them for `emodata/cli.py`, `emodata/build.py` and the Python API.
"""
from __future__ import annotations

from emodata.core.verify import CHECKSUMS, RUN_FILE, require_verified, verify, write_checksums

__all__ = ["CHECKSUMS", "RUN_FILE", "require_verified", "verify", "write_checksums"]
