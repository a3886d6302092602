"""emodata.core.atomic: files and folders appear whole or not at all."""
from __future__ import annotations

import pytest

from emodata.core.atomic import atomic_dir, write_bytes_atomically


def test_atomic_dir_replaces_the_folder_only_when_the_block_succeeds(tmp_path):
    final = tmp_path / "out"
    final.mkdir()
    (final / "old.txt").write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_dir(final) as tmp:
            (tmp / "new.txt").write_text("half")
            raise RuntimeError("killed half-way")
    assert sorted(p.name for p in final.iterdir()) == ["old.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no temporary folder left behind
    with atomic_dir(final) as tmp:
        (tmp / "new.txt").write_text("whole")
    assert sorted(p.name for p in final.iterdir()) == ["new.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_atomic_file_write_keeps_the_old_bytes_on_error(tmp_path):
    path = tmp_path / "a.bin"
    write_bytes_atomically(path, b"one")
    with pytest.raises(TypeError):
        write_bytes_atomically(path, "not bytes")  # type: ignore[arg-type]
    assert path.read_bytes() == b"one"
    assert [p.name for p in tmp_path.iterdir()] == ["a.bin"]
