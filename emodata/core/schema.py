"""The record schema: one Arrow schema that every shard, export and loader agrees on."""
from __future__ import annotations

import pyarrow as pa

from catalog.appraisal import load_prototypes

VAD_TYPE = pa.struct([("v", pa.float64()), ("a", pa.float64()), ("d", pa.float64())])
QC_TYPE = pa.struct([
    ("lang", pa.string()),          # declared by the source card (all sources are English)
    ("len", pa.int32()),            # word tokens (punctuation and spaces excluded)
    ("len_ok", pa.bool_()),         # within the length filter
    ("dedup", pa.bool_()),          # survived de-duplication by sha1(text‖id) and exact text
    ("tox", pa.bool_()),            # toxicity: null = not assessed
    ("example_unclear", pa.bool_()),  # GoEmotions raw: a rater marked example_very_unclear
])

#: Appraisal atoms (catalog/appraisal/prototypes.yaml), each a probability of "high"; null = unknown.
APPRAISAL_TYPE = pa.struct([(atom, pa.float64()) for atom in load_prototypes().atoms])

#: The record columns every shard has (fields of RECORD_SCHEMA, in order).
_BASE_FIELDS = [
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
]
#: The columns of the weak-supervision and appraisal stages (checked only where a shard has them).
_WEAK_FIELDS = [
    # Weak supervision (labeling_functions/): label sets read off the LF aggregator's class
    # distribution over the fine labels (GoEmotions-28) and over Ekman-7; probs null = every LF abstained.
    ("weak_labels", pa.list_(pa.string())),
    ("weak_probs", pa.list_(pa.float64())),
    ("weak_labels_ekman", pa.list_(pa.string())),
    ("weak_probs_ekman", pa.list_(pa.float64())),
    # Appraisal atoms: the enISEAR-trained classifier's calibrated P(high) per atom (all 7 enISEAR
    # dimensions, `ENISEAR_MAP`, and the derived ones), and the prototype s̃(y) of the record's gold
    # labels (labeling_functions/appraisal/, catalog/appraisal/).
    ("appraisal", APPRAISAL_TYPE),
    ("appraisal_prototype", APPRAISAL_TYPE),
]
RECORD_SCHEMA = pa.schema(_BASE_FIELDS + _WEAK_FIELDS)

#: Columns every record shard must have (the QC gate's `record.required_columns`).
REQUIRED_COLUMNS = tuple(name for name, _ in _BASE_FIELDS)

#: Split names a record may carry.
SPLITS = ("train", "dev", "test")

#: Record columns that hold label names of a fixed label space: HF `ClassLabel`s (unified / Ekman-7).
CLASS_LABEL_COLUMNS = {"labels": "unified", "weak_labels": "unified", "labels_ekman": "ekman7",
                       "weak_labels_ekman": "ekman7"}


def hf_features(schema: pa.Schema, label_names: dict[str, list[str]] | None = None):
    """Hugging Face `datasets.Features` derived from an Arrow schema (no second copy of the schema):
    `CLASS_LABEL_COLUMNS` present in `schema` become `Sequence(ClassLabel(names=...))` of the label space
    named there (`label_names` maps a space to its names; default: the catalog's unified and Ekman-7)."""
    from datasets import ClassLabel, Features, Sequence

    if label_names is None:
        from catalog import load_catalog

        catalog = load_catalog()
        label_names = {"unified": list(catalog.unified_labels), "ekman7": list(catalog.taxonomies["ekman7"].labels)}
    features = Features.from_arrow_schema(pa.schema([f.remove_metadata() for f in schema]))
    for column, space in CLASS_LABEL_COLUMNS.items():
        if column in features:
            features[column] = Sequence(ClassLabel(names=label_names[space]))
    return features
