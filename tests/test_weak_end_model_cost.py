"""The end-model check's cost (issue #16): one vectoriser fit shared by the classifiers, the scored texts
vectorised once per distinct text; models, features and figures equal fitting each model on its own."""
from __future__ import annotations

import json

import numpy as np

from emodata.weak import mix_end_model_check
from labeling_functions.end_model import fit_and_vectorise, fit_end_models
from labeling_functions.emotion import FINE_LABELS
from labeling_functions.weak_labels import fit_weak_labeler

from tests.test_end_model import NAMES, _toy
from tests.test_weak_end_model_inputs import _rows


def test_fit_and_vectorise_equals_fitting_then_vectorising():
    texts, labels = _toy()
    flipped = [[NAMES[(NAMES.index(s[0]) + 1) % 4]] for s in labels]
    targets = {"weak": labels, "gold": flipped}
    score = ["we were furious today", "so happy", "tears again", "a chair", "so happy"]
    sequential = fit_end_models(texts, targets, NAMES, seed=3, min_df=1, char_min_df=1)
    together, features = fit_and_vectorise(texts, targets, NAMES, 3, score, min_df=1, char_min_df=1)
    assert sorted(together) == ["gold", "weak"]
    for key in targets:
        assert np.array_equal(together[key].classifier.coef_, sequential[key].classifier.coef_)
        assert np.array_equal(together[key].predict_proba(score, features), sequential[key].predict_proba(score))
    assert (features != sequential["weak"].features(score)).nnz == 0
    assert together["weak"].predict_sets(score[:4], features[:4]) == [["anger"], ["joy"], ["sadness"], ["neutral"]]
    assert fit_and_vectorise(texts, targets, NAMES, 3, [], min_df=1, char_min_df=1)[1] is None


def test_mix_check_is_byte_stable_and_scores_repeated_texts_alike():
    labeler = fit_weak_labeler(np.empty((0, 2), dtype=np.int64), FINE_LABELS, None, 0, "majority_vote")
    dev = _rows("d", 1)
    twice = {"ed/dev": dev, "ed/again": dev.assign(id=[f"x{i}" for i in range(len(dev))])}
    first = mix_end_model_check(_rows("t", 3), twice, labeler, 2, seed=0)
    second = mix_end_model_check(_rows("t", 3), twice, labeler, 2, seed=0)
    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)
    assert first["splits"]["ed/dev"] == first["splits"]["ed/again"]
    assert first["splits"]["ed/dev"]["end_model_weak"]["macro_f1"] == 1.0
