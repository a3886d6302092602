"""Models are fit on a bounded, seeded, recorded sample of the train rows (issue #18 item 2)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from emodata.build import build
from emodata.core.errors import EmodataError
from emodata.weak import fit_sample

from tests.conftest import sample_config


def test_fit_sample_is_all_rows_up_to_the_cap_then_a_seeded_sorted_sample():
    positions, record = fit_sample(10, 20, 3)
    assert positions.tolist() == list(range(10)) and record["method"] == "all rows"
    positions, record = fit_sample(1000, 50, 3)
    assert len(positions) == 50 == len(np.unique(positions)) and (np.diff(positions) > 0).all()
    assert positions.tolist() == fit_sample(1000, 50, 3)[0].tolist() != fit_sample(1000, 50, 4)[0].tolist()
    assert record | {"method": None} == {"rows": 50, "population_rows": 1000, "max_rows": 50, "seed": 3,
                                         "population": record["population"], "method": None}
    with pytest.raises(ValueError, match="fit-rows"):
        fit_sample(5, 0, 1)


def test_small_cap_is_recorded_and_bounds_every_fit_while_a_large_cap_changes_nothing(tmp_path):
    cache = str(tmp_path / "cache")
    (default,) = build(sample_config(tmp_path / "default", cache_dir=cache))
    (large,) = build(sample_config(tmp_path / "large", cache_dir=cache, fit_rows=10**9))
    (small,) = build(sample_config(tmp_path / "small", cache_dir=cache, fit_rows=12, label_model="auto"))
    m_default, m_large, m_small = (json.loads(r.manifest_path.read_text()) for r in (default, large, small))
    n_train = m_default["counts"]["train"]
    assert m_default["weak_supervision"]["fit_sample"]["rows"] == n_train == \
        m_default["weak_supervision"]["fit_sample"]["population_rows"] > 12
    # Below the cap the sample is every train row: every shard is the same bytes.
    assert [s["sha1"] for s in m_large["shards"]] == [s["sha1"] for s in m_default["shards"]]
    sample = m_small["weak_supervision"]["fit_sample"]
    assert sample["rows"] == 12 and sample["population_rows"] == n_train and sample["seed"] == 42
    assert all(m["trained_rows"] <= 12 for m in m_small["end_model"]["models"].values())
    assert m_small["counts"] == m_default["counts"]  # rows beyond the sample are still labelled and written
    with pytest.raises(EmodataError, match="--fit-rows"):
        build(sample_config(tmp_path / "bad", cache_dir=cache, fit_rows=0))
