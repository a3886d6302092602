"""The label stage reads and scores at most `LF_EVAL_ROWS` rows of a split (a seeded sample above it,
said in the split's note), and the probe keeps only its tagged rows' positions and text keys until it
is scored (issue #18: memory bounded at any scale)."""
from __future__ import annotations

import emodata.weak as weak
from emodata.build import build

from tests.conftest import sample_config


def test_every_split_is_scored_whole_below_the_cap_and_on_a_seeded_sample_above_it(tmp_path, monkeypatch):
    cache = str(tmp_path / "cache")
    (whole,) = build(sample_config(tmp_path / "whole", cache_dir=cache))
    by_split = whole.manifest["lf_analysis"]["by_split"]
    assert not any("seeded sample" in note for note in whole.manifest["lf_analysis"]["notes"].values())
    cap = min(v["n"] for v in by_split.values() if v["n"] > 3) - 1
    monkeypatch.setattr(weak, "LF_EVAL_ROWS", cap)
    read = []
    take = weak.probe_all_turns.__globals__["eval_sample"]
    monkeypatch.setattr(weak, "eval_sample", lambda n, seed: read.append(n) or take(n, seed))
    (capped,) = build(sample_config(tmp_path / "capped", cache_dir=cache))
    capped_split = capped.manifest["lf_analysis"]["by_split"]
    notes = capped.manifest["lf_analysis"]["notes"]
    assert set(capped_split) == set(by_split) and read
    for name, entry in by_split.items():
        assert capped_split[name]["n"] == min(entry["n"], cap)
        if entry["n"] > cap:
            assert f"seeded sample of {cap} of these {entry['n']} rows" in notes[name]
    # same inputs, same cap: the same sample and the same scores
    (again,) = build(sample_config(tmp_path / "again", cache_dir=cache))
    assert again.manifest_path.read_bytes() == capped.manifest_path.read_bytes()


def test_the_probe_keeps_only_positions_and_text_keys_of_its_tagged_rows(tmp_path, monkeypatch):
    import emodata.build as build_module

    kept = {}
    prepare = build_module.prepare_source

    def recording(location, *args, **kwargs):
        prep = prepare(location, *args, **kwargs)
        kept[location.name] = prep.tagged
        return prep

    monkeypatch.setattr(build_module, "prepare_source", recording)
    (result,) = build(sample_config(tmp_path / "out", cache_dir=str(tmp_path / "cache")))
    probe = kept.pop("dailydialog")
    assert list(probe.columns) == ["text_key", "_pos"] and len(probe) > 0
    assert all(v is None for v in kept.values())
    notes = result.manifest["lf_analysis"]["notes"]
    assert f"({result.manifest['lf_analysis']['by_split']['dailydialog/all_tagged']['n']} of {len(probe)};" in \
        notes["dailydialog/all_tagged"]
