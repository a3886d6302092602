"""Parse-free drafts (emodata/flips/draft.py), stored-token reuse and the per-sentence negation candidates."""
from __future__ import annotations

import pytest

from catalog.flips import load_flips
from emodata.flips import make_pairs
from emodata.flips.draft import (antonym_drafts, negation_drafts, offsets, outcome_forms, outcome_possible,
                                 surface_antonyms)
from emodata.flips.negation import negation_flips
from emodata.text.nlp import load_pipeline, stored_tokens, tokenize

from emodata.annotate import make_annotator
from emodata.text.lexicon import Lexicon
from tests.test_flip import WORDS, frame_of, nlp, pipeline  # noqa: F401  (module fixtures)

MORE = {"fun": 0.9, "store": 0.6, "idea": 0.6, "week": 0.5, "shopping": 0.8, "best": 0.9, "worst": 0.1,
        "amazing": 0.9, "awful": 0.06}


@pytest.fixture(scope="module")
def annotator(pipeline):  # noqa: F811
    words = {**WORDS, **MORE}
    return make_annotator(pipeline, Lexicon("test-vad", "1", "0" * 40, "tests/test_flip_draft.py",
                                            {w: (v, 0.3 + v / 2, 0.4) for w, v in words.items()}))


def _tokens(text: str):
    tokens = next(tokenize(load_pipeline(), [text]))
    return tokens.words, tokens.lower, offsets(text, tokens.words)


def test_stored_tokens_equal_the_tokenizer():
    texts = ["I don't like [NAME], it's awful!!", "Wow 😂 so good...", "  spaced  out  "]
    for text, tokens in zip(texts, tokenize(load_pipeline(), texts)):
        assert stored_tokens(list(tokens.words), list(tokens.lower)) == tokens


def test_offsets_find_every_token_in_order():
    words, _, offs = _tokens("I can't  believe it's real")
    assert [("I can't  believe it's real")[o:o + len(w)] for o, w in zip(offs, words)] == list(words)
    assert offsets("abc", ["x"]) is None


def test_surface_antonyms_cover_inflections_and_parts_of_speech():
    table = surface_antonyms(load_flips())
    assert table["loved"] == ("hated",) and table["enemies"] == ("friends",) and table["happiest"] == ("saddest",)
    assert "glad" in table["upset"] and "calm" in table["upset"]          # ADJ and VERB "upset"


@pytest.mark.parametrize("text, positive, expected", [
    ("I loved it, truly great", True, ["I loved it, truly terrible", "I hated it, truly great"]),
    ("What an awful day", False, ["What an amazing day"]),
    ("What an awful day", True, []),                                        # no listed word of that side
])
def test_antonym_drafts(text, positive, expected):
    words, lower, offs = _tokens(text)
    valence = {"loved": 0.93, "great": 0.95, "awful": 0.06}.get
    assert sorted(antonym_drafts(text, words, lower, offs, surface_antonyms(load_flips()), valence, positive)) \
        == sorted(expected)


@pytest.mark.parametrize("text, expected", [
    ("I am happy.", ["I am not happy."]),
    ("I don't like it. It was bad", ["I like it. It was bad"]),            # removal only where a negation is
    ("We went out. It was fun!", ["We don't went out. It was fun!", "We went out. It was not fun!"]),
    ("That sounds great", ["That don't sounds great"]),
    ("Last night I just felt fine", ["Last night I just don't felt fine", "Don't last night I just felt fine"]),
    ("Love this!", ["Don't love this!"]),
    ("Are you ok? She is great", ["Are you ok? She is not great"]),        # questions are skipped
    ("I have no money", []),                                               # a cue the generator cannot remove
])
def test_negation_drafts(text, expected):
    words, lower, offs = _tokens(text)
    assert negation_drafts(text, words, lower, offs) == expected


def test_outcome_possible():
    forms = outcome_forms(load_flips())
    assert outcome_possible(["we", "won", "the", "game"], forms)
    assert outcome_possible(["i", "got", "the", "job"], forms)
    assert not outcome_possible(["i", "got", "a", "cold"], forms)          # "get" without a prize noun


@pytest.mark.parametrize("text, expected", [
    ("We went out. It was fun.", ["We didn't go out. It was fun.", "We went out. It was not fun."]),
    ("I love my pets too.", ["I don't love my pets either."]),            # "too" -> "either"
    ("I hope they win", []),                                               # never "I don't hope"
    ("I am hoping she wins", []),
    ("It is probably the best day.", ["It is probably not the best day."]),  # "not" after a sentence adverb
    ("It still sounds great", ["It still doesn't sound great"]),
    ("There is some hope", ["There is not any hope"]),
    ("I felt tired and watched TV", []),                                   # a shared-subject second verb
    ("I wasn't happy. I didn't care.", ["I was happy. I didn't care.", "I wasn't happy. I cared."]),
])
def test_negation_flips_one_candidate_per_sentence(nlp, text, expected):  # noqa: F811
    assert negation_flips(nlp(text)) == expected


def test_stored_columns_and_drafts_keep_the_pairs(annotator, pipeline):  # noqa: F811
    rows = [("d:1", "I love shopping at Best Buy every week", ["joy"]),
            ("d:2", "We went to the store. It was so much fun!", ["joy"]),
            ("d:3", "I am so happy for you", ["joy"]),
            ("d:4", "That is a terrible idea", ["disapproval"])]
    frame = frame_of(annotator, rows)
    assert {"tokens", "lower"} <= set(frame.columns)
    fast, tally = make_pairs(frame, annotator, pipeline, 1.0, 0)
    slow, _ = make_pairs(frame, annotator, pipeline, 1.0, 0, drafts=False)
    bare, _ = make_pairs(frame.drop(columns=["tokens", "lower"]), annotator, pipeline, 1.0, 0)
    assert fast.equals(slow) and fast.equals(bare)
    flips = dict(zip(fast.column("id").to_pylist(), fast.column("text_flip").to_pylist()))
    assert "Worst Buy" not in flips.get("d:1", "")                          # NER still guards names
    assert flips["d:2"] == "We went to the store. It was not so much fun!"  # the sentence that carries it
    assert tally["rows:paired"] == len(flips)


def test_negation_candidate_need_only_move_toward_the_other_side():
    from types import SimpleNamespace

    from emodata.flips.pairs import NEGATION_SHIFT, verdict

    def scored(v):
        return SimpleNamespace(n_tokens=5, n_covered=2, vad_v=v)

    assert verdict("x", 0.8, "y", scored(0.6)) == "no_cross"                       # lexical kinds must cross
    assert verdict("x", 0.8, "y", scored(0.8 - NEGATION_SHIFT), "negation") == "ok"
    assert verdict("x", 0.8, "y", scored(0.79), "negation") == "no_cross"
    assert verdict("x", 0.2, "y", scored(0.3), "negation") == "ok"
    assert verdict("x", 0.2, "y", scored(0.1), "negation") == "no_cross"           # the wrong way


def test_pairs_shard_is_byte_identical_for_the_same_inputs(annotator, pipeline, tmp_path):  # noqa: F811
    from emodata.shards import write_parquet

    rows = [("b:1", "I am so happy for you. We won!", ["joy"]), ("b:2", "That is a terrible idea", ["anger"]),
            ("b:3", "We went to the store. It was so much fun!", ["joy"]), ("b:4", "I don't love it", ["joy"])]
    frame = frame_of(annotator, rows)
    first, again = tmp_path / "a.parquet", tmp_path / "b.parquet"
    write_parquet(make_pairs(frame, annotator, pipeline, 1.0, 3)[0], first)
    write_parquet(make_pairs(frame.sample(frac=1.0, random_state=2), annotator, pipeline, 1.0, 3)[0], again)
    assert first.read_bytes() == again.read_bytes() and first.stat().st_size > 0
