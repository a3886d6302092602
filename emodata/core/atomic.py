"""Files that appear whole or not at all: written to a temp file beside the target, then one rename."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable


def write_atomically(path: str | Path, write: Callable[[str], None]) -> Path:
    """Create or replace `path` by `write(temp_path)` on a temp file in the same folder and one `os.replace`;
    on any error (Ctrl-C included) the temp file is removed and `path` is left as it was."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_bytes_atomically(path: str | Path, data: bytes) -> Path:
    """`data` as the whole content of `path` (see `write_atomically`)."""
    return write_atomically(path, lambda tmp: Path(tmp).write_bytes(data))
