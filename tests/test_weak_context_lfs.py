"""Dialogue-context LFs (issue #16, probe): `ctx_<label>` reads the previous turn, `turn_<label>` cues may be
anchored at the turn's start, and the annotate stage hands each turn's previous utterances to the LFs."""
from __future__ import annotations

import pandas as pd

from emodata.annotate import annotate_frame, annotate_texts, make_annotator
from emodata.sources.base import dialogue_rows
from emodata.text.lexicon import load_lexicon
from emodata.text.nlp import load_pipeline
from labeling_functions.emotion import emotion_lfs
from labeling_functions.emotion.lfs import INDEX, match_positions, phrase_pattern, previous_turn_padded

from tests.test_weak_dialogue import _votes


def _turns(texts: list[str], previous: list[str | None], dialogue: bool = True) -> pd.DataFrame:
    rows = annotate_texts(texts).assign(in_dialogue=dialogue)
    return rows.assign(context=[[p] if p is not None else [] for p in previous])


def test_previous_turn_is_tokenised_like_the_annotate_stage():
    assert previous_turn_padded(["Hi.", "Don’t mention it. You look so upset, can't you?"]) == \
        " do n't mention it . you look so upset , ca n't you ? "
    assert previous_turn_padded([]) == " " and previous_turn_padded(None) == " "


def test_context_lfs_vote_on_the_reply_to_a_cue():
    texts = ["I failed my driving test again.", "Thank you. I'm glad you came.", "Is it that obvious?",
             "I failed my driving test again."]
    previous = ["You look so upset. What happened?", "Congratulations on your new job!", "You look so upset.",
                "Shall we take the bus?"]
    v = _votes(_turns(texts, previous))
    assert v["ctx_sadness"] == ["sadness", None, None, None]  # a question abstains, the 4th has no cue
    assert v["ctx_joy"] == [None, "joy", None, None]
    # Not a dialogue turn (a Reddit comment has no previous turn to answer): abstain.
    off = _votes(_turns(texts, previous, dialogue=False))
    assert off["ctx_sadness"] == [None] * 4 and off["ctx_joy"] == [None] * 4


def test_an_anchored_phrase_matches_only_at_the_turn_start():
    pattern = phrase_pattern(["^ what ?", "kidding"])
    assert match_positions(" what ? you sold it ? ", pattern) == [0]
    assert match_positions(" so what ? ", pattern) == []
    assert match_positions(" you 're kidding ! ", pattern) == [2]
    v = _votes(_turns(["What? You sold the house?", "So what?"], [None, None]))
    assert v["turn_surprise"] == ["surprise", None]


def test_turn_cues_and_dialogue_abstentions():
    texts = ["That sounds like a good idea.", "I can't stand his jokes any more.", "What a pity, I missed it.",
             "You are wrong about the date.", "Take care on the road."]
    v = _votes(_turns(texts, [None] * 5))
    assert v["turn_joy"][0] == "joy" and v["turn_anger"][1] == "anger" and v["turn_sadness"][2] == "sadness"
    assert v["kw_disapproval"][3] is None and v["kw_caring"][4] is None  # abstain on turns
    comments = _votes(_turns(texts, [None] * 5, dialogue=False))
    assert comments["kw_disapproval"][3] == "disapproval" and comments["kw_caring"][4] == "caring"
    assert comments["turn_joy"] == [None] * 5


def test_the_annotate_stage_hands_the_previous_turn_to_the_lfs():
    rows = dialogue_rows("dailydialog", "train", "d1", [("A", "You look so upset.", [], []),
                                                         ("B", "My cat died last night.", [], []),
                                                         ("A", "Oh dear, that is bad.", [], [])])
    lfs = emotion_lfs()
    votes = annotate_frame(pd.DataFrame(rows), make_annotator(load_pipeline(), load_lexicon(None), lfs=lfs))
    column = [lf.name for lf in lfs].index("ctx_sadness")
    assert [int(v[column]) for v in votes["emotion_votes"]] == [-1, INDEX["sadness"], -1]


def test_exclaimed_anger_and_reported_sadness_on_turns():
    v = _votes(_turns(["Leave me alone! Why do you keep calling?", "You broke it again!", "Let me help you."], [None] * 3))
    assert v["turn_anger"] == ["anger", "anger", None]
    sad = _votes(_turns(["You look so sad.", "She is really depressed.", "I am so sad."], [None] * 3))
    assert sad["kw_sadness"] == [None, None, "sadness"]
    comments = _votes(_turns(["She is really depressed."], [None], dialogue=False))
    assert comments["kw_sadness"] == ["sadness"]
