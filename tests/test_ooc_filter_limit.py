"""The DuckDB filter runs under a memory limit and spills into a temporary folder inside the build's OUT
(`spill_dir`), which is gone afterwards; the rows kept and the drops do not depend on the limit (#18)."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import emodata.mix as mix
from tests.test_ooc_filter_duckdb import THRESHOLDS, _frame


def test_the_filter_keeps_the_same_rows_under_a_small_memory_limit_and_leaves_no_spill_folder(tmp_path, monkeypatch):
    frame = _frame(40_000, 3)
    paths = []
    for i, start in enumerate(range(0, len(frame), 10_000)):
        paths.append(tmp_path / f"part-{i:05d}.parquet")
        pq.write_table(pa.Table.from_pandas(frame.iloc[start:start + 10_000], preserve_index=False), paths[-1])
    out = tmp_path / "out"
    positions, drops = mix.filter_parquet(paths, **THRESHOLDS, spill_dir=out)
    monkeypatch.setattr(mix, "FILTER_MEMORY_LIMIT", "20MB")
    small, small_drops = mix.filter_parquet(paths, **THRESHOLDS, spill_dir=out)
    assert np.array_equal(positions, small) and drops == small_drops and len(positions)
    assert list(out.iterdir()) == []
    monkeypatch.setattr(mix, "FILTER_MEMORY_LIMIT", "1MB")  # the limit is applied: too small to run at all
    with pytest.raises(Exception, match="(?i)out of memory"):
        mix.filter_parquet(paths, **THRESHOLDS, spill_dir=out)
    assert list(out.iterdir()) == []
