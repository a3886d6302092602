"""VAD lexicon readers (NRC-VAD v1/v2, Warriner, generic CSV), the nrclex proxy and lemma fallback."""
from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import spacy

from emodata.core.errors import BadRowError, DataNotFoundError
from emodata.core.validate import EmptyInputError
from emodata.text.lemma import LexiconLookup, suffix_candidates, candidate_function
from emodata.text.lexicon import (PROXY_VAD_CONF_MIN, Lexicon, load_lexicon, nrclex_proxy, read_lexicon_file)
from emodata.text.nlp import Pipeline, load_pipeline

NRC_V1 = (
    "Word\tValence\tArousal\tDominance\n"
    "aaaaaaah\t0.479\t0.606\t0.291\n"
    "abandon\t0.052\t0.519\t0.245\n"
    "Happy\t1.000\t0.735\t0.772\n"
)
# NRC-VAD v2 scores lie in [-1, 1].
NRC_V2 = (
    "term\tvalence\tarousal\tdominance\n"
    "abandon\t-0.896\t0.038\t-0.510\n"
    "happy\t1.000\t0.470\t0.544\n"
    "a lot\t0.000\t-1.000\t0.200\n"
)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def _no_lexicon_env(monkeypatch):
    monkeypatch.delenv("EMODATA_LEXICON_DIR", raising=False)


def test_nrc_vad_v1_read_as_is(tmp_path):
    path = write(tmp_path / "NRC-VAD-Lexicon.txt", NRC_V1)
    lex = read_lexicon_file(path)
    assert lex.name == "nrc-vad-v1" and lex.version == "1"
    assert lex.entries == {"aaaaaaah": (0.479, 0.606, 0.291), "abandon": (0.052, 0.519, 0.245),
                           "happy": (1.0, 0.735, 0.772)}
    assert len(lex) == 3 and "happy" in lex and "Happy" not in lex
    assert lex.get("abandon") == (0.052, 0.519, 0.245) and lex.get("zebra") is None
    assert lex.recommended_vad_conf_min == 0.75
    assert lex.describe() == {"name": "nrc-vad-v1", "version": "1",
                              "sha1": hashlib.sha1(path.read_bytes()).hexdigest(),
                              "source": "NRC-VAD-Lexicon.txt", "entries": 3}


def test_nrc_vad_v2_rescaled(tmp_path):
    path = write(tmp_path / "NRC-VAD-Lexicon-v2.1.txt", NRC_V2)
    lex = read_lexicon_file(path)
    assert lex.name == "nrc-vad-v2" and lex.version == "2"
    assert set(lex.entries) == {"abandon", "happy", "a lot"}
    assert lex.get("abandon") == pytest.approx((0.052, 0.519, 0.245))
    assert lex.get("happy") == pytest.approx((1.0, 0.735, 0.772))
    assert lex.get("a lot") == pytest.approx((0.5, 0.0, 0.6))
    assert lex.describe()["source"] == "NRC-VAD-Lexicon-v2.1.txt"


def test_nrc_vad_bad_lines_name_file_and_line(tmp_path):
    path = write(tmp_path / "NRC-VAD-Lexicon.txt", NRC_V1 + "broken\t0.5\t0.5\n")
    with pytest.raises(BadRowError) as info:
        read_lexicon_file(path)
    assert info.value.line == 5
    assert str(info.value).startswith(f"{path}, line 5: expected 4 tab-separated fields, found 3")
    write(path, NRC_V1.replace("0.519", "high"))
    with pytest.raises(BadRowError, match=r"line 3: expected three numbers for valence, arousal, dominance"):
        read_lexicon_file(path)


def test_nrc_vad_blank_trailing_line_ignored(tmp_path):
    assert len(read_lexicon_file(write(tmp_path / "lex.txt", NRC_V1 + "\n"))) == 3


@pytest.mark.parametrize("header", [
    "Word,V.Mean.Sum,A.Mean.Sum,D.Mean.Sum",
])
def test_warriner_rescaled(tmp_path, header):
    path = write(tmp_path / "Ratings_Warriner_et_al.csv",
                 f"{header}\naardvark,6.26,2.41,4.27\nvacation,9,1,5\n")
    lex = read_lexicon_file(path)
    assert lex.name == "warriner" and lex.version == "2013"
    assert lex.get("aardvark") == pytest.approx(((6.26 - 1) / 8, (2.41 - 1) / 8, (4.27 - 1) / 8))
    assert lex.get("vacation") == pytest.approx((1.0, 0.0, 0.5))


def test_warriner_original_column_layout(tmp_path):
    # The released file starts with an unnamed row-number column and has SD / count columns between.
    path = write(tmp_path / "Ratings_Warriner_et_al.csv",
                 ",Word,V.Mean.Sum,V.SD.Sum,V.Rat.Sum,A.Mean.Sum,A.SD.Sum,A.Rat.Sum,D.Mean.Sum,D.SD.Sum,D.Rat.Sum\n"
                 "1,aardvark,6.26,2.21,19,2.41,1.4,22,4.27,1.75,15\n"
                 "2,abalone,5.3,1.59,20,2.65,1.9,20,4.95,2.02,22\n")
    lex = read_lexicon_file(path)
    assert lex.name == "warriner"
    assert lex.get("aardvark") == pytest.approx((0.6575, 0.17625, 0.40875))
    assert lex.get("abalone") == pytest.approx((0.5375, 0.20625, 0.49375))


def test_generic_csv(tmp_path):
    path = write(tmp_path / "mylex.csv", "word,v,a,d\nSmile,0.9,0.5,0.6\nfrown,0.1,0.4,0.3\n\n")
    lex = read_lexicon_file(path)
    assert lex.name == "csv:mylex" and lex.version == "custom"
    assert lex.entries == {"smile": (0.9, 0.5, 0.6), "frown": (0.1, 0.4, 0.3)}
    alias = read_lexicon_file(write(tmp_path / "alias.csv", "Term,Dominance,Valence,Arousal\njoy,0.7,0.95,0.6\n"))
    assert alias.entries == {"joy": (0.95, 0.6, 0.7)}


def test_generic_csv_out_of_range_names_line(tmp_path):
    path = write(tmp_path / "mylex.csv", "word,v,a,d\nsmile,0.9,0.5,0.6\nscream,0.5,1.2,0.3\n")
    with pytest.raises(BadRowError) as info:
        read_lexicon_file(path)
    assert info.value.line == 3
    assert str(info.value).startswith(f"{path}, line 3: VAD values (0.5, 1.2, 0.3) outside [0, 1]")


def test_generic_csv_bad_header_and_short_row(tmp_path):
    path = write(tmp_path / "mylex.csv", "word,pleasure,a,d\nsmile,0.9,0.5,0.6\n")
    with pytest.raises(BadRowError, match=r"mylex\.csv, line 1: header must name word,v,a,d"):
        read_lexicon_file(path)
    write(path, "word,v,a,d\nsmile,0.9,0.5,0.6\nfrown,0.1\n")
    with pytest.raises(BadRowError, match=r"mylex\.csv, line 3: expected at least 4 fields, found 2"):
        read_lexicon_file(path)


def test_read_lexicon_file_missing(tmp_path):
    with pytest.raises(DataNotFoundError, match="lexicon file not found"):
        read_lexicon_file(tmp_path / "nope.txt")
    with pytest.raises(DataNotFoundError, match="lexicon file not found"):
        load_lexicon(str(tmp_path / "nope.txt"))


def test_load_lexicon_by_name(tmp_path, monkeypatch):
    write(tmp_path / "lexicons" / "NRC-VAD-Lexicon.txt", NRC_V1)
    lex = load_lexicon("nrc-vad", search_dirs=[tmp_path / "empty", tmp_path / "lexicons"])
    assert lex.name == "nrc-vad-v1" and len(lex) == 3
    # v2 file names are found too.
    write(tmp_path / "v2" / "NRC-VAD-Lexicon-v2.1.txt", NRC_V2)
    assert load_lexicon("nrc-vad", search_dirs=[str(tmp_path / "v2")]).name == "nrc-vad-v2"
    # $EMODATA_LEXICON_DIR is searched after search_dirs.
    monkeypatch.setenv("EMODATA_LEXICON_DIR", str(tmp_path / "lexicons"))
    assert load_lexicon("nrc-vad").name == "nrc-vad-v1"
    write(tmp_path / "w" / "Ratings_Warriner_et_al.csv", "Word,V.Mean.Sum,A.Mean.Sum,D.Mean.Sum\nok,5,5,5\n")
    assert load_lexicon("warriner", search_dirs=[tmp_path / "w"]).get("ok") == (0.5, 0.5, 0.5)
    assert load_lexicon(str(tmp_path / "lexicons" / "NRC-VAD-Lexicon.txt")).name == "nrc-vad-v1"


def test_load_lexicon_by_name_missing(tmp_path):
    with pytest.raises(DataNotFoundError) as info:
        load_lexicon("nrc-vad", search_dirs=[tmp_path])
    message = str(info.value)
    assert message.startswith("lexicon 'nrc-vad' not found: looked for NRC-VAD-Lexicon.txt, "
                              f"NRC-VAD-Lexicon-v2.1.txt, NRC-VAD-Lexicon-v2.txt in {tmp_path}.")
    assert "--lexicon PATH" in message and "DATA_DIR/lexicons/" in message
    assert "EMODATA_LEXICON_DIR" in message and "saifmohammad.com" in message
    with pytest.raises(DataNotFoundError, match=r"in \(no directories given\)"):
        load_lexicon("warriner")


def test_nrclex_proxy():
    lex = nrclex_proxy()
    assert lex.name == "nrclex-proxy" and lex.version == "1"
    assert len(lex) == 6468  # the EmoLex words nrclex ships (nrc_en.json)
    assert all(0.0 <= x <= 1.0 for vad in lex.entries.values() for x in vad)
    assert lex.get("happy")[0] > 0.6 and lex.get("love")[0] > 0.6
    assert lex.get("hate")[0] < 0.4 and lex.get("terrible")[0] < 0.4
    # "love" is joy + positive in EmoLex: bias + joy + positive coefficients.
    assert lex.get("love") == pytest.approx((0.496 + 0.107 + 0.176, 0.501 + 0.066 - 0.020, 0.505 - 0.017 + 0.112))
    assert lex.recommended_vad_conf_min == PROXY_VAD_CONF_MIN == 0.25
    described = lex.describe()
    assert described["name"] == "nrclex-proxy" and described["version"] == "1"
    assert described["source"] == "nrclex:nrc_en.json" and described["entries"] == 6468
    assert len(described["sha1"]) == 40 and int(described["sha1"], 16) >= 0
    assert nrclex_proxy().sha1 == lex.sha1
    assert load_lexicon().name == "nrclex-proxy" and load_lexicon("nrclex-proxy").name == "nrclex-proxy"


# --------------------------------------------------------------------------------------------------
# Lemma fallback
# --------------------------------------------------------------------------------------------------

TINY = Lexicon("tiny", "1", "0" * 40, "tiny.csv",
               {"cry": (0.1, 0.6, 0.2), "stop": (0.3, 0.4, 0.5), "happy": (0.9, 0.7, 0.7)})


def test_lemma_fallback_with_spacy_tables():
    pipeline = load_pipeline()
    if not pipeline.has_model:
        pytest.skip("no spaCy English model installed")
    candidates = candidate_function(pipeline)
    assert candidates is not suffix_candidates
    assert "cry" in candidates("cried")
    lookup = LexiconLookup(TINY, candidates)
    assert lookup("cried") == (0.1, 0.6, 0.2)
    assert lookup("happy") == (0.9, 0.7, 0.7)
    assert lookup("zebras") is None
    assert lookup._memo == {"cried": (0.1, 0.6, 0.2), "happy": (0.9, 0.7, 0.7), "zebras": None}


def test_lemma_fallback_with_suffix_rules():
    blank = Pipeline(spacy.blank("en"), "en_blank", spacy.__version__, False)
    assert candidate_function(blank) is suffix_candidates
    assert "stop" in suffix_candidates("stopped")
    assert "stop" in suffix_candidates("stops")
    assert suffix_candidates("is") == []  # too short for any rule
    lookup = LexiconLookup(TINY, suffix_candidates)
    assert lookup("stopped") == (0.3, 0.4, 0.5)
    assert lookup("stopping") == (0.3, 0.4, 0.5)
    assert lookup("happiest") == (0.9, 0.7, 0.7)
    assert lookup("xyzzy") is None


# --------------------------------------------------------------------------------------------------
# Issue 13: values checked against the declared version's scale, NaN, duplicate words, empty files
# --------------------------------------------------------------------------------------------------

NRC_HEADER = "Word\tValence\tArousal\tDominance\n"
WARRINER_HEADER = ",Word,V.Mean.Sum,V.SD.Sum,V.Rat.Sum,A.Mean.Sum,A.SD.Sum,A.Rat.Sum,D.Mean.Sum,D.SD.Sum,D.Rat.Sum\n"


def put(path: Path, text: str) -> Path:
    path.write_bytes(text.encode("utf-8"))
    return path


@pytest.mark.parametrize("name, text, line, problem", [
    ("NRC-VAD-Lexicon.txt", NRC_HEADER + "joy\t1\t0.5\t0.5\nbad\t-0.3\t0.5\t0.5\n", 3, r"outside \[0, 1\]"),
    ("NRC-VAD-Lexicon.txt", NRC_HEADER + "joy\t1\t0.5\t1.2\n", 2, r"outside \[0, 1\]"),
    ("NRC-VAD-Lexicon-v2.1.txt", "term\tvalence\tarousal\tdominance\njoy\t1.5\t0\t0\n", 2, r"outside \[-1, 1\]"),
    ("NRC-VAD-Lexicon.txt", NRC_HEADER + "joy\tnan\t0.5\t0.5\n", 2, "not all finite"),
    ("NRC-VAD-Lexicon.txt", NRC_HEADER + "joy\t0.5\tinf\t0.5\n", 2, "not all finite"),
    ("Ratings_Warriner_et_al.csv", WARRINER_HEADER + "1,calm,0.5,1,1,3,1,1,5,1,1\n", 2, r"outside \[1, 9\]"),
    ("Ratings_Warriner_et_al.csv", WARRINER_HEADER + "1,calm,5,1,1,9.5,1,1,5,1,1\n", 2, r"outside \[1, 9\]"),
    ("Ratings_Warriner_et_al.csv", WARRINER_HEADER + "1,calm,NaN,1,1,3,1,1,5,1,1\n", 2, "not all finite"),
    ("mylex.csv", "word,v,a,d\ncalm,0.5,nan,0.5\n", 2, "not all finite"),
    ("NRC-VAD-Lexicon.txt", NRC_HEADER + "joy\t1\t0.5\t0.5\ncalm\t0.5\t0.1\t0.5\njoy\t0.9\t0.5\t0.5\n", 4,
     "word 'joy' listed twice: also at line 2"),
    ("Ratings_Warriner_et_al.csv", WARRINER_HEADER + "1,calm,5,1,1,3,1,1,5,1,1\n2,calm,6,1,1,3,1,1,5,1,1\n", 3,
     "word 'calm' listed twice: also at line 2"),
    ("mylex.csv", "word,v,a,d\ncalm,0.5,0.5,0.5\n calm ,0.4,0.5,0.5\n", 3, "word 'calm' listed twice: also at line 2"),
    ("NRC-VAD-Lexicon.txt", "joy\t1\t0.5\t0.5\n", 1, "not an NRC-VAD header"),
    # Found by the fuzz test: a Warriner header without its Word column was a bare ValueError.
    ("Ratings_Warriner_et_al.csv", ",\x00Word,V.Mean.Sum,A.Mean.Sum,D.Mean.Sum\n1,a,1,1,1\n", 1,
     "a Warriner header must name word"),
])
def test_lexicon_value_and_word_checks_name_file_and_line(tmp_path, name, text, line, problem):
    path = put(tmp_path / name, text)
    with pytest.raises(BadRowError, match=problem) as info:
        read_lexicon_file(path)
    assert info.value.path == str(path) and info.value.line == line


def test_nrc_vad_v1_negative_value_is_not_read_as_v2(tmp_path):
    # Before issue 13 a single negative value made the whole v1 file be rescaled as v2.
    path = put(tmp_path / "NRC-VAD-Lexicon.txt", NRC_HEADER + "joy\t1\t0.5\t0.5\nsad\t-0.1\t0.5\t0.5\n")
    with pytest.raises(BadRowError, match=r"line 3: VAD values \(-0.1, 0.5, 0.5\) outside \[0, 1\]"):
        read_lexicon_file(path)


def test_nrc_vad_v2_declared_by_header_or_file_name(tmp_path):
    v2 = "term\tvalence\tarousal\tdominance\njoy\t1\t-1\t0\n"
    by_header = read_lexicon_file(put(tmp_path / "lex.txt", v2))
    assert by_header.version == "2" and by_header.get("joy") == (1.0, 0.0, 0.5)
    by_name = read_lexicon_file(put(tmp_path / "NRC-VAD-Lexicon-v2.txt", NRC_HEADER + "joy\t1\t-1\t0\n"))
    assert by_name.name == "nrc-vad-v2" and by_name.get("joy") == (1.0, 0.0, 0.5)


def test_case_variants_keep_the_lower_case_spelling(tmp_path):
    lex = read_lexicon_file(put(tmp_path / "NRC-VAD-Lexicon.txt",
                                NRC_HEADER + "Pope\t0.2\t0.2\t0.2\npope\t0.6\t0.6\t0.6\nTV\t0.7\t0.7\t0.7\n"))
    assert lex.entries == {"pope": (0.6, 0.6, 0.6), "tv": (0.7, 0.7, 0.7)}


@pytest.mark.parametrize("name, text, problem", [
    ("NRC-VAD-Lexicon.txt", "", "empty lexicon file"),
    ("mylex.csv", "\n\n", "empty lexicon file"),
    ("NRC-VAD-Lexicon.txt", NRC_HEADER, "the lexicon has no entries"),
    ("Ratings_Warriner_et_al.csv", WARRINER_HEADER, "the lexicon has no entries"),
    ("mylex.csv", "word,v,a,d\n", "the lexicon has no entries"),
])
def test_empty_lexicon_is_a_clear_error(tmp_path, name, text, problem):
    path = put(tmp_path / name, text)
    with pytest.raises(EmptyInputError, match=problem) as info:
        read_lexicon_file(path)
    assert str(path) in str(info.value)
