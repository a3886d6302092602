"""The flip stage parses on the numpy-BLAS copy of the pipeline: same pairs as spaCy's default (BLIS) ops."""
from __future__ import annotations

import emodata.flips.pairs as pairs_module
from emodata.annotate import annotate_frame, make_annotator
from emodata.flips.draw import make_pairs
from emodata.sources import locate, read_source
from emodata.text.lexicon import load_lexicon
from emodata.text.nlp import load_pipeline, numpy_blas_pipeline


def test_flip_pairs_are_the_same_on_the_numpy_blas_parse(monkeypatch):
    pipeline = load_pipeline("en_core_web_sm")
    scorer = make_annotator(pipeline, load_lexicon(None))
    train = annotate_frame(read_source(locate("goemotions", sample=True)).records, scorer)
    copy = numpy_blas_pipeline(pipeline.nlp)
    assert copy is not pipeline.nlp and numpy_blas_pipeline(copy) is copy
    used = []
    real = pairs_module.numpy_blas_pipeline
    monkeypatch.setattr(pairs_module, "numpy_blas_pipeline", lambda nlp: used.append(real(nlp)) or used[-1])
    numpy_pairs, numpy_tally = make_pairs(train, scorer, scorer.pipeline, flip_frac=1.0, seed=3)
    assert used and all(getattr(lang, "_numpy_blas", False) for lang in used)   # the stage parsed on the copy
    monkeypatch.setattr(pairs_module, "numpy_blas_pipeline", lambda nlp: nlp)  # spaCy's default ops
    blis_pairs, blis_tally = make_pairs(train, scorer, scorer.pipeline, flip_frac=1.0, seed=3)
    assert numpy_pairs.num_rows > 3 and numpy_pairs.equals(blis_pairs) and numpy_tally == blis_tally
