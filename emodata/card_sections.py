"""The dataset card's sections other than the annotations (emodata/card_annotations.py): summary,
sources and citations, label maps, splits and files, QC results, limitations, license terms, reproducing.
Each takes the typed manifest and returns the section's Markdown lines."""
from __future__ import annotations

import dataclasses

from catalog import OTHER, load_catalog

from emodata.card_markdown import (LEXICON_NOTES, fmt, hf_license_id, kv_lines, lexicon_family, lexicon_name, license_of,
                                   md_table)
from emodata.core.config import BuildConfig
from emodata.core.manifest import Manifest

#: Shard roles that form the main config's splits; the probe's split is named after its source.
SPLIT_ROLES = ("train", "dev", "test")


def hub_split(role: str) -> str:
    """The Hub's name of a build split: `dev` files are published as `validation` (the paper's dev)."""
    from emodata.export import HUB_SPLIT_NAMES

    return HUB_SPLIT_NAMES.get(role, role)


def summary_section(manifest: Manifest) -> list[str]:
    """Dataset summary: the build, its mixture, rows per split and role, lexicon, provenance, record fields."""
    mix, counts, lexicon, emo = manifest.mix, manifest.counts, manifest.lexicon, manifest.emodata
    groups = manifest.split_names()
    lines = [
        f"This dataset is the emodata build **{manifest.name}**. It follows the EmoLoom-2B recipe "
        "(arXiv 2601.01112): English utterances from public emotion corpora, mapped into one multi-label "
        "label space (the 28 GoEmotions labels plus `other`), with utterance-level valence, arousal and "
        "dominance (VAD) scores computed from a word lexicon.",
        "",
    ]
    lines.append(
        f"- Mixture {mix.source_a} : {mix.source_b} = {mix.a}:{mix.b} "
        f"({fmt(mix.rows_a)} + {fmt(mix.rows_b)} = {fmt(mix.rows)} train/dev rows; actual share of {mix.source_a}: "
        + (f"{mix.share_a_actual:.1%}" if mix.share_a_actual is not None else "–") + ").")
    lines.append("- Rows per split: " + ", ".join(
        f"{split} {sum(s.rows for s in shards):,}" for split, shards in groups.items()) + ".")
    if counts:
        lines.append("- Rows per role: " + ", ".join(f"{k} {fmt(v)}" for k, v in counts.items()) + ".")
    lines.append(f"- VAD lexicon: `{lexicon.get('name')}` (version {lexicon.get('version')}, "
                 f"{fmt(lexicon.get('entries'))} entries); minimum coverage τ = "
                 f"{fmt(manifest.thresholds.vad_conf_min)}.")
    lines.append(f"- Built by emodata {emo.version} (git commit `{emo.git_commit}`), seed "
                 f"{manifest.seed}, dev fraction {manifest.dev_frac}, config SHA-1 `{manifest.config_sha1}`.")
    probes = [n for n in groups if n not in SPLIT_ROLES]
    if probes:
        lines.append(f"- The `{'`, `'.join(probes)}` split is a held-out cross-corpus probe: "
                     "use it for evaluation only, never for training.")
    fields = ("id, source, split, source_split, text, context, speaker, conv_id, turn, situation, labels, "
              "labels_ekman, source_labels, vad{v,a,d}, vad_conf, rationale, qc_flags, dedup_key")
    if manifest.weak_supervision:
        fields += ", weak_labels, weak_probs, weak_labels_ekman, weak_probs_ekman"
    if manifest.appraisal:
        fields += ", appraisal, appraisal_prototype"
    lines += ["", f"Each record has the fields `{fields}` (schema: `emodata/schema.py`)."]
    pairs = manifest.pair_shards()
    if pairs:
        lines.append(f"Valence-Flip pairs ({sum(s.rows for s in pairs):,}) are a separate config, "
                     f"`{manifest.name}_flip_pairs`, with their own columns.")
    return lines


def sources_section(manifest: Manifest) -> list[str]:
    """Sources and citations: each built source's card, inputs and rows, then the VAD lexicon."""
    catalog = load_catalog()
    lines = []
    for name in manifest.built_sources():
        info = manifest.sources[name]
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
        lines.append(f"- License: {license_of(manifest, name)}")
        lines.append(f"- Read from: {info.location.kind}" + (f" `{info.location.hub_id}`"
                                                             if info.location.hub_id else ""))
        lines.append(f"- Rows read {fmt(info.rows_read)}, kept after filters {fmt(info.rows_kept)}, used "
                     + (", ".join(f"{k} {fmt(v)}" for k, v in info.rows_used.items()) or "none") + ".")
        if info.files:
            lines += ["", md_table(["input file", "rows", "SHA-1"],
                                   [[f.name, f.rows, f"`{f.sha1}`"] for f in info.files])]
        if card:
            lines += ["", "Citation:", "", "```bibtex", card.citation.rstrip(), "```"]
        lines.append("")
    lexicon = manifest.lexicon
    family = lexicon_family(lexicon_name(manifest))
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


def label_maps_section(manifest: Manifest) -> list[str]:
    """Label space and label maps: the unified labels, each source's map into them, the Ekman grouping."""
    catalog = load_catalog()
    space = manifest.label_space
    labels = space.labels
    lines = [
        f"`labels` uses the **{space.name}** label space ({len(labels)} labels, ids in this "
        "order): " + ", ".join(f"`{label}`" for label in labels) + ".",
        "",
        "It is the 28 GoEmotions labels (27 emotions + `neutral`) plus `other`. `other` collects source tags "
        "with no clear counterpart among the 28; it is not `neutral` (no emotion expressed) but an emotion "
        "this taxonomy cannot name. Records whose only label is `other` are out-of-taxonomy.",
        "",
        "### Label maps",
        "",
    ]
    for name in manifest.built_sources():
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
    ekman = space.ekman
    lines += ["### Ekman-7 grouping (`labels_ekman`)", ""]
    if ekman in catalog.taxonomies:
        tax = catalog.taxonomies[ekman]
        lines.append(md_table(["Ekman label", "unified labels"],
                              [[group, ", ".join(tax.from_unified.get(group, ()))] for group in tax.labels]))
        lines += ["", "The grouping copies GoEmotions' `ekman_mapping.json` plus `neutral: [neutral]`. `other` "
                  "belongs to no group, so records labelled only `other` have an empty `labels_ekman`; score "
                  "them separately, never as neutral."]
    return lines


def splits_section(manifest: Manifest) -> list[str]:
    """Splits and files: every shard with its rows and SHA-1, and how the splits were drawn."""
    groups = manifest.split_names()
    rows = [[hub_split(split), s.source, s.rows, f"`{s.path}`", f"`{s.sha1}`"]
            for split, shards in groups.items() for s in shards]
    rows += [[f"{manifest.name}_flip_pairs/train", s.source, s.rows, f"`{s.path}`", f"`{s.sha1}`"]
             for s in manifest.pair_shards()]
    lines = [md_table(["split", "source", "rows", "Parquet file", "SHA-1"], rows), ""]
    lines.append("The Hub split `validation` is the paper's (and the manifest's) **dev** split: its files are "
                 "named `dev*.parquet`, `emodata.connect` calls the view `dev`, and `emodata.load` and "
                 "`datasets.load_dataset` call it `validation`.")
    lines.append("")
    lines.append("Every shard also exists as JSONL beside its Parquet file. Train and dev are a seeded draw "
                 "that keeps dialogues whole; official test splits stay `test`; the frozen draw order is in "
                 "`index/permutation.parquet`; `checksums.sha1` lists the SHA-1 of every file.")
    return lines


def qc_section(manifest: Manifest) -> list[str]:
    """QC results: the gate's outcome and per-suite counts (full results: MANIFEST_DIR/qc.json)."""
    qc = manifest.qc
    if qc is None:
        return ["No QC gate results in this manifest."]
    lines = [f"QC gate: **{'passed' if qc.success else 'FAILED'}**.", ""]
    suites = qc.suite_rows()
    if suites:
        keys = ["suite", "evaluated", "passed", "failed_critical", "failed_warning", "skipped"]
        lines += [md_table(keys, [[row[k] for k in keys] for row in suites]), ""]
    return lines + kv_lines({"great_expectations": qc.great_expectations, "rows": qc.rows})


def limitations_section(manifest: Manifest) -> list[str]:
    """Known limitations and biases of lexicon VAD, the filters, the label maps and the sources."""
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
    if lexicon_name(manifest).startswith("nrclex-proxy"):
        lines.append("- **This build uses the nrclex proxy**, whose V/A/D are a linear fit on ten binary "
                     "associations (Pearson r with NRC-VAD: V 0.83, A 0.47, D 0.61); arousal and dominance "
                     "are especially unreliable.")
    return lines


def license_section(manifest: Manifest) -> list[str]:
    """License terms per built source and for the lexicon, with the non-commercial and share-alike notes."""
    catalog = load_catalog()
    rows = []
    for name in manifest.built_sources():
        card = catalog.sources.get(name)
        lic = license_of(manifest, name)
        rows.append([card.title if card else name, lic, hf_license_id(lic), card.license_url if card else ""])
    lines = [md_table(["corpus", "license", "Hub id", "terms"], rows), ""]
    family = lexicon_family(lexicon_name(manifest))
    terms = LEXICON_NOTES[family]["terms"] if family else "See the lexicon authors' terms."
    lines += [f"- Lexicon `{manifest.lexicon.get('name')}`: {terms}", ""]
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


def build_command(manifest: Manifest) -> str:
    """The `emodata build` command line that reproduces this build from the same inputs."""
    config = manifest.config
    args = ["emodata build"]
    args += [f"--mix {m}" for m in config.get("mix", [f"{manifest.mix.a}:{manifest.mix.b}"])]
    args.append("--sample" if config.get("sample") else "--data-dir DATA")
    family = lexicon_family(lexicon_name(manifest))
    args.append(f"--lexicon {family}" if family else "--lexicon PATH")
    if config.get("spacy_model") not in (None, "en_core_web_sm"):
        args.append(f"--spacy-model {config['spacy_model']}")
    args += [f"--seed {manifest.seed}", f"--dev-frac {manifest.dev_frac}"]
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


def reproduce_section(manifest: Manifest) -> list[str]:
    """Reproducing and loading this build: the build command, `emodata verify`, `load_dataset`, DuckDB."""
    groups, name = manifest.split_names(), manifest.name
    return [
        "```bash",
        build_command(manifest),
        f"emodata verify {name}/manifests/{name}.json",
        "```",
        "",
        "```python",
        "from datasets import load_dataset",
        f"ds = load_dataset(\"path/to/{name}\")   # splits: {', '.join(groups)}",
    ] + ([f"pairs = load_dataset(\"path/to/{name}\", \"{name}_flip_pairs\")"
          "   # Valence-Flip pairs"] if manifest.pair_shards() else []) + [
        "",
        "import emodata",
        f"con = emodata.connect(\"path/to/{name}/manifests/{name}.json\")  # DuckDB",
        "```",
        "",
        f"The manifest `manifests/{name}.json` records exact shard paths, SHA-1s, row counts, "
        f"thresholds, the lexicon and pipeline, the catalog (SHA-1 `{manifest.catalog.sha1}`) "
        "and the config hash; `emodata verify` re-checks all of it.",
    ]
