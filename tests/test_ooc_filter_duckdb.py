"""The build's filter runs as one DuckDB query over the annotated parts (`mix.filter_parquet`); it keeps
exactly the rows `mix.filter_rows` keeps and counts the same drops (issue #18)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from emodata.mix import filter_parquet, filter_rows

THRESHOLDS = {"min_tokens": 3, "max_tokens": 12, "vad_conf_min": 0.5}


def _frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    conf = rng.random(n)
    conf[rng.random(n) < 0.05] = np.nan  # NaN confidence: no rule drops it (as in pandas)
    return pd.DataFrame({"n_covered": rng.integers(0, 4, n), "n_tokens": rng.integers(0, 16, n), "vad_conf": conf,
                         "dedup_key": [f"d{k}" for k in rng.integers(0, n // 2, n)],
                         "text_key": [f"t{k}" for k in rng.integers(0, n // 3, n)]})


def test_the_duckdb_filter_keeps_the_rows_and_counts_the_drops_of_the_pandas_filter(tmp_path):
    frame = _frame(3_000, 5)
    paths, start = [], 0
    for i, stop in enumerate([700, 700, 1_900, 3_000]):  # uneven parts, one of them empty
        path = tmp_path / f"part-{i:05d}.parquet"
        pq.write_table(pa.Table.from_pandas(frame.iloc[start:stop], preserve_index=False), path, row_group_size=97)
        paths.append(path)
        start = stop
    expected = filter_rows(frame.assign(_pos=np.arange(len(frame))), **THRESHOLDS)
    positions, drops = filter_parquet(paths, **THRESHOLDS)
    assert np.array_equal(positions, expected[0]["_pos"].to_numpy())
    assert drops == expected[1] and len(drops) == 6  # every rule fired
    assert sum(drops.values()) + len(positions) == len(frame)


def test_no_parts_keep_nothing():
    positions, drops = filter_parquet([], **THRESHOLDS)
    assert len(positions) == 0 and not drops
