"""Import a build into external trainers: HF `datasets`, record JSONL, chat-messages SFT JSONL."""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from trainer.contract import sft_example

from .manifest import Manifest
from .shards import record_to_json


def features(labels: list[str], ekman_labels: list[str]):
    """HF `datasets` features of the record schema (labels as Sequence(ClassLabel), vad as a struct)."""
    from datasets import ClassLabel, Features, Sequence, Value

    from catalog.appraisal import load_prototypes

    atoms = load_prototypes().atoms
    string = Value("string")
    return Features({
        "id": string, "source": string, "split": string, "source_split": string, "text": string,
        "context": Sequence(string), "speaker": string, "conv_id": string, "turn": Value("int32"),
        "situation": string, "labels": Sequence(ClassLabel(names=labels)),
        "labels_ekman": Sequence(ClassLabel(names=ekman_labels)), "source_labels": Sequence(string),
        "vad": {"v": Value("float64"), "a": Value("float64"), "d": Value("float64")},
        "vad_conf": Value("float64"), "rationale": string,
        "qc_flags": {"lang": string, "len": Value("int32"), "len_ok": Value("bool"), "dedup": Value("bool"),
                     "tox": Value("bool"), "example_unclear": Value("bool")},
        "dedup_key": string,
        "weak_labels": Sequence(ClassLabel(names=labels)), "weak_probs": Sequence(Value("float64")),
        "weak_labels_ekman": Sequence(ClassLabel(names=ekman_labels)), "weak_probs_ekman": Sequence(Value("float64")),
        "appraisal": {atom: Value("float64") for atom in atoms},
        "appraisal_prototype": {atom: Value("float64") for atom in atoms},
    })


def read_split(manifest: Manifest, name: str) -> pa.Table:
    """All shards of one user-facing split (train, dev, test, dailydialog) as one Arrow table."""
    shards = manifest.split_names()[name]
    return pa.concat_tables([pq.read_table(manifest.shard_path(s)) for s in shards])


def load(manifest: str | Path):
    """The build as a `datasets.DatasetDict` (train, dev, test, dailydialog — those present)."""
    from datasets import Dataset, DatasetDict

    loaded = Manifest.load(manifest)
    feats = features(loaded.labels, loaded.data["label_space"]["ekman_labels"])
    out = {}
    for name in loaded.split_names():
        table = read_split(loaded, name)
        out[name] = Dataset.from_dict(table.to_pydict(), features=feats)
    return DatasetDict(out)


def _atomic_dir(final: Path):
    final.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{final.name}.tmp-", dir=final.parent))


def export(manifest: str | Path, fmt: str, out: str | Path | None = None) -> Path:
    """Write the build as `hf` (save_to_disk), `jsonl` (records) or `sft` (chat messages); atomic."""
    loaded = Manifest.load(manifest)
    final = Path(out) if out else loaded.root / "exports" / fmt
    if fmt not in ("hf", "jsonl", "sft"):
        raise ValueError(f"unknown export format {fmt!r} (hf, jsonl, sft)")
    tmp = _atomic_dir(final)
    try:
        if fmt == "hf":
            shutil.rmtree(tmp)
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
