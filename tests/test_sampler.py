"""The A/B entropy-aware mixture sampler: schedule, formula, empirical frequencies, rebalance, resume."""
from __future__ import annotations

import math

import numpy as np
import pytest

from trainer.sampler import MixtureSampler

POOLS = {"goemotions": list(range(0, 20)), "empatheticdialogues": list(range(20, 100))}
W = {"goemotions": 0.2, "empatheticdialogues": 0.8}


def make(total=101, t0=1.0, t1=0.25, alpha=0.9, seed=0):
    return MixtureSampler(POOLS, W, total, t0=t0, t1=t1, alpha=alpha, seed=seed)


def by_hand(w, conf, t):
    z = np.exp(np.array(w) / np.array(conf) / t)
    return z / z.sum()


def test_temperature_cools_linearly():
    s = make(total=101, t0=2.0, t1=0.5)
    assert s.temperature(0) == pytest.approx(2.0)
    assert s.temperature(50) == pytest.approx(1.25)
    assert s.temperature(100) == pytest.approx(0.5)
    assert s.temperature(500) == pytest.approx(0.5)  # held at T1 past the end
    steps = np.diff([s.temperature(t) for t in range(101)])
    assert np.allclose(steps, -1.5 / 100)


def test_probabilities_follow_formula_through_conf_updates():
    s = make(total=11, t0=1.0, t1=0.5, alpha=0.8)
    assert s.probs() == pytest.approx(by_hand([0.2, 0.8], [1, 1], 1.0))
    conf = [1.0, 1.0]
    for step, (h_a, h_b) in enumerate([(2.0, 0.1), (None, 0.5), (3.0, None)]):
        seen = {k: v for k, v in (("goemotions", h_a), ("empatheticdialogues", h_b)) if v is not None}
        s.draw(3)
        s.update(seen)
        for j, h in enumerate((h_a, h_b)):
            if h is not None:  # a source absent from the step keeps its confidence
                conf[j] = 0.8 * conf[j] + 0.2 * math.exp(-h)
        assert s.conf.tolist() == pytest.approx(conf)
        assert s.temperature() == pytest.approx(1.0 - 0.5 * (step + 1) / 10)
        assert s.probs() == pytest.approx(by_hand([0.2, 0.8], conf, s.temperature()))
    state = s.state()
    assert set(state) == {"T", "p", "conf", "w"}
    assert state["p"]["goemotions"] == pytest.approx(s.probs()[0], abs=1e-6)


def test_empirical_source_frequencies_match_formula():
    n = 20000
    s = make(total=2, t0=0.5, t1=0.5, seed=7)
    s.conf[:] = [0.4, 1.0]  # an uncertain source A: w/conf = 0.5 vs 0.8
    p = by_hand([0.2, 0.8], [0.4, 1.0], 0.5)
    draws = s.draw(n)
    freq_a = sum(src == "goemotions" for src, _ in draws) / n
    sigma = math.sqrt(p[0] * (1 - p[0]) / n)
    assert abs(freq_a - p[0]) < 4 * sigma
    # the rows drawn belong to the source drawn
    assert all((i < 20) == (src == "goemotions") for src, i in draws)


def test_frequencies_over_a_cooling_schedule():
    total, per_step = 50, 400
    s = make(total=total, t0=2.0, t1=0.2, seed=3)
    expected, got = [], []
    for _ in range(total):
        expected.append(s.probs()[1])
        got.append(sum(src == "empatheticdialogues" for src, _ in s.draw(per_step)))
        s.update({})
    n = total * per_step
    mean_p = float(np.mean(expected))
    assert expected[-1] > expected[0]  # cooling sharpens toward the heavier source B
    assert abs(sum(got) / n - mean_p) < 4 * math.sqrt(mean_p * (1 - mean_p) / n)
    # first and last tenth separately
    first, last = sum(got[:5]) / (5 * per_step), sum(got[-5:]) / (5 * per_step)
    assert first < last


def test_each_pool_is_cycled_without_replacement():
    s = MixtureSampler({"a": [10, 11, 12], "b": [20, 21]}, {"a": 1.0, "b": 1.0}, 5, seed=1)
    rows = [i for src, i in s.draw(200) if src == "a"]
    for k in range(0, len(rows) - 2, 3):
        assert sorted(rows[k:k + 3]) == [10, 11, 12]


def test_rebalance_divides_weights_by_mean_entropy():
    s = make()
    s.update({"goemotions": 1.0, "empatheticdialogues": 3.0})
    s.update({"goemotions": 3.0})
    w = s.rebalance(eps=0.0)
    raw = np.array([0.2 / 2.0, 0.8 / 3.0])
    assert [w["goemotions"], w["empatheticdialogues"]] == pytest.approx((raw / raw.sum()).tolist())
    assert s.h_n.sum() == 0  # accumulators reset per pass


def test_state_dict_resumes_the_same_draws():
    a = make(seed=5)
    a.draw(37)
    a.update({"goemotions": 1.5, "empatheticdialogues": 0.3})
    saved = a.state_dict()
    expected = a.draw(50)
    b = make(seed=99)
    b.load_state_dict(saved)
    assert b.draw(50) == expected and b.conf.tolist() == a.conf.tolist()


def test_seeded():
    assert make(seed=4).draw(30) == make(seed=4).draw(30)
    assert make(seed=4).draw(30) != make(seed=5).draw(30)


def test_non_adaptive_keeps_conf():
    s = MixtureSampler(POOLS, W, 10, adaptive=False)
    s.update({"goemotions": 5.0})
    assert s.conf.tolist() == [1.0, 1.0]


@pytest.mark.parametrize("kwargs, match", [
    ({"pools": {"a": []}, "weights": {"a": 1.0}}, "non-empty"),
    ({"pools": {"a": [1]}, "weights": {"b": 1.0}}, "do not match"),
    ({"pools": {"a": [1]}, "weights": {"a": 1.0}, "t1": 0.0}, "T0, T1 > 0"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MixtureSampler(total_steps=kwargs.pop("total_steps", 5), **kwargs)
