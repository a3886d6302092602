"""The QC gate's appraisal expectations (issue 17): every atom present, never null, within [0, 1]."""
from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from emodata.core.schema import APPRAISAL_TYPE
from emodata.shards import write_parquet
from expectations import run_gate
from tests.test_expectations import (_set_optional_columns, clean_result, example_ids, failed,  # noqa: F401
                                     tiny_build, tiny_copy)

TRAIN = "data/goemotions/train.parquet"


def test_build_gate_checks_every_atom(clean_result):
    """The build's gate runs presence, not-null and range checks for all atoms, and they pass."""
    outcomes = {o.check: o for o in clean_result.outcomes}
    assert len(APPRAISAL_TYPE.names) == 11
    for atom in APPRAISAL_TYPE.names:
        for kind in ("present", "not_null", "range"):
            name = f"record.appraisal_{atom}_{kind}"
            assert name in outcomes and outcomes[name].success, name


def test_null_or_out_of_range_atom_fails_the_gate(tiny_copy):
    root, manifest = tiny_copy
    _set_optional_columns(root, manifest, lambda i: [0.2, 0.8],
                          lambda i: {"effort": None if i == 2 else 0.4, "attention": 1.3 if i == 5 else 0.6})
    train = pq.read_table(root / TRAIN).column("id").to_pylist()
    result = run_gate(root, manifest)
    assert not result.success
    assert train[2] in example_ids(failed(result, "record.appraisal_effort_not_null"))
    assert train[5] in example_ids(failed(result, "record.appraisal_attention_range"))
    assert all(o.success for o in result.outcomes if o.check == "record.appraisal_prototype_effort_range")


def test_missing_atom_fails_the_gate(tiny_copy):
    """A shard whose appraisal struct lacks an atom fails presence (`column_types` covers required columns only)."""
    root, manifest = tiny_copy
    for shard in manifest["shards"]:
        if shard["role"] == "pairs":
            continue
        table = pq.read_table(root / shard["path"])
        col = table.column("appraisal").combine_chunks()
        keep = [f.name for f in APPRAISAL_TYPE if f.name != "circumstance"]
        fields = [pc.struct_field(col, APPRAISAL_TYPE.get_field_index(n)) for n in keep]
        struct = pa.StructArray.from_arrays(fields, names=keep)
        i = table.schema.get_field_index("appraisal")
        write_parquet(table.set_column(i, pa.field("appraisal", struct.type), struct), root / shard["path"])
    result = run_gate(root, manifest)
    assert not result.success
    failed(result, "record.appraisal_circumstance_present")
