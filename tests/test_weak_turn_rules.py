"""Dialogue-turn rules of the emotion LFs (issue #16, probe): typed apostrophes, repair/acknowledgment
moves, questions about the addressee, reported states, praise words."""
from __future__ import annotations

from emodata.annotate import annotate_texts
from labeling_functions.emotion.lfs import in_question, phrase_pattern, match_positions, reported_state

from tests.test_weak_dialogue import _votes


def _turns(texts: list[str], dialogue: bool = True):
    return annotate_texts(texts).assign(in_dialogue=dialogue)


def test_a_phrase_apostrophe_matches_curly_ones():
    pattern = phrase_pattern(["do n't worry"])
    assert match_positions(" do n’t worry ", pattern) == [0]
    assert match_positions(" do n't worry ", pattern) == [0]
    assert match_positions(" do nt worry ", pattern) == []
    # "I’m afraid I can't" is a set phrase with a curly apostrophe too: no fear vote.
    v = _votes(_turns(["I’m afraid I can’t come tomorrow.", "I'm afraid I can't come tomorrow.",
                       "I am so scared."]))
    assert v["kw_fear"] == [None, None, "fear"]


def test_confusion_and_realization_cues_abstain_on_turns_only():
    texts = ["What? I don't understand.", "Oh I see, now I know."]
    assert _votes(_turns(texts, False))["kw_confusion"][0] == "confusion"
    assert _votes(_turns(texts, False))["kw_realization"][1] == "realization"
    on_turns = _votes(_turns(texts))
    assert on_turns["kw_confusion"] == [None, None] and on_turns["kw_realization"] == [None, None]


def test_in_question_reads_the_cue_sentence():
    lower = "i had fun . did you enjoy it ?".split()
    assert not in_question(lower, 2)
    assert in_question(lower, 6)
    assert not in_question("so happy".split(), 1)


def test_a_joy_cue_in_a_question_is_about_the_addressee_on_turns():
    texts = ["Did you enjoy the party?", "I enjoyed the party. Did you?", "Did you enjoy the party?"]
    rows = _turns(texts).assign(in_dialogue=[True, True, False])
    assert _votes(rows)["kw_joy"] == [None, "joy", "joy"]


def test_vad_lfs_abstain_on_a_turn_that_asks():
    texts = ["Peaceful gentle kind friend?", "Peaceful gentle kind friend."]
    plain = _votes(_turns(texts, False))
    assert plain["vad_high_v"] == ["joy", "joy"]
    assert _votes(_turns(texts))["vad_high_v"] == [None, "joy"]


def test_reported_state_names_the_experiencer():
    assert reported_state("you look so nervous".split(), 3)
    assert reported_state("she was scared".split(), 2)
    assert not reported_state("he makes me nervous".split(), 3)
    assert not reported_state("i 'm worried about you".split(), 2)
    assert not reported_state("you know , i 'm scared".split(), 5)


def test_fear_cues_of_someone_else_do_not_vote_on_turns():
    texts = ["You look nervous.", "I am nervous.", "She was scared.", "I'm scared."]
    v = _votes(_turns(texts))
    assert v["kw_nervousness"] == [None, "nervousness", None, None]
    assert v["kw_fear"] == [None, None, None, "fear"]
    assert _votes(_turns(texts, False))["kw_nervousness"][0] == "nervousness"


def test_praise_words_vote_admiration():
    v = _votes(_turns(["Great, see you then.", "Perfect.", "The table is in the kitchen."]))
    assert v["kw_admiration"] == ["admiration", "admiration", None]


def test_anger_lexicon_of_insults_and_grievances():
    v = _votes(_turns(["You are so rude!", "What the hell is this?", "That is ridiculous.", "Damn!", "It is blue."]))
    assert v["kw_anger"] == ["anger", "anger", None, "anger", None]
    assert v["kw_annoyance"] == [None, None, "annoyance", None, None]


def test_polite_afraid_is_no_fear():
    v = _votes(_turns(["I’m afraid your card has expired.", "It takes ten more minutes, I'm afraid.",
                       "We are afraid all rooms are booked.", "I'm afraid of dogs."]))
    assert v["kw_fear"] == [None, None, None, "fear"]


def test_turn_disgust_cues_vote_on_dialogue_turns_only():
    texts = ["I'm sick of this dirty kitchen.", "The weather is fine."]
    assert _votes(_turns(texts))["turn_disgust"] == ["disgust", None]
    assert _votes(_turns(texts, False))["turn_disgust"] == [None, None]
