"""Emotion LFs on crafted sentences, the batch applier vs Snorkel's, label models and weak labels."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from snorkel.labeling import PandasLFApplier

from emodata.annotate import annotate_texts, lf_set_describe
from labeling_functions.core import ABSTAIN, apply_lfs
from labeling_functions.emotion import FINE_LABELS, emotion_lfs, keyword_lf, nrclex_baseline_lfs
from labeling_functions.emotion.lfs import match_positions, phrase_pattern
from labeling_functions.label_model import ReadOut, fit_label_model, label_model_probs, majority_vote_probs, map_votes
from labeling_functions.weak_labels import ekman_map, fit_weak_labeler

SENTENCES = [
    "Thank you so much for this!",              # 0 gratitude
    "I am not happy with this at all.",          # 1 negated joy
    "This just isn't true.",                     # 2 negated approval -> disapproval
    "I didn't realize that was a thing.",        # 3 realization is not negatable
    "That was hilarious 😂",                      # 4 amusement (keyword + emoji)
    "Why is the sky blue?",                      # 5 curiosity question
    "I'm so sorry for your loss.",               # 6 remorse / grief? ("loss" is no cue)
    "I can't wait for the weekend!",             # 7 excitement phrase across a contraction
    "I am happy, not sad.",                      # 8 joy outside the scope; sadness inside
]


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    return annotate_texts(SENTENCES)


def votes(rows: pd.DataFrame, negation: bool = True) -> dict[str, list]:
    lfs = emotion_lfs(negation)
    matrix = apply_lfs(rows, lfs)
    return {lf.name: [FINE_LABELS[v] if v != ABSTAIN else None for v in matrix[:, j]] for j, lf in enumerate(lfs)}


def test_keyword_lfs_vote_on_crafted_sentences(rows):
    v = votes(rows)
    assert v["kw_gratitude"][0] == "gratitude"
    assert v["kw_amusement"][4] == "amusement" and v["emoji_amusement"][4] == "amusement"
    assert v["punct_question"][5] == "curiosity"
    assert v["kw_remorse"][6] == "remorse"
    assert v["kw_excitement"][7] == "excitement"  # "ca n't wait": the phrase is matched as spaCy tokenises it


def test_negation_rules(rows):
    with_neg, without = votes(rows, True), votes(rows, False)
    assert without["kw_joy"][1] == "joy" and with_neg["kw_joy"][1] is None          # negated cue abstains
    assert without["kw_approval"][2] == "approval" and with_neg["kw_approval"][2] == "disapproval"  # mirror
    assert with_neg["kw_realization"][3] == "realization"                          # not negatable
    assert with_neg["kw_joy"][8] == "joy" and with_neg["kw_sadness"][8] is None     # only "sad" is in scope


def test_match_positions_finds_overlapping_phrases():
    pattern = phrase_pattern(["thank", "thank you", "you"])
    assert match_positions(" oh thank you so much ", pattern) == [1, 1, 2] or \
        sorted(set(match_positions(" oh thank you so much ", pattern))) == [1, 2]
    assert match_positions(" thanksgiving ", phrase_pattern(["thanks"])) == []


def test_batch_applier_equals_snorkel_pandas_applier(rows):
    lfs = emotion_lfs()
    ours = apply_lfs(rows, lfs)
    theirs = PandasLFApplier(lfs).apply(rows.assign(padded=rows["padded"]), progress_bar=False)
    assert np.array_equal(ours, theirs)


def test_baseline_is_emolex_only_without_negation(rows):
    names = [lf.name for lf in nrclex_baseline_lfs()]
    assert names == [f"nrclex_{e}" for e in ("anger", "disgust", "fear", "joy", "sadness", "surprise")]
    matrix = apply_lfs(rows, nrclex_baseline_lfs())
    assert set(np.unique(matrix)) <= {ABSTAIN} | {FINE_LABELS.index(x) for x in
                                                  ("anger", "disgust", "fear", "joy", "sadness", "surprise")}


def test_lf_set_hash_follows_the_keyword_data():
    a = lf_set_describe([keyword_lf("joy", ["happy"])])["sha1"]
    b = lf_set_describe([keyword_lf("joy", ["happy", "glad"])])["sha1"]
    assert a != b and a == lf_set_describe([keyword_lf("joy", ["happy"])])["sha1"]


def _random_votes(n: int = 400, m: int = 6, k: int = 4, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, k, n)
    matrix = np.full((n, m), ABSTAIN)
    for j in range(m):
        fires = rng.random(n) < 0.6
        correct = rng.random(n) < 0.8
        matrix[fires, j] = np.where(correct[fires], truth[fires], rng.integers(0, k, fires.sum()))
    matrix[:5] = ABSTAIN  # rows where every LF abstained
    return matrix, truth


def test_label_model_and_majority_vote_shapes_and_probabilities():
    matrix, _ = _random_votes()
    model = fit_label_model(matrix, 4, seed=1, epochs=50)
    covered = (matrix != ABSTAIN).any(axis=1)
    assert not covered[:5].any() and covered.sum() > 300
    for probs in (label_model_probs(model, matrix), majority_vote_probs(matrix, 4)):
        assert probs.shape == (len(matrix), 4)
        assert np.isnan(probs[~covered]).all()  # no evidence, no guess
        np.testing.assert_allclose(probs[covered].sum(axis=1), 1.0, atol=1e-6)
        assert ((probs[covered] >= 0) & (probs[covered] <= 1)).all()


def test_label_model_recovers_the_truth_better_than_chance():
    matrix, truth = _random_votes(seed=3)
    probs = label_model_probs(fit_label_model(matrix, 4, seed=1, epochs=100), matrix)
    covered = (matrix != ABSTAIN).any(axis=1)
    accuracy = (probs[covered].argmax(axis=1) == truth[covered]).mean()
    assert accuracy > 0.8


def test_readout_keeps_close_runners_up_and_caps_the_set():
    names = ["a", "b", "c", "d"]
    probs = np.array([[0.5, 0.3, 0.15, 0.05], [0.25, 0.25, 0.25, 0.25], [np.nan] * 4])
    assert ReadOut(rel=0.5, min_p=0.2, max_labels=3).labels(probs, names) == [["a", "b"], ["a", "b", "c"], []]


def test_map_votes_to_ekman():
    ekman, index = ekman_map(FINE_LABELS)
    votes_fine = np.array([[FINE_LABELS.index("annoyance"), ABSTAIN, FINE_LABELS.index("grief")]])
    mapped = map_votes(votes_fine, index)
    assert [ekman[v] if v >= 0 else None for v in mapped[0]] == ["anger", None, "sadness"]


def test_weak_labeler_auto_picks_the_better_aggregator_on_train_gold():
    matrix, truth = _random_votes(n=300, m=5, k=3, seed=5)
    fine = ["joy", "sadness", "anger"]
    gold = [[fine[t]] for t in truth]
    labeler = fit_weak_labeler(matrix, fine, gold, seed=2)
    scores = labeler.fine.train_scores
    assert set(scores) == {"label_model", "majority_vote"}
    assert scores[labeler.fine.chosen] == max(scores.values())
    out = labeler.label(matrix)
    assert list(out.columns) == ["weak_labels", "weak_probs", "weak_labels_ekman", "weak_probs_ekman"]
    assert out["weak_probs"][0] is None and out["weak_labels"][0] == []  # no fallback label in this space
    assert all(set(x) <= set(fine) for x in out["weak_labels"])


def test_rows_without_votes_get_the_fallback_and_context_votes_count():
    fine = list(FINE_LABELS)
    matrix = np.full((3, 2), ABSTAIN)
    matrix[1, 0] = fine.index("joy")
    context = np.full((3, 2), ABSTAIN)
    context[1] = fine.index("sadness")
    context[2, 0] = fine.index("fear")
    labeler = fit_weak_labeler(matrix, fine, None, seed=0, aggregator="majority_vote")
    plain, with_context = labeler.label(matrix), labeler.label(matrix, context)
    assert plain["weak_labels"].tolist() == [["neutral"], ["joy"], ["neutral"]]
    assert plain["weak_probs"][0] is None and plain["weak_labels_ekman"][0] == ["neutral"]
    got = with_context["weak_labels"].tolist()
    assert got[0] == ["neutral"] and set(got[1]) == {"joy", "sadness"} and got[2] == ["fear"]
    probs = with_context["weak_probs"][1]
    assert probs[fine.index("sadness")] == pytest.approx(2 * probs[fine.index("joy")], abs=1e-3)  # two context votes
    assert with_context["weak_probs"][2] is not None


def test_dialogue_turns_silence_question_and_approval_cues():
    rows = annotate_texts(["Why is that true?", "Why is that true?"]).assign(in_dialogue=[False, True])
    v = votes(rows)
    assert v["punct_question"] == ["curiosity", None] and v["kw_approval"] == ["approval", None]


def test_dawid_skene_recovers_the_truth_and_abstains_without_votes():
    from labeling_functions.label_model import DawidSkene

    matrix, truth = _random_votes(seed=3)
    covered = (matrix != ABSTAIN).any(axis=1)
    for evidence in (True, False):
        probs = DawidSkene(4, abstain_is_evidence=evidence).fit(matrix).predict_proba(matrix)
        assert np.isnan(probs[~covered]).all()
        np.testing.assert_allclose(probs[covered].sum(axis=1), 1.0, atol=1e-9)
        assert (probs[covered].argmax(axis=1) == truth[covered]).mean() > 0.9


def test_set_phrases_do_not_count_as_cues():
    rows = annotate_texts(["I'm afraid I can't come tonight.", "I am so afraid of the dark.",
                           "No worries, see you soon.", "I was worried all night."])
    v = votes(rows)
    assert v["kw_fear"] == [None, "fear", None, None]
    assert v["kw_nervousness"] == [None, None, None, "nervousness"]
