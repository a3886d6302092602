"""Evaluation metrics against hand-computed values (emodata.core.metrics)."""
from __future__ import annotations

import json
import math

import pytest

from emodata.core.metrics import composite_score, evaluate_outputs, label_set_scores, s_flip

LABELS = ["anger", "fear", "joy", "sadness", "surprise"]


def answer(labels, v, a, d, rationale="short reason"):
    return json.dumps({"labels": labels, "vad": {"v": v, "a": a, "d": d}, "rationale": rationale})


def gold(labels, v, a, d):
    return {"labels": labels, "vad": {"v": v, "a": a, "d": d}}


GOLD = [gold(["joy"], 0.8, 0.5, 0.5),
        gold(["anger", "sadness"], 0.2, 0.7, 0.4),
        gold(["sadness"], 0.3, 0.3, 0.3),
        gold(["fear"], 0.1, 0.9, 0.2),
        gold(["joy"], 0.9, 0.6, 0.6)]
OUTPUTS = ["sure: " + answer(["joy"], 0.7, 0.5, 0.5),
           answer(["anger", "surprise"], 0.2, 0.6, 0.4),   # surprise is not in K*: counts nowhere
           answer(["joy"], 0.3, 0.3, 0.5),
           None,                                            # missing output
           "I cannot answer"]                               # no JSON at all


def test_hand_computed_example():
    m = evaluate_outputs(OUTPUTS, GOLD, LABELS)
    # K* = anger, fear, joy, sadness (surprise never occurs in gold).
    assert m["labels_gold"] == ["anger", "fear", "joy", "sadness"]
    assert m["n"] == 5 and m["n_valid"] == 3 and m["parse_ok"] == pytest.approx(0.6)
    # anger TP1 -> P=R=F1=1; fear: only an invalid row has it -> 0; joy TP1 FP1 -> P .5 R 1 F1 2/3;
    # sadness FN2 -> 0.
    per = m["per_label"]
    assert per["anger"]["f1"] == pytest.approx(1.0) and per["fear"]["f1"] == 0.0
    assert per["joy"]["p"] == pytest.approx(0.5) and per["joy"]["r"] == pytest.approx(1.0)
    assert per["joy"]["f1"] == pytest.approx(2 / 3) and per["sadness"]["r"] == 0.0
    assert per["sadness"]["support"] == 2 and per["fear"]["support"] == 1
    assert m["macro_p"] == pytest.approx(0.375)
    assert m["macro_r"] == pytest.approx(0.5)
    assert m["macro_f1"] == pytest.approx((1 + 2 / 3) / 4)
    # squared VAD errors on the 3 valid rows: 0.01 + 0.01 + 0.04 -> sqrt(0.06 / 9)
    assert m["vad_rmse"] == pytest.approx(math.sqrt(0.06 / 9))
    assert m["vad_1mrmse"] == pytest.approx(1 - math.sqrt(0.06 / 9))
    assert m["n_vad"] == 3
    assert m["label_coverage"] == pytest.approx(0.5)  # joy and anger of 4
    assert list(m["parse_failures"].items()) == [("missing", 1), ("no_json_object", 1)]
    assert m["json_rate"] == pytest.approx(0.6) and m["short_rationale"] == pytest.approx(1.0)


def test_epsilon_is_in_every_ratio():
    m = evaluate_outputs([answer(["joy"], 0.5, 0.5, 0.5)], [gold(["joy"], 0.5, 0.5, 0.5)])
    p = 1 / (1 + 1e-9)
    assert m["per_label"]["joy"]["p"] == p
    assert m["per_label"]["joy"]["f1"] == 2 * p * p / (p + p + 1e-9)
    assert m["vad_1mrmse"] == 1.0


def test_all_invalid():
    m = evaluate_outputs([None, "{bad json", '{"labels": "joy"}'], GOLD[:3], LABELS)
    assert m["parse_ok"] == 0.0 and m["n_valid"] == 0
    assert m["macro_f1"] == 0.0 and m["macro_p"] == 0.0 and m["macro_r"] == 0.0
    assert m["vad_1mrmse"] is None and m["vad_rmse"] is None and m["vad_pearson"] is None
    assert m["label_coverage"] == 0.0 and m["short_rationale"] is None
    assert m["parse_failures"] == {"invalid_json": 1, "labels_not_a_list_of_strings": 1, "missing": 1}
    assert m["json_rate"] == pytest.approx(1 / 3)  # the schema failure still held a JSON object
    assert composite_score(m) == 0.0


def test_empty_label_prediction_is_valid_and_misses_every_gold_label():
    m = evaluate_outputs([answer([], 0.5, 0.5, 0.5), answer(["joy"], 0.5, 0.5, 0.5)],
                         [gold(["joy", "anger"], 0.5, 0.5, 0.5), gold(["joy"], 0.5, 0.5, 0.5)])
    assert m["parse_ok"] == 1.0
    assert m["per_label"]["joy"]["r"] == pytest.approx(0.5) and m["per_label"]["joy"]["p"] == pytest.approx(1.0)
    assert m["per_label"]["anger"]["f1"] == 0.0
    assert m["macro_r"] == pytest.approx(0.25)


def test_label_outside_the_label_space_is_invalid_but_outside_gold_counts_nowhere():
    outputs = [answer(["joy", "happiness"], 0.5, 0.5, 0.5)]
    with_space = evaluate_outputs(outputs, [gold(["joy"], 0.5, 0.5, 0.5)], LABELS)
    assert with_space["parse_ok"] == 0.0 and with_space["parse_failures"] == {"unknown_label": 1}
    without = evaluate_outputs(outputs, [gold(["joy"], 0.5, 0.5, 0.5)])
    assert without["parse_ok"] == 1.0 and without["macro_p"] == pytest.approx(1.0)


def test_empty_inputs_and_gold_without_labels_or_vad():
    empty = evaluate_outputs([], [])
    assert empty["n"] == 0 and empty["parse_ok"] == 0.0 and empty["macro_f1"] is None
    no_labels = evaluate_outputs([answer(["joy"], 0.5, 0.5, 0.5)], [{"labels": [], "vad": None}])
    assert no_labels["macro_f1"] is None and no_labels["label_coverage"] is None
    assert no_labels["vad_1mrmse"] is None and no_labels["n_vad"] == 0 and no_labels["parse_ok"] == 1.0


def test_pearson_per_dimension_and_undefined_dimensions():
    outs = [answer([], 0.1, 0.5, 0.2), answer([], 0.4, 0.5, 0.9), answer([], 0.7, 0.5, 0.1)]
    golds = [gold([], 0.2, 0.3, 0.9), gold([], 0.5, 0.6, 0.1), gold([], 0.8, 0.9, 0.8)]
    m = evaluate_outputs(outs, golds)
    # v: pred = gold − 0.1 -> r = 1; a: constant prediction -> undefined; d: deviations (-.2,.5,-.3) vs (.3,-.5,.2) -> r = -0.37/0.38
    assert m["vad_pearson_dims"]["v"] == pytest.approx(1.0)
    assert m["vad_pearson_dims"]["a"] is None
    assert m["vad_pearson_dims"]["d"] == pytest.approx(-0.37 / 0.38)
    assert m["vad_pearson"] == pytest.approx((1.0 - 0.37 / 0.38) / 2)


def test_long_rationale_is_valid_but_not_short():
    long = " ".join(["word"] * 13)
    m = evaluate_outputs([answer(["joy"], 0.5, 0.5, 0.5, long), answer(["joy"], 0.5, 0.5, 0.5, "")],
                         [gold(["joy"], 0.5, 0.5, 0.5)] * 2)
    assert m["parse_ok"] == 1.0 and m["short_rationale"] == 0.0


def test_mismatched_lengths_and_bad_gold_are_clear_errors():
    with pytest.raises(ValueError, match="2 outputs for 1 gold"):
        evaluate_outputs([None, None], GOLD[:1])
    with pytest.raises(ValueError, match="gold row 1: 'labels'"):
        evaluate_outputs([None, None], [GOLD[0], {"labels": "joy"}])
    with pytest.raises(ValueError, match="gold row 0: 'vad'"):
        evaluate_outputs([None], [{"labels": [], "vad": {"v": 1}}])


def test_s_flip():
    assert s_flip([0.8, 0.3], [0.2, 0.9]) == pytest.approx(0.1)
    assert s_flip([0.9], [0.9]) == pytest.approx(0.8)
    assert math.isnan(s_flip([], []))
    with pytest.raises(ValueError):
        s_flip([0.1, 0.2], [0.3])


def test_composite_score():
    assert composite_score({"macro_f1": 0.4, "vad_1mrmse": None, "parse_ok": 0.5}, beta=2.0) == pytest.approx(0.9)
    assert composite_score({"macro_f1": 0.4, "vad_1mrmse": 0.9, "parse_ok": 0.5}, 0.5, 2.0) == pytest.approx(1.85)
    assert composite_score({"macro_f1": 0.3, "vad_1mrmse": 0.9, "parse_ok": 1.0}) == pytest.approx(2.2)


def test_label_set_scores_by_hand_and_like_evaluate_outputs():
    pred = [{"joy"}, {"anger", "surprise"}, {"joy"}]
    gold_sets = [{"joy"}, {"anger", "sadness"}, {"sadness"}]
    scores = label_set_scores(pred, gold_sets)
    # anger F1 1, joy P .5 R 1, sadness 0 (surprise outside K* counts nowhere)
    assert scores["labels_gold"] == ["anger", "joy", "sadness"]
    assert scores["macro_p"] == pytest.approx(0.5) and scores["macro_r"] == pytest.approx(2 / 3)
    assert scores["macro_f1"] == pytest.approx((1 + 2 / 3) / 3) and scores["per_label"]["sadness"]["support"] == 2
    outputs = [answer(sorted(p), 0.5, 0.5, 0.5) for p in pred]
    full = evaluate_outputs(outputs, [gold(sorted(g), 0.5, 0.5, 0.5) for g in gold_sets])
    assert full["macro_f1"] == scores["macro_f1"] and full["per_label"] == scores["per_label"]
    with pytest.raises(ValueError, match="must pair up"):
        label_set_scores(pred, gold_sets[:2])
