"""The dataset card: a Hugging Face README.md written from a build's manifest.

`render_card(manifest)` returns the card text: YAML front matter in the Hub's dataset-card format
(licenses, language, task, size category, one `configs:` entry whose `data_files` list the build's
Parquet shards per split, and `dataset_info` with each split's row count), followed by Markdown
sections, one per heading in `SECTION_HEADINGS` (emodata/card_sections.py and, for "How the
annotations were produced", emodata/card_annotations.py):

  sources and citations (from the catalog cards), label space and label maps, how the annotations
  were produced (lexicon VAD; weak labels, appraisal atoms and Valence-Flip pairs are described when
  the manifest has them — `weak_supervision` with `lf_analysis`, `appraisal` with `artifacts`, `pairs`
  or shards with role "pairs" — and say "not in this build" otherwise), splits and files, QC results
  (the gate's summary, manifest key `qc`), known limitations and biases, license terms, and how to
  reproduce and load the build.

Valence-Flip pair shards (role "pairs") have their own columns (emodata/flips PAIRS_SCHEMA), so they
are never a split of the records config: when present they form a second config
`<name>_flip_pairs` with a single `train` split, and the records config stays the default.

Everything comes from the typed manifest (`emodata.core.manifest.Manifest`; a manifest's JSON dict is
accepted too) and the catalog; nothing is time-dependent, so the same manifest always gives the same
card. `write_card(root, manifest)` writes it to ROOT/README.md, which makes the build folder loadable
with `datasets.load_dataset(ROOT)` and uploadable to the Hub as is.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from catalog import load_catalog

from emodata.card_annotations import annotations_section
from emodata.card_markdown import HF_LICENSES, hf_license_id, license_of, md_table, title_of
from emodata.card_sections import (build_command, hub_split, label_maps_section, license_section, limitations_section, qc_section,
                                   reproduce_section, sources_section, splits_section, summary_section)
from emodata.core.manifest import Manifest, Shard

#: Markdown (level-2) headings of the card, in order. Tests and tools may rely on them.
SECTION_HEADINGS = (
    "Dataset summary",
    "Sources and citations",
    "Label space and label maps",
    "How the annotations were produced",
    "Splits and files",
    "QC results",
    "Known limitations and biases",
    "License terms",
    "Reproducing and loading this build",
)
#: Level-3 headings inside "How the annotations were produced".
ANNOTATION_HEADINGS = ("Lexicon VAD", "Weak labels", "Appraisal atoms", "Valence-Flip pairs")

#: The Hub's size categories: (upper bound exclusive, label).
SIZE_CATEGORIES = (
    (1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M"),
    (10_000_000, "1M<n<10M"), (100_000_000, "10M<n<100M"), (1_000_000_000, "100M<n<1B"),
)

#: Hub `annotations_creators` / `language_creators` per catalog source (as on the sources' own Hub cards).
CREATORS = {
    "goemotions": (("crowdsourced",), ("found",)),
    "empatheticdialogues": (("crowdsourced",), ("crowdsourced",)),
    "dailydialog": (("expert-generated",), ("found",)),
}


def size_category(n: int) -> str:
    """The Hub's size category for `n` rows (e.g. 4,200 → "1K<n<10K")."""
    for bound, label in SIZE_CATEGORIES:
        if n < bound:
            return label
    return "n>1T"


def _pretty_name(manifest: Manifest) -> str:
    mix = manifest.mix
    if mix.a and mix.b:
        return (f"emodata {title_of(mix.source_a)}:{title_of(mix.source_b)} {mix.a}:{mix.b} emotion mixture "
                f"({manifest.name})")
    return f"emodata {title_of(mix.source_a if mix.a else mix.source_b)} emotion dataset ({manifest.name})"


def split_bytes(root: Path, shards: list[Shard]) -> tuple[int, int]:
    """(Arrow bytes in memory, Parquet bytes on disk) of some shards of the build at `root`."""
    import pyarrow.parquet as pq

    memory = disk = 0
    for shard in shards:
        path = Path(root) / shard.path
        memory += pq.read_table(path).nbytes
        disk += path.stat().st_size
    return memory, disk


def hub_features(manifest: Manifest, pairs: bool = False) -> list:
    """`dataset_info.features` as `datasets` writes it into a card: derived from the record schema
    (label columns as ClassLabel of the build's label spaces), or from the flip pairs' schema."""
    from emodata.core.schema import RECORD_SCHEMA, hf_features

    if pairs:
        from emodata.flips import PAIRS_SCHEMA

        return hf_features(PAIRS_SCHEMA)._to_yaml_list()
    space = manifest.label_space
    names = None
    if space.labels and space.ekman_labels:
        names = {"unified": list(space.labels), "ekman7": list(space.ekman_labels)}
    return hf_features(RECORD_SCHEMA, names)._to_yaml_list()


def _split_infos(config_name: str, groups: dict[str, list[Shard]], root: Path | None,
                 features: list | None = None) -> dict:
    """A `dataset_info` entry; sizes (num_bytes, download_size, dataset_size) only when `root` is known."""
    splits, memory_total, disk_total = [], 0, 0
    for split, shards in groups.items():
        entry: dict[str, Any] = {"name": hub_split(split)}
        if root is not None:
            memory, disk = split_bytes(root, shards)
            entry["num_bytes"] = memory
            memory_total += memory
            disk_total += disk
        entry["num_examples"] = sum(s.rows for s in shards)
        splits.append(entry)
    info: dict[str, Any] = {"config_name": config_name, "splits": splits}
    if features is not None:
        info = {"config_name": config_name, "features": features, "splits": splits}
    if root is not None:
        info["download_size"] = disk_total
        info["dataset_size"] = memory_total
    return info


def card_metadata(manifest: Manifest | dict, root: Path | None = None) -> dict:
    """The card's YAML front matter as a dict (Hub dataset-card fields).

    With the build `root`, each split also gets `num_bytes` (Arrow size, which the `datasets` library
    wants beside `num_examples` to use the split list) and the config its download/dataset sizes.
    """
    manifest = Manifest.coerce(manifest)
    name, groups, sources = manifest.name, manifest.split_names(), manifest.built_sources()
    licenses = []
    for source in sources:
        lic = hf_license_id(license_of(manifest, source))
        if lic not in licenses:
            licenses.append(lic)
    total = sum(s.rows for shards in groups.values() for s in shards)
    configs = [{"config_name": name, "default": True,
                "data_files": [{"split": hub_split(split), "path": [s.path for s in shards]}
                               for split, shards in groups.items()]}]
    infos = [_split_infos(name, groups, root, hub_features(manifest))]
    pairs = manifest.pair_shards()
    if pairs:
        pair_config = f"{name}_flip_pairs"
        configs.append({"config_name": pair_config,
                        "data_files": [{"split": "train", "path": [s.path for s in pairs]}]})
        infos.append(_split_infos(pair_config, {"train": pairs}, root, hub_features(manifest, pairs=True)))
    annotators = sorted({c for s in sources for c in CREATORS.get(s, ((), ()))[0]}) + ["machine-generated"]
    writers = sorted({c for s in sources for c in CREATORS.get(s, ((), ("found",)))[1]})
    catalog = load_catalog()
    return {
        "license": licenses[0] if len(licenses) == 1 else licenses,
        "language": ["en"],
        "multilinguality": ["monolingual"],
        "annotations_creators": annotators,
        "language_creators": writers,
        "source_datasets": [catalog.sources[s].hub_id if s in catalog.sources else s for s in sources],
        "task_categories": ["text-classification"],
        "task_ids": ["multi-label-classification"],
        "size_categories": [size_category(total)],
        "pretty_name": _pretty_name(manifest),
        "tags": ["emotion", "valence-arousal-dominance", "weak-supervision", "emodata"],
        "configs": configs,
        "dataset_info": infos[0] if len(infos) == 1 else infos,
    }


def render_card(manifest: Manifest | dict, root: Path | None = None) -> str:
    """The Hugging Face dataset card (README.md text) of a build, from its manifest.

    Pass the build `root` to add split sizes in bytes (read from the shards); without it the card has
    row counts only, which the Hub accepts but `datasets.load_dataset` then does not use to verify splits.
    """
    from huggingface_hub import DatasetCard, DatasetCardData

    manifest = Manifest.coerce(manifest)
    card_data = DatasetCardData(**card_metadata(manifest, root))
    body = dict(zip(SECTION_HEADINGS, (summary_section, sources_section, label_maps_section, annotations_section,
                                       splits_section, qc_section, limitations_section, license_section,
                                       reproduce_section)))
    parts = [f"# {_pretty_name(manifest)}", ""]
    for heading in SECTION_HEADINGS:
        parts += [f"## {heading}", ""] + body[heading](manifest) + [""]
    text = "\n".join(parts).rstrip() + "\n"
    return str(DatasetCard(f"---\n{card_data.to_yaml()}\n---\n\n{text}"))


def write_card(root: Path, manifest: Manifest | dict) -> Path:
    """Write the dataset card to ROOT/README.md and return its path."""
    path = Path(root) / "README.md"
    path.write_text(render_card(manifest, root), encoding="utf-8")
    return path


# ------------------------------------------------------------------------------------------------------------
# The dict accessors card.py used to hold, kept importable for this merge (emodata/report.py imports the qc_*
# names); new code uses the typed `Manifest` (split_names, pair_shards, has_flips, built_sources, qc) instead.

__all__ = ["ANNOTATION_HEADINGS", "HF_LICENSES", "SECTION_HEADINGS", "build_command", "card_metadata",
           "hf_license_id", "hub_features", "md_table", "render_card", "size_category", "write_card"]
