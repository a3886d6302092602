"""The dataset card (emodata/card.py); the build report's tests (tests/test_report.py) share these fixtures.

A tiny GoEmotions + DailyDialog folder is written in the original formats and built once (100:0,
default nrclex-proxy lexicon, so no shared data is needed).
"""
from __future__ import annotations

import copy
import json
import re
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

from emodata.build import build
from emodata.card import ANNOTATION_HEADINGS, SECTION_HEADINGS, hf_license_id, render_card, size_category, write_card
from emodata.core.config import BuildConfig
from emodata.core.hashing import sha1_file
from emodata.core.manifest import Manifest, dumps
from emodata.core.schema import APPRAISAL_TYPE, RECORD_SCHEMA
from emodata.report import NOT_IN_BUILD
from emodata.shards import write_parquet

# GoEmotions ids: 0 admiration, 1 amusement, 2 anger, 3 annoyance, 9 disappointment, 14 fear,
# 15 gratitude, 17 joy, 18 love, 20 optimism, 25 sadness, 26 surprise, 27 neutral
_FEELINGS = [
    ("happy", "17"), ("sad", "25"), ("angry", "2"), ("afraid", "14"), ("terrible", "9"),
    ("great", "0"), ("grateful", "15"), ("hopeful", "20"), ("furious", "2,3"), ("surprised", "26"),
]
_THINGS = ["party", "money", "storm", "gift", "accident", "wedding", "funeral", "holiday", "fight"]


def _goemotions_rows() -> list[str]:
    rows, n = [], 0
    for thing in _THINGS:
        for word, ids in _FEELINGS:
            n += 1
            rows.append(f"I feel so {word} about the {thing} today\t{ids}\tc{n:04d}")
    rows.append("I love this wonderful gift so much\t18\tc9001")
    rows.append("I hate this horrible terrible storm\t2,11\tc9002")
    rows.append("We had a good laugh about the joke\t1\tc9003")
    rows.append("So happy\t17\tc9004")                                        # too short
    rows.append("I love this wonderful gift so much\t18\tc9005")              # same text, other id
    # low lexicon coverage (vad_conf below the proxy's tau of 0.25)
    rows.append("Metal cabinets, wooden tables, paper folders, pencils, chairs, windows and happy\t27\tc9006")
    return rows


def _write_data(folder: Path) -> Path:
    ge = folder / "goemotions"
    ge.mkdir(parents=True)
    rows = _goemotions_rows()
    (ge / "train.tsv").write_text("\n".join(rows[:78]) + "\n", encoding="utf-8")
    (ge / "dev.tsv").write_text("\n".join(rows[78:]) + "\n", encoding="utf-8")
    dd = folder / "dailydialog"
    dd.mkdir()
    dialogues = [
        (["I am so happy you came to the party", "Thanks , I love a good party", "The music is great tonight",
          "I hate leaving such a happy evening"], [4, 4, 4, 5]),
        (["That accident was terrible and sad", "I was afraid for my family", "Nobody was badly hurt , thank god",
          "I am angry at the careless driver"], [5, 3, 4, 1]),
        (["Why are you so angry with me", "You broke my favorite gift", "I am sorry , it was an accident",
          "Fine , I forgive you my friend"], [1, 1, 5, 4]),
        (["What a wonderful surprise this is", "We planned the surprise party for weeks",
          "I feel grateful and happy", "You deserve a happy birthday"], [6, 0, 4, 4]),
        (["The storm destroyed our garden", "That is awful news , I am sad", "We will plant new flowers soon",
          "I hope the spring will be beautiful"], [5, 5, 0, 4]),
        (["This food tastes disgusting", "I agree , it is horrible", "Let us find a better restaurant",
          "Good idea , I am hungry"], [2, 2, 0, 0]),
    ]
    text = [" __eou__ ".join(utts) + " __eou__" for utts, _ in dialogues]
    emo = [" ".join(str(e) for e in labels) for _, labels in dialogues]
    (dd / "dialogues_text.txt").write_text("\n".join(text) + "\n", encoding="utf-8")
    (dd / "dialogues_emotion.txt").write_text("\n".join(emo) + "\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def tiny_build(tmp_path_factory):
    """A 100:0 build of the tiny corpus (GoEmotions train/dev + the DailyDialog probe)."""
    base = tmp_path_factory.mktemp("card-report")
    data = _write_data(base / "data")
    config = BuildConfig(mix=["100:0"], data_dir=str(data), out=str(base / "out"), quiet=True,
                         cache_dir=str(base / "cache"))
    (result,) = build(config)
    return result


QC_OUTCOMES = [   # what the gate writes to manifests/qc.json beside the summary
    {"suite": "record", "check": "record.text_not_null", "expectation": "expect_column_values_to_not_be_null",
     "column": "text", "severity": "critical", "success": True, "observed": {"unexpected_count": 0}},
    {"suite": "record", "check": "record.vad_conf_range", "expectation": "expect_column_values_to_be_between",
     "column": "vad_conf", "severity": "critical", "success": False, "observed": "3 rows below 0.25"},
    {"suite": "mix", "check": "mix.share_a", "expectation": "expect_column_values_to_be_between",
     "column": "share", "severity": "warning", "success": False, "observed": 0.93},
]


def _extras() -> dict:
    """Fake optional manifest parts, in the shapes documented in emodata/report/__init__.py."""
    labels = ["anger", "joy", "sadness", "neutral"]
    return {
        "qc": {"success": False, "great_expectations": "1.3.0", "rows": 112,     # the gate's summary()
               "suites": {"record": {"evaluated": 12, "failed_critical": 1, "failed_warning": 0},
                          "mix": {"evaluated": 4, "failed_critical": 0, "failed_warning": 1},
                          "pairs": {"evaluated": 0, "failed_critical": 0, "failed_warning": 0,
                                    "skipped": ["pairs.present"]}}},
        "lf_analysis": {
            "lfs": [{"name": f"lf_{w}", "coverage": 0.1 + 0.05 * i, "overlap": 0.04 * i, "conflict": 0.02 * i,
                     "polarity": [labels[i % 4]]}
                    for i, w in enumerate(["happy", "sad", "angry", "not_happy", "hate"])],
            "confusion": {"labels": labels, "method": "label_model",
                          "matrix": [[30, 2, 5, 3], [1, 50, 2, 7], [4, 1, 25, 6], [6, 9, 8, 70]]},
            "scores": {"label_model": {"macro_f1": 0.41}, "majority_vote": {"macro_f1": 0.44}},
            "chosen": "majority_vote"},
        "weak_labels": {"method": "majority_vote", "n_lfs": 5, "lf_set_sha1": "0" * 40},
        "appraisal": {"atoms": {"goal_attainment": {"counts": {"low": 20, "mid": 50, "high": 30}},
                                "certainty": {"bins": [0.0, 0.25, 0.5, 0.75, 1.0], "counts": [5, 20, 40, 35]}}},
        "pairs": {"n_pairs": 60, "by_kind": {"negation": {"pairs": 40, "s_flip_mean": 0.06},
                                             "antonym": {"pairs": 20, "s_flip_mean": 0.11}},
                  "s_flip_hist": {"bins": [0.0, 0.1, 0.2, 0.3], "counts": [40, 15, 5]}},
    }


@pytest.fixture(scope="session")
def full_manifest(tiny_build, tmp_path_factory):
    """A copy of the tiny build whose manifest also carries every optional part."""
    root = tmp_path_factory.mktemp("card-report-full") / tiny_build.root.name
    shutil.copytree(tiny_build.root, root, ignore=shutil.ignore_patterns("report", "README.md"))
    manifest = dict(tiny_build.manifest) | _extras()
    path = root / "manifests" / f"{tiny_build.name}.json"
    path.write_text(dumps(manifest), encoding="utf-8")
    (root / "manifests" / "qc.json").write_text(json.dumps(manifest["qc"] | {"outcomes": QC_OUTCOMES}),
                                                encoding="utf-8")
    return path, manifest


#: What a build without weak supervision lacks: these manifest keys, these record columns, the pairs shard.
OPTIONAL_KEYS = ("weak_supervision", "weak_labels", "lf_analysis", "appraisal", "artifacts", "pairs")
OPTIONAL_COLUMNS = ("weak_labels", "weak_probs", "weak_labels_ekman", "weak_probs_ekman", "appraisal",
                    "appraisal_prototype")


def _without_optional(manifest: dict) -> dict:
    """A deep copy of a manifest with no weak labels, appraisal atoms or flip pairs (keys and shard)."""
    bare = {k: copy.deepcopy(v) for k, v in manifest.items() if k not in OPTIONAL_KEYS}
    bare["shards"] = [s for s in bare["shards"] if s.get("role") != "pairs"]
    bare["counts"] = {k: v for k, v in bare["counts"].items() if k != "pairs"}
    return bare


@pytest.fixture(scope="session")
def bare_manifest(tiny_build, tmp_path_factory):
    """A copy of the tiny build as a build without weak supervision would be: none of the optional
    manifest keys, no pairs shard or verifier file, record shards without the weak/appraisal columns."""
    root = tmp_path_factory.mktemp("card-report-bare") / tiny_build.root.name
    shutil.copytree(tiny_build.root, root, ignore=shutil.ignore_patterns("report", "README.md", "pairs",
                                                                         "artifacts", "lf_report.*"))
    manifest = _without_optional(tiny_build.manifest)
    for shard in manifest["shards"]:
        path = root / shard["path"]
        table = pq.read_table(path)
        write_parquet(table.drop_columns([c for c in OPTIONAL_COLUMNS if c in table.column_names]), path)
        shard["sha1"] = sha1_file(path)
    path = root / "manifests" / f"{tiny_build.name}.json"
    path.write_text(dumps(manifest), encoding="utf-8")
    return path, manifest


def _card_section(text: str, heading: str, level: int = 2) -> str:
    marker = "#" * level + " " + heading + "\n"
    start = text.index(marker) + len(marker)
    nxt = re.search(r"^#{2,%d} " % level, text[start:], flags=re.M)
    return text[start:start + nxt.start()] if nxt else text[start:]


# ------------------------------------------------------------------------------------------------ card

def test_license_ids_and_size_categories():
    assert hf_license_id("CC BY 4.0") == "cc-by-4.0"
    assert hf_license_id("CC BY-NC 4.0") == "cc-by-nc-4.0"
    assert hf_license_id("CC BY-NC-SA 4.0") == "cc-by-nc-sa-4.0"
    assert hf_license_id("Some custom terms") == "other"
    assert size_category(999) == "n<1K" and size_category(1000) == "1K<n<10K"
    assert size_category(42_068) == "10K<n<100K"


def test_card_parses_with_huggingface_hub(tiny_build):
    from huggingface_hub import DatasetCard

    manifest = tiny_build.manifest
    path = write_card(tiny_build.root, manifest)
    assert path == tiny_build.root / "README.md"
    for card in (DatasetCard(path.read_text(encoding="utf-8")), DatasetCard.load(path)):
        data = card.data.to_dict()
        assert data["language"] == ["en"]
        assert data["task_categories"] == ["text-classification"]
        assert data["task_ids"] == ["multi-label-classification"]
        assert set(data["license"]) == {"cc-by-4.0", "cc-by-nc-sa-4.0"}   # GoEmotions + DailyDialog probe
        # the records config (default) and the Valence-Flip pairs in a config of their own
        config, pairs_config = data["configs"]
        assert config["config_name"] == manifest["name"] == "mix_100_0" and config["default"] is True
        files = {entry["split"]: entry["path"] for entry in config["data_files"]}
        expected = {{"dev": "validation"}.get(name, name): [s["path"] for s in shards]
                    for name, shards in Manifest.coerce(manifest).split_names().items()}
        assert files == expected and set(files) == {"train", "validation", "dailydialog"}
        pair_paths = [s["path"] for s in manifest["shards"] if s["role"] == "pairs"]
        assert pair_paths == ["pairs/train_pairs.parquet"]
        assert not any(p in paths for p in pair_paths for paths in files.values())
        assert pairs_config == {"config_name": "mix_100_0_flip_pairs",
                                "data_files": [{"split": "train", "path": pair_paths}]}
        for paths in list(files.values()) + [pair_paths]:
            assert all((tiny_build.root / p).is_file() for p in paths)
        info, pairs_info = data["dataset_info"]
        assert info["config_name"] == "mix_100_0"
        counts = {s["name"]: s["num_examples"] for s in info["splits"]}
        assert counts == {"train": manifest["counts"]["train"], "validation": manifest["counts"]["dev"],
                          "dailydialog": manifest["counts"]["probe"]}
        # features derived from the record schema: label columns are ClassLabels of the build's spaces
        by_name = {f["name"]: f for f in info["features"]}
        assert list(by_name) == list(RECORD_SCHEMA.names)
        assert by_name["labels"]["list"]["class_label"]["names"] == {
            str(i): n for i, n in enumerate(manifest["label_space"]["labels"])}
        assert by_name["weak_labels_ekman"]["list"]["class_label"]["names"] == {
            str(i): n for i, n in enumerate(manifest["label_space"]["ekman_labels"])}
        assert by_name["source_labels"] == {"name": "source_labels", "list": "string"}
        assert {f["name"] for f in pairs_info["features"]} >= {"pair_id", "text", "text_flip"}
        assert all(s["num_bytes"] > 0 for s in info["splits"])
        assert pairs_info["config_name"] == "mix_100_0_flip_pairs"
        assert [(s["name"], s["num_examples"]) for s in pairs_info["splits"]] == [
            ("train", manifest["counts"]["pairs"])]
        assert all(s["num_bytes"] > 0 for s in pairs_info["splits"])
        total = sum(counts.values())                       # records only: pairs do not count
        assert data["size_categories"] == [size_category(total)]
        assert manifest["name"] in data["pretty_name"]


def test_card_sections_and_absent_parts(tiny_build):
    manifest = tiny_build.manifest
    text = render_card(manifest)
    assert text.startswith("---\n")
    front = yaml.safe_load(text.split("---\n")[1])
    assert "num_bytes" not in json.dumps(front)       # no build root given: row counts only
    for heading in SECTION_HEADINGS:
        assert f"\n## {heading}\n" in text, heading
    for heading in ANNOTATION_HEADINGS:
        assert f"\n### {heading}\n" in text, heading
    # every build now carries weak labels, appraisal atoms and flip pairs: the card describes them
    assert "Present in this build: lexicon VAD, weak labels, appraisal atoms, Valence-Flip pairs." in text
    for heading in ("Weak labels", "Appraisal atoms", "Valence-Flip pairs"):
        assert NOT_IN_BUILD not in _card_section(text, heading, 3), heading
    weak = _card_section(text, "Weak labels", 3)
    ws = manifest["weak_supervision"]
    assert f"Aggregator, fine labels (28 classes): `{ws['fine']['aggregator']}`" in weak
    assert f"Aggregator, Ekman-7 (7 classes): `{ws['ekman']['aggregator']}`" in weak
    assert f"Labeling functions: {len(ws['lfs']['names'])} (" in weak and ws["lfs"]["sha1"] in weak
    assert f"| fine | {manifest['lf_analysis']['chosen']} (shipped) |" in weak
    appraisal = _card_section(text, "Appraisal atoms", 3)
    for atom in APPRAISAL_TYPE.names:
        assert f"`{atom}`" in appraisal and f"\n| {atom} |" in appraisal, atom
    assert "artifacts/appraisal_verifier.npz" in appraisal
    flips = _card_section(text, "Valence-Flip pairs", 3)
    pairs = manifest["pairs"]
    assert f"- {pairs['n_pairs']:,} pairs, mean S_flip" in flips
    for kind, info in pairs["by_kind"].items():
        assert f"| {kind} | {info['pairs']:,} |" in flips, kind
    assert pairs["examples"][0]["text_flip"] in flips and "pairs/train_pairs.parquet" in flips
    assert "weak_probs_ekman, appraisal, appraisal_prototype`" in _card_section(text, "Dataset summary")
    # a build without them says so, and has the records config only
    bare = render_card(_without_optional(manifest))
    for heading in ("Weak labels", "Appraisal atoms", "Valence-Flip pairs"):
        assert _card_section(bare, heading, 3).strip().startswith(NOT_IN_BUILD), heading
    assert "Present in this build: lexicon VAD." in bare
    assert [c["config_name"] for c in yaml.safe_load(bare.split("---\n")[1])["configs"]] == ["mix_100_0"]
    assert "weak_labels" not in _card_section(bare, "Dataset summary")
    assert "nrclex-proxy" in _card_section(text, "Lexicon VAD", 3)
    assert "QC gate: **passed**" in _card_section(text, "QC results")
    without_qc = render_card({k: v for k, v in tiny_build.manifest.items() if k != "qc"})
    assert "No QC gate results in this manifest." in _card_section(without_qc, "QC results")
    sources = _card_section(text, "Sources and citations")
    assert "@inproceedings{demszky-etal-2020-goemotions" in sources
    assert "@inproceedings{li-etal-2017-dailydialog" in sources
    maps = _card_section(text, "Label space and label maps")
    assert "`happiness` → `joy`" in maps and "| joy |" in maps
    licenses = _card_section(text, "License terms")
    assert "CC BY 4.0" in licenses and "CC BY-NC-SA 4.0" in licenses and "EmoLex" in licenses
    assert render_card(tiny_build.manifest) == text       # deterministic


def test_card_with_optional_parts(full_manifest):
    from huggingface_hub import DatasetCard

    _, manifest = full_manifest
    records = [s for s in manifest["shards"] if s["role"] != "pairs"]     # the build's own pairs shard replaced
    text = render_card(manifest | {"shards": records + [
        {"name": "goemotions/flip_pairs", "source": "goemotions", "split": "train", "role": "pairs",
         "path": "data/goemotions/flip_pairs.parquet", "sha1": "1" * 40, "rows": 60}]})
    data = DatasetCard(text).data.to_dict()
    assert [c["config_name"] for c in data["configs"]] == ["mix_100_0", "mix_100_0_flip_pairs"]
    assert data["dataset_info"][0]["splits"][0] == {"name": "train", "num_examples": manifest["counts"]["train"]}
    assert data["dataset_info"][1]["splits"] == [{"name": "train", "num_examples": 60}]
    qc = _card_section(text, "QC results")
    assert "**FAILED**" in qc and "| record | 12 | 11 | 1 | 0 | 0 |" in qc and "| pairs | 0 | 0 | 0 | 0 | 1 |" in qc
    assert "- **great_expectations**: 1.3.0" in qc and "- **rows**: 112" in qc
    # a `qc` of another shape (no writer makes one) is refused, naming the key, not half-read
    with pytest.raises(ValueError, match=r"qc\.success: missing"):
        render_card(manifest | {"qc": {"passed": True, "suite": "records_v1", "results": QC_OUTCOMES}})
    assert "Present in this build: lexicon VAD, weak labels, appraisal atoms, Valence-Flip pairs." in text
    for heading in ("Weak labels", "Appraisal atoms", "Valence-Flip pairs"):
        assert NOT_IN_BUILD not in _card_section(text, heading, 3), heading
    assert "majority_vote" in _card_section(text, "Weak labels", 3)
    # a legacy `weak_labels` entry (nothing writes one) is not read: only `weak_supervision` means weak labels
    legacy_weak = render_card({k: v for k, v in manifest.items() if k != "weak_supervision"})
    assert _card_section(legacy_weak, "Weak labels", 3).strip().startswith(NOT_IN_BUILD)
    assert "weak labels" not in legacy_weak.split("Present in this build: ")[1].split("\n")[0]


def test_build_folder_loads_with_datasets(tiny_build, tmp_path):
    datasets = pytest.importorskip("datasets")
    write_card(tiny_build.root, tiny_build.manifest)
    ds = datasets.load_dataset(str(tiny_build.root), cache_dir=str(tmp_path / "hf"))
    assert {k: len(v) for k, v in ds.items()} == {"train": tiny_build.manifest["counts"]["train"],
                                                   "validation": tiny_build.manifest["counts"]["dev"],
                                                   "dailydialog": tiny_build.manifest["counts"]["probe"]}
