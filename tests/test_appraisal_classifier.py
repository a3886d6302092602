"""The appraisal classifier on enISEAR human ratings (issue 17): reader, artifact, score_texts, rebuild."""
from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from emodata.core.errors import EmodataError
from labeling_functions.appraisal import ATOMS, DERIVED, ENISEAR_MAP, score_texts
from labeling_functions.appraisal.classifier import ARTIFACT, METADATA, NEG_METHOD, load_classifier, normalise
from labeling_functions.appraisal.enisear import ENISEAR_DIMENSIONS, MAJORITY_HEADER, read_enisear
from labeling_functions.appraisal.train import train_classifier

from tests.conftest import SHARED_DATA

FIXTURE = Path(__file__).parent / "fixtures" / "enisear" / "enISEAR_appraisal_majority_dev.tsv"
SHARED = SHARED_DATA / "appraisal_enisear"


def _write(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "enISEAR_appraisal_majority_dev.tsv"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8"))
    return path


def test_reader_reads_fixture_with_quotes_and_crlf():
    data = read_enisear(FIXTURE)
    assert len(data) == 20 and data.ratings.shape == (20, 7)
    assert data.texts[-1] == 'I felt ... when I said "no" to my little brother who needed help.'
    assert data.ratings[:, ENISEAR_DIMENSIONS.index("Pleasant")].sum() == 4
    assert data.emotions[0] == "Joy" and data.ids[0] == "1"


def test_reader_refuses_wrong_header(tmp_path):
    header = "\t".join(MAJORITY_HEADER).replace("Certainty", "Sureness")
    path = _write(tmp_path, [header, "1\tJoy\tI felt ... when x.\t1\t1\t1\t1\t1\t1\t0"])
    with pytest.raises(EmodataError, match=r"enISEAR_appraisal_majority_dev\.tsv: line 1: .*Certainty"):
        read_enisear(path)


def test_reader_refuses_non_binary_rating(tmp_path):
    path = _write(tmp_path, ["\t".join(MAJORITY_HEADER), "1\tJoy\tI felt ... when x.\t1\t1\t1\t1\t1\t1\t0",
                             "2\tJoy\tI felt ... when y.\t1\t2\t1\t1\t1\t1\t0"])
    with pytest.raises(EmodataError, match=r"line 3: column Certainty: rating '2' is not 0 or 1"):
        read_enisear(path)


def test_reader_refuses_missing_column(tmp_path):
    path = _write(tmp_path, ["\t".join(MAJORITY_HEADER), "1\tJoy\tI felt ... when x.\t1\t1\t1\t1\t1\t1"])
    with pytest.raises(EmodataError, match=r"line 2: 9 fields, expected 10"):
        read_enisear(path)


def test_mapping_covers_all_seven_dimensions_and_the_papers_four():
    assert set(ENISEAR_MAP) == set(ENISEAR_DIMENSIONS) == set(MAJORITY_HEADER[3:])
    for atom in ("goal_attainment", "controllability", "certainty", "fairness"):
        assert atom in ATOMS
    assert set(DERIVED).isdisjoint(ENISEAR_MAP.values())


def test_score_texts_shape_range_and_direction():
    texts = ["I felt ... when I won the prize and everyone cheered for me.",
             "I felt ... when my father died after a long illness.", ""]
    probs = score_texts(texts)
    assert list(probs.columns) == list(ATOMS) and len(probs) == 3
    values = probs.to_numpy()
    assert np.isfinite(values).all() and (values >= 0).all() and (values <= 1).all()
    assert probs.loc[0, "pleasantness"] > 0.5 > probs.loc[1, "pleasantness"]
    assert probs.loc[0, "goal_attainment"] == probs.loc[0, "pleasantness"]
    assert score_texts([]).shape == (0, len(ATOMS))


def test_negation_marks_follow_the_negation_api():
    text = "I felt ... when I didn't pass the test, sadly"
    assert normalise(text, method="window") == "when i did not NEG_pass NEG_the NEG_test sadly"
    assert normalise(text, method=None) == "when i did not pass the test sadly"
    assert normalise(text) == normalise(text, method=NEG_METHOD)
    assert normalise("?!", method="crf") == ""


def test_shipped_artifact_meets_acceptance_in_its_metadata():
    meta = json.loads(METADATA.read_text())
    assert meta["cv_auc_mean"] >= 0.75 and meta["cv_auc_min"] >= 0.65
    assert set(meta["cv_auc"]) == set(ENISEAR_DIMENSIONS)
    model = load_classifier(ARTIFACT)
    assert model.coef.shape[1] == 7
    assert (model.platt_a < 0).all()   # calibration keeps the model's order on every dimension


def test_damaged_artifact_is_refused_naming_file(tmp_path):
    bad = tmp_path / "appraisal_classifier.npz"
    bad.write_bytes(b"not a zip")
    (tmp_path / "appraisal_classifier.json").write_text("{}")
    with pytest.raises(EmodataError, match="appraisal_classifier.npz: cannot read"):
        load_classifier(bad)


def test_training_on_fixture_is_byte_identical_and_separates(tmp_path):
    data = read_enisear(FIXTURE)
    paths = [train_classifier(data, seed=1, folds=2).save(tmp_path / f"m{i}.npz")[0] for i in range(2)]
    assert paths[0].read_bytes() == paths[1].read_bytes()
    model = load_classifier(paths[0])
    decision = model.decision(list(data.texts))[:, ENISEAR_DIMENSIONS.index("Pleasant")]
    pleasant = data.ratings[:, ENISEAR_DIMENSIONS.index("Pleasant")] == 1
    assert roc_auc_score(pleasant, decision) > 0.9   # fits its training ratings (a broken fit: ~0.5)


@pytest.mark.skipif(not SHARED.is_dir(), reason="shared enISEAR data absent")
def test_cli_rebuilds_shipped_artifact_byte_identically(tmp_path):
    run = subprocess.run([sys.executable, "-m", "emodata.cli", "appraisal", "train", "--data", str(SHARED),
                          "--out-dir", str(tmp_path)], capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr
    sha = hashlib.sha1((tmp_path / ARTIFACT.name).read_bytes()).hexdigest()
    assert sha == hashlib.sha1(ARTIFACT.read_bytes()).hexdigest()
    assert (tmp_path / METADATA.name).read_bytes() == METADATA.read_bytes()


def test_score_texts_memo_gives_the_model_numbers_bit_for_bit():
    """The per-process memo of `score_texts` returns exactly what the model computes, in input order,
    duplicates and a mix of seen and unseen texts included."""
    import numpy as np

    from labeling_functions.appraisal import classifier

    texts = ["I passed the exam after months of work.", "They never told me the plan was cancelled.",
             "I lost my keys again.", "I passed the exam after months of work."]
    direct = classifier.shipped_classifier().score(texts)[list(classifier.ATOMS)].to_numpy()
    classifier._SCORED.clear()
    first = classifier.score_texts(texts[1:3]).to_numpy()
    both = classifier.score_texts(texts)
    assert list(both.columns) == list(classifier.ATOMS)
    assert np.array_equal(first, direct[1:3]) and np.array_equal(both.to_numpy(), direct)
    assert set(classifier._SCORED) == set(texts)
