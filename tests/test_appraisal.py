"""Appraisal atoms: prototype table, cue LFs on crafted sentences, per-atom label models, verifier."""
from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import yaml

from catalog import OTHER, load_catalog
from catalog.appraisal import PROTOTYPES_FILE, load_prototypes, prototype
from labeling_functions.appraisal import (APPRAISAL_ATOMS, agreement, appraisal_lfs, appraisal_matrices,
                                          appraisal_summary, check_atoms, fit_appraisal, load_verifier,
                                          train_verifier)
from labeling_functions.appraisal.cues import CueFamily, cue_vote, find_phrase
from labeling_functions.appraisal.model import LABEL_MODEL_METHOD, VOTE_MEAN_METHOD, vote_mean
from labeling_functions.appraisal.verifier import KEYS, heldout_mask
from emodata.annotate import annotate_texts
from labeling_functions.core import ABSTAIN, apply_lfs, with_lf_columns

from tests.conftest import SHARED_DATA

LABELS = load_catalog().unified_labels


# ------------------------------------------------------------------------------------ prototype table

def test_table_covers_unified_space_and_atoms():
    table = load_prototypes()
    check_atoms()
    assert table.atoms == APPRAISAL_ATOMS
    assert set(table.labels) == set(LABELS) - {OTHER}
    for label in table.labels:
        for atom in table.atoms:
            value = table.values[label][atom]
            assert value is None or 0.0 <= value <= 1.0
            assert table.refs[label][atom] and all(r in table.references for r in table.refs[label][atom])
    # every label constrains at least one atom, and every atom is constrained by many labels
    assert all(any(v is not None for v in table.values[x].values()) for x in table.labels)
    assert all(sum(table.values[x][a] is not None for x in table.labels) >= 10 for a in table.atoms)


def _write_table(tmp_path, mutate) -> str:
    data = yaml.safe_load(PROTOTYPES_FILE.read_text(encoding="utf-8"))
    mutate(data)
    path = tmp_path / "prototypes.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d["prototypes"].pop("joy"), "no prototype for unified labels ['joy']"),
    (lambda d: d["prototypes"].__setitem__("other", d["prototypes"]["joy"]), "`other` has none"),
    (lambda d: d["prototypes"]["fear"]["certainty"].__setitem__("value", 1.5), "prototypes.fear.certainty"),
    (lambda d: d["prototypes"]["fear"]["certainty"].__setitem__("ref", ["NOPE"]), "must name entries"),
    (lambda d: d["prototypes"]["fear"].pop("fairness"), "prototypes.fear"),
    (lambda d: d["prototypes"]["fear"]["fairness"].__setitem__("note", ""), "note"),
])
def test_bad_table_is_rejected_with_its_location(tmp_path, mutate, message):
    path = _write_table(tmp_path, mutate)
    with pytest.raises(ValueError) as err:
        load_prototypes(path)
    assert message in str(err.value) and "prototypes.yaml" in str(err.value)


def test_prototype_aggregation():
    table = load_prototypes()
    assert prototype(["fear"]) == table.values["fear"]
    mixed = prototype(["anger", "sadness"])
    for atom in APPRAISAL_ATOMS:
        known = [table.values[x][atom] for x in ("anger", "sadness") if table.values[x][atom] is not None]
        assert mixed[atom] == (pytest.approx(sum(known) / len(known)) if known else None)
    # neutral is dropped beside an emotion, kept alone; other and duplicates are ignored
    assert prototype(["neutral", "joy"]) == prototype(["joy"]) == prototype(["joy", "joy", OTHER])
    assert prototype(["neutral"]) == table.values["neutral"]
    assert prototype([OTHER]) == prototype([]) == {a: None for a in APPRAISAL_ATOMS}
    with pytest.raises(ValueError, match="'happyish'"):
        prototype(["joy", "happyish"])
    matrix = table.prototype_matrix([["joy"], [], ["love"]])
    assert matrix.shape == (3, len(APPRAISAL_ATOMS))
    assert np.isnan(matrix[1]).all()
    expected = [np.nan if table.values["love"][a] is None else table.values["love"][a] for a in APPRAISAL_ATOMS]
    np.testing.assert_array_equal(matrix[2], expected)


# ------------------------------------------------------------------------------------------- cue LFs

def test_find_phrase_spans_and_family_validation():
    padded = " i did n't win , i won . "
    assert find_phrase(padded, "won") == [(6, 7)]
    assert find_phrase(padded, "did n't win") == [(1, 4)]
    assert find_phrase(padded, "i") == [(0, 1), (5, 6)]
    assert find_phrase(padded, "wi") == []
    with pytest.raises(ValueError, match="polarity"):
        CueFamily("x", ("a",), 2)
    with pytest.raises(ValueError, match="lower-case"):
        CueFamily("x", ("Can't",), 1)


@pytest.fixture(scope="module")
def lfs():
    return appraisal_lfs()


CRAFTED = [
    # sentence, atom, LF suffix, expected vote
    ("I finally passed the exam!", "goal_attainment", "success", 1),
    ("I didn't win the game.", "goal_attainment", "success", 0),          # negated success flips
    ("We never won anything.", "goal_attainment", "success", 0),
    ("I didn't fail the test.", "goal_attainment", "failure", ABSTAIN),    # negated failure abstains
    ("I failed the test.", "goal_attainment", "failure", 0),
    ("My grandmother passed away.", "goal_attainment", "success", ABSTAIN),  # excluded phrase
    ("I decided to quit my job.", "controllability", "agency", 1),
    ("I will not go there.", "controllability", "agency", 0),             # modal followed by a negator
    ("I couldn't help it.", "controllability", "helpless", 0),
    ("I had no choice.", "controllability", "helpless", 0),
    ("I didn't have a choice.", "controllability", "agency", 0),
    ("I'm definitely going.", "certainty", "certain", 1),
    ("I'm not sure about that.", "certainty", "certain", 0),
    ("I don't know.", "certainty", "certain", 0),
    ("You know, it rained.", "certainty", "certain", ABSTAIN),
    ("Maybe it will rain.", "certainty", "hedge", 0),
    ("Is that true?", "certainty", "question", 0),
    ("That is true.", "certainty", "question", ABSTAIN),
    ("That's so unfair.", "fairness", "injustice", 0),
    ("It's not unfair.", "fairness", "injustice", ABSTAIN),
    ("He cheated and lied to me.", "fairness", "deception", 0),
    ("You deserve it.", "fairness", "just", 1),
    ("You don't deserve this.", "fairness", "just", 0),
    ("You deserve better.", "fairness", "just", ABSTAIN),
    ("Suddenly the lights went out.", "suddenness", "sudden", 1),
    ("I'm not surprised at all.", "suddenness", "sudden", 0),
    ("I didn't expect that.", "suddenness", "expected", 1),
    ("It's my fault.", "self_responsibility", "self_fault", 1),
    ("It's not my fault.", "self_responsibility", "self_fault", 0),
    ("I'm sorry for your loss.", "self_responsibility", "self_agent", ABSTAIN),
    ("I'm sorry, I broke it.", "self_responsibility", "self_agent", 1),
    ("This is your fault.", "other_responsibility", "other_fault", 1),
    ("Not your fault.", "other_responsibility", "other_fault", 0),
    ("You didn't call me.", "other_responsibility", "other_agent", ABSTAIN),
    ("I love this, thank you!", "pleasantness", "pleasant", 1),
    ("This is not good.", "pleasantness", "pleasant", 0),
    ("Not bad at all.", "pleasantness", "unpleasant", ABSTAIN),
]


@pytest.fixture(scope="module")
def crafted_frame():
    return annotate_texts([c[0] for c in CRAFTED])


def test_cue_lfs_on_crafted_sentences(lfs, crafted_frame):
    wrong = []
    for (text, atom, suffix, expected), row in zip(CRAFTED, crafted_frame.itertuples(index=False)):
        (lf,) = [lf for lf in lfs[atom] if lf.name == f"app_{atom}_{suffix}"]
        got = lf(row)
        if got != expected:
            wrong.append((text, lf.name, got, expected))
    assert not wrong


def test_negation_ablation_counts_negated_cues_as_plain(crafted_frame):
    plain = appraisal_lfs(negation=False)
    rows = list(crafted_frame.itertuples(index=False))
    texts = [c[0] for c in CRAFTED]
    (success,) = [lf for lf in plain["goal_attainment"] if lf.name.endswith("_success")]
    (just,) = [lf for lf in plain["fairness"] if lf.name.endswith("_just")]
    assert success(rows[texts.index("I didn't win the game.")]) == 1
    assert just(rows[texts.index("You don't deserve this.")]) == 1
    model_flags = appraisal_matrices(crafted_frame, negation=False)["goal_attainment"]
    assert (model_flags != appraisal_matrices(crafted_frame)["goal_attainment"]).any()


def test_lfs_run_in_snorkel_pandas_applier(lfs, crafted_frame):
    from snorkel.labeling import PandasLFApplier

    flat = [lf for atom in APPRAISAL_ATOMS for lf in lfs[atom]]
    assert len({lf.name for lf in flat}) == len(flat)
    ours = apply_lfs(crafted_frame, flat)
    theirs = PandasLFApplier(flat).apply(crafted_frame, progress_bar=False)
    np.testing.assert_array_equal(ours, theirs)
    assert set(np.unique(ours)) <= {ABSTAIN, 0, 1}


def test_lexicon_lfs_read_vad_only_with_coverage():
    family = CueFamily("t", ("great",), 1)
    rows = with_lf_columns(pd.DataFrame({
        "text": ["great", "x", "x"], "tokens": [["great"], ["x"], ["x"]], "lower": [["great"], ["x"], ["x"]],
        "neg": [[0], [0], [0]], "vad_v": [0.9, 0.9, np.nan], "vad_a": [0.5] * 3, "vad_d": [0.5] * 3,
        "vad_conf": [1.0, 0.2, 0.0]}))
    (lf,) = [lf for lf in appraisal_lfs()["pleasantness"] if lf.name.endswith("lexicon_valence")]
    votes = [lf(r) for r in rows[["text", "tokens", "lower", "neg", "vad_v", "vad_a", "vad_d", "vad_conf",
                                  "padded"]].itertuples(index=False)]
    assert votes == [1, ABSTAIN, ABSTAIN]
    assert cue_vote(next(rows.itertuples(index=False)), family) == 1


# -------------------------------------------------------------------------------------- label model

POSITIVE = ["great", "love", "awesome", "happy"]
NEGATIVE = ["awful", "hate", "terrible", "sad"]


def synthetic_frame(n: int = 240, seed: int = 0) -> pd.DataFrame:
    """Rows built straight from token lists (no spaCy): sentiment cues + matching or noisy VAD."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        positive = bool(rng.integers(2))
        word = rng.choice(POSITIVE if positive else NEGATIVE)
        tokens = ["it", "is", str(word)]
        neg = [0, 0, 0]
        if rng.random() < 0.15:
            tokens, neg, positive = ["it", "is", "not", str(word)], [0, 0, 0, 1], not positive
        if rng.random() < 0.2:
            tokens += ["?"]
            neg += [0]
        noisy = rng.random() < 0.15
        v = (0.85 if positive != noisy else 0.3) if rng.random() < 0.8 else float("nan")
        rows.append({"id": f"s{i}", "text": " ".join(tokens), "tokens": tokens, "lower": tokens, "neg": neg,
                     "vad_v": v, "vad_a": 0.5, "vad_d": 0.5, "vad_conf": 0.0 if math.isnan(v) else 1.0,
                     "labels": ["joy"] if positive else ["sadness"]})
    return with_lf_columns(pd.DataFrame(rows))


@pytest.fixture(scope="module")
def fitted():
    frame = synthetic_frame()
    matrices = appraisal_matrices(frame)
    model = fit_appraisal(frame, seed=7, matrices=matrices)
    return frame, matrices, model, model.predict_lfs(frame, matrices)


def test_label_model_output_in_unit_interval_with_nan_for_abstains(fitted):
    frame, matrices, model, pred = fitted
    assert list(pred.columns) == list(APPRAISAL_ATOMS)
    assert pred.index.equals(frame.index)
    for atom in APPRAISAL_ATOMS:
        values = pred[atom].to_numpy()
        abstained = (matrices[atom] == ABSTAIN).all(axis=1)
        assert np.array_equal(np.isnan(values), abstained)
        assert ((values[~abstained] >= 0) & (values[~abstained] <= 1)).all()
    assert model.models["pleasantness"].method == LABEL_MODEL_METHOD
    assert model.models["fairness"].method == VOTE_MEAN_METHOD   # no fairness cue in these rows
    # the label model puts positive rows above negative ones
    positive = np.array([labels == ["joy"] for labels in frame["labels"]])
    p = pred["pleasantness"].to_numpy()
    assert np.nanmean(p[positive]) > 0.7 > 0.3 > np.nanmean(p[~positive])


def test_build_atoms_come_from_the_classifier_for_every_row(fitted):
    from labeling_functions.appraisal import score_texts

    frame, matrices, model, _ = fitted
    pred = model.predict(frame, matrices)
    assert list(pred.columns) == list(APPRAISAL_ATOMS) and np.isfinite(pred.to_numpy()).all()   # no abstention
    expected = score_texts(frame["text"].tolist())[list(APPRAISAL_ATOMS)]
    np.testing.assert_array_equal(pred.to_numpy(), expected.to_numpy())
    summary = appraisal_summary(pred, model=model)
    assert summary["enisear_cv_auc"]["Pleasant (pleasantness)"] >= 0.65 and summary["enisear_cv_auc"]["mean"] >= 0.75
    described = model.describe()["classifier"]
    assert len(described["sha1"]) == 40 and set(described["cv_auc"]) == {"Attention", "Certainty", "Effort",
                                                                          "Pleasant", "Responsibility", "Control",
                                                                          "Circumstance"}


def test_fit_is_deterministic_and_predict_recomputes_matrices(fitted):
    frame, _, model, pred = fitted
    again = fit_appraisal(frame, seed=7).predict_lfs(frame)
    pd.testing.assert_frame_equal(pred, again)
    described = model.describe()
    assert described["atoms"]["pleasantness"]["lfs"] == [lf.name for lf in appraisal_lfs()["pleasantness"]]
    assert len(described["lf_sha1"]) == 40
    cov = described["atoms"]["certainty"]["coverage"]
    assert cov == pytest.approx(float(frame["text"].str.contains("?", regex=False).mean()))
    json.dumps(described)


def test_vote_mean_fallback():
    matrix = np.array([[1, -1, -1], [1, 1, 0], [-1, -1, -1], [0, 0, -1]])
    out = vote_mean(matrix)
    np.testing.assert_allclose(out[[0, 1, 3]], [2 / 3, 3 / 5, 1 / 4])
    assert np.isnan(out[2])


# ----------------------------------------------------------------------------------------- verifier

@pytest.fixture(scope="module")
def trained(fitted, tmp_path_factory):
    frame, _, _, pred = fitted
    verifier, report = train_verifier(frame, pred, LABELS, seed=3, heldout_frac=0.25)
    path = verifier.save(tmp_path_factory.mktemp("verifier") / "verifier.npz")
    return frame, pred, verifier, report, path


def test_verifier_artifact_format(trained):
    _, _, verifier, _, path = trained
    with np.load(path, allow_pickle=False) as data:
        assert sorted(data.files) == sorted(KEYS)
        m, k, n = len(APPRAISAL_ATOMS), len(LABELS), int(data["n_features"])
        assert n == 2 ** 14
        assert data["w_text"].shape == (n, m) and data["w_label"].shape == (k, m) and data["bias"].shape == (m,)
        assert tuple(data["atoms"]) == APPRAISAL_ATOMS and tuple(data["labels"]) == LABELS
        assert json.loads(str(data["config"]))["neg_prefix"] == "NOT_"


def test_verifier_round_trip_and_byte_identical(trained, tmp_path):
    frame, pred, verifier, _, path = trained
    loaded = load_verifier(path)
    texts = ["It is great", "It is not great", "It is awful ?"]
    labels = [["joy"], ["sadness"], []]
    np.testing.assert_array_equal(verifier.predict(texts, labels), loaded.predict(texts, labels))
    assert verifier.predict(texts, labels).shape == (3, len(APPRAISAL_ATOMS))
    again, _ = train_verifier(frame, pred, LABELS, seed=3, heldout_frac=0.25)
    assert again.save(tmp_path / "again.npz").read_bytes() == path.read_bytes()
    other, _ = train_verifier(frame, pred, LABELS, seed=4, heldout_frac=0.25)
    assert other.save(tmp_path / "other.npz").read_bytes() != path.read_bytes()


def test_verifier_features_and_learning(trained):
    frame, _, verifier, report, _ = trained
    # raw-text features equal the ones built from the annotate columns (same tokens, same negation)
    annotated = annotate_texts(["It is not great", "It is awful"])
    np.testing.assert_array_equal(verifier.text_features(annotated["text"]).toarray(),
                                  verifier.token_features(annotated["lower"], annotated["neg"]).toarray())
    phi = verifier.text_features(["great", "not great"])
    assert phi.shape == (2, verifier.n_features) and (phi != 0).sum(axis=1).tolist() == [[1], [3]]
    j = APPRAISAL_ATOMS.index("pleasantness")
    s = verifier.predict(["It is great", "It is not great", "It is awful"], np.zeros((3, len(LABELS))))[:, j]
    assert s[0] > 0.5 > s[1] and s[0] > s[2]
    entry = report["atoms"]["pleasantness"]
    assert entry["n_train"] + entry["n_heldout"] == int(np.isfinite(trained[1]["pleasantness"]).sum())
    assert entry["vs_label_model"]["pearson"] > 0.8
    assert report["n_heldout"] == int(heldout_mask(len(frame), 3, 0.25).sum()) == 60
    with pytest.raises(ValueError, match="'happyish'"):
        verifier.predict(["x"], [["happyish"]])
    with pytest.raises(ValueError, match="negation_scope"):
        train_verifier(frame, trained[1], LABELS, seed=3, negation_scope="regex")


def test_bad_inputs_are_named(trained, tmp_path):
    frame, pred, _, _, _ = trained
    bad = pred.copy()
    bad.iloc[5, 0] = 1.5
    with pytest.raises(ValueError, match="target row 5"):
        train_verifier(frame, bad, LABELS, seed=3)
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="junk.npz"):
        load_verifier(junk)


# ------------------------------------------------------------------------------------------ summary

def test_agreement_metrics():
    t = np.array([0.1, 0.9, 0.25, 0.75, 0.5, np.nan])
    same = agreement(t, t, margin=0.1)
    assert same["n"] == 5 and same["pearson"] == pytest.approx(1.0)
    assert same["n_decisive"] == 4 and same["accuracy"] == 1.0 and same["macro_f1"] == 1.0
    flipped = agreement(1 - t, t, margin=0.1)
    assert flipped["accuracy"] == 0.0 and flipped["pearson"] == pytest.approx(-1.0)
    assert flipped["majority_accuracy"] == 0.5


def test_summary_shape_for_the_report(fitted, trained):
    from emodata.report.stages import appraisal_atoms

    frame, _, model, pred = fitted
    summary = appraisal_summary(pred, list(frame["labels"]), None, model, trained[3])
    json.dumps(summary, allow_nan=False)
    for atom in APPRAISAL_ATOMS:
        entry = summary["atoms"][atom]
        assert len(entry["bins"]) == len(entry["counts"]) + 1
        assert sum(entry["counts"]) == int(pred[atom].notna().sum())
        assert entry["coverage"] == pytest.approx(pred[atom].notna().mean(), abs=1e-6)
    assert summary["atoms"]["pleasantness"]["vs_prototype"]["accuracy"] > 0.8
    assert summary["verifier"]["atoms"]["pleasantness"]["n_train"] > 0
    assert set(appraisal_atoms({"appraisal": summary}, pd.DataFrame())) == set(APPRAISAL_ATOMS)


# ---------------------------------------------------------------------------------------- real data

@pytest.mark.skipif(not (SHARED_DATA / "goemotions" / "dev.tsv").is_file()
                    or not (SHARED_DATA / "lexicons" / "NRC-VAD-Lexicon.txt").is_file(),
                    reason="shared GoEmotions dev / NRC-VAD not present")
def test_real_goemotions_dev_slice():
    from emodata.text.lexicon import read_lexicon_file

    lines = (SHARED_DATA / "goemotions" / "dev.tsv").read_text(encoding="utf-8").splitlines()[:1500]
    names = (SHARED_DATA / "goemotions" / "emotions.txt").read_text(encoding="utf-8").split()
    texts = [line.split("\t")[0] for line in lines]
    labels = [[names[int(i)] for i in line.split("\t")[1].split(",")] for line in lines]
    frame = annotate_texts(texts, read_lexicon_file(SHARED_DATA / "lexicons" / "NRC-VAD-Lexicon.txt"))
    model = fit_appraisal(frame, seed=13)
    pred = model.predict_lfs(frame)
    summary = appraisal_summary(pred, labels)
    assert summary["atoms"]["pleasantness"]["coverage"] > 0.3
    assert summary["atoms"]["pleasantness"]["vs_prototype"]["pearson"] > 0.5
    assert summary["atoms"]["goal_attainment"]["vs_prototype"]["pearson"] > 0.4
