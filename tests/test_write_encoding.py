"""The write stage's column-wise encoders give the bytes of the per-row reference they replace.

`encode_jsonl` builds JSON text column by column; each line must be exactly `record_to_json` of the
row's record (json's own encoder, the writer before #18's write-stage work). `round_as_python` must give
the very floats Python's `round` gives, bit for bit.
"""
from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest

import emodata.shards as shards
from emodata.flips.pairs import PAIRS_SCHEMA
from emodata.shards import encode_jsonl, record_to_json
from emodata.core.rounding import round_as_python

ODD_TEXTS = ['plain', 'quote " and \\ backslash', "new\nline\ttab", "emoji 😀 and é", "per%cent %s %%", "",
             "\x00\x1f control", "\u2028 line separator", None]
ODD_FLOATS = [0.0, -0.0, 1e-05, 0.1, 1 / 3, 1e16, -2.5, 5e-324, 1.7976931348623157e308, float("nan"),
              float("inf"), float("-inf"), None]


def _reference(table: pa.Table) -> bytes:
    return "".join(record_to_json(record) + "\n" for record in table.to_pylist()).encode("utf-8")


def _odd_table(n: int) -> pa.Table:
    rng = np.random.default_rng(7)
    pick = lambda values: [values[i] for i in rng.integers(0, len(values), n)]  # noqa: E731
    lists = [None, [], ["a"], ["b", None, 'c"'], ["x%y"]]
    structs = [None, {"v": 0.5, "w": None}, {"v": float("nan"), "w": "é"}, {"v": -0.0, "w": ""}]
    return pa.table({
        "text": pa.array(pick(ODD_TEXTS), pa.string()),
        "big": pa.array(pick(ODD_TEXTS), pa.large_string()),
        "x": pa.array(pick(ODD_FLOATS), pa.float64()),
        "x32": pa.array(pick([0.1, -0.0, None, 3.0]), pa.float32()),
        "n": pa.array(pick([0, -1, 2 ** 40, None]), pa.int64()),
        "k": pa.array(pick([1, None, 7]), pa.int32()),
        "flag": pa.array(pick([True, False, None]), pa.bool_()),
        "nothing": pa.nulls(n),
        "tags": pa.array(pick(lists), pa.list_(pa.string())),
        "probs": pa.array(pick([None, [0.0, 1.0], [float("nan")], []]), pa.list_(pa.float64())),
        "s": pa.array(pick(structs), pa.struct([("v", pa.float64()), ("w", pa.string())])),
        "odd % \"name\"": pa.array(pick([1.5, None]), pa.float64()),
        "when": pa.array(pick([0, 86_400_000_000, None]), pa.timestamp("us")).cast(pa.string()),
    })


def test_jsonl_matches_json_per_record_on_odd_values(monkeypatch):
    table = _odd_table(997)
    monkeypatch.setattr(shards, "JSONL_BATCH_ROWS", 100)  # batches cut list and struct columns mid-table
    assert encode_jsonl(table) == _reference(table)


def test_jsonl_of_a_sliced_chunked_table_and_of_no_rows():
    table = _odd_table(300)
    chunked = pa.concat_tables([table.slice(0, 120), table.slice(120, 50), table.slice(170)]).slice(33, 200)
    assert chunked.column("tags").num_chunks > 1
    assert encode_jsonl(chunked) == _reference(chunked)
    assert encode_jsonl(table.slice(0, 0)) == b""


def test_jsonl_of_the_pairs_schema_nested_struct():
    rows = [{"pair_id": f"p{i}", "id": f"i{i}", "id_flip": f"f{i}", "text": ODD_TEXTS[i % 8],
             "text_flip": "not %s", "kind": "negation",
             "targets": {"labels": ["joy", "anger"][: i % 3], "vad": None if i % 4 == 0 else
                         {"v": i / 7, "a": -0.0, "d": None}},
             "v": 0.25, "v_flip": None, "v_lex_flip": float(i), "s_flip": 1e-7} for i in range(50)]
    table = pa.Table.from_pylist(rows, schema=PAIRS_SCHEMA)
    assert encode_jsonl(table) == _reference(table)


def test_jsonl_unknown_types_fall_back_to_json():
    table = pa.table({"d": pa.array([{"a": 1}, None], pa.map_(pa.string(), pa.int64())),
                      "dict": pa.array(["x", "y", "x"] * 1, pa.string()).dictionary_encode().slice(0, 2)})
    assert encode_jsonl(table) == _reference(table)


@pytest.mark.parametrize("decimals", [0, 1, 4, 6])
def test_round_as_python_is_python_round_bit_for_bit(decimals):
    rng = np.random.default_rng(decimals)
    ties = (np.arange(20_001) + 0.5) / 10 ** 4  # x·10^4 close to a half: the cases numpy alone gets wrong
    values = np.concatenate([rng.random(200_000), rng.normal(0, 1e6, 20_000), ties, np.arange(0, 1.00001, 5e-5),
                             [math.nan, math.inf, -math.inf, -0.0, 0.0, -1e-9, 1e300, -1e300, 5e-324, 0.03125,
                              0.00015, 0.28485, 2.5e-5, 1e15 + 0.5]])
    out = round_as_python(values.reshape(-1, 2) if len(values) % 2 == 0 else values, decimals).reshape(-1)
    expected = np.array([round(x, decimals) for x in values.tolist()])
    assert np.array_equal(out.view(np.int64), expected.view(np.int64)), "a float differs from round()'s"


def test_record_table_of_no_rows_and_of_arrow_backed_columns():
    """A shard file's frame may have no rows (its weak columns then float64) or Arrow-backed columns (the
    appraisal struct, pandas' Arrow strings): the table is built either way, with the same values."""
    import pandas as pd

    from emodata.shards import RECORD_INPUT_COLUMNS, to_record_table
    from emodata.weak import _atom_structs

    row = {"id": "a:1", "source": "a", "source_split": "train", "text": "so glad", "context": ["hi"],
           "speaker": None, "conv_id": "c1", "turn": 2, "situation": float("nan"), "labels": ["joy"],
           "source_labels": ["joy"], "vad_v": 0.5, "vad_a": 0.5, "vad_d": 0.5, "vad_conf": 1.0, "rationale": "r",
           "n_tokens": 2, "example_unclear": False, "dedup_key": "k"}
    frame = pd.DataFrame([row, {**row, "id": "a:2", "text": "sad", "labels": []}])
    atoms = ["pleasantness", "attention"]
    with_struct = frame.assign(appraisal=_atom_structs(np.array([[0.123456, np.nan], [1.0, 0.5]]), atoms),
                               text=frame["text"].astype("string[pyarrow]"))
    table = to_record_table(with_struct, "train", 1, 10)
    assert table.column("appraisal").to_pylist()[0]["pleasantness"] == 0.1235
    assert table.column("appraisal").to_pylist()[0]["attention"] is None
    assert table.column("text").to_pylist() == ["so glad", "sad"]
    assert table.column("labels_ekman").to_pylist() == [["joy"], []]
    empty = frame.iloc[:0].assign(weak_labels=pd.Series([], dtype=float), weak_probs=pd.Series([], dtype=float))
    assert set(RECORD_INPUT_COLUMNS) <= set(empty.columns)
    assert to_record_table(empty, "train", 1, 10).num_rows == 0
