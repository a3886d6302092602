"""The flip stage's cost (issue 18 item 4): NER runs batched on the docs that need it, same pairs."""
from __future__ import annotations

import numpy as np
import pandas as pd
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


def test_tokenize_reads_each_token_once_and_keeps_placeholders_out_of_content(pipeline):  # noqa: F811
    from emodata.text.nlp import _is_content, _is_placeholder, tokenize

    texts = ["[NAME] is so great", "I love [NAME] and [ NAME ]", "[  NAME ] ok", "WOW [A] [B]", "", "  \n", "😀 !!"]
    for doc, tokens in zip(pipeline.nlp.tokenizer.pipe(texts), tokenize(pipeline, texts)):
        kept = [(i, t) for i, t in enumerate(doc) if not t.is_space]
        assert tokens.words == tuple(t.text for _, t in kept) and tokens.lower == tuple(t.lower_ for _, t in kept)
        assert tokens.content == tuple(_is_content(t.text, t.lower_, _is_placeholder(doc, i)) for i, t in kept)
        assert tokens.n_words == sum(not t.is_punct for _, t in kept)
    first = next(tokenize(pipeline, ["[NAME] is so great"]))
    assert first.words[:3] == ("[", "NAME", "]") and first.content[1] is False and first.content[-1] is True


def test_score_texts_is_the_annotate_stage(annotator):  # noqa: F811
    from emodata.annotate import annotate_frame
    from emodata.flips.judges import plain_valence
    from emodata.flips.pairs import score_texts

    texts = ["I am not happy", "I am happy", "a meeting at noon", "", "We did not win the game, sad", "!!!"]
    frame = annotate_frame(pd.DataFrame({"id": [f"t{i}" for i in range(len(texts))], "text": texts}), annotator)
    scored = score_texts(texts, annotator)
    assert [s.n_tokens for s in scored] == frame["n_tokens"].tolist()
    assert [s.n_covered for s in scored] == frame["n_covered"].tolist()
    for column in ("vad_v", "vad_a", "vad_d"):
        assert np.allclose([getattr(s, column) for s in scored], frame[column], equal_nan=True, rtol=0, atol=0)
    assert np.allclose([s.plain for s in scored], plain_valence(texts, annotator), equal_nan=True, rtol=0, atol=0)
    assert scored[0].vad_v < 0.5 < scored[1].vad_v      # the negation-aware score, not the plain one


def test_parsed_is_language_pipe_without_ner(pipeline):  # noqa: F811
    from emodata.flips.pairs import _parsed
    from emodata.text.nlp import numpy_blas_pipeline

    language = numpy_blas_pipeline(pipeline.nlp)
    texts = [text for _, text, _ in ROWS] + ["We went to the store. It was so much fun!", "Don't love it", "ok"] * 3

    def analyses(docs):
        return [[(t.text, t.tag_, t.pos_, t.dep_, t.head.i, t.lemma_, t.is_sent_start, t.ent_type_) for t in doc]
                for doc in docs]

    batches = list(_parsed(texts, language, 4))
    assert [len(batch) for batch in batches] == [4, 4, 4, 2]
    expected = analyses(language.pipe(texts, batch_size=4, disable=["ner"]))
    assert analyses(doc for batch in batches for doc in batch) == expected
    assert all(t.ent_type_ == "" for batch in batches for doc in batch for t in doc)   # NER not run
    assert any(t.lemma_ == "go" for doc in batches[2] for t in doc)                    # lemmatizer ran


def test_the_parse_runs_on_one_blas_thread(annotator, pipeline, monkeypatch):  # noqa: F811
    from threadpoolctl import threadpool_info

    seen = []
    real = pairs_module._parsed

    def parsed(*args):
        seen.extend(lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas")
        yield from real(*args)

    monkeypatch.setattr(pairs_module, "_parsed", parsed)
    pairs, _ = make_pairs(frame_of(annotator, ROWS), annotator, pipeline, 1.0, 0)
    assert pairs.num_rows > 0 and seen and set(seen) == {pairs_module.PARSE_BLAS_THREADS} == {1}
