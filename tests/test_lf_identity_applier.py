"""The LF set identity (the annotate cache key's LF part) covers the code that applies the LFs."""
from __future__ import annotations

from pathlib import Path

import labeling_functions.core as core
from labeling_functions.emotion import emotion_lfs


def test_editing_the_lf_applier_changes_the_identity(tmp_path: Path, monkeypatch) -> None:
    lfs = emotion_lfs()
    before = core.lf_set_identity(lfs)
    edited = tmp_path / "core.py"
    edited.write_bytes(Path(core.APPLIER_FILE).read_bytes() + b"\n# an edit to apply_lfs\n")
    monkeypatch.setattr(core, "APPLIER_FILE", str(edited))
    after = core.lf_set_identity(lfs)
    assert after["names"] == before["names"]
    assert after["sha1"] != before["sha1"]
    monkeypatch.setattr(core, "APPLIER_FILE", core.__file__)
    assert core.lf_set_identity(lfs) == before
