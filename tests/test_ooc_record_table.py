"""The record table is built column by column (issue #18, write stage cost): missing values, NaN, list
and struct columns come out as the record schema says."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from emodata.core.schema import RECORD_SCHEMA
from emodata.shards import encode_table, record_to_json, to_record_table


def _frame() -> pd.DataFrame:
    return pd.DataFrame({
        "id": ["a:1", "b:2", "c:3"], "source": ["a", "b", "c"], "source_split": ["train", "validation", "train"],
        "text": ["I am glad", "so sad ünïcode", "hm"], "context": [np.array([], object), np.array(["hi", "yo"], object),
                                                                  np.array(["x"], object)],
        "speaker": [None, "A", float("nan")], "conv_id": [float("nan"), "c1", None], "turn": [float("nan"), 2.0, 0.0],
        "situation": [None, "lost my dog", float("nan")],
        "labels": [np.array(["joy"], object), np.array(["sadness", "grief"], object), np.array([], object)],
        "source_labels": [np.array(["joy"], object), np.array(["sad"], object), np.array([], object)],
        "vad_v": [0.5, float("nan"), 0.25], "vad_a": [0.1, 0.2, 0.3], "vad_d": [0.9, 0.8, 0.7],
        "vad_conf": [0.75, float("nan"), 1.0], "rationale": ["r1", "r2", "r3"], "n_tokens": [3, 40, 1],
        "example_unclear": [False, True, False], "dedup_key": ["k1", "k2", "k3"],
        "weak_labels": [["joy"], None, []], "weak_probs": [[0.5, 0.5], None, [1.0]],
    })


def test_record_columns_carry_missing_values_lists_and_structs_as_the_schema_says():
    table = to_record_table(_frame(), "train", min_tokens=2, max_tokens=32)
    assert table.schema == RECORD_SCHEMA
    rows = table.to_pylist()
    assert [r["speaker"] for r in rows] == [None, "A", None]
    assert [r["conv_id"] for r in rows] == [None, "c1", None] and [r["turn"] for r in rows] == [None, 2, 0]
    assert [r["situation"] for r in rows] == [None, "lost my dog", None]
    assert [r["context"] for r in rows] == [[], ["hi", "yo"], ["x"]]
    assert [r["labels_ekman"] for r in rows] == [["joy"], ["sadness"], []]
    assert math.isnan(rows[1]["vad"]["v"]) and rows[0]["vad"] == {"v": 0.5, "a": 0.1, "d": 0.9}
    assert math.isnan(rows[1]["vad_conf"]) and rows[2]["vad_conf"] == 1.0
    assert [r["qc_flags"]["len_ok"] for r in rows] == [True, False, False]
    assert rows[1]["qc_flags"] == {"lang": "en", "len": 40, "len_ok": False, "dedup": True, "tox": None,
                                   "example_unclear": True}
    assert [r["split"] for r in rows] == ["train"] * 3
    assert [r["weak_labels"] for r in rows] == [["joy"], None, []] and rows[1]["weak_probs"] is None
    assert all(r["appraisal"] is None and r["weak_labels_ekman"] is None for r in rows)  # absent columns: null


def test_jsonl_lines_are_the_records_in_schema_order():
    table = to_record_table(_frame().iloc[[2, 0]], "dev", min_tokens=2, max_tokens=32)
    lines = encode_table(table).jsonl.decode("utf-8").splitlines()
    assert lines == [record_to_json(r) for r in table.to_pylist()]
    assert lines[0].startswith('{"id": "c:3", "source": "c", "split": "dev"') and "ünïcode" not in lines[0]
