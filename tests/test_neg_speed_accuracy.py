"""Issue 15, second pass: the scope pipeline copy on numpy's BLAS, and the affixal flag of a given cue."""
from __future__ import annotations

from spacy.tokens import Doc
from thinc.api import NumpyOps

from emodata.text.negation_cues import default_detector
from emodata.text.negation_scope import SKIPPED_PIPES, is_affixal_cue, scope_pipeline
from emodata.text.nlp import load_pipeline

SENTENCES = ["I did not think , however , that he would come home because it was late .",
             "Where they came from , or who they are , nobody has an idea .",
             "Had it not been for the help of this good man , I should never have broken away ."]


def _analyses(nlp, sentence: str) -> list[tuple[str, int, str]]:
    doc = Doc(nlp.vocab, words=sentence.split())
    for name, proc in nlp.pipeline:
        if name not in SKIPPED_PIPES:
            doc = proc(doc)
    return [(t.tag_, t.head.i, t.dep_) for t in doc]


def test_scope_pipeline_is_a_numpy_blas_copy_with_the_same_analyses():
    shared = load_pipeline().nlp
    copy = scope_pipeline(shared)
    assert copy is not shared and copy.vocab is shared.vocab
    assert scope_pipeline(copy) is copy and scope_pipeline(shared) is copy
    ops = {type(n.ops).__name__ + str(getattr(n.ops, "use_blis", None))
           for _, p in copy.pipeline if getattr(p, "model", None) is not None for n in p.model.walk()}
    assert ops == {"NumpyOpsFalse"}
    # the shared pipeline keeps thinc's default (BLIS) ops
    assert all(getattr(n.ops, "use_blis", True) for _, p in shared.pipeline
               if getattr(p, "model", None) is not None for n in p.model.walk())
    for sentence in SENTENCES:
        assert _analyses(copy, sentence) == _analyses(shared, sentence)
    assert isinstance(copy.get_pipe("parser").model.ops, NumpyOps)


def test_a_given_cue_shaped_like_an_affix_is_affixal_even_if_its_stem_is_unknown():
    det = default_detector()
    for word in ("impatience", "irreproachable", "inadmissable", "unhappy", "careless"):
        assert is_affixal_cue([word], (0,), det), word
    for words, cue in ((["not"], (0,)), (["nothing"], (0,)), (["by", "no", "means"], (0, 1, 2)),
                       (["save"], (0,))):
        assert not is_affixal_cue(words, cue, det), words


def test_clear_memo_forgets_the_affix_tests():
    from emodata.text.negation_cues import CueDetector, CueLists
    det = CueDetector(CueLists.from_json(default_detector().lists.to_json()))
    assert det.detect(["I", "am", "unhappy"]) == [(2,)]
    assert det._affixal_memo
    det.clear_memo()
    assert not det._affixal_memo
    assert det.detect(["I", "am", "unhappy"]) == [(2,)]


def test_crf_scoper_records_the_matrix_library_in_its_cache_key():
    from emodata.text.negation_parse import NegationScoper
    pipeline = load_pipeline()
    assert NegationScoper(pipeline, "crf").describe()["blas"] == "numpy"
    assert "blas" not in NegationScoper(pipeline, "parse").describe()
