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


def test_a_plain_snorkel_lf_is_identified_by_its_own_module_not_the_whole_package() -> None:
    """The appraisal atoms are plain Snorkel LFs: their identity hashes labeling_functions/appraisal/, so an
    edit to the label models or the end model (labeling_functions/*.py) keeps the annotate cache."""
    from labeling_functions.appraisal.lfs import ROW_LFS

    lfs = [lf for atom in ROW_LFS.values() for lf in atom]
    assert {core.lf_identity(lf)["module"] for lf in lfs} == {"labeling_functions.appraisal.lfs"}
    files = {p.name for p in Path(core.__file__).parent.joinpath("appraisal").glob("*.py")}
    assert "end_model.py" not in files and "lfs.py" in files
