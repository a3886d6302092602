"""Import a build into external trainers: HF `datasets`, record JSONL, chat-messages SFT JSONL.

Shards are read by the one verified shard reader (`emodata.core.reader`: paths inside the build, SHA-1
and row counts as the manifest lists them); the HF features are derived from the record schema
(`emodata.core.schema.hf_features`), never written out again here."""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from emodata.core.contract import sft_example
from emodata.core.errors import EmodataError
from emodata.core.manifest import Manifest
from emodata.core.reader import read_split, read_splits
from emodata.core.schema import RECORD_SCHEMA, hf_features
from emodata.shards import record_to_json


#: The Hub's split name for each build role ("dev" files are the paper's dev split, `validation` on the Hub).
HUB_SPLIT_NAMES = {"dev": "validation"}


def features(labels: list[str], ekman_labels: list[str]):
    """HF `datasets` features of the record schema (`emodata.core.schema.hf_features`: label columns as
    Sequence(ClassLabel) of the build's label spaces)."""
    return hf_features(RECORD_SCHEMA, {"unified": list(labels), "ekman7": list(ekman_labels)})


def _class_ids(column: pa.ChunkedArray, names: list[str], where: str) -> pa.ChunkedArray:
    """A list<string> column as list<int64> ClassLabel ids (vectorised; null lists stay null)."""
    value_set = pa.array(names, pa.string())
    chunks = []
    for chunk in column.chunks:
        ids = pc.index_in(chunk.values, value_set=value_set)
        if ids.null_count != chunk.values.null_count:
            unknown = sorted(set(pc.filter(chunk.values, pc.is_null(ids)).to_pylist()) - {None})
            raise EmodataError(f"{where}: label(s) {unknown} are not in the build's label space")
        chunks.append(pa.ListArray.from_arrays(chunk.offsets, ids.cast(pa.int64()), mask=chunk.is_null()))
    return pa.chunked_array(chunks, pa.list_(pa.int64()))


def to_hf_table(table: pa.Table, feats, where: str) -> pa.Table:
    """A record table in the Arrow layout of `feats` (label names encoded as ClassLabel ids)."""
    from datasets import ClassLabel

    columns = []
    for name in table.column_names:
        feature = feats[name]
        inner = getattr(feature, "feature", None)
        if isinstance(inner, ClassLabel):
            columns.append(_class_ids(table[name], inner.names, f"{where} column {name}"))
        else:
            columns.append(table[name])
    return pa.Table.from_arrays(columns, schema=feats.arrow_schema)


def load(manifest: str | Path):
    """The build as a `datasets.DatasetDict` (train, validation (= the paper's dev), test, dailydialog —
    those present) with the same ClassLabel features `datasets.load_dataset(BUILD_DIR)` gives; shards go
    straight from Parquet to Arrow (no pandas or Python-object round trip)."""
    from datasets import Dataset, DatasetDict, DatasetInfo, NamedSplit

    loaded = Manifest.load(manifest)
    feats = features(loaded.labels, loaded.data["label_space"]["ekman_labels"])
    out = {}
    for name, split in read_splits(loaded).items():
        hub_name = HUB_SPLIT_NAMES.get(name, name)
        table = to_hf_table(split, feats, f"{loaded.path} split {name}")
        out[hub_name] = Dataset(table, info=DatasetInfo(features=feats), split=NamedSplit(hub_name))
    return DatasetDict(out)


def derived_root(manifest: Manifest) -> Path:
    """Where derived outputs (report, Data Docs, exports) go by default: OUT/mix_A_B-derived/, beside the
    frozen build, so the build folder holds exactly what its manifest lists."""
    return manifest.root.parent / f"{manifest.root.name}-derived"


def _atomic_dir(final: Path):
    final.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{final.name}.tmp-", dir=final.parent))


def export(manifest: str | Path, fmt: str, out: str | Path | None = None, overwrite: bool = False) -> Path:
    """Write the build as `hf` (save_to_disk), `jsonl` (records) or `sft` (chat messages); atomic.
    Default folder: `derived_root(manifest)/exports/FORMAT`; an existing one needs `overwrite`."""
    loaded = Manifest.load(manifest)
    final = Path(out) if out else derived_root(loaded) / "exports" / fmt
    if fmt not in ("hf", "jsonl", "sft"):
        raise ValueError(f"unknown export format {fmt!r} (hf, jsonl, sft)")
    if final.exists() and not overwrite:
        raise EmodataError(f"{final} already exists; pass --overwrite to replace it")
    tmp = _atomic_dir(final)
    try:
        if fmt == "hf":
            from datasets.utils.logging import disable_progress_bar

            shutil.rmtree(tmp)
            disable_progress_bar()  # datasets' own bars would interleave with our output
            load(manifest).save_to_disk(str(tmp))
        else:
            for name in loaded.split_names():
                with open(tmp / f"{name}.jsonl", "w", encoding="utf-8", newline="\n") as handle:
                    for record in read_split(loaded, name).to_pylist():
                        line = (json.dumps(sft_example(record, loaded.labels), ensure_ascii=False)
                                if fmt == "sft" else record_to_json(record))
                        handle.write(line + "\n")
        if final.exists():
            shutil.rmtree(final)
        os.rename(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final
