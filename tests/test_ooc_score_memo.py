"""The appraisal score memo stays correct when it fills up mid-build (a 10x build has more distinct texts
than its cap): a batch mixing remembered and new texts after a clear is scored whole, same numbers."""
from __future__ import annotations

import numpy as np

import labeling_functions.appraisal.classifier as classifier


def test_a_full_memo_is_cleared_and_the_whole_batch_scored(monkeypatch):
    monkeypatch.setattr(classifier, "_SCORED", {})
    monkeypatch.setattr(classifier, "_SCORED_CAP", 4)
    first = ["I lost my keys again", "we won the final", "the exam is tomorrow"]
    classifier.score_texts(first)
    mixed = ["we won the final", "my dog died", "a stranger helped me", "we won the final"]
    scored = classifier.score_texts(mixed)  # 3 remembered + 2 new > 4: cleared, all scored
    monkeypatch.setattr(classifier, "_SCORED", {})
    monkeypatch.setattr(classifier, "_SCORED_CAP", 1_000)
    fresh = classifier.score_texts(mixed)
    assert np.array_equal(scored.to_numpy(), fresh.to_numpy())
