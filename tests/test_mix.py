"""Mixture sizing, filtering and the dialogue-aware split."""
from __future__ import annotations

import pandas as pd
import pytest

from emodata.mix import Ratio, filter_rows, mixture_sizes, select_and_split


def test_ratio_parse_and_name():
    r = Ratio.parse("20:80")
    assert (r.a, r.b, r.name, r.share_a) == (20, 80, "mix_20_80", 0.2)
    for bad in ("20-80", "a:b", "0:0", "-1:5", "1:2:3"):
        with pytest.raises(ValueError):
            Ratio.parse(bad)


@pytest.mark.parametrize("n_a,n_b,ratio,expected", [
    (1000, 1000, "50:50", (1000, 1000)),
    (1000, 1000, "20:80", (250, 1000)),   # B limits: 1000 / 0.8 = 1250 rows
    (1000, 1000, "80:20", (1000, 250)),
    (100, 10_000, "20:80", (100, 400)),   # A limits: 100 / 0.2 = 500 rows
    (7, 3, "100:0", (7, 0)),
    (7, 3, "0:100", (0, 3)),
])
def test_mixture_sizes_largest_without_replacement(n_a, n_b, ratio, expected):
    assert mixture_sizes(n_a, n_b, Ratio.parse(ratio)) == expected


def test_paper_dev_size_ordering():
    # A pool smaller than B (as GoEmotions vs EmpatheticDialogues after filtering): 20:80 > 50:50 > 80:20.
    totals = [sum(mixture_sizes(33_000, 70_000, Ratio.parse(r))) for r in ("20:80", "50:50", "80:20")]
    assert totals[0] > totals[1] > totals[2]


def _annotated(rows):
    base = {"conv_id": None, "turn": None, "n_covered": 3, "n_tokens": 5, "vad_conf": 0.9}
    frame = pd.DataFrame([base | r for r in rows])
    frame["dedup_key"] = frame["id"] + "|" + frame["text"]
    frame["text_key"] = frame["text"].str.lower()
    return frame


def test_filter_counts_first_failing_reason():
    frame = _annotated([
        {"id": "a", "text": "ok one"},
        {"id": "b", "text": "none", "n_covered": 0, "n_tokens": 1},      # coverage checked first
        {"id": "c", "text": "short", "n_tokens": 2},
        {"id": "d", "text": "long", "n_tokens": 129},
        {"id": "e", "text": "weak", "vad_conf": 0.5},
        {"id": "a", "text": "ok one"},                                    # same id and text
        {"id": "f", "text": "OK ONE"},                                    # same text, other id
        {"id": "g", "text": "fine"},
    ])
    kept, drops = filter_rows(frame, 3, 128, 0.75)
    assert kept["id"].tolist() == ["a", "g"]
    assert drops == {"no_lexicon_coverage": 1, "too_short": 1, "too_long": 1, "low_vad_conf": 1,
                     "duplicate_id_text": 1, "duplicate_text": 1}


def _pool(n_dialogues=40, turns=5, singles=0):
    rows = [{"id": f"c{c}:{t}", "conv_id": f"c{c}", "turn": t, "text": f"c{c} t{t}"}
            for c in range(n_dialogues) for t in range(1, turns + 1)]
    rows += [{"id": f"s{i}", "conv_id": None, "turn": None, "text": f"s{i}"} for i in range(singles)]
    return pd.DataFrame(rows)


def test_split_keeps_dialogues_whole_and_is_seeded():
    pool = _pool()
    drawn = select_and_split(pool, 150, 0.1, 42, "empatheticdialogues")
    assert len(drawn) == 150 and drawn["perm_rank"].tolist() == list(range(150))
    dev_convs = set(drawn.loc[drawn["split"] == "dev", "conv_id"])
    train_convs = set(drawn.loc[drawn["split"] == "train", "conv_id"])
    assert not dev_convs & train_convs
    assert 15 <= (drawn["split"] == "dev").sum() < 15 + 5   # target 15, extended to a dialogue's end
    # turns stay in order inside each dialogue
    for _, group in drawn.groupby("conv_id"):
        assert group["turn"].tolist() == sorted(group["turn"])
    again = select_and_split(pool, 150, 0.1, 42, "empatheticdialogues")
    pd.testing.assert_frame_equal(drawn, again)
    other_seed = select_and_split(pool, 150, 0.1, 43, "empatheticdialogues")
    assert other_seed["id"].tolist() != drawn["id"].tolist()


def test_split_exact_for_single_utterances():
    drawn = select_and_split(_pool(0, 0, singles=1000), 400, 0.05, 1, "goemotions")
    assert (drawn["split"] == "dev").sum() == 20 and len(drawn) == 400
    assert drawn["id"].is_unique


def test_split_empty_draw():
    assert len(select_and_split(_pool(), 0, 0.05, 1, "x")) == 0
