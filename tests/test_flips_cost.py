"""The flip stage's cost (issue 18 item 4): NER runs batched on the docs that need it, same pairs."""
from __future__ import annotations

from spacy.language import Language

import emodata.flips.pairs as pairs_module
from emodata.flips import make_pairs

from tests.test_flip import frame_of, pipeline  # noqa: F401  (module fixtures)
from tests.test_flip_draft import annotator  # noqa: F401  (module fixture)

ROWS = [("n:1", "I love shopping at Best Buy every week", ["joy"]),
        ("n:2", "Good Will Hunting is a great movie", ["admiration"]),
        ("n:3", "That is a terrible idea", ["disapproval"]),
        ("n:4", "I am so happy for you", ["joy"]),
        ("n:5", "Happy birthday to my best friend", ["joy"])]


class CountingNer:
    """Wraps the NER component: counts per-doc calls and batched `pipe` calls."""

    def __init__(self, ner):
        self.ner, self.calls, self.batches, self.docs = ner, 0, 0, 0

    def __call__(self, doc):
        self.calls += 1
        return self.ner(doc)

    def pipe(self, docs, batch_size=128):
        docs = list(docs)
        self.batches += 1
        self.docs += len(docs)
        return self.ner.pipe(docs, batch_size=batch_size)


def test_ner_runs_batched_and_names_stay_guarded(annotator, pipeline, monkeypatch):  # noqa: F811
    frame = frame_of(annotator, ROWS)
    before, before_tally = make_pairs(frame, annotator, pipeline, 1.0, 0)
    counters = []
    real = Language.get_pipe

    def get_pipe(self, name):
        found = real(self, name)
        if name != "ner":
            return found
        counters.append(CountingNer(found))
        return counters[-1]

    monkeypatch.setattr(Language, "get_pipe", get_pipe)
    after, after_tally = make_pairs(frame, annotator, pipeline, 1.0, 0)
    assert after.equals(before) and after_tally == before_tally
    assert counters and sum(c.calls for c in counters) == 0          # never one doc at a time
    assert 1 <= sum(c.batches for c in counters) <= len(counters)   # one batch per spaCy batch at most
    assert 0 < sum(c.docs for c in counters) < len(ROWS)            # only docs with a capitalised listed word
    flips = dict(zip(after.column("id").to_pylist(), after.column("text_flip").to_pylist()))
    assert "Worst Buy" not in flips.get("n:1", "") and "Bad Will" not in flips.get("n:2", "")
