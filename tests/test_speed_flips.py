"""The flip stage's cheaper draft stage (issue 17 speed): outcome drafts, drafts judged in rounds."""
from __future__ import annotations

from catalog.flips import load_flips
from emodata.flips import make_pairs
from emodata.flips.draft import attainment_possible, outcome_drafts, outcome_forms, outcome_swaps, offsets
from emodata.text.nlp import load_pipeline, tokenize

from tests.test_flip import frame_of, pipeline  # noqa: F401  (module fixtures)
from tests.test_flip_draft import annotator  # noqa: F401  (module fixture)


def _drafts(text: str) -> list[str]:
    tokens = next(tokenize(load_pipeline(), [text]))
    return outcome_drafts(text, tokens.words, tokens.lower, offsets(text, tokens.words), outcome_swaps(load_flips()))


def test_outcome_swaps_keep_the_verb_form():
    table = outcome_swaps(load_flips())
    assert table["won"] == ("lost",) and table["wins"] == ("loses",) and table["hired"] == ("fired",)
    assert "survived" in table and "died" not in table                 # one-way rules stay one-way
    assert set(table["failed"]) == {"managed", "passed", "succeeded"}


def test_outcome_drafts_swap_each_form_in_place():
    assert _drafts("We won the game!") == ["We lost the game!"]
    assert _drafts("Won it. I was Hired today") == ["Lost it. I was Hired today", "Won it. I was Fired today"]
    assert _drafts("I got the job") == []


def test_attainment_possible_needs_verb_and_noun():
    forms = outcome_forms(load_flips())
    assert attainment_possible(["i", "got", "the", "job"], forms)
    assert not attainment_possible(["i", "got", "a", "cold"], forms)
    assert not attainment_possible(["we", "won", "the", "game"], forms)   # a swap, not an attainment


def test_drafts_in_rounds_keep_every_pair_of_the_full_search(annotator, pipeline):  # noqa: F811
    rows = [("o:1", "We won the game.", ["joy"]), ("o:2", "I got the job and I am happy", ["joy"]),
            ("o:3", "I failed the exam.", ["sadness"]), ("o:4", "I was hired, great news", ["joy"]),
            ("o:5", "We lost the game.", ["sadness"]), ("o:6", "I passed the exam, I love it", ["joy"]),
            ("o:7", "That is a terrible idea and a bad plan", ["disapproval"]),
            ("o:8", "I am so happy for you", ["joy"])]
    frame = frame_of(annotator, rows)
    fast, tally = make_pairs(frame, annotator, pipeline, 1.0, 0)
    slow, slow_tally = make_pairs(frame, annotator, pipeline, 1.0, 0, drafts=False)
    assert fast.equals(slow)
    assert tally["rows:paired"] == slow_tally["rows:paired"] == fast.num_rows > 0
    assert "outcome" in fast.column("kind").to_pylist()
    assert tally["rows:no_draft"] >= 0 and tally["rows:selected"] == len(rows)
