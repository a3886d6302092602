"""Bounded flip and appraisal stages (issue 18): per-partition / per-batch work gives the whole-frame results."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from emodata.annotate import annotate_frame, make_annotator
from emodata.flips.draw import DrawnParts, check_frame, draw_rows, drawn_positions, make_pairs, pairs_table, part_args
from emodata.flips.pairs import flip_part
from emodata.sources import locate, read_source
from emodata.text.lexicon import load_lexicon
from emodata.text.nlp import load_pipeline
from catalog.flips import load_flips
from labeling_functions.appraisal import APPRAISAL_ATOMS
from labeling_functions.appraisal.summary import ScoreTally, appraisal_summary


@pytest.fixture(scope="module")
def sample_train():
    pipeline = load_pipeline("en_core_web_sm")
    scorer = make_annotator(pipeline, load_lexicon(None))
    return scorer, annotate_frame(read_source(locate("goemotions", sample=True)).records, scorer)


def test_drawn_positions_are_the_draw_over_rows_sorted_by_id():
    ids = pd.Series([f"r{i:03d}" for i in np.random.default_rng(1).permutation(200)])
    for frac, seed in ((1.0, 0), (0.3, 5), (0.0, 2)):
        frame = pd.DataFrame({"id": ids, "pos": np.arange(200)})
        expected = frame.sort_values("id", kind="stable").reset_index(drop=True).iloc[draw_rows(200, frac, seed)]
        assert list(frame["pos"].to_numpy()[drawn_positions(ids, frac, seed)]) == list(expected["pos"])
    with pytest.raises(ValueError, match="duplicate id 'r001'"):
        drawn_positions(pd.Series(["r001", "r002", "r001"]), 1.0, 0)


def test_drawn_parts_are_read_on_demand_and_give_the_pairs_of_the_whole_frame(sample_train):
    scorer, train = sample_train
    whole, whole_tally = make_pairs(train, scorer, scorer.pipeline, flip_frac=1.0, seed=5)
    drawn = train.iloc[drawn_positions(train["id"], 1.0, 5)].reset_index(drop=True)
    reads = []

    def read(start: int, stop: int) -> pd.DataFrame:
        reads.append((start, stop))
        return drawn.iloc[start:stop]

    bounds = [(s, min(s + 7, len(drawn))) for s in range(0, len(drawn), 7)]
    parts = DrawnParts(bounds, read)
    assert len(parts) == len(bounds) and reads == []          # nothing read before a part is taken
    args = part_args(scorer, scorer.pipeline, load_flips(), 512)
    assert args[1] is None                                     # the annotator's own pipeline is not sent again
    results = []
    for index, part in enumerate(parts):
        assert reads[-1] == bounds[index] and len(reads) == index + 1
        results.append(flip_part(*args, part))
    table, tally = pairs_table(results, len(drawn))
    assert whole.num_rows > 3 and table.equals(whole) and tally == whole_tally


def test_drawn_parts_check_each_part_naming_the_row():
    bad = pd.DataFrame({"id": ["a", "b"], "text": ["fine", None], "labels": [[], []], "vad_v": [0.6, 0.6],
                        "vad_a": [0.5, 0.5], "vad_d": [0.5, 0.5]})
    with pytest.raises(ValueError, match="row 1 \\(id 'b'\\) has a non-string text"):
        DrawnParts([(0, 2)], lambda start, stop: bad.iloc[start:stop])[0]
    with pytest.raises(ValueError, match="lacks column"):
        check_frame(bad.drop(columns=["vad_v"]))


def _scores(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    values = rng.integers(0, 65, size=(n, len(APPRAISAL_ATOMS))) / 64.0   # exact sums in any order
    values[rng.random(values.shape) < 0.1] = np.nan
    return pd.DataFrame(values, columns=list(APPRAISAL_ATOMS))


def test_score_tally_in_batches_equals_the_summary_of_all_rows():
    pred = _scores(300, 0)
    labels = [["joy"] if i % 3 else (["anger", "sadness"] if i % 2 else []) for i in range(300)]
    mask = np.arange(300) % 4 == 1
    whole = appraisal_summary(pred, labels, mask)
    tally = ScoreTally(APPRAISAL_ATOMS)
    for start in (0, 17, 100, 101, 250):                       # uneven batches, one of a single row
        stop = {0: 17, 17: 100, 100: 101, 101: 250, 250: 300}[start]
        tally.add(pred.iloc[start:stop], labels[start:stop], mask[start:stop])
    assert tally.summary() == whole
    assert whole["n_rows"] == 300 and whole["n_eval"] == int(mask.sum())
    unlabelled = ScoreTally(APPRAISAL_ATOMS)
    unlabelled.add(pred.iloc[:150])
    unlabelled.add(pred.iloc[150:])
    assert unlabelled.summary() == appraisal_summary(pred) and "n_eval" not in unlabelled.summary()
    with pytest.raises(ValueError, match="2 label sets for 3 prediction rows"):
        ScoreTally(APPRAISAL_ATOMS).add(pred.iloc[:3], labels[:2])
