"""The appraisal stage's faster paths (issue 17 speed): features and fits equal to the plain ones."""
from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from labeling_functions.appraisal.classifier import CHUNK, featurize, load_classifier, normalise
from labeling_functions.appraisal.tfidf import CharGrams, char_wb_grams, transform
from labeling_functions.appraisal.verifier import _fit_atom, _fit_atoms, _fit_together

TEXTS = ["I felt ... when I passed the exam!", "", "   ", "a", "My dog didn't come home and I was so worried.",
         "It's been scorching outside; unbelievable heat. Not fun at all", "I I I I", "Über café naïve",
         "we won the game we won the game", "when I saw a spider in my bed"]


def test_char_wb_grams_match_sklearn_analyzer():
    classifier = load_classifier()
    analyzer = classifier.vectorizers[1].build_analyzer()
    for word in ("a", "ab", "abc", "scorching", "i'm", "naïve"):
        assert char_wb_grams(word, 2, 5) == analyzer(word)


def test_transform_equals_sklearn_bit_for_bit():
    classifier = load_classifier()
    word, char = classifier.vectorizers
    docs = [normalise(t) for t in TEXTS] * 3
    ours = transform(docs, word, CharGrams(char), char.idf_)
    theirs = sp.csr_matrix(featurize(classifier.vectorizers, docs))
    assert ours.shape == theirs.shape
    for a, b in ((ours.indptr, theirs.indptr), (ours.indices, theirs.indices), (ours.data, theirs.data)):
        assert np.array_equal(a, b)


def test_decision_is_chunk_independent_and_equals_the_sklearn_path(monkeypatch):
    classifier = load_classifier()
    texts = TEXTS * 5
    plain = np.asarray(featurize(classifier.vectorizers, [normalise(t) for t in texts]) @ classifier.coef)
    plain = plain + classifier.intercept
    assert np.array_equal(classifier.decision(texts), plain)
    monkeypatch.setattr("labeling_functions.appraisal.classifier.CHUNK", 7)
    assert CHUNK != 7 and np.array_equal(load_classifier().decision(texts), plain)
    assert classifier.decision([]).shape == (0, plain.shape[1])


def test_fit_atoms_fits_equal_columns_once_with_the_same_weights(monkeypatch):
    rng = np.random.default_rng(0)
    x = sp.random(200, 30, density=0.2, random_state=1, format="csr")
    p = rng.random(200)
    values = np.column_stack([p, rng.random(200), p, np.where(np.arange(200) < 50, np.nan, p)])
    held = np.zeros(200, dtype=bool)
    held[:20] = True
    calls = []

    def counting(x, targets, c):
        calls.append(len(targets))
        return _fit_together(x, targets, c)

    monkeypatch.setattr("labeling_functions.appraisal.verifier._fit_together", counting)
    fits = _fit_atoms(x, values, held, 1.0)
    assert sorted(calls) == [1, 2]                # column 2 repeats column 0; column 3 has other rows
    assert fits[0][0] is fits[2][0]
    alone = _fit_atom(x[~held], p[~held], 1.0)
    assert np.array_equal(fits[0][0], alone[0]) and fits[0][1] == alone[1]
    assert _fit_atoms(x, np.full((200, 1), np.nan), held, 1.0) == [None]


def test_fits_together_equal_each_fit_alone_bit_for_bit():
    rng = np.random.default_rng(3)
    x = sp.random(1500, 400, density=0.03, random_state=2, format="csr")
    targets = [rng.random(1500), (rng.random(1500) > 0.8).astype(float), np.full(1500, 0.5), rng.random(1500) ** 4]
    together = _fit_together(x, targets, 1.0)
    for p, (w, b) in zip(targets, together):
        w_alone, b_alone = _fit_atom(x, p, 1.0)
        assert np.array_equal(w, w_alone) and b == b_alone
    assert _fit_together(x, [], 1.0) == []


def test_minimize_together_runs_each_fit_as_scipy_alone_and_reraises():
    from scipy.optimize import minimize

    from labeling_functions.appraisal.lockstep import minimize_together

    centres = [np.array([1.0, -2.0]), np.array([30.0, 0.5]), np.array([0.0, 0.0])]
    sizes = []

    def batch(indices, thetas):
        sizes.append(len(indices))
        return [(float(((t - centres[j]) ** 4).sum()), 4 * (t - centres[j]) ** 3) for j, t in zip(indices, thetas)]

    results = minimize_together(batch, [np.zeros(2)] * 3, {"maxiter": 50})
    for j, result in enumerate(results):
        alone = minimize(lambda t: batch([j], [t])[0], np.zeros(2), jac=True, method="L-BFGS-B",
                         options={"maxiter": 50})
        assert np.array_equal(result.x, alone.x) and result.nfev == alone.nfev
    assert max(sizes) == 3                        # the fits' evaluations were batched

    def failing(indices, thetas):
        raise ValueError("bad batch")

    try:
        minimize_together(failing, [np.zeros(2)] * 2, {})
    except ValueError as exc:
        assert "bad batch" in str(exc)
    else:
        raise AssertionError("the batch's error was not re-raised")


def test_atom_structs_round_like_the_record_schema():
    from emodata.weak import _atom_structs
    from labeling_functions.weak_labels import PROB_DECIMALS

    values = np.array([[0.1234567891, np.nan, 1.0], [0.5, 0.0000004, 0.99999951]], dtype=np.float64)
    atoms = ("a", "b", "c")
    expected = [{a: (None if np.isnan(x) else round(float(x), PROB_DECIMALS)) for a, x in zip(atoms, row)}
                for row in values]
    got = _atom_structs(values, atoms)
    assert got == expected and all(type(v) is float for row in got for v in row.values() if v is not None)
