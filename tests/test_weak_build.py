"""End to end on the sample build: weak labels, LF report, appraisal atoms, verifier and flip pairs."""
from __future__ import annotations

import json

import numpy as np
import pyarrow.parquet as pq

from emodata.query import connect
from labeling_functions.appraisal import load_verifier
from labeling_functions.emotion import FINE_LABELS
from emodata.core.metrics import label_set_scores


def _records(result, role):
    tables = [pq.read_table(result.root / s["path"]) for s in result.manifest["shards"] if s["role"] == role]
    return [row for t in tables for row in t.to_pylist()]


def test_every_record_carries_weak_labels_and_probabilities(sample_build):
    ekman = sample_build.manifest["weak_supervision"]["ekman"]["labels"]
    for role in ("train", "dev", "test", "probe"):
        rows = _records(sample_build, role)
        assert rows, role
        for row in rows:
            assert set(row["weak_labels"]) <= set(FINE_LABELS)
            assert set(row["weak_labels_ekman"]) <= set(ekman)
            if row["weak_probs"] is None:  # every LF abstained: no evidence, only the fallback label
                assert row["weak_labels"] == ["neutral"] and row["weak_labels_ekman"] == ["neutral"]
            else:
                assert len(row["weak_probs"]) == len(FINE_LABELS)
                assert abs(sum(row["weak_probs"]) - 1) < 1e-3
                top = FINE_LABELS[int(np.argmax(row["weak_probs"]))]
                assert top in row["weak_labels"]
    covered = [r for r in _records(sample_build, "train") if r["weak_probs"] is not None]
    assert len(covered) > 0.5 * len(_records(sample_build, "train"))


def test_lf_report_matches_the_shards(sample_build):
    manifest = sample_build.manifest
    analysis = manifest["lf_analysis"]
    assert {row["name"] for row in analysis["lfs"]} == set(manifest["weak_supervision"]["lfs"]["names"])
    assert analysis["chosen"] in ("majority_vote", "label_model")
    report = json.loads((sample_build.root / "manifests" / "lf_report.json").read_text())
    assert (sample_build.root / "manifests" / "lf_report.md").read_text().startswith("# Labeling-function report")
    # The report's dev score of the shipped aggregator is what the shards' weak labels score.
    dev = _records(sample_build, "dev")
    by_source = {}
    for row in dev:
        by_source.setdefault(row["source"], []).append(row)
    for source, rows in by_source.items():
        split = report["splits"][f"{source}/dev"]
        chosen = split["fine"]["chosen"]
        rows = [r for r in rows if set(r["labels"]) & set(FINE_LABELS)]  # rows without a fine gold label are not scored
        expected = label_set_scores([set(r["weak_labels"]) for r in rows],
                                    [set(r["labels"]) & set(FINE_LABELS) for r in rows])
        assert split["fine"]["scores"][chosen]["macro_f1"] == expected["macro_f1"]


def test_appraisal_columns_and_verifier_artifact(sample_build):
    manifest = sample_build.manifest
    (artifact,) = manifest["artifacts"]
    verifier = load_verifier(sample_build.root / artifact["path"])
    rows = _records(sample_build, "train")
    atoms = list(rows[0]["appraisal"])
    assert set(atoms) == set(manifest["appraisal"]["atoms"]) == set(verifier.atoms)
    values = [v for r in rows for v in r["appraisal"].values() if v is not None]
    assert values and all(0 <= v <= 1 for v in values)
    joy = next(r for r in rows if r["labels"] == ["joy"])
    assert joy["appraisal_prototype"]["pleasantness"] > 0.5


def test_pairs_shard_is_listed_queryable_and_from_train_only(sample_build):
    manifest = sample_build.manifest
    (shard,) = [s for s in manifest["shards"] if s["role"] == "pairs"]
    pairs = pq.read_table(sample_build.root / shard["path"]).to_pylist()
    assert manifest["pairs"]["n_pairs"] == len(pairs) == manifest["counts"]["pairs"] > 0
    train_ids = {r["id"] for r in _records(sample_build, "train")}
    assert all(p["id"] in train_ids and p["text"] != p["text_flip"] for p in pairs)
    assert all(abs(p["v"] + p["v_flip"] - 1) < 1e-6 for p in pairs)
    con = connect(sample_build.manifest_path)
    (n,) = con.execute("SELECT count(*) FROM pairs").fetchone()
    assert n == len(pairs)
