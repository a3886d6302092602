"""The QC gate inside `emodata build`: results in the manifest, abort leaves nothing; qc/report CLI."""
from __future__ import annotations

import json

import pyarrow as pa
import pytest

from emodata import build as build_module
from emodata.build import build
from emodata.cli import main
from emodata.core.errors import QualityGateError

from tests.conftest import sample_config


def test_manifest_lists_every_suite_result(sample_build):
    qc = sample_build.manifest["qc"]
    assert qc["success"] is True
    assert {"record", "mix", "distribution"} <= set(qc["suites"])
    details = json.loads((sample_build.manifest_path.parent / "qc.json").read_text())
    assert details["success"] is True and details["outcomes"]
    assert (sample_build.root / "README.md").is_file()


def test_critical_failure_aborts_and_leaves_nothing(tmp_path, monkeypatch):
    real_table = build_module.to_record_table

    def corrupt(frame, split, min_tokens, max_tokens):
        table = real_table(frame, split, min_tokens, max_tokens)
        if split == "train" and table.column("source")[0].as_py() == "goemotions":
            vad = table.column("vad").to_pylist()
            vad[0] = {"v": 1.5, "a": 0.5, "d": 0.5}
            table = table.set_column(table.schema.get_field_index("vad"), "vad",
                                     pa.array(vad, type=table.schema.field("vad").type))
        return table

    monkeypatch.setattr(build_module, "to_record_table", corrupt)
    out = tmp_path / "out"
    with pytest.raises(QualityGateError) as info:
        build(sample_config(out))
    assert "vad_v" in str(info.value) and "goemotions:" in str(info.value)
    assert not out.exists()   # neither the final folder nor a temp folder nor the OUT the build created is left


def test_qc_and_report_commands(build_copy, capsys):
    assert main(["qc", str(build_copy), "--json"]) == 0
    assert '"success": true' in capsys.readouterr().out
    assert main(["report", str(build_copy)]) == 0
    root = build_copy.parent.parent
    html = root.parent / f"{root.name}-derived" / "report" / "report.html"
    assert html.is_file() and "data:image/png;base64," in html.read_text(encoding="utf-8")
