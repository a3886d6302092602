"""The scope CRF's parts: sentence splitting of utterances, per-sentence feature arrays, side-aware labels,
the batched annotate path, the cue detector's indexes and cross-validation (fixture, no shared data)."""
from __future__ import annotations

from pathlib import Path

import pytest

from emodata.text.cdsco import read_cdsco
from emodata.text.negation import resolve
from emodata.text.negation_cues import CueDetector, default_detector
from emodata.text.negation_features import Sentence, token_features
from emodata.text.negation_scope import (_cue_sentences, analyse, batch_depths, labels_of, sentence_spans)

FIXTURE = Path(__file__).parent / "fixtures" / "cdsco" / "sample.txt"


def test_sentence_spans_split_after_end_marks_and_closing_quotes():
    words = "I love it ! ! ' Yes . But I do n't like it".split()
    assert sentence_spans(words) == [(0, 6), (6, 8), (8, 14)]
    assert sentence_spans("No end mark here".split()) == [(0, 4)]
    assert sentence_spans("Ends here .".split()) == [(0, 3)]
    assert sentence_spans([]) == [(0, 0)]


def test_cue_sentences_shift_cues_into_their_sentence():
    words = "Great day . I do n't like the food .".split()
    (offset, sent, cues), = _cue_sentences(words, [(5,)])
    assert offset == 3 and sent == tuple(words[3:]) and cues == [(2,)]


def test_feature_arrays_match_spacy_tree():
    doc = analyse(tuple("I did not think , however , that he would come home because it was late .".split()))
    s = Sentence(doc)
    assert s.heads == [t.head.i for t in doc]
    assert s.left == [t.left_edge.i for t in doc] and s.right == [t.right_edge.i for t in doc]
    assert s.clause_head(2) == 3  # "not" -> the verb "think"
    feats = token_features(s, (2,), False)
    assert feats[2][-1] == "iscue" and len(feats) == len(doc)
    assert "lca_top=nsubj|L" in feats[0]  # "I": the subject constituent of the cue's head
    assert feats == token_features(doc, (2,), False)  # a Doc or its arrays give the same features


def test_labels_carry_the_side_of_the_cue():
    sent = read_cdsco(FIXTURE)[0]
    labels = labels_of(sent, 0)
    cue = sent.negations[0].cue[0]
    assert labels[cue] == "C"
    assert all(lab[0] == ("L" if i < cue else "R") for i, lab in enumerate(labels) if i != cue)
    assert {i for i, lab in enumerate(labels) if lab.endswith("I")} == set(sent.negations[0].scope) - {cue}


def test_batch_depths_scopes_only_the_cue_sentence():
    from emodata.text.negation_scope import _nlp
    words = "What a lovely day . I do n't like the cold food at all .".split()
    (depth,) = batch_depths(_nlp(), [words], default_detector(), mirror="all")
    alone = resolve(words[5:])
    assert not any(depth[:5])
    assert {i - 5 for i, d in enumerate(depth) if d} == set(alone[0].scope)
    (none,) = batch_depths(_nlp(), ["What a lovely day .".split()], default_detector())
    assert none == [0] * 5


def test_detector_multiword_index_and_affix_memo():
    det = default_detector()
    words = "He was by no means unhappy , rather than angry .".split()
    assert det.detect(words) == [(2, 3, 4), (5,), (7, 8)]
    fresh = CueDetector(det.lists)
    assert fresh.is_affixal("unhappy") and fresh.is_affixal("unhappy")  # memoised answer is the same
    assert not fresh.is_affixal("uncle") and not fresh.is_affixal("under")


def test_cross_validation_counts_every_instance():
    from emodata.text.negation_eval import cross_validate
    sents = read_cdsco(FIXTURE)
    ev = cross_validate([FIXTURE], folds=2)
    assert ev.instances == sum(len(s.negations) for s in sents)
    assert ev.scope_gold_cues.tp + ev.scope_gold_cues.fn == sum(
        len(set(n.scope) - set(n.cue)) for s in sents for n in s.negations)
    with pytest.raises(Exception, match="folds"):
        cross_validate([FIXTURE], folds=1)


def test_window_cues_share_the_learned_vocabulary():
    from emodata.text import negation
    from emodata.text.negation_cues import FIXED, INFORMAL_CUES, WINDOW_PSEUDO
    learned = default_detector().words
    assert learned <= negation.CUES and INFORMAL_CUES <= negation.CUES
    assert {f for f in FIXED if len(f) == 2} <= negation.PSEUDO and WINDOW_PSEUDO <= negation.PSEUDO


@pytest.mark.parametrize("sentence,negated", [
    ("I came none the less and stayed", set()),
    ("never mind the rain", set()),
    ("it was no more than a scratch", set()),
    ("I do n't like rain", {"like", "rain"}),
    ("no more pain for me", {"more", "pain", "for", "me"}),
])
def test_window_fixed_expressions(sentence, negated):
    from emodata.text.negation import negation_scope
    from emodata.text.nlp import load_pipeline, tokenize
    (tokens,) = tokenize(load_pipeline(), [sentence])
    assert {w for w, d in zip(tokens.lower, negation_scope(tokens)) if d % 2} == negated
