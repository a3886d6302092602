"""The record schema: one Arrow schema that every shard, export and loader agrees on."""
from __future__ import annotations

import pyarrow as pa

VAD_TYPE = pa.struct([("v", pa.float64()), ("a", pa.float64()), ("d", pa.float64())])
QC_TYPE = pa.struct([
    ("lang", pa.string()),          # declared by the source card (all sources are English)
    ("len", pa.int32()),            # word tokens (punctuation and spaces excluded)
    ("len_ok", pa.bool_()),         # within the length filter
    ("dedup", pa.bool_()),          # survived de-duplication by sha1(text‖id) and exact text
    ("tox", pa.bool_()),            # toxicity: null = not assessed
    ("example_unclear", pa.bool_()),  # GoEmotions raw: a rater marked example_very_unclear
])

RECORD_SCHEMA = pa.schema([
    ("id", pa.string()),
    ("source", pa.string()),
    ("split", pa.string()),
    ("source_split", pa.string()),
    ("text", pa.string()),
    ("context", pa.list_(pa.string())),
    ("speaker", pa.string()),
    ("conv_id", pa.string()),
    ("turn", pa.int32()),
    ("situation", pa.string()),
    ("labels", pa.list_(pa.string())),
    ("labels_ekman", pa.list_(pa.string())),
    ("source_labels", pa.list_(pa.string())),
    ("vad", VAD_TYPE),
    ("vad_conf", pa.float64()),
    ("rationale", pa.string()),
    ("qc_flags", QC_TYPE),
    ("dedup_key", pa.string()),
])

#: Split names a record may carry.
SPLITS = ("train", "dev", "test")
