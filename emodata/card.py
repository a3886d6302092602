"""The dataset card: a Hugging Face README.md written from a build's manifest.

`render_card(manifest)` returns the card text: YAML front matter in the Hub's dataset-card format
(licenses, language, task, size category, one `configs:` entry whose `data_files` list the build's
Parquet shards per split, and `dataset_info` with each split's row count), followed by Markdown
sections, one per heading in `SECTION_HEADINGS`:

  sources and citations (from the catalog cards), label space and label maps, how the annotations
  were produced (lexicon VAD; weak labels, appraisal atoms and Valence-Flip pairs are described when
  the manifest has them — keys `weak_supervision` (or a legacy `weak_labels`) with `lf_analysis`,
  `appraisal` with `artifacts`, `pairs` or shards with role "pairs" — and say "not in this build"
  otherwise), splits and files, QC results (manifest key `qc`), known limitations and biases,
  license terms, and how to reproduce and load the build.

Valence-Flip pair shards (role "pairs") have their own columns (emodata/flips PAIRS_SCHEMA), so they
are never a split of the records config: when present they form a second config
`<name>_flip_pairs` with a single `train` split, and the records config stays the default.

Everything comes from the manifest and the catalog; nothing is time-dependent, so the same manifest
always gives the same card. `write_card(root, manifest)` writes it to ROOT/README.md, which makes the
build folder loadable with `datasets.load_dataset(ROOT)` and uploadable to the Hub as is.
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any, Iterable


from catalog import OTHER, load_catalog

from emodata.core.config import BuildConfig
from emodata.core.manifest import group_splits

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

#: Catalog license strings → Hugging Face license ids.
HF_LICENSES = {
    "cc by 4.0": "cc-by-4.0",
    "cc by-sa 4.0": "cc-by-sa-4.0",
    "cc by-nc 4.0": "cc-by-nc-4.0",
    "cc by-nc-sa 4.0": "cc-by-nc-sa-4.0",
    "cc by-nc-nd 4.0": "cc-by-nc-nd-4.0",
    "cc by-nd 4.0": "cc-by-nd-4.0",
    "cc by 3.0": "cc-by-3.0",
    "cc by-sa 3.0": "cc-by-sa-3.0",
    "cc by-nc 3.0": "cc-by-nc-3.0",
    "cc by-nc-sa 3.0": "cc-by-nc-sa-3.0",
    "cc by-nc-nd 3.0": "cc-by-nc-nd-3.0",
    "cc0 1.0": "cc0-1.0",
    "mit": "mit",
    "apache 2.0": "apache-2.0",
    "apache-2.0": "apache-2.0",
}

#: The Hub's size categories: (upper bound exclusive, label).
SIZE_CATEGORIES = (
    (1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M"),
    (10_000_000, "1M<n<10M"), (100_000_000, "10M<n<100M"), (1_000_000_000, "100M<n<1B"),
)

#: Shard roles that form the main config's splits; the probe's split is named after its source.
SPLIT_ROLES = ("train", "dev", "test")
PAIRS_ROLE = "pairs"

#: Hub `annotations_creators` / `language_creators` per catalog source (as on the sources' own Hub cards).
CREATORS = {
    "goemotions": (("crowdsourced",), ("found",)),
    "empatheticdialogues": (("crowdsourced",), ("crowdsourced",)),
    "dailydialog": (("expert-generated",), ("found",)),
}

#: What we know about each lexicon family: citation and terms (matched on the manifest lexicon name).
LEXICON_NOTES = {
    "nrc-vad": {
        "title": "NRC Valence, Arousal, and Dominance Lexicon (NRC-VAD)",
        "citation": "Saif M. Mohammad. 2018. Obtaining Reliable Human Ratings of Valence, Arousal, and "
                    "Dominance for 20,000 English Words. In Proceedings of ACL 2018, pages 174-184. "
                    "https://aclanthology.org/P18-1017",
        "terms": "Free for research and non-commercial use under the author's terms "
                 "(https://saifmohammad.com/WebPages/nrc-vad.html); commercial use needs a licence from "
                 "the National Research Council Canada. The lexicon is not redistributed in this dataset; "
                 "only utterance-level scores derived from it are.",
    },
    "nrclex-proxy": {
        "title": "VAD proxy derived from the NRC Emotion Lexicon (EmoLex) shipped in the nrclex package",
        "citation": "Saif M. Mohammad and Peter D. Turney. 2013. Crowdsourcing a Word-Emotion Association "
                    "Lexicon. Computational Intelligence 29(3): 436-465. The proxy maps each word's ten "
                    "binary EmoLex associations to V, A and D with 33 linear coefficients fitted on NRC-VAD v1 "
                    "(emodata/lexicon.py).",
        "terms": "EmoLex is free for research and non-commercial use under the author's terms "
                 "(https://saifmohammad.com/WebPages/NRC-Emotion-Lexicon.htm); the nrclex package that "
                 "ships the word list is MIT-licensed. Only utterance-level scores derived from it are "
                 "included here.",
    },
    "warriner": {
        "title": "Warriner et al. (2013) norms of valence, arousal and dominance",
        "citation": "Amy Beth Warriner, Victor Kuperman and Marc Brysbaert. 2013. Norms of valence, arousal, "
                    "and dominance for 13,915 English lemmas. Behavior Research Methods 45: 1191-1207. "
                    "https://doi.org/10.3758/s13428-012-0314-x",
        "terms": "Released by the authors as supplementary material for research use; check the authors' "
                 "terms before any commercial use. Ratings (1-9) are rescaled to (v-1)/8; only "
                 "utterance-level scores derived from them are included here.",
    },
}


# --------------------------------------------------------------------------------------------- helpers

def hf_license_id(license_text: str | None) -> str:
    """The Hugging Face license id of a catalog license string ("CC BY-NC 4.0" → "cc-by-nc-4.0")."""
    if not license_text:
        return "unknown"
    key = " ".join(license_text.strip().lower().replace("_", " ").split())
    if key in HF_LICENSES:
        return HF_LICENSES[key]
    if key.startswith("cc"):
        return key.replace(" ", "-")
    return "other"


def size_category(n: int) -> str:
    """The Hub's size category for `n` rows (e.g. 4,200 → "1K<n<10K")."""
    for bound, label in SIZE_CATEGORIES:
        if n < bound:
            return label
    return "n>1T"


def split_groups(manifest: dict) -> dict[str, list[dict]]:
    """Shards of the main config by user-facing split name: train, dev, test, then each probe source."""
    return group_splits(manifest.get("shards") or [])


def pair_shards(manifest: dict) -> list[dict]:
    """Shards holding Valence-Flip pairs (role "pairs"), if any."""
    return [s for s in manifest.get("shards") or [] if s.get("role") == PAIRS_ROLE]


def weak_supervision(manifest: dict) -> Any:
    """The build's weak-label description: `weak_supervision` (written by `emodata build`) or a legacy
    `weak_labels` entry; None when the build has no weak labels."""
    return manifest.get("weak_supervision") or manifest.get("weak_labels") or None


def has_flips(manifest: dict) -> bool:
    """Whether the build carries Valence-Flip pairs (manifest key `pairs` or pair shards)."""
    return bool(manifest.get("pairs")) or bool(pair_shards(manifest))


def built_sources(manifest: dict) -> list[str]:
    """Sources that contribute rows to this build (a shared annotation pass may list others)."""
    with_shards = {s["source"] for s in manifest.get("shards") or []}
    names = [n for n, info in (manifest.get("sources") or {}).items()
             if n in with_shards or any((info.get("rows_used") or {}).values())]
    return sorted(names, key=_source_order(manifest))


def _source_order(manifest: dict):
    mix = manifest.get("mix") or {}
    first = [mix.get("source_a"), mix.get("source_b")]

    def key(name: str) -> tuple[int, str]:
        return (first.index(name) if name in first else len(first), name)
    return key


def _license_of(manifest: dict, name: str) -> str | None:
    card = (manifest.get("sources") or {}).get(name, {}).get("card") or {}
    if card.get("license"):
        return card["license"]
    catalog_card = load_catalog().sources.get(name)
    return catalog_card.license if catalog_card else None


def _lexicon_family(name: str) -> str | None:
    if name.startswith("nrc-vad"):
        return "nrc-vad"
    if name.startswith("nrclex-proxy"):
        return "nrclex-proxy"
    if name.startswith("warriner"):
        return "warriner"
    return None


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, int):
        return f"{value:,}"
    if value is None:
        return "–"
    if isinstance(value, (dict, list)):
        return "`" + json.dumps(value, sort_keys=True, ensure_ascii=False) + "`"
    return str(value)


def _cell(value: Any) -> str:
    return _fmt(value).replace("|", "\\|").replace("\n", " ")


def md_table(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> str:
    """A Markdown table (cells formatted with thousands separators; pipes escaped)."""
    header = list(header)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _kv_lines(data: dict, indent: str = "") -> list[str]:
    """A nested dict as a Markdown bullet list (lists of dicts are summarised by length)."""
    lines = []
    for key in sorted(data):
        value = data[key]
        if isinstance(value, dict) and value and len(json.dumps(value)) > 120:
            lines.append(f"{indent}- **{key}**:")
            lines += _kv_lines(value, indent + "  ")
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            lines.append(f"{indent}- **{key}**: {len(value)} entries")
        else:
            lines.append(f"{indent}- **{key}**: {_fmt(value)}")
    return lines


def qc_passed(qc: dict) -> bool | None:
    """The gate's overall outcome from a `qc` dict (`passed` or `success`), or None if not stated."""
    for key in ("passed", "success"):
        if isinstance(qc.get(key), bool):
            return qc[key]
    return None


#: Keys of a `qc` dict that the QC renderers show in their own tables.
QC_KNOWN_KEYS = ("passed", "success", "suite", "suites", "results", "expectations", "outcomes", "skipped")
#: The QC gate's suites in its own order (manifests store them with sorted keys).
QC_SUITE_ORDER = ("record", "mix", "distribution", "pairs")
#: Columns of the per-expectation table, in order (those present in any outcome are shown).
QC_RESULT_COLUMNS = ("suite", "check", "expectation", "name", "shard", "column", "severity", "success", "observed")


def qc_results(qc: dict) -> list[dict]:
    """The per-expectation outcomes of a `qc` dict (`outcomes`, `results` or `expectations` list)."""
    for key in ("outcomes", "results", "expectations"):
        if isinstance(qc.get(key), list):
            return [r for r in qc[key] if isinstance(r, dict)]
    return []


def qc_suites(qc: dict) -> list[dict]:
    """Per-suite counts of the QC gate's summary (`suites`: {name: {evaluated, failed_critical,
    failed_warning, skipped?}}), as rows with `suite`, `evaluated`, `passed`, `failed_critical`,
    `failed_warning` and `skipped` (number of checks skipped)."""
    suites = qc.get("suites")
    if not isinstance(suites, dict):
        return []
    rows = []
    for name, info in suites.items():
        if not isinstance(info, dict):
            continue
        evaluated = int(info.get("evaluated", 0) or 0)
        crit = int(info.get("failed_critical", 0) or 0)
        warn = int(info.get("failed_warning", 0) or 0)
        skipped = info.get("skipped") or []
        rows.append({"suite": str(name), "evaluated": evaluated, "passed": max(evaluated - crit - warn, 0),
                     "failed_critical": crit, "failed_warning": warn,
                     "skipped": len(skipped) if isinstance(skipped, list) else int(skipped or 0)})
    return sorted(rows, key=lambda r: (QC_SUITE_ORDER.index(r["suite"]) if r["suite"] in QC_SUITE_ORDER
                                       else len(QC_SUITE_ORDER), r["suite"]))


def qc_rest(qc: dict) -> dict:
    """The `qc` entries not shown by the status line and the suite/outcome tables."""
    return {k: v for k, v in qc.items() if k not in QC_KNOWN_KEYS}


# ----------------------------------------------------------------------------------------- front matter

def _title(name: str) -> str:
    card = load_catalog().sources.get(name)
    return card.title if card else name


def _pretty_name(manifest: dict) -> str:
    mix = manifest.get("mix") or {}
    a, b = mix.get("source_a"), mix.get("source_b")
    if a and b and mix.get("a") and mix.get("b"):
        return f"emodata {_title(a)}:{_title(b)} {mix['a']}:{mix['b']} emotion mixture ({manifest['name']})"
    if a and b:
        only = a if mix.get("a") else b
        return f"emodata {_title(only)} emotion dataset ({manifest['name']})"
    return f"emodata emotion dataset ({manifest['name']})"


def split_bytes(root: Path, shards: list[dict]) -> tuple[int, int]:
    """(Arrow bytes in memory, Parquet bytes on disk) of some shards of the build at `root`."""
    import pyarrow.parquet as pq

    memory = disk = 0
    for shard in shards:
        path = Path(root) / shard["path"]
        memory += pq.read_table(path).nbytes
        disk += path.stat().st_size
    return memory, disk


def hub_split(role: str) -> str:
    """The Hub's name of a build split: `dev` files are published as `validation` (the paper's dev)."""
    from emodata.export import HUB_SPLIT_NAMES

    return HUB_SPLIT_NAMES.get(role, role)


def hub_features(manifest: dict, pairs: bool = False) -> list:
    """`dataset_info.features` as `datasets` writes it into a card: derived from the record schema
    (label columns as ClassLabel of the build's label spaces), or from the flip pairs' schema."""
    from emodata.core.schema import RECORD_SCHEMA, hf_features

    if pairs:
        from emodata.flips import PAIRS_SCHEMA

        return hf_features(PAIRS_SCHEMA)._to_yaml_list()
    space = manifest.get("label_space") or {}
    names = None
    if space.get("labels") and space.get("ekman_labels"):
        names = {"unified": list(space["labels"]), "ekman7": list(space["ekman_labels"])}
    return hf_features(RECORD_SCHEMA, names)._to_yaml_list()


def _split_infos(config_name: str, groups: dict[str, list[dict]], root: Path | None,
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
        entry["num_examples"] = sum(s["rows"] for s in shards)
        splits.append(entry)
    info: dict[str, Any] = {"config_name": config_name, "splits": splits}
    if features is not None:
        info = {"config_name": config_name, "features": features, "splits": splits}
    if root is not None:
        info["download_size"] = disk_total
        info["dataset_size"] = memory_total
    return info


def card_metadata(manifest: dict, root: Path | None = None) -> dict:
    """The card's YAML front matter as a dict (Hub dataset-card fields).

    With the build `root`, each split also gets `num_bytes` (Arrow size, which the `datasets` library
    wants beside `num_examples` to use the split list) and the config its download/dataset sizes.
    """
    name = manifest["name"]
    groups = split_groups(manifest)
    licenses = []
    for source in built_sources(manifest):
        lic = hf_license_id(_license_of(manifest, source))
        if lic not in licenses:
            licenses.append(lic)
    total = sum(s["rows"] for shards in groups.values() for s in shards)
    configs = [{"config_name": name, "default": True,
                "data_files": [{"split": hub_split(split), "path": [s["path"] for s in shards]}
                               for split, shards in groups.items()]}]
    infos = [_split_infos(name, groups, root, hub_features(manifest))]
    pairs = pair_shards(manifest)
    if pairs:
        pair_config = f"{name}_flip_pairs"
        configs.append({"config_name": pair_config,
                        "data_files": [{"split": "train", "path": [s["path"] for s in pairs]}]})
        infos.append(_split_infos(pair_config, {"train": pairs}, root, hub_features(manifest, pairs=True)))
    sources = built_sources(manifest)
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


# ---------------------------------------------------------------------------------------------- sections

def _summary(manifest: dict) -> list[str]:
    mix = manifest.get("mix") or {}
    counts = manifest.get("counts") or {}
    lexicon = manifest.get("lexicon") or {}
    emo = manifest.get("emodata") or {}
    groups = split_groups(manifest)
    lines = [
        f"This dataset is the emodata build **{manifest['name']}**. It follows the EmoLoom-2B recipe "
        "(arXiv 2601.01112): English utterances from public emotion corpora, mapped into one multi-label "
        "label space (the 28 GoEmotions labels plus `other`), with utterance-level valence, arousal and "
        "dominance (VAD) scores computed from a word lexicon.",
        "",
    ]
    if mix:
        lines.append(
            f"- Mixture {mix.get('source_a')} : {mix.get('source_b')} = {mix.get('a')}:{mix.get('b')} "
            f"({_fmt(mix.get('rows_a'))} + {_fmt(mix.get('rows_b'))} = {_fmt(mix.get('rows'))} train/dev rows; "
            f"actual share of {mix.get('source_a')}: "
            + (f"{mix['share_a_actual']:.1%}" if isinstance(mix.get("share_a_actual"), (int, float)) else "–")
            + ").")
    lines.append("- Rows per split: " + ", ".join(
        f"{split} {sum(s['rows'] for s in shards):,}" for split, shards in groups.items()) + ".")
    if counts:
        lines.append("- Rows per role: " + ", ".join(f"{k} {_fmt(v)}" for k, v in counts.items()) + ".")
    lines.append(f"- VAD lexicon: `{lexicon.get('name')}` (version {lexicon.get('version')}, "
                 f"{_fmt(lexicon.get('entries'))} entries); minimum coverage τ = "
                 f"{_fmt((manifest.get('thresholds') or {}).get('vad_conf_min'))}.")
    lines.append(f"- Built by emodata {emo.get('version')} (git commit `{emo.get('git_commit')}`), seed "
                 f"{manifest.get('seed')}, dev fraction {manifest.get('dev_frac')}, config SHA-1 "
                 f"`{manifest.get('config_sha1')}`.")
    probes = [n for n in groups if n not in SPLIT_ROLES]
    if probes:
        lines.append(f"- The `{'`, `'.join(probes)}` split is a held-out cross-corpus probe: "
                     "use it for evaluation only, never for training.")
    fields = ("id, source, split, source_split, text, context, speaker, conv_id, turn, situation, labels, "
              "labels_ekman, source_labels, vad{v,a,d}, vad_conf, rationale, qc_flags, dedup_key")
    if weak_supervision(manifest):
        fields += ", weak_labels, weak_probs, weak_labels_ekman, weak_probs_ekman"
    if manifest.get("appraisal"):
        fields += ", appraisal, appraisal_prototype"
    lines += ["", f"Each record has the fields `{fields}` (schema: `emodata/schema.py`)."]
    pairs = pair_shards(manifest)
    if pairs:
        lines.append(f"Valence-Flip pairs ({sum(s['rows'] for s in pairs):,}) are a separate config, "
                     f"`{manifest['name']}_flip_pairs`, with their own columns.")
    return lines


def _sources(manifest: dict) -> list[str]:
    catalog = load_catalog()
    lines = []
    for name in built_sources(manifest):
        info = manifest["sources"][name]
        card = catalog.sources.get(name)
        title = card.title if card else name
        lines.append(f"### {title} (`{name}`)")
        lines.append("")
        if card:
            lines.append(" ".join(card.description.split()))
            lines.append("")
            lines.append(f"- Homepage: {card.homepage}")
            lines.append(f"- Hugging Face Hub: `{card.hub_id}`" + (f" (config `{card.hub_config}`)"
                                                                 if card.hub_config else ""))
            lines.append(f"- Role in this build: {card.role}")
        lines.append(f"- License: {_license_of(manifest, name)}")
        location = info.get("location") or {}
        lines.append(f"- Read from: {location.get('kind')}" + (f" `{location['hub_id']}`"
                                                               if location.get("hub_id") else ""))
        used = info.get("rows_used") or {}
        lines.append(f"- Rows read {_fmt(info.get('rows_read'))}, kept after filters {_fmt(info.get('rows_kept'))}, "
                     "used " + (", ".join(f"{k} {_fmt(v)}" for k, v in used.items()) or "none") + ".")
        files = info.get("files") or []
        if files:
            lines += ["", md_table(["input file", "rows", "SHA-1"],
                                   [[f["name"], f.get("rows"), f"`{f.get('sha1')}`"] for f in files])]
        if card:
            lines += ["", "Citation:", "", "```bibtex", card.citation.rstrip(), "```"]
        lines.append("")
    lexicon = manifest.get("lexicon") or {}
    family = _lexicon_family(str(lexicon.get("name", "")))
    lines.append("### VAD lexicon")
    lines.append("")
    if family:
        note = LEXICON_NOTES[family]
        lines += [f"{note['title']} — `{lexicon.get('name')}`, file `{lexicon.get('source')}`, "
                  f"SHA-1 `{lexicon.get('sha1')}`.", "", f"Citation: {note['citation']}"]
    else:
        lines.append(f"A user-supplied lexicon `{lexicon.get('name')}` (file `{lexicon.get('source')}`, "
                     f"SHA-1 `{lexicon.get('sha1')}`); cite it as its authors ask.")
    lines += ["", "Please also cite the EmoLoom-2B recipe (arXiv 2601.01112) that this build follows."]
    return lines


def _label_maps(manifest: dict) -> list[str]:
    catalog = load_catalog()
    space = manifest.get("label_space") or {}
    labels = space.get("labels") or list(catalog.unified_labels)
    lines = [
        f"`labels` uses the **{space.get('name', 'unified')}** label space ({len(labels)} labels, ids in this "
        "order): " + ", ".join(f"`{label}`" for label in labels) + ".",
        "",
        "It is the 28 GoEmotions labels (27 emotions + `neutral`) plus `other`. `other` collects source tags "
        "with no clear counterpart among the 28; it is not `neutral` (no emotion expressed) but an emotion "
        "this taxonomy cannot name. Records whose only label is `other` are out-of-taxonomy.",
        "",
        "### Label maps",
        "",
    ]
    for name in built_sources(manifest):
        card = catalog.sources.get(name)
        if not card or card.taxonomy not in catalog.taxonomies:
            lines.append(f"- `{name}`: no catalog taxonomy; labels are used as given.")
            continue
        tax = catalog.taxonomies[card.taxonomy]
        to_other = [t for t in tax.labels if tax.to_unified.get(t) == OTHER]
        renamed = [(t, tax.to_unified[t]) for t in tax.labels
                   if tax.to_unified.get(t) not in (None, t, OTHER)]
        text = f"- `{name}` ({tax.name}, {len(tax.labels)} labels): "
        if renamed:
            text += "mapped " + ", ".join(f"`{a}` → `{b}`" for a, b in renamed) + "; "
        else:
            text += "identity map (every tag is a unified label); "
        text += ("tags mapped to `other`: " + ", ".join(f"`{t}`" for t in to_other) + "."
                 if to_other else "no tag maps to `other`.")
        lines.append(text)
    lines += ["", "Unmapped source tags never become null: they go to `other` (catalog/taxonomies/).", ""]
    ekman = space.get("ekman", "ekman7")
    lines += ["### Ekman-7 grouping (`labels_ekman`)", ""]
    if ekman in catalog.taxonomies:
        tax = catalog.taxonomies[ekman]
        lines.append(md_table(["Ekman label", "unified labels"],
                              [[group, ", ".join(tax.from_unified.get(group, ()))] for group in tax.labels]))
        lines += ["", "The grouping copies GoEmotions' `ekman_mapping.json` plus `neutral: [neutral]`. `other` "
                  "belongs to no group, so records labelled only `other` have an empty `labels_ekman`; score "
                  "them separately, never as neutral."]
    return lines


def _annotations(manifest: dict) -> list[str]:
    lexicon = manifest.get("lexicon") or {}
    thresholds = manifest.get("thresholds") or {}
    pipeline = manifest.get("pipeline") or {}
    annotate = manifest.get("annotate") or {}
    adjust = annotate.get("adjust", "none")
    present = ["lexicon VAD"] + [label for label, there in (
        ("weak labels", bool(weak_supervision(manifest))), ("appraisal atoms", bool(manifest.get("appraisal"))),
        ("Valence-Flip pairs", has_flips(manifest))) if there]
    lines = [f"Present in this build: {', '.join(present)}.", "", "### Lexicon VAD", ""]
    lines += [
        f"- Tokens and lemmas: spaCy pipeline `{pipeline.get('name')}` {pipeline.get('version')} "
        f"(spaCy {pipeline.get('spacy')}{'' if pipeline.get('has_model', True) else ', blank tokenizer'}).",
        f"- Lexicon: `{lexicon.get('name')}` version {lexicon.get('version')}, {_fmt(lexicon.get('entries'))} "
        f"entries, SHA-1 `{lexicon.get('sha1')}`. Scores live in [0, 1] (Warriner's 1-9 ratings are "
        "rescaled to (x-1)/8).",
        "- Each content word is looked up (with a lemma fallback); the utterance's V, A and D are the mean "
        "over covered content words, then smoothed as x ← (1 − 2ε)x + ε with "
        f"ε = {_fmt(thresholds.get('epsilon', annotate.get('epsilon')))}.",
        "- `vad_conf` = covered content words / content words. Rows with no covered word, fewer than "
        f"{thresholds.get('min_tokens')} or more than {thresholds.get('max_tokens')} word tokens, "
        f"`vad_conf` < τ = {_fmt(thresholds.get('vad_conf_min'))}, or a duplicate `sha1(text‖id)` or exact "
        "text are dropped; every drop is counted per reason in the manifest.",
        f"- Negation / intensifier adjustment: `{adjust}`"
        + (" (none applied: negated words keep their lexicon valence)." if adjust == "none" else "."),
        "- `rationale` is a short English phrase naming the strongest valence cues (e.g. \"negative tone "
        "from 'terrible' and 'hate'\"); it is derived from the lexicon, not written by people.",
    ]
    if str(lexicon.get("name", "")).startswith("nrclex-proxy"):
        lines.append("- **Warning:** this build used the offline `nrclex-proxy` lexicon, a coarse linear proxy "
                     "fitted from binary EmoLex associations, not a real VAD lexicon. Prefer a build with "
                     "NRC-VAD for any VAD result.")
    lines += ["", "### Weak labels", ""]
    weak = weak_supervision(manifest)
    if weak:
        lines += _weak_lines(manifest, weak)
    else:
        lines.append("Not in this build: no labeling-function weak labels were produced; `labels` are the "
                     "sources' human labels mapped into the unified space.")
    lines += ["", "### Appraisal atoms", ""]
    if manifest.get("appraisal"):
        lines += _appraisal_lines(manifest, manifest["appraisal"])
    else:
        lines.append("Not in this build: no appraisal atoms were produced.")
    lines += ["", "### Valence-Flip pairs", ""]
    if has_flips(manifest):
        lines += _pairs_lines(manifest)
    else:
        lines.append("Not in this build: no Valence-Flip pairs were generated.")
    return lines


def _lf_families(names: list) -> str:
    """LF counts per family, e.g. "kw 27, emoji 12" (family = the part of the name before the first `_`)."""
    families: dict[str, int] = {}
    for name in names:
        family = str(name).split("_", 1)[0]
        families[family] = families.get(family, 0) + 1
    return ", ".join(f"{family} {n}" for family, n in families.items())


def _weak_lines(manifest: dict, weak: Any) -> list[str]:
    """The "Weak labels" subsection: the `weak_supervision` entry and the `lf_analysis` scores."""
    if not isinstance(weak, dict):
        return [f"Weak emotion labels from labeling functions are included: {_fmt(weak)}"]
    if not any(k in weak for k in ("fine", "ekman", "lfs")):          # another producer's shape: list it
        return ["Weak emotion labels from labeling functions (Snorkel) are included:", ""] + _kv_lines(weak)
    lines = ["Each record carries `weak_labels` / `weak_probs` (the 28 GoEmotions labels) and "
             "`weak_labels_ekman` / `weak_probs_ekman` (Ekman-7): label sets read off the class distribution "
             "of an aggregator over labeling-function (LF) votes. They are machine-made, fit on this mix's "
             "train rows only, and never replace the human `labels`; `weak_probs` is null when every LF "
             "abstained (the label set is then empty).", ""]
    lfs = weak.get("lfs")
    if isinstance(lfs, dict) and isinstance(lfs.get("names"), list):
        lines.append(f"- Labeling functions: {len(lfs['names'])} ({_lf_families(lfs['names'])}), LF-set SHA-1 "
                     f"`{lfs.get('sha1')}`.")
    scope = weak.get("negation_scope")
    if isinstance(scope, dict) and scope.get("method"):
        lines.append(f"- Negation scope for the LFs: `{scope['method']}`.")
    for space, title in (("fine", "fine labels"), ("ekman", "Ekman-7")):
        info = weak.get(space)
        if isinstance(info, dict) and info.get("aggregator"):
            text = f"- Aggregator, {title} ({len(info.get('labels') or [])} classes): `{info['aggregator']}`"
            if info.get("train_macro_f1"):
                text += f" (Macro-F1 on the train gold: {_fmt(info['train_macro_f1'])})"
            lines.append(text + ".")
    if isinstance(weak.get("readout"), dict):
        lines.append(f"- Read-out from class probabilities: {_fmt(weak['readout'])}.")
    report = weak.get("report")
    if isinstance(report, dict) and report:
        lines.append("- Full LF report: " + ", ".join(f"`{v}`" for _, v in sorted(report.items())) + ".")
    rest = {k: v for k, v in weak.items() if k not in ("lfs", "negation_scope", "fine", "ekman", "readout", "report")}
    lines += _kv_lines(rest)
    lf = manifest.get("lf_analysis")
    if isinstance(lf, dict):
        rows = []
        for space, key, chosen in (("fine", "scores", "chosen"), ("ekman", "scores_ekman", "chosen_ekman")):
            for method, score in (lf.get(key) or {}).items():
                if isinstance(score, dict):
                    rows.append([space, method + (" (shipped)" if lf.get(chosen) == method else ""),
                                 score.get("n"), score.get("coverage"), score.get("macro_p"),
                                 score.get("macro_r"), score.get("macro_f1")])
        if rows:
            pooled = lf.get("pooled_splits") or []
            lines += ["", "Weak labels vs the human labels on held-out rows"
                      + (f" ({', '.join(f'`{p}`' for p in pooled)})" if pooled else "") + ":", "",
                      md_table(["space", "aggregator", "rows", "coverage", "Macro-P", "Macro-R", "Macro-F1"], rows)]
    return lines


def _appraisal_lines(manifest: dict, appraisal: Any) -> list[str]:
    """The "Appraisal atoms" subsection: per-atom coverage and agreement, prototypes, the verifier."""
    if not isinstance(appraisal, dict):
        return [f"Appraisal-atom weak labels are included: {_fmt(appraisal)}"]
    atoms = appraisal.get("atoms") if isinstance(appraisal.get("atoms"), dict) else {}
    lines = ["Each record carries `appraisal`, one P(high) per appraisal atom from negation-aware appraisal "
             "LFs and a per-atom label model (null = every LF abstained), and `appraisal_prototype`, the "
             "appraisal prototype of its gold labels. Atoms: " + ", ".join(f"`{a}`" for a in atoms) + ".", ""]
    if atoms:
        rows = []
        for name, info in atoms.items():
            info = info if isinstance(info, dict) else {}
            vs = info.get("vs_prototype") if isinstance(info.get("vs_prototype"), dict) else {}
            rows.append([name, info.get("coverage"), info.get("mean"), info.get("prototype_coverage"),
                         vs.get("n"), vs.get("accuracy")])
        lines += [md_table(["atom", "coverage", "mean P(high)", "prototype coverage", "dev rows compared",
                            "agreement with prototype"], rows), ""]
    protos = appraisal.get("prototypes")
    if isinstance(protos, dict):
        lines.append(f"- Prototypes: `{protos.get('name')}` version {protos.get('version')} "
                     f"(catalog/appraisal/{protos.get('file')}, SHA-1 `{protos.get('sha1')}`).")
    model = appraisal.get("model")
    if isinstance(model, dict):
        methods = sorted({str(a.get("method")) for a in (model.get("atoms") or {}).values() if isinstance(a, dict)})
        lines.append(f"- Label models fit on {_fmt(model.get('n_fit_rows'))} train rows"
                     + (f" (method: {', '.join(f'`{m}`' for m in methods)})" if methods else "")
                     + f", LF-set SHA-1 `{model.get('lf_sha1')}`.")
    for key, text in (("n_rows", "rows scored"), ("n_eval", "dev rows compared with prototypes")):
        if key in appraisal:
            lines.append(f"- {text}: {_fmt(appraisal[key])}.")
    verifier = appraisal.get("verifier")
    artifacts = [a for a in manifest.get("artifacts") or [] if isinstance(a, dict)
                 and "appraisal" in str(a.get("name", ""))]
    if isinstance(verifier, dict) or artifacts:
        text = "- Appraisal verifier (the trainer's L_app)"
        if isinstance(verifier, dict):
            text += (f": trained on {_fmt(verifier.get('n_rows'))} train rows, "
                     f"{_fmt(verifier.get('n_heldout'))} held out")
        lines.append(text + "".join(f"; file `{a.get('path')}` (SHA-1 `{a.get('sha1')}`)" for a in artifacts) + ".")
    rest = {k: v for k, v in appraisal.items()
            if k not in ("atoms", "prototypes", "model", "n_rows", "n_eval", "verifier")}
    lines += _kv_lines(rest)
    return lines


def _pairs_lines(manifest: dict) -> list[str]:
    """The "Valence-Flip pairs" subsection: counts per kind, S_flip, validity, examples, shards."""
    lines = ["Valence-Flip pairs (an utterance and a rewrite with mirrored valence; S_flip = "
             "|(v(x) − ½) + (v(x') − ½)|, lower is better) are included. They are drawn from train rows "
             "only and live in their own shard and config (columns: emodata/flips PAIRS_SCHEMA), not in "
             "the record splits.", ""]
    pairs = manifest.get("pairs")
    if isinstance(pairs, dict):
        head = []
        if pairs.get("n_pairs") is not None:
            head.append(f"{_fmt(pairs['n_pairs'])} pairs")
        if pairs.get("s_flip_mean") is not None:
            head.append(f"mean S_flip {_fmt(pairs['s_flip_mean'])}")
        if head:
            lines += ["- " + ", ".join(head) + ".", ""]
        by_kind = pairs.get("by_kind")
        if isinstance(by_kind, dict) and by_kind:
            rows = [[kind, value.get("pairs", value.get("n")), value.get("s_flip_mean")] if isinstance(value, dict)
                    else [kind, value, None] for kind, value in by_kind.items()]
            lines += [md_table(["flip kind", "pairs", "mean S_flip"], rows), ""]
        validity = pairs.get("validity")
        if isinstance(validity, dict):
            lines.append(f"- Share of candidates passing the polarity filter: {_fmt(validity.get('pre_filter'))}; "
                         f"of emitted pairs: {_fmt(validity.get('emitted'))}.")
        if isinstance(pairs.get("rejected"), dict):
            lines.append(f"- Rejected or skipped, by reason: {_fmt(pairs['rejected'])}.")
        examples = [e for e in pairs.get("examples") or [] if isinstance(e, dict)]
        if examples:
            lines += ["", "Examples (seeded random sample):", "",
                      md_table(["kind", "text", "flipped text"],
                               [[e.get("kind"), e.get("text"), e.get("text_flip")] for e in examples[:5]]), ""]
        rest = {k: v for k, v in pairs.items() if k not in (
            "n_pairs", "s_flip_mean", "by_kind", "validity", "rejected", "examples", "s_flip_hist", "candidates",
            "rows")}
        lines += _kv_lines(rest)
    for shard in pair_shards(manifest):
        lines.append(f"- shard `{shard['path']}`: {shard['rows']:,} rows (config `{manifest['name']}_flip_pairs`, "
                     "split `train`)")
    return lines


def _splits(manifest: dict) -> list[str]:
    groups = split_groups(manifest)
    rows = [[hub_split(split), s["source"], s["rows"], f"`{s['path']}`", f"`{s['sha1']}`"]
            for split, shards in groups.items() for s in shards]
    rows += [[f"{manifest['name']}_flip_pairs/train", s["source"], s["rows"], f"`{s['path']}`", f"`{s['sha1']}`"]
             for s in pair_shards(manifest)]
    lines = [md_table(["split", "source", "rows", "Parquet file", "SHA-1"], rows), ""]
    lines.append("The Hub split `validation` is the paper's (and the manifest's) **dev** split: its files are "
                 "named `dev*.parquet`, `emodata.connect` calls the view `dev`, and `emodata.load` and "
                 "`datasets.load_dataset` call it `validation`.")
    lines.append("")
    lines.append("Every shard also exists as JSONL beside its Parquet file. Train and dev are a seeded draw "
                 "that keeps dialogues whole; official test splits stay `test`; the frozen draw order is in "
                 "`index/permutation.parquet`; `checksums.sha1` lists the SHA-1 of every file.")
    return lines


def _qc(manifest: dict) -> list[str]:
    qc = manifest.get("qc")
    if not qc:
        return ["No QC gate results in this manifest."]
    if not isinstance(qc, dict):
        return [f"QC: {_fmt(qc)}"]
    lines = []
    passed = qc_passed(qc)
    if passed is not None:
        lines += [f"QC gate: **{'passed' if passed else 'FAILED'}**" + (f" (suite `{qc['suite']}`)"
                                                                        if qc.get("suite") else "") + ".", ""]
    suites = qc_suites(qc)
    if suites:
        keys = ["suite", "evaluated", "passed", "failed_critical", "failed_warning", "skipped"]
        lines += [md_table(keys, [[row[k] for k in keys] for row in suites]), ""]
    results = qc_results(qc)
    failed = [r for r in results if r.get("success") is False]
    shown = results if len(results) <= 40 else failed
    if shown:
        keys = [k for k in QC_RESULT_COLUMNS if any(k in r for r in shown)]
        if shown is failed:
            lines += [f"Failing expectations ({len(failed)} of {len(results)}):", ""]
        lines += [md_table(keys, [[r.get(k) for k in keys] for r in shown]), ""]
    lines += _kv_lines(qc_rest(qc))
    return lines


def _limitations(manifest: dict) -> list[str]:
    lexicon_name = str((manifest.get("lexicon") or {}).get("name", ""))
    lines = [
        "- **Lexicon VAD is weak supervision, not human rating.** It averages word-level ratings made out of "
        "context, so it misses sarcasm, irony, idioms, negation scope (\"not happy\" scores as happy unless a "
        "negation adjustment is recorded above), intensifiers, emoji and domain slang, and it is blind to "
        "who is speaking or what the dialogue context is.",
        "- **Coverage filtering shifts the distribution.** Keeping only rows with `vad_conf` ≥ τ favours "
        "short utterances made of common, emotionally explicit words and drops informal or rare-word "
        "text; the drop counts per reason are in the manifest and the build report.",
        "- **Lexicon biases carry over.** Word ratings come from crowd workers (largely US-based, English "
        "speaking) and encode their associations, including associations with identity terms, names and "
        "dialect; scores may be systematically lower or higher for some groups' language.",
        "- **Label maps are judgement calls.** Several source tags map to `other` or to a neighbouring "
        "GoEmotions label (see the label maps above); the Ekman grouping copies GoEmotions' published "
        "choices, some of which are debatable (approval → joy, confusion → surprise).",
        "- **Source skews.** GoEmotions is Reddit comments (2005-2019, masked names) with many `neutral` "
        "rows; EmpatheticDialogues has one conversation-level label repeated on every turn, including "
        "listener turns that do not express it; DailyDialog is dominated by no_emotion (→ `neutral`). "
        "Report macro scores with and without `neutral` on the probe.",
        "- The corpora may contain offensive or personal content; no toxicity filter was applied "
        "(`qc_flags.tox` is null = not assessed).",
    ]
    if lexicon_name.startswith("nrclex-proxy"):
        lines.append("- **This build uses the nrclex proxy**, whose V/A/D are a linear fit on ten binary "
                     "associations (Pearson r with NRC-VAD: V 0.83, A 0.47, D 0.61); arousal and dominance "
                     "are especially unreliable.")
    return lines


def _license_terms(manifest: dict) -> list[str]:
    catalog = load_catalog()
    rows = []
    for name in built_sources(manifest):
        card = catalog.sources.get(name)
        lic = _license_of(manifest, name)
        rows.append([card.title if card else name, lic, hf_license_id(lic), card.license_url if card else ""])
    lines = [md_table(["corpus", "license", "Hub id", "terms"], rows), ""]
    lexicon = manifest.get("lexicon") or {}
    family = _lexicon_family(str(lexicon.get("name", "")))
    terms = LEXICON_NOTES[family]["terms"] if family else "See the lexicon authors' terms."
    lines += [f"- Lexicon `{lexicon.get('name')}`: {terms}", ""]
    lines += ["Each record keeps the license of its source corpus (the `source` field says which).", ""]
    nc = [r[0] for r in rows if "-nc" in r[2]]
    sa = [r[0] for r in rows if "-sa" in r[2]]
    if nc:
        lines += [f"Records from {', '.join(nc)} are under non-commercial terms: use them, and any mix or "
                  "model that includes them, for non-commercial purposes only, or leave those splits out.", ""]
    if sa:
        lines += [f"Records from {', '.join(sa)} are share-alike: material derived from them must be shared "
                  "under the same license.", ""]
    lines.append("The emodata code that produced this build is Apache-2.0.")
    return lines


#: Hashed build options (emodata/config.py BuildConfig) shown in the reproduce command when not at these defaults.
REPRODUCE_DEFAULTS = {f.name: f.default for f in dataclasses.fields(BuildConfig)
                      if f.name in ("goemotions_format", "negation", "negation_scope", "label_model", "flip_frac")}


def build_command(manifest: dict) -> str:
    """The `emodata build` command line that reproduces this build from the same inputs."""
    mix = manifest.get("mix") or {}
    config = manifest.get("config") or {}
    args = ["emodata build"]
    args += [f"--mix {m}" for m in config.get("mix", [f"{mix.get('a')}:{mix.get('b')}"])]
    args.append("--sample" if config.get("sample") else "--data-dir DATA")
    family = _lexicon_family(str((manifest.get("lexicon") or {}).get("name", "")))
    args.append(f"--lexicon {family}" if family else "--lexicon PATH")
    if config.get("spacy_model") not in (None, "en_core_web_sm"):
        args.append(f"--spacy-model {config['spacy_model']}")
    args += [f"--seed {manifest.get('seed', config.get('seed'))}",
             f"--dev-frac {manifest.get('dev_frac', config.get('dev_frac'))}"]
    if config.get("vad_conf_min") is not None:
        args.append(f"--vad-conf-min {config['vad_conf_min']}")
    for key in ("min_tokens", "max_tokens"):
        if key in config:
            args.append(f"--{key.replace('_', '-')} {config[key]}")
    if config.get("probe") is False:
        args.append("--no-probe")
    if config.get("on_bad_row") not in (None, "error"):
        args.append(f"--on-bad-row {config['on_bad_row']}")
    for key, default in REPRODUCE_DEFAULTS.items():
        if key in config and config[key] != default:
            args.append(f"--{key.replace('_', '-')} {config[key]}")
    return " ".join(args)


def _reproduce(manifest: dict) -> list[str]:
    groups = split_groups(manifest)
    return [
        "```bash",
        build_command(manifest),
        f"emodata verify {manifest['name']}/manifests/{manifest['name']}.json",
        "```",
        "",
        "```python",
        "from datasets import load_dataset",
        f"ds = load_dataset(\"path/to/{manifest['name']}\")   # splits: {', '.join(groups)}",
    ] + ([f"pairs = load_dataset(\"path/to/{manifest['name']}\", \"{manifest['name']}_flip_pairs\")"
          "   # Valence-Flip pairs"] if pair_shards(manifest) else []) + [
        "",
        "import emodata",
        f"con = emodata.connect(\"path/to/{manifest['name']}/manifests/{manifest['name']}.json\")  # DuckDB",
        "```",
        "",
        f"The manifest `manifests/{manifest['name']}.json` records exact shard paths, SHA-1s, row counts, "
        f"thresholds, the lexicon and pipeline, the catalog (SHA-1 `{(manifest.get('catalog') or {}).get('sha1')}`) "
        "and the config hash; `emodata verify` re-checks all of it.",
    ]


def render_card(manifest: dict, root: Path | None = None) -> str:
    """The Hugging Face dataset card (README.md text) of a build, from its manifest.

    Pass the build `root` to add split sizes in bytes (read from the shards); without it the card has
    row counts only, which the Hub accepts but `datasets.load_dataset` then does not use to verify splits.
    """
    from huggingface_hub import DatasetCard, DatasetCardData

    card_data = DatasetCardData(**card_metadata(manifest, root))
    body = {
        "Dataset summary": _summary,
        "Sources and citations": _sources,
        "Label space and label maps": _label_maps,
        "How the annotations were produced": _annotations,
        "Splits and files": _splits,
        "QC results": _qc,
        "Known limitations and biases": _limitations,
        "License terms": _license_terms,
        "Reproducing and loading this build": _reproduce,
    }
    parts = [f"# {_pretty_name(manifest)}", ""]
    for heading in SECTION_HEADINGS:
        parts += [f"## {heading}", ""] + body[heading](manifest) + [""]
    text = "\n".join(parts).rstrip() + "\n"
    return str(DatasetCard(f"---\n{card_data.to_yaml()}\n---\n\n{text}"))


def write_card(root: Path, manifest: dict) -> Path:
    """Write the dataset card to ROOT/README.md and return its path."""
    path = Path(root) / "README.md"
    path.write_text(render_card(manifest, root), encoding="utf-8")
    return path
