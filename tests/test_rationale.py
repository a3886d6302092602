"""The SFT rationale cites only cues that point the way of its claim, negated cues as negated."""
from __future__ import annotations

from emodata.text.vad import rationale


def test_positive_claim_cites_only_positive_cues():
    # seen in an export: "positive tone from 'happy' and 'hurt'"
    assert rationale(["happy", "hurt", "fine"], [0.9, 0.1, 0.7], 0.6) == "positive tone from 'happy' and 'fine'"


def test_negative_claim_cites_negated_cues_as_negated():
    # "not happy" was mirrored below 0.5 by the negation scope: a negative cue, cited as negated
    text = rationale(["happy", "hurt"], [0.25, 0.1], 0.2, negated=[True, False])
    assert text == "negative tone from 'hurt' and not 'happy'"


def test_neutral_claims_name_mixed_cues_or_none():
    assert rationale(["happy", "hurt"], [0.9, 0.1], 0.5) == "neutral tone, mixed cues 'happy' and 'hurt'"
    assert rationale(["table"], [0.52], 0.5) == "neutral tone, no strong cue"
    assert rationale([], [], 0.5) == "no lexicon evidence"
