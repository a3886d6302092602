"""CD-SCO reader, evaluator, cue detector, resolve API and the scope model (fixture written for this project)."""
from __future__ import annotations

from pathlib import Path

import pytest

from emodata.text.cdsco import evaluate, read_cdsco
from emodata.core.errors import EmodataError
from emodata.text.negation import Negation, resolve
from emodata.text.negation_cues import default_detector

from tests.conftest import SHARED_DATA

FIXTURE = Path(__file__).parent / "fixtures" / "cdsco" / "sample.txt"


def _gold_resolver(sentences):
    by_words = {tuple(s.words): s for s in sentences}

    def resolver(words, cues=None):
        s = by_words[tuple(words)]
        negs = [n for n in s.negations if cues is None or sorted(n.cue) == sorted(cues[0])]
        return [Negation(cue=n.cue, scope=tuple(i for i in n.scope if i not in n.cue)) for n in negs]
    return resolver


def test_reader_fixture():
    sents = read_cdsco(FIXTURE)
    assert len(sents) == 6
    assert sents[0].words[2] == "not" and sents[0].negations[0].cue == (2,)
    assert sents[0].negations[0].scope == (0, 1, 3, 4, 5) and sents[0].negations[0].event == (3,)
    assert sents[1].negations == ()
    unhappy = sents[2].negations[0]
    assert unhappy.cue == (2,) and unhappy.cue_parts == ("un",) and 2 in unhappy.scope
    assert sents[4].negations[0].cue == (2, 3, 4) and sents[4].negations[1].cue == (7,)
    assert sents[5].negations[0].cue_parts == ("less",)
    assert sents[3].line == 24


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "bad.txt"
    p.write_text(text, encoding="utf-8")
    return p


def test_reader_refuses_wrong_column_count(tmp_path):
    lines = FIXTURE.read_text().split("\n")
    lines[3] = lines[3] + "\textra"
    p = _write(tmp_path, "\n".join(lines))
    with pytest.raises(EmodataError, match=r"bad\.txt, line 4: 11 columns"):
        read_cdsco(p)


def test_reader_refuses_cue_not_part_of_word(tmp_path):
    lines = FIXTURE.read_text().split("\n")
    cols = lines[4].split("\t")
    cols[7] = "never"
    lines[4] = "\t".join(cols)
    p = _write(tmp_path, "\n".join(lines))
    with pytest.raises(EmodataError, match=r"bad\.txt, line 5: cue column 8 is 'never'"):
        read_cdsco(p)


def test_reader_refuses_8_columns_without_stars_and_bad_token_number(tmp_path):
    p = _write(tmp_path, "c\t0\t0\tHe\the\tPRP\t*\t_\n")
    with pytest.raises(EmodataError, match="line 1: 8 columns"):
        read_cdsco(p)
    p = _write(tmp_path, "c\t0\t0\tHe\the\tPRP\t*\t***\nc\t0\t2\tgo\tgo\tVB\t*\t***\n")
    with pytest.raises(EmodataError, match="line 2: token number '2'"):
        read_cdsco(p)


def test_evaluator_perfect_and_empty():
    sents = read_cdsco(FIXTURE)
    ev = evaluate(sents, _gold_resolver(sents))
    assert ev.scope_gold_cues.prf()[2] == 1.0 and ev.cue_tokens.prf()[2] == 1.0
    assert ev.exact_scope == ev.instances == 6
    empty = evaluate(sents, lambda words, cues=None: [Negation(tuple(c), ()) for c in (cues or [])])
    assert empty.scope_gold_cues.tp == 0 and empty.scope_gold_cues.fn == 5 + 5 + 2 + 3 + 3 + 3
    assert empty.cue_tokens.fn == 1 + 1 + 1 + 4 + 1 and empty.cue_tokens.fp == 0


@pytest.mark.parametrize("sentence, cue_words", [
    ("He was not only rich but kind .", []),
    ("There is no doubt he came .", []),
    ("He went none the less .", []),
    ("He did nothing but sleep .", []),
    ("She was unhappy and careless .", ["unhappy", "careless"]),
    ("My uncle stood under the tree to bless us .", []),
    ("It was by no means easy .", ["by", "no", "means"]),
    ("Neither he nor she came .", ["neither", "nor"]),
    ("I would walk rather than ride .", ["rather", "than"]),
    ("He never said a word .", ["never"]),
    ("It was impossible and uncomfortable .", ["impossible", "uncomfortable"]),
])
def test_cue_detection(sentence, cue_words):
    words = sentence.split()
    found = [words[i].lower() for c in default_detector().detect(words) for i in c]
    assert found == [w.lower() for w in cue_words]


def test_resolve_api_gold_and_own_cues():
    words = "I did not see the dog in the garden .".split()
    got = resolve(words)
    assert [n.cue for n in got] == [(2,)]
    assert {3, 5}.issubset(got[0].scope) and 2 not in got[0].scope and 9 not in got[0].scope
    given = resolve(words, cues=[[2]])
    assert given[0].cue == (2,) and 2 not in given[0].scope
    assert resolve("It was a fine day .".split()) == []
    with pytest.raises(ValueError, match="not a non-empty set"):
        resolve(words, cues=[[42]])
    with pytest.raises(ValueError, match="unknown negation method"):
        resolve(words, method="nope")


def test_resolve_window_and_punct_fallbacks():
    words = "I am not happy , but fine .".split()
    assert resolve(words, method="window")[0].scope == (3,)
    assert resolve(words, cues=[[2]], method="punct")[0].scope == (3,)


def test_affixal_cue_scope_excludes_cue_token():
    words = "He was unhappy with the answer .".split()
    got = resolve(words)
    assert [n.cue for n in got] == [(2,)] and 2 not in got[0].scope and 0 in got[0].scope


def test_train_is_deterministic(tmp_path):
    from emodata.text.negation_scope import train_all
    a = train_all([FIXTURE], tmp_path / "a")
    b = train_all([FIXTURE], tmp_path / "b")
    assert sorted(a.values()) == sorted(b.values())


DEV = SHARED_DATA / "cdsco" / "SEM-2012-SharedTask-CD-SCO-dev-09032012.txt"


@pytest.mark.skipif(not DEV.exists(), reason="shared CD-SCO data absent")
def test_dev_figures_above_baseline():
    from emodata.text.negation_eval import evaluate_method
    crf = evaluate_method([DEV], "crf")
    punct = evaluate_method([DEV], "punct")
    assert crf.cue_tokens.prf()[2] >= 0.92
    assert crf.scope_gold_cues.prf()[2] > punct.scope_gold_cues.prf()[2] + 0.1
    assert crf.scope_own_cues.prf()[2] >= 0.85
    assert crf.scope_gold_cues.prf()[2] >= 0.88  # v2 features: 0.883 (v1: 0.872)


def test_scoper_crf_depths_and_manifest_entry():
    from emodata.text.negation_parse import NegationScoper
    from emodata.text.nlp import load_pipeline, tokenize
    pipeline = load_pipeline()
    texts = ["I am not happy about it.", "What a lovely day.", "Nothing but praise for him."]
    tokens = list(tokenize(pipeline, texts))
    scoper = NegationScoper(pipeline, "crf")
    depths = scoper.depths(texts, tokens)
    happy = tokens[0].lower.index("happy")
    assert depths[0][happy] == 1 and depths[0][tokens[0].lower.index("not")] == 0
    assert not any(depths[1]) and not any(depths[2])
    entry = scoper.describe()
    from emodata.text.negation_scope import MODEL_VERSION
    assert entry["method"] == MODEL_VERSION and set(entry["models"]) == {"negation_cues.json",
                                                                            "negation_scope.crfsuite"}
    assert scoper.depths(texts, tokens) == depths


def _scope_words(sentence: str) -> list[tuple[list[str], set[str]]]:
    words = sentence.split()
    return [([words[i] for i in n.cue], {words[i] for i in n.scope}) for n in resolve(words)]


def test_constructions_of_the_issue():
    assert _scope_words("He came none the less , and stayed .") == []
    assert _scope_words("There is no doubt he came .") == []
    (cue, scope), = _scope_words("Nothing he said made any sense .")  # the scope does not stop at the noun
    assert cue == ["Nothing"] and {"made", "sense"} <= scope
    (cue, scope), = _scope_words("I do not think that he is guilty .")  # that-complement kept
    assert {"think", "guilty"} <= scope
    (cue, scope), = _scope_words("I do not know what he wants .")  # wh-complement kept
    assert {"know", "wants"} <= scope
    (cue, scope), = _scope_words("I could not sleep , but I rested .")
    assert "sleep" in scope and "rested" not in scope
    (cue, scope), = _scope_words("She dislikes the new house .")
    assert cue == ["dislikes"] and "house" in scope
