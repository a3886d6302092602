"""Files and folders that appear whole or not at all: written to a temp path beside the target, then one rename."""
from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator


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


@contextmanager
def atomic_dir(final: str | Path) -> Iterator[Path]:
    """A temporary folder beside `final` to fill; when the block ends without error it replaces `final`
    (an existing one is deleted first), on any error it is deleted and `final` is left as it was."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.tmp-", dir=final.parent))
    try:
        yield tmp
        if final.exists():
            shutil.rmtree(final)
        os.rename(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
