"""Deterministic .npz writing: fixed zip timestamps and permissions, no pickles, atomic replace."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np

from emodata.core.atomic import write_atomically

ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def write_npz(path: str | Path, arrays: dict[str, np.ndarray]) -> Path:
    """Write `arrays` (key order kept) to `path` atomically; the same arrays give a byte-identical file."""
    def write(tmp: str) -> None:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, value in arrays.items():
                buffer = io.BytesIO()
                np.lib.format.write_array(buffer, np.asarray(value), allow_pickle=False)
                info = zipfile.ZipInfo(f"{name}.npy", date_time=ZIP_TIME)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                archive.writestr(info, buffer.getvalue())

    return write_atomically(path, write)
