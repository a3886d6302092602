"""The pairs shard is assembled from per-partition Arrow tables (no whole list of dicts) and written
streamed; its bytes do not depend on how the drawn rows were partitioned (issue #18 item 3)."""
from __future__ import annotations

import hashlib
from collections import Counter

import pyarrow as pa
import pytest

from emodata.flips.draw import pairs_part, pairs_table
from emodata.flips.pairs import PAIRS_SCHEMA
from emodata.shards import encode_table, write_table


def _pairs(n: int) -> list[dict]:
    """PAIRS_SCHEMA rows whose nulls fall in some partitions only (validity bitmaps differ per part)."""
    return [{"pair_id": f"p{i:04d}", "id": f"goemotions:{i}", "id_flip": f"goemotions:{i}~flip",
             "text": f"I am {'not ' * (i % 2)}happy é{i}", "text_flip": None if i > n - 4 else f"flip {i}",
             "kind": ["negation", "antonym", "intensity"][i % 3],
             "targets": {"labels": ["joy", "sadness"][: i % 3], "vad": None if i < 3 else
                         {"v": i / 97, "a": 0.5, "d": None if i % 5 == 0 else 0.25}},
             "v": i / 89, "v_flip": 1 - i / 89, "v_lex_flip": None if i == 7 else 0.3, "s_flip": i / 1000}
            for i in range(n)]


@pytest.mark.parametrize("cuts", [[0, 40], [0, 1, 2, 40], [0, 10, 10, 37, 40], [0, 39, 40]])
def test_pairs_table_bytes_do_not_depend_on_partitions(cuts):
    rows = _pairs(40)
    expected = encode_table(pa.Table.from_pylist(rows, schema=PAIRS_SCHEMA))
    parts = [(rows[a:b], Counter({"rows:paired": b - a})) for a, b in zip(cuts, cuts[1:])]
    table, tally = pairs_table(parts, 55)
    assert encode_table(table) == expected
    assert tally["rows:paired"] == 40 and tally["rows:selected"] == 55
    # the engine's consume converts each partition as it arrives: same table
    consumed, _ = pairs_table([pairs_part(i, part) for i, part in enumerate(parts)], 55)
    assert consumed.equals(table) and all(c.num_chunks == 1 for c in table.columns)


def test_no_partitions_give_the_empty_pairs_shard():
    table, tally = pairs_table([], 0)
    assert table.schema == PAIRS_SCHEMA and table.num_rows == 0 and tally["rows:selected"] == 0
    assert encode_table(table) == encode_table(pa.Table.from_pylist([], schema=PAIRS_SCHEMA))


def test_write_table_streams_the_bytes_encode_table_gives(tmp_path, monkeypatch):
    import emodata.shards as shards

    monkeypatch.setattr(shards, "JSONL_BATCH_ROWS", 7)  # several pieces per file
    table = pa.Table.from_pylist(_pairs(40), schema=PAIRS_SCHEMA)
    encoded = encode_table(table)
    written = write_table(table, tmp_path / "sub" / "pairs")
    assert (tmp_path / "sub" / "pairs.parquet").read_bytes() == encoded.parquet
    assert (tmp_path / "sub" / "pairs.jsonl").read_bytes() == encoded.jsonl
    assert written.jsonl_sha1 == hashlib.sha1(encoded.jsonl).hexdigest()
    assert written.parquet_sha1 == hashlib.sha1(encoded.parquet).hexdigest() and written.rows == 40


def test_the_write_stage_freezes_the_long_lived_heap_and_always_thaws_it():
    import gc

    from emodata.freeze import long_lived_frozen

    assert gc.get_freeze_count() == 0
    with long_lived_frozen():
        assert gc.get_freeze_count() > 0  # objects alive on entry are left out of the stage's collections
    assert gc.get_freeze_count() == 0
    with pytest.raises(RuntimeError):
        with long_lived_frozen():
            raise RuntimeError("a failing stage")
    assert gc.get_freeze_count() == 0
