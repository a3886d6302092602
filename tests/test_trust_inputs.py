"""Issue 13, part 1: every bad input is refused at the edge naming file and line (or, under
`--on-bad-row skip`, counted per reason), before anything is annotated.

Fixtures are tiny files in each source's original format, written as bytes so that encodings, BOMs
and control characters are exactly what a test says.
"""
from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest

from emodata.build import build
from emodata.core.errors import BadRowError, DataNotFoundError, EmodataError
from emodata.text.lexicon import read_lexicon_file
from emodata.mix import Ratio, require_mix_satisfiable, require_rows_kept
from emodata.core import registry
from emodata.sources import SAMPLE_DIR, SourceLocation, read_source, register_source
from emodata.sources.base import ReadReport, SourceData, make_frame
from emodata.sources.dailydialog import read_dailydialog
from emodata.sources.empathetic import read_empathetic
from emodata.sources.goemotions import read_goemotions
from emodata.core.validate import (DEFAULT_MAX_CHARS, EmptyInputError, InputEncodingError, check_records,
                                      read_utf8, strip_controls)

from tests.conftest import sample_config

ED_HEADER = "conv_id,utterance_idx,context,prompt,speaker_idx,utterance,selfeval,tags"
NRC_HEADER = "Word\tValence\tArousal\tDominance\n"
RAW_HEADER = ("text,id,author,subreddit,link_id,parent_id,created_utc,rater_id,example_very_unclear,"
              + ",".join((SAMPLE_DIR / "goemotions" / "emotions.txt").read_text().split()))


def put(path: Path, data: bytes | str) -> Path:
    """Write exact bytes (str is UTF-8 encoded, no newline translation)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def ed_line(conv: str, idx: int, text: str, label: str = "afraid") -> str:
    return f"{conv},{idx},{label},a prompt,{idx % 2},{text},,"


def raw_row(text: str, comment_id: str, rater: int, joy: int = 1) -> str:
    flags = ["0"] * 28
    flags[17] = str(joy)
    return f"{text},{comment_id},u,r,l,p,1.0,{rater},False," + ",".join(flags)


def dd_dir(tmp_path: Path, text: bytes | str, emotion: str = "0 4\n") -> Path:
    folder = tmp_path / "dd"
    put(folder / "dialogues_text.txt", text)
    put(folder / "dialogues_emotion.txt", emotion)
    return folder


# ------------------------------------------------------------------------------------------------
# Encoding: invalid UTF-8 names file, line and byte offset, in every reader and lexicon loader
# ------------------------------------------------------------------------------------------------

def _encoding_cases(tmp_path: Path):
    latin1 = "café".encode("latin-1")  # b"caf\xe9": invalid UTF-8
    go = put(tmp_path / "go" / "train.tsv", b"fine text\t27\tid1\n" + latin1 + b" au lait\t27\tid2\n")
    raw = put(tmp_path / "raw" / "goemotions_1.csv",
              (RAW_HEADER + "\n" + raw_row("ok", "k1", 1) + "\n").encode() + b"\x93smart quotes\x94,k2\n")
    ed = put(tmp_path / "ed" / "train.csv", (ED_HEADER + "\n" + ed_line("c1", 1, "hi") + "\n").encode()
             + ed_line("c1", 2, "na\xefve").encode("cp1252") + b"\n")
    dd = put(tmp_path / "dd" / "dialogues_text.txt", b"Hi . __eou__ Caf\xe9 ? __eou__\n")
    put(tmp_path / "dd" / "dialogues_emotion.txt", "0 4\n")
    nrc = put(tmp_path / "lex" / "NRC-VAD-Lexicon.txt", NRC_HEADER.encode() + b"caf\xe9\t0.5\t0.5\t0.5\n")
    return [
        (go, 2, len(b"fine text\t27\tid1\ncaf"), lambda: read_goemotions(go.parent)),
        (raw, 3, len(RAW_HEADER) + 1 + len(raw_row("ok", "k1", 1)) + 1, lambda: read_goemotions(raw.parent, fmt="raw")),
        (ed, 3, None, lambda: read_empathetic(ed.parent)),
        (dd, 1, len(b"Hi . __eou__ Caf"), lambda: read_dailydialog(dd.parent)),
        (nrc, 2, len(NRC_HEADER) + 3, lambda: read_lexicon_file(nrc)),
    ]


def test_invalid_utf8_names_file_line_and_byte_offset_in_every_reader(tmp_path):
    for path, line, offset, read in _encoding_cases(tmp_path):
        with pytest.raises(InputEncodingError) as info:
            read()
        message = str(info.value)
        assert message.startswith(f"{path}, line {line}, byte offset "), message
        if offset is not None:
            assert f"byte offset {offset}:" in message
        assert "invalid UTF-8" in message and isinstance(info.value, EmodataError)


def test_encoding_error_offset_is_the_bad_byte_and_hints_cp1252(tmp_path):
    path = put(tmp_path / "x.tsv", b"ab\ncd\n\x93quoted\x94\n")
    with pytest.raises(InputEncodingError, match=r"line 3, byte offset 6: invalid UTF-8 byte\(s\) b'\\x93'") as info:
        read_utf8(path)
    assert "cp1252" in str(info.value) and "\u201c" in str(info.value)
    with pytest.raises(InputEncodingError, match=r"line 1, byte offset 0: .*UTF-16 byte-order mark"):
        read_utf8(put(tmp_path / "utf16.tsv", "text\t27\tid1\n".encode("utf-16")))
    # A truncated multi-byte sequence at the end of the file is named too.
    with pytest.raises(InputEncodingError, match=r"line 1, byte offset 3:"):
        read_utf8(put(tmp_path / "y.tsv", "abc".encode() + "é".encode()[:1]))


def test_bad_emotions_txt_encoding_is_an_emodata_error(tmp_path):
    put(tmp_path / "train.tsv", "fine text\t27\tid1\n")
    put(tmp_path / "emotions.txt", b"admiration\n\xff\n")
    with pytest.raises(InputEncodingError, match=r"emotions\.txt, line 2, byte offset 11"):
        read_goemotions(tmp_path)


# ------------------------------------------------------------------------------------------------
# BOM at file start stripped; control characters stripped and counted (the documented rule)
# ------------------------------------------------------------------------------------------------

BOM = b"\xef\xbb\xbf"


def test_bom_at_file_start_is_stripped_in_every_reader(tmp_path):
    go = read_goemotions(put(tmp_path / "go" / "train.tsv", BOM + b"hello there friend\t27\tid1\n").parent)
    assert go.records["text"].tolist() == ["hello there friend"] and dict(go.report.repaired) == {}
    ed = read_empathetic(put(tmp_path / "ed" / "train.csv", BOM + f"{ED_HEADER}\n{ed_line('c', 1, 'hi')}\n".encode()).parent)
    assert ed.records["id"].tolist() == ["empatheticdialogues:c:1"]
    dd = read_dailydialog(dd_dir(tmp_path, BOM + b"Hi . __eou__ Bye . __eou__\n", "\ufeff0 4\n"))
    assert dd.records["text"].tolist() == ["Hi.", "Bye."] and dict(dd.report.repaired) == {}
    raw = put(tmp_path / "raw" / "goemotions_1.csv", BOM + (RAW_HEADER + "\n" + raw_row("yay", "k1", 1) + "\n"
                                                           + raw_row("yay", "k1", 2) + "\n").encode())
    assert read_goemotions(raw.parent, fmt="raw").records["text"].tolist() == ["yay"]
    lex = read_lexicon_file(put(tmp_path / "NRC-VAD-Lexicon.txt", BOM + (NRC_HEADER + "joy\t1\t0.5\t0.5\n").encode()))
    assert lex.entries == {"joy": (1.0, 0.5, 0.5)}


def test_strip_controls_rule():
    assert strip_controls("he\x00llo\x7f") == "hello"
    assert strip_controls("a\rb\x0cc\u2028d\x85e") == "a b c d e"
    assert strip_controls("zero\ufeffwidth \x9b") == "zerowidth "
    assert strip_controls("tab\tkept é ’ 😀") == "tab\tkept é ’ 😀"


def test_control_characters_are_stripped_and_counted_in_every_reader(tmp_path):
    go = read_goemotions(put(tmp_path / "go" / "train.tsv",
                             "NUL\x00 inside\t27\tid1\nclean row\t27\tid2\nmid\ufefffile BOM\t27\tid3\n").parent)
    assert go.records["text"].tolist() == ["NUL inside", "clean row", "midfile BOM"]
    assert dict(go.report.repaired) == {"control_characters": 2}
    bell = ed_line("c", 1, "bell\x07 here")
    ed = read_empathetic(put(tmp_path / "ed" / "train.csv", f"{ED_HEADER}\n{bell}\n{ed_line('c', 2, 'ok')}\n").parent)
    assert ed.records["text"].tolist() == ["bell here", "ok"] and dict(ed.report.repaired) == {"control_characters": 1}
    # A form feed inside a dialogue is no line end (the emotion file stays aligned).
    dd = read_dailydialog(dd_dir(tmp_path, "Hi .\x0cthere __eou__ Bye\x00 . __eou__\n"))
    assert dd.records["text"].tolist() == ["Hi. there", "Bye."] and dict(dd.report.repaired) == {"control_characters": 1}
    raw = put(tmp_path / "raw" / "goemotions_1.csv", RAW_HEADER + "\n" + raw_row("y\x00ay", "k1", 1) + "\n"
              + raw_row("y\x00ay", "k1", 2) + "\n")
    data = read_goemotions(raw.parent, fmt="raw")
    assert data.records["text"].tolist() == ["yay"] and data.report.repaired["control_characters"] == 2


def test_text_left_empty_by_the_control_rule_is_a_bad_row(tmp_path):
    path = put(tmp_path / "train.tsv", "fine\t27\tid1\n\x00\x01\t27\tid2\n")
    with pytest.raises(BadRowError, match=r"line 2: empty text or id"):
        read_goemotions(tmp_path)
    assert read_goemotions(tmp_path, on_bad_row="skip").report.skipped == Counter(empty_field=1)
    assert path.is_file()


# ------------------------------------------------------------------------------------------------
# ids unique per source across splits
# ------------------------------------------------------------------------------------------------

def test_goemotions_duplicate_id_across_splits_names_both_lines(tmp_path):
    train = put(tmp_path / "train.tsv", "first text\t27\tidA\nsecond text\t27\tidB\n")
    dev = put(tmp_path / "dev.tsv", "other text\t27\tidC\nthird text\t2\tidB\n")
    with pytest.raises(BadRowError) as info:
        read_goemotions(tmp_path)
    assert info.value.path == str(dev) and info.value.line == 2
    assert f"duplicate id 'idB': already read at {train}, line 2" in str(info.value)
    skipped = read_goemotions(tmp_path, on_bad_row="skip")
    assert skipped.records["id"].tolist() == ["goemotions:idA", "goemotions:idB", "goemotions:idC"]
    assert skipped.report.skipped == Counter(duplicate_id=1)


def test_empathetic_duplicate_id_within_and_across_files(tmp_path):
    train = put(tmp_path / "train.csv", f"{ED_HEADER}\n{ed_line('c', 1, 'hi')}\n{ed_line('c', 2, 'yo')}\n")
    put(tmp_path / "valid.csv", f"{ED_HEADER}\n{ed_line('d', 1, 'x')}\n{ed_line('c', 2, 'again')}\n")
    with pytest.raises(BadRowError, match=rf"valid\.csv, line 3: duplicate id 'c:2': already read at {train}, line 3"):
        read_empathetic(tmp_path)
    put(train, f"{ED_HEADER}\n{ed_line('c', 1, 'hi')}\n{ed_line('c', 1, 'twice')}\n")
    put(tmp_path / "valid.csv", f"{ED_HEADER}\n{ed_line('d', 1, 'x')}\n")
    with pytest.raises(BadRowError, match=r"train\.csv, line 3: duplicate id 'c:1': already read at .*line 2"):
        read_empathetic(tmp_path)
    # "01" and "1" are the same turn (the record id uses the integer).
    put(train, f"{ED_HEADER}\n{ed_line('c', 1, 'hi')}\nc,01,afraid,p,1,zero-padded,,\n")
    assert read_empathetic(tmp_path, on_bad_row="skip").report.skipped == Counter(duplicate_id=1)


def test_goemotions_raw_conflicting_text_for_one_id(tmp_path):
    put(tmp_path / "goemotions_1.csv", "\n".join([RAW_HEADER, raw_row("one text", "k1", 1),
                                                  raw_row("another text", "k1", 2)]) + "\n")
    with pytest.raises(BadRowError, match=r"line 3: text 'another text' of 'k1' differs from 'one text' at .*line 2"):
        read_goemotions(tmp_path, fmt="raw")
    assert read_goemotions(tmp_path, fmt="raw", on_bad_row="skip").report.skipped == Counter(
        conflicting_text=1, no_rater_agreement=1)


def test_empathetic_conversation_with_two_labels_names_both_lines(tmp_path):
    train = put(tmp_path / "train.csv", f"{ED_HEADER}\n{ed_line('c', 1, 'hi')}\n{ed_line('c', 2, 'yo', 'joyful')}\n")
    with pytest.raises(BadRowError, match=rf"line 3: label 'joyful' of 'c' differs from 'afraid' at {train}, line 2"):
        read_empathetic(tmp_path)
    data = read_empathetic(tmp_path, on_bad_row="skip")
    assert data.records["text"].tolist() == ["hi"] and data.report.skipped == Counter(conflicting_label=1)


# ------------------------------------------------------------------------------------------------
# Empty split files are refused
# ------------------------------------------------------------------------------------------------

def test_empty_split_files_are_refused(tmp_path):
    put(tmp_path / "go" / "dev.tsv", "dev text\t27\tid1\n")
    put(tmp_path / "go" / "train.tsv", b"")
    with pytest.raises(EmptyInputError, match=r"train\.tsv: no data rows; an empty split file is refused"):
        read_goemotions(tmp_path / "go")
    put(tmp_path / "ed" / "train.csv", ED_HEADER + "\n")
    with pytest.raises(EmptyInputError, match=r"ed/train\.csv: no data rows"):
        read_empathetic(tmp_path / "ed")
    put(tmp_path / "ed" / "train.csv", b"")
    with pytest.raises(EmptyInputError, match=r"ed/train\.csv: no data rows"):
        read_empathetic(tmp_path / "ed")
    with pytest.raises(EmptyInputError, match=r"dialogues_text\.txt: no data rows"):
        read_dailydialog(dd_dir(tmp_path, b"", ""))
    put(tmp_path / "raw" / "goemotions_1.csv", RAW_HEADER + "\n")
    with pytest.raises(EmptyInputError, match=r"goemotions_1\.csv: no data rows"):
        read_goemotions(tmp_path / "raw", fmt="raw")


def test_a_split_whose_every_row_is_skipped_is_refused(tmp_path):
    put(tmp_path / "train.tsv", "bad row\nalso bad\n")
    put(tmp_path / "dev.tsv", "dev text\t27\tid1\n")
    with pytest.raises(EmptyInputError, match=r"train\.tsv: none of its 2 data rows is usable \(2 skipped"):
        read_goemotions(tmp_path, on_bad_row="skip")


def test_an_empty_train_split_stops_the_build(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(SAMPLE_DIR / "goemotions", data / "goemotions")
    put(data / "goemotions" / "train.tsv", b"")
    with pytest.raises(EmptyInputError, match=r"goemotions/train\.tsv: no data rows"):
        build(sample_config(tmp_path / "out", sample=False, data_dir=str(data), mix=["100:0"], probe=False))
    assert not (tmp_path / "out" / "mix_100_0").exists()


# ------------------------------------------------------------------------------------------------
# Length cap in characters, before tokenizing
# ------------------------------------------------------------------------------------------------

def test_overlong_utterance_is_a_bad_row_in_every_reader(tmp_path):
    long = "word " * 500  # 2,500 characters
    go = put(tmp_path / "go" / "train.tsv", f"short one\t27\tid1\n{long}\t27\tid2\n")
    ed = put(tmp_path / "ed" / "train.csv", f"{ED_HEADER}\n{ed_line('c', 1, 'hi')}\n{ed_line('c', 2, long)}\n")
    dd = dd_dir(tmp_path, f"Hi . __eou__ {long} __eou__\nBye . __eou__\n", "0 4\n0\n")
    raw = put(tmp_path / "raw" / "goemotions_1.csv", "\n".join([RAW_HEADER, raw_row("ok", "k1", 1), raw_row(long, "k2", 1)]) + "\n")
    cases = [(go, 2, lambda **kw: read_goemotions(go.parent, **kw)),
             (ed, 3, lambda **kw: read_empathetic(ed.parent, **kw)),
             (dd / "dialogues_text.txt", 1, lambda **kw: read_dailydialog(dd, **kw)),
             (raw, 3, lambda **kw: read_goemotions(raw.parent, fmt="raw", **kw))]
    for path, line, read in cases:
        with pytest.raises(BadRowError) as info:
            read()
        assert info.value.path == str(path) and info.value.line == line
        assert "characters long, over the limit of 2,000 (--max-chars)" in str(info.value)
        assert read(on_bad_row="skip").report.skipped["too_many_chars"] == 1
        assert read(max_chars=3000).report.skipped["too_many_chars"] == 0
    assert DEFAULT_MAX_CHARS == 2000


def test_ten_megabyte_utterance_never_reaches_the_tokenizer(tmp_path):
    put(tmp_path / "train.tsv", "a fine row\t27\tid1\n" + "x" * 10_000_000 + "\t27\tid2\n")
    data = read_goemotions(tmp_path, on_bad_row="skip")
    assert data.records["id"].tolist() == ["goemotions:id1"] and data.report.skipped == Counter(too_many_chars=1)
    assert data.records["text"].str.len().max() <= DEFAULT_MAX_CHARS


def test_max_chars_must_be_positive(tmp_path):
    put(tmp_path / "train.tsv", "fine\t27\tid1\n")
    with pytest.raises(EmodataError, match="--max-chars must be a positive integer"):
        read_goemotions(tmp_path, max_chars=0)


def test_registered_reader_without_max_chars_is_capped_on_its_records(tmp_path):
    rows = [{"id": f"mine:{i}", "source": "mine", "source_split": "train", "text": text, "context": [],
             "labels": ["joy"], "source_labels": ["joy"], "example_unclear": False}
            for i, text in enumerate(["short", "y" * 50])]

    def reader(directory, on_bad_row="error"):
        return SourceData("mine", f"local:{directory}", make_frame(rows), ReadReport(rows_read=2))

    register_source("mine", reader)
    try:
        location = SourceLocation("mine", "local", str(tmp_path))
        with pytest.raises(EmodataError, match=r"row 'mine:1': utterance is 50 characters long, over the limit of 10"):
            read_source(location, max_chars=10)
        data = read_source(location, on_bad_row="skip", max_chars=10)
        assert data.records["id"].tolist() == ["mine:0"] and data.report.skipped == Counter(too_many_chars=1)
        with pytest.raises(EmodataError, match=r"local:.*: duplicate id 'mine:0'"):
            check_records(SourceData("mine", f"local:{tmp_path}", make_frame(rows + rows), ReadReport()), 100, "skip")
    finally:
        registry.unregister(registry.sources, "mine")


# ------------------------------------------------------------------------------------------------
# EmpatheticDialogues: the comma repair never drops text
# ------------------------------------------------------------------------------------------------

def test_empathetic_raw_double_comma_never_drops_text(tmp_path):
    path = put(tmp_path / "train.csv", f"{ED_HEADER}\n{ed_line('c', 1, 'hi')}\nc,2,afraid,p,0,I was,,really sad,,\n")
    with pytest.raises(BadRowError) as info:
        read_empathetic(tmp_path)
    assert info.value.path == str(path) and info.value.line == 3
    skipped = read_empathetic(tmp_path, on_bad_row="skip")
    assert skipped.report.skipped == Counter(wrong_field_count=1) and dict(skipped.report.repaired) == {}
    # Anchored on a real selfeval, the same utterance is re-joined whole.
    put(path, f"{ED_HEADER}\n{ed_line('c', 1, 'hi')}\nc,2,afraid,p,0,I was,,really sad,5|5|5_2|2|5,\n")
    data = read_empathetic(tmp_path)
    assert data.records["text"].tolist() == ["hi", "I was,,really sad"]
    assert dict(data.report.repaired) == {"unescaped_comma_in_utterance": 1}


# ------------------------------------------------------------------------------------------------
# Filters and mixes: which filter or source, by how many rows
# ------------------------------------------------------------------------------------------------

def test_require_rows_kept_names_each_filter_and_its_count():
    require_rows_kept("goemotions", 10, 1, Counter(too_short=9))
    with pytest.raises(EmodataError) as info:
        require_rows_kept("goemotions", 12, 0, Counter(too_short=9, low_vad_conf=2, duplicate_text=1))
    assert str(info.value) == ("every row of goemotions was filtered out: 12 rows annotated, dropped by filter: "
                               "too_short 9 (--min-tokens), low_vad_conf 2 (--vad-conf-min), duplicate_text 1")


def test_require_mix_satisfiable_names_the_source_and_pool_sizes():
    ratio = Ratio.parse("20:80")
    require_mix_satisfiable(ratio, {"a": 2, "b": 8}, {"a": 5, "b": 8}, {})
    with pytest.raises(EmodataError, match=r"mix 20:80 cannot be satisfied: b has no train/validation rows left "
                                           r"to draw \(rows available: a 5, b 0\); b: 7 in test"):
        require_mix_satisfiable(ratio, {"a": 0, "b": 0}, {"a": 5, "b": 0}, {"a": "fine", "b": "7 in test"})
    with pytest.raises(EmodataError, match=r"mix 1:999 cannot be satisfied: it would draw 0 rows of a .*too small"):
        require_mix_satisfiable(Ratio.parse("1:999"), {"a": 0, "b": 100}, {"a": 5, "b": 100}, {})


def test_build_every_row_filtered_names_source_and_filters(tmp_path):
    with pytest.raises(EmodataError, match=r"every row of \w+ was filtered out: \d+ rows annotated, dropped by "
                                           r"filter: too_short \d+ \(--min-tokens\)"):
        build(sample_config(tmp_path / "out", min_tokens=500, max_tokens=1000))


def test_build_mix_that_cannot_be_satisfied_names_the_source(tmp_path):
    only_test = tmp_path / "ed"
    only_test.mkdir()
    shutil.copy(SAMPLE_DIR / "empatheticdialogues" / "test.csv", only_test / "test.csv")
    with pytest.raises(EmodataError, match=r"mix 20:80 cannot be satisfied: empatheticdialogues has no "
                                           r"train/validation rows left to draw .*of them in its test split"):
        build(sample_config(tmp_path / "out", source=[f"empatheticdialogues={only_test}"], probe=False))


# ------------------------------------------------------------------------------------------------
# --on-bad-row skip counts every skipped row per reason, into the manifest
# ------------------------------------------------------------------------------------------------

def test_skip_counts_every_reason_in_the_manifest(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(SAMPLE_DIR / "goemotions", data / "goemotions")
    train = data / "goemotions" / "train.tsv"
    first_id = train.read_text(encoding="utf-8").split("\n")[0].split("\t")[2]
    bad = ["only two\t27", "label\t99\tbadlab", "\t27\temptytext", "x" * 10_000_000 + "\t27\thuge",
           f"a duplicate id row\t27\t{first_id}", "ctrl\x00 text that is kept\t27\tctrl1"]
    with open(train, "a", encoding="utf-8") as handle:
        handle.write("\n".join(bad) + "\n")
    (result,) = build(sample_config(tmp_path / "out", sample=False, data_dir=str(data), mix=["100:0"],
                                    probe=False, on_bad_row="skip", flip_frac=0.0))
    manifest = json.loads(result.manifest_path.read_text(encoding="utf-8"))
    source = manifest["sources"]["goemotions"]
    assert source["reader_skipped"] == {"bad_label_ids": 1, "duplicate_id": 1, "empty_field": 1,
                                        "too_many_chars": 1, "wrong_field_count": 1}
    assert source["reader_repaired"] == {"control_characters": 1}
    assert manifest["config"]["max_chars"] == 2000
    assert source["rows_read"] == (len((SAMPLE_DIR / "goemotions" / "train.tsv").read_text().splitlines())
                        + len(bad) + sum(len((SAMPLE_DIR / "goemotions" / f).read_text().splitlines())
                                         for f in ("dev.tsv", "test.tsv")))


def test_data_not_found_stays_a_data_not_found_error(tmp_path):
    with pytest.raises(DataNotFoundError):
        read_goemotions(tmp_path)
