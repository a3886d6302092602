"""The run record (`run.json`, issue #18 item 5): the build records its engine, workers and every
stage's seconds beside the manifest, without changing the manifest's or `checksums.sha1`'s bytes."""
from __future__ import annotations

import json

from emodata.build import build
from emodata.cli import build_summary
from emodata.verify import CHECKSUMS, RUN_FILE, verify

from tests.conftest import sample_config


def test_run_record_names_engine_workers_and_stage_times_and_is_not_hashed(tmp_path):
    (first,) = build(sample_config(tmp_path / "a", cache_dir=str(tmp_path / "cache")))
    (second,) = build(sample_config(tmp_path / "b", cache_dir=str(tmp_path / "cache")))  # cache hit: other stages
    run = json.loads((first.root / RUN_FILE).read_text())
    assert run == first.run and run["engine"] == {"engine": "local", "workers": 1}
    assert run["requested"] == {"engine": "local", "workers": 1, "scheduler": None}
    stages = run["stage_seconds"]
    assert {"annotate goemotions", "weak labels mix_20_80", "write mix_20_80",
            "QC gate (Great Expectations)"} <= set(stages)
    assert all(isinstance(s, float) and s >= 0 for s in stages.values())
    peaks = list(first.run["peak_rss_mib_after_stage"].values())  # in stage order (run.json sorts its keys)
    assert list(first.run["peak_rss_mib_after_stage"]) == list(first.run["stage_seconds"])
    assert peaks == sorted(peaks) and peaks[0] > 0
    child = first.run["child_processes"]["end model mix_20_80 (background process)"]  # the end-model check
    assert child["seconds"] > 0 and child["peak_rss_mib"] > 10
    assert "annotate goemotions" not in json.loads((second.root / RUN_FILE).read_text())["stage_seconds"]
    # The manifest names the record but holds none of its content; the two runs' hashed bytes are equal.
    manifest = json.loads(first.manifest_path.read_text())
    assert manifest["run"] == RUN_FILE and "stage_seconds" not in first.manifest_path.read_text()
    assert first.manifest_path.read_bytes() == second.manifest_path.read_bytes()
    assert (first.root / CHECKSUMS).read_bytes() == (second.root / CHECKSUMS).read_bytes()
    assert RUN_FILE not in (first.root / CHECKSUMS).read_text()
    assert build_summary(first)["run"]["engine"]["engine"] == "local"
    # verify tolerates the record (edited or not) but still names any other unlisted file.
    assert verify(first.manifest_path) == []
    (first.root / RUN_FILE).write_text("{}")
    assert verify(first.manifest_path) == []
    (first.root / "notes.txt").write_text("x")
    assert verify(first.manifest_path) == ["notes.txt: extra file, not listed in checksums.sha1"]
