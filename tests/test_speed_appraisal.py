"""The appraisal stage's faster paths (issue 17 speed): features and fits equal to the plain ones."""
from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from labeling_functions.appraisal.classifier import CHUNK, featurize, load_classifier, normalise
from labeling_functions.appraisal.tfidf import CharGrams, char_wb_grams, transform
from labeling_functions.appraisal.verifier import _fit_atom, _fit_atoms

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

    def counting(*args):
        calls.append(1)
        return _fit_atom(*args)

    monkeypatch.setattr("labeling_functions.appraisal.verifier._fit_atom", counting)
    fits = _fit_atoms(x, values, held, 1.0)
    assert len(calls) == 3                        # column 2 repeats column 0; column 3 has other rows
    assert fits[0][0] is fits[2][0]
    alone = _fit_atom(x[~held], p[~held], 1.0)
    assert np.array_equal(fits[0][0], alone[0]) and fits[0][1] == alone[1]
    assert _fit_atoms(x, np.full((200, 1), np.nan), held, 1.0) == [None]


def test_atom_structs_round_like_the_record_schema():
    from emodata.weak import _atom_structs
    from labeling_functions.weak_labels import PROB_DECIMALS

    values = np.array([[0.1234567891, np.nan, 1.0], [0.5, 0.0000004, 0.99999951]], dtype=np.float64)
    atoms = ("a", "b", "c")
    expected = [{a: (None if np.isnan(x) else round(float(x), PROB_DECIMALS)) for a, x in zip(atoms, row)}
                for row in values]
    got = _atom_structs(values, atoms).tolist()  # an Arrow struct column
    assert got == expected and all(type(v) is float for row in got for v in row.values() if v is not None)
