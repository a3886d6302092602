"""The streamed QC gate (issue 18 item 4) gives the whole-frame gate's results, byte for byte, with the
records validated one GX batch of shards at a time: on a clean build, on a build with failures injected
in several shards, and when every hash collides (candidates are confirmed exactly)."""
from __future__ import annotations

import pyarrow.parquet as pq
import pytest

import expectations.scan as scan_module
from emodata.core.manifest import dumps
from expectations import run_gate
from expectations.scan import iter_batches, scan_build
from tests.test_expectations import rewrite, tiny_build, tiny_copy  # noqa: F401

TRAIN, DEV, PROBE = "data/goemotions/train.parquet", "data/goemotions/dev.parquet", \
    "data/dailydialog/dev_dailydialog_weak.parquet"


def same_as_whole(root, manifest, batch_rows: int = 1) -> dict:
    """Run the gate streamed and whole; assert identical qc.json text; the streamed results."""
    streamed = run_gate(root, manifest, batch_rows=batch_rows)
    whole = run_gate(root, manifest, batch_rows=None)
    assert dumps(streamed.to_json()) == dumps(whole.to_json())
    assert streamed.summary() == whole.summary() and streamed.failures_text() == whole.failures_text()
    return streamed.to_json()


def outcome(result: dict, check: str) -> dict:
    (found,) = [o for o in result["outcomes"] if o["check"] == check]
    return found


def test_clean_build_same_results(tiny_build):
    result = same_as_whole(tiny_build.root, tiny_build.manifest)
    assert result["success"] and result["rows"] == sum(s["rows"] for s in tiny_build.manifest["shards"]
                                                       if s["role"] != "pairs")


def test_batches_hold_whole_shards_within_the_budget(tiny_build):
    scan = scan_build(tiny_build.root, tiny_build.manifest)
    assert len(scan.shards) == 3
    sizes = [len(frame) for frame, _ in iter_batches(tiny_build.root, tiny_build.manifest, scan, 1)]
    assert sizes == [s.rows for s in scan.shards]
    budget = scan.shards[0].rows + scan.shards[1].rows
    sizes = [len(frame) for frame, _ in iter_batches(tiny_build.root, tiny_build.manifest, scan, budget)]
    assert sizes == [budget, scan.shards[2].rows]


def _inject(root, manifest) -> dict:
    """Failures across shards: ids repeated across and within shards, a train text in the probe, a bad
    VAD value in the 2nd shard, unknown languages in two shards (more offending rows than examples), a
    collapsed probe valence, an optional column missing from one shard, an off dev fraction."""
    train = pq.read_table(root / TRAIN).to_pylist()

    def change_train(rs):
        rs[3]["qc_flags"]["lang"] = "de"
        rs[4]["qc_flags"]["lang"] = "fr"
        rs[6]["id"] = rs[2]["id"]                                   # repeated within the shard
        for r in rs:
            r["vad"]["v"] = 0.95                                    # GoEmotions valence collapses (warning)

    def change_dev(rs):
        rs[0]["id"] = train[5]["id"]                                # repeated across shards (and roles)
        rs[1]["vad"]["a"] = 1.7                                     # bad VAD in the 2nd shard

    def change_probe(rs):
        rs[2]["text"] = "  " + train[9]["text"].upper()             # a train text leaks into the probe
        for i in (0, 1, 5, 7):
            rs[i]["qc_flags"]["lang"] = "es"
        rs[8]["id"] = train[11]["id"]

    rewrite(root, TRAIN, change_train)
    rewrite(root, DEV, change_dev)
    rewrite(root, PROBE, change_probe)
    table = pq.read_table(root / DEV)
    pq.write_table(table.drop_columns(["weak_probs"]), root / DEV)
    return manifest | {"dev_frac": 0.3}


def test_injected_failures_same_results(tiny_copy):
    root, manifest = tiny_copy
    manifest = _inject(root, manifest)
    for batch_rows in (1, 60, 10 ** 6):
        result = same_as_whole(root, manifest, batch_rows)
    assert not result["success"]
    failing = {o["check"] for o in result["outcomes"] if not o["success"]}
    assert {"record.id_unique", "mix.no_id_across_roles", "mix.no_text_across_roles", "record.vad_a_range",
            "record.qc_lang_en", "distribution.vad_v_mean", "mix.dev_frac.goemotions"} <= failing
    unique = outcome(result, "record.id_unique")
    assert unique["observed"]["unexpected_count"] == 6 and len(unique["unexpected_examples"]) == 5
    lang = outcome(result, "record.qc_lang_en")
    assert lang["observed"]["unexpected_count"] == 6
    assert [e["shard"] for e in lang["unexpected_examples"]] == ["goemotions/train"] * 2 + \
        ["dailydialog/dev_dailydialog_weak"] * 3
    assert "record.weak_probs_nulls_zero" in {o["check"] for o in result["outcomes"]}


def test_hash_collisions_neither_fail_nor_pass_a_check(tiny_copy, monkeypatch):
    """Every id and text hashing alike makes every row a candidate; exact confirmation keeps the results."""
    root, manifest = tiny_copy
    monkeypatch.setattr(scan_module, "_hash", lambda values: scan_module.pd.util.hash_array(
        values, categorize=False) * 0)
    clean = same_as_whole(root, manifest)
    assert clean["success"]
    manifest = _inject(root, manifest)
    assert not same_as_whole(root, manifest)["success"]


@pytest.mark.parametrize("batch_rows", [1, 10 ** 6])
def test_without_records(tiny_copy, batch_rows):
    root, manifest = tiny_copy
    manifest = manifest | {"shards": [s for s in manifest["shards"] if s["role"] == "pairs"]}
    same_as_whole(root, manifest, batch_rows)


@pytest.mark.parametrize("layout", ["sorted", "unsorted", "sorted_nan", "null_source", "one_source"])
def test_vad_stats_source_by_source_equal_all_at_once(layout):
    """pandas sums a group's values with np.add.reduceat (sorted groups, no NaN) or a compensated sum:
    the streamed stats take the same path, so the means agree to the last bit."""
    import numpy as np
    import pandas as pd

    from expectations.small_frames import vad_stats
    from expectations.streamed import VadValues

    rng = np.random.default_rng(7)
    n = 3000
    names = {"sorted": ["a"] * 1000 + ["b"] * 1200 + ["c"] * 800, "unsorted": ["c"] * 1000 + ["a"] * 2000,
             "sorted_nan": ["a"] * 1500 + ["b"] * 1500, "null_source": [None] * 10 + ["b"] * 2990,
             "one_source": ["b"] * n}[layout]
    frame = pd.DataFrame({"source": np.array(names, dtype=object)} |
                         {c: rng.random(n) * 0.7 + 0.1 for c in ("vad_v", "vad_a", "vad_d")})
    if layout == "sorted_nan":
        frame.loc[2000, "vad_a"] = np.nan
    whole = vad_stats(frame)
    streamed = VadValues()
    for start in range(0, n, 700):
        streamed.add(frame.iloc[start:start + 700].reset_index(drop=True))
    got = streamed.stats()
    assert got.equals(whole), (got.to_dict(), whole.to_dict())
    assert (got.to_numpy() == whole.to_numpy()).all() or got.isna().equals(whole.isna())


def test_hashed_candidates_equal_the_per_key_counts():
    """Pass 1's sort-based candidate rows equal the whole-frame per-key role counts (> 1) and repeats."""
    import numpy as np
    import pyarrow as pa

    from expectations.frames import _roles_per_key
    from expectations.scan import _multi_role_rows, _repeated_rows

    rng = np.random.default_rng(1)
    for _ in range(300):
        n = int(rng.integers(0, 60))
        keys = rng.integers(0, 8, n).astype(np.uint64)
        roles = rng.integers(-1, 4, n).astype(np.int8)
        counts = _roles_per_key(pa.array(keys.astype(np.int64)), roles.astype(np.int64))
        assert np.array_equal(_multi_role_rows(keys, roles), np.flatnonzero(counts > 1))
        rows = np.flatnonzero(rng.random(n) < 0.8)
        _, inverse, seen = np.unique(keys[rows], return_inverse=True, return_counts=True)
        assert np.array_equal(_repeated_rows(keys, rows), rows[seen[inverse] > 1])
