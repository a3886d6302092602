"""Source readers on tiny files written in each source's original format.

Every fixture is built inside `tmp_path` from string literals so the expected values can be checked
by eye: row counts, ids, label lists, and error messages naming file and line.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import datasets
import pytest

from emodata.core.errors import BadRowError, DataNotFoundError
from emodata.sources import (READER_COLUMNS, SAMPLE_DIR, SourceLocation, locate, read_source)
from emodata.sources.base import CONTEXT_TURNS
from emodata.sources.dailydialog import (dailydialog_from_hub, detokenize, read_dailydialog,
                                         split_dialogue)
from emodata.sources.empathetic import empathetic_from_hub, read_empathetic, split_line, unescape
from emodata.sources.goemotions import goemotions_from_hub, read_goemotions
from emodata.core.validate import EmptyInputError

# GoEmotions' emotions.txt, one name per line in id order (0 admiration .. 27 neutral).
EMOTIONS_TXT = "\n".join([
    "admiration", "amusement", "anger", "annoyance", "approval", "caring", "confusion", "curiosity",
    "desire", "disappointment", "disapproval", "disgust", "embarrassment", "excitement", "fear",
    "gratitude", "grief", "joy", "love", "nervousness", "optimism", "pride", "realization", "relief",
    "remorse", "sadness", "surprise", "neutral",
])
GO_NAMES = EMOTIONS_TXT.split("\n")


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8", newline="")
    return path


def records(data) -> list[dict]:
    return data.records.to_dict("records")


def by_id(data) -> dict[str, dict]:
    return {r["id"]: r for r in records(data)}


def sha1(path: Path) -> str:
    return hashlib.sha1(path.read_bytes()).hexdigest()


# --------------------------------------------------------------------------------------------------
# GoEmotions, simplified TSV
# --------------------------------------------------------------------------------------------------

GO_TRAIN = (
    "My favourite food is anything I didn't have to cook myself.\t27\teebbqej\n"
    "WHY THE FUCK IS BAYLESS ISOING\t2\teezlygj\n"
    "Thank you, I love it so much [NAME]!\t18,15\ted0aaaa\n"
)
GO_DEV = (
    "Is this in New Orleans?? I really feel like this is New Orleans.\t27\tedgurhb\n"
    "Wow, that is both scary and awesome\t26,14,0,14\teeabc12\n"
)
GO_TEST = "I'm really sorry about your situation :(\t25,24\teecwqtt\n"


@pytest.fixture
def go_dir(tmp_path):
    d = tmp_path / "goemotions"
    write(d / "train.tsv", GO_TRAIN)
    write(d / "dev.tsv", GO_DEV)
    write(d / "test.tsv", GO_TEST)
    write(d / "emotions.txt", EMOTIONS_TXT)
    return d


def test_goemotions_simplified_counts_ids_and_labels(go_dir):
    data = read_goemotions(go_dir)
    assert data.name == "goemotions"
    assert data.origin == f"local:{go_dir}:simplified"
    assert list(data.records.columns) == list(READER_COLUMNS)
    assert data.records["source_split"].value_counts().to_dict() == {"train": 3, "validation": 2, "test": 1}
    assert data.records["id"].tolist() == [
        "goemotions:eebbqej", "goemotions:eezlygj", "goemotions:ed0aaaa",
        "goemotions:edgurhb", "goemotions:eeabc12", "goemotions:eecwqtt",
    ]
    rows = by_id(data)
    assert rows["goemotions:eebbqej"]["source_labels"] == ["neutral"]
    assert rows["goemotions:eebbqej"]["labels"] == ["neutral"]
    assert rows["goemotions:eezlygj"]["source_labels"] == ["anger"]
    # "18,15" = love, gratitude: both lists come out in GoEmotions/unified id order.
    assert rows["goemotions:ed0aaaa"]["source_labels"] == ["gratitude", "love"]
    assert rows["goemotions:ed0aaaa"]["labels"] == ["gratitude", "love"]
    assert rows["goemotions:ed0aaaa"]["text"] == "Thank you, I love it so much [NAME]!"
    # "26,14,0,14" = surprise, fear, admiration, fear (duplicate) -> de-duplicated, sorted.
    assert rows["goemotions:eeabc12"]["source_labels"] == ["admiration", "fear", "surprise"]
    assert rows["goemotions:eeabc12"]["labels"] == ["admiration", "fear", "surprise"]
    assert rows["goemotions:eecwqtt"]["labels"] == ["remorse", "sadness"]
    for r in rows.values():
        assert r["source"] == "goemotions"
        assert r["context"] == [] and r["speaker"] is None and r["conv_id"] is None
        assert r["situation"] is None and r["example_unclear"] is False
    assert data.report.rows_read == 6
    assert dict(data.report.skipped) == {} and dict(data.report.repaired) == {}
    assert data.report.files == [
        {"path": str(go_dir / "train.tsv"), "sha1": sha1(go_dir / "train.tsv"), "rows": 3},
        {"path": str(go_dir / "dev.tsv"), "sha1": sha1(go_dir / "dev.tsv"), "rows": 2},
        {"path": str(go_dir / "test.tsv"), "sha1": sha1(go_dir / "test.tsv"), "rows": 1},
    ]


def test_goemotions_simplified_missing_split_files_are_optional(tmp_path):
    write(tmp_path / "dev.tsv", GO_DEV)
    data = read_goemotions(tmp_path)
    assert data.records["source_split"].tolist() == ["validation", "validation"]


def test_goemotions_crlf_line_endings(tmp_path):
    write(tmp_path / "train.tsv", GO_TRAIN.replace("\n", "\r\n"))
    data = read_goemotions(tmp_path)
    assert data.records["id"].tolist() == ["goemotions:eebbqej", "goemotions:eezlygj", "goemotions:ed0aaaa"]
    assert data.records["text"].iloc[1] == "WHY THE FUCK IS BAYLESS ISOING"


@pytest.mark.parametrize("bad_line", [
    "only two fields\t27",
    "four\tfields\t27\tid9",
])
def test_goemotions_wrong_field_count_raises_with_file_and_line(tmp_path, bad_line):
    path = write(tmp_path / "train.tsv", GO_TRAIN + bad_line + "\n")
    with pytest.raises(BadRowError) as info:
        read_goemotions(tmp_path)
    assert info.value.path == str(path) and info.value.line == 4
    assert f"{path}, line 4: expected 3 tab-separated fields" in str(info.value)
    assert "--on-bad-row skip" in str(info.value)


@pytest.mark.parametrize("ids", ["28", "x", "", "3,x", "-1"])
def test_goemotions_bad_label_ids_raise(tmp_path, ids):
    path = write(tmp_path / "dev.tsv", f"some text\t{ids}\tidbad\n" + GO_DEV)
    with pytest.raises(BadRowError) as info:
        read_goemotions(tmp_path)
    assert info.value.line == 1
    assert str(info.value).startswith(f"{path}, line 1: label ids {ids!r} are not comma-separated "
                                      "integers in 0..27")


def test_goemotions_skip_counts_bad_rows_by_reason(tmp_path):
    write(tmp_path / "train.tsv",
          "ok one\t1\tid1\n"          # line 1: kept
          "two fields\t27\n"          # line 2: wrong_field_count
          "bad id\t28\tid3\n"         # line 3: bad_label_ids
          "bad id\tx\tid4\n"          # line 4: bad_label_ids
          "   \t27\tid5\n"            # line 5: empty_field (blank text)
          "ok two\t27,1\tid6\n")      # line 6: kept
    with pytest.raises(BadRowError, match=r"train\.tsv, line 2: "):
        read_goemotions(tmp_path)
    data = read_goemotions(tmp_path, on_bad_row="skip")
    assert data.records["id"].tolist() == ["goemotions:id1", "goemotions:id6"]
    assert data.records["labels"].tolist() == [["amusement"], ["amusement", "neutral"]]
    assert dict(data.report.skipped) == {"wrong_field_count": 1, "bad_label_ids": 2, "empty_field": 1}
    assert data.report.rows_read == 6
    assert data.report.files[0]["rows"] == 2
    assert data.report.to_dict()["skipped"] == {"bad_label_ids": 2, "empty_field": 1, "wrong_field_count": 1}


def test_goemotions_bad_row_policy_must_be_known(go_dir):
    with pytest.raises(ValueError, match="on_bad_row must be 'error' or 'skip'"):
        read_goemotions(go_dir, on_bad_row="ignore")


def test_goemotions_wrong_emotions_txt_raises(go_dir):
    swapped = GO_NAMES[:]
    swapped[0], swapped[1] = swapped[1], swapped[0]
    write(go_dir / "emotions.txt", "\n".join(swapped) + "\n")
    with pytest.raises(DataNotFoundError, match=r"emotions\.txt: label names differ .* \(found 28 names\)"):
        read_goemotions(go_dir)
    write(go_dir / "emotions.txt", "\n".join(GO_NAMES[:-1]))
    with pytest.raises(DataNotFoundError, match=r"found 27 names"):
        read_goemotions(go_dir)


def test_goemotions_emotions_txt_with_trailing_newline_is_fine(go_dir):
    write(go_dir / "emotions.txt", EMOTIONS_TXT + "\n")
    assert len(read_goemotions(go_dir).records) == 6


def test_goemotions_no_files_and_bad_format(tmp_path):
    with pytest.raises(DataNotFoundError, match="no GoEmotions files in"):
        read_goemotions(tmp_path)
    with pytest.raises(DataNotFoundError, match="no GoEmotions simplified TSV"):
        read_goemotions(tmp_path, fmt="simplified")
    with pytest.raises(DataNotFoundError, match="no GoEmotions files in"):
        read_goemotions(tmp_path, fmt="raw")
    with pytest.raises(ValueError, match="unknown GoEmotions format 'tsv'"):
        read_goemotions(tmp_path, fmt="tsv")


# --------------------------------------------------------------------------------------------------
# GoEmotions, raw per-rater CSV
# --------------------------------------------------------------------------------------------------

RAW_HEADER = ("text,id,author,subreddit,link_id,parent_id,created_utc,rater_id,example_very_unclear,"
              + ",".join(GO_NAMES))


def flags(*names: str) -> str:
    """The 28 label columns of one rater row, 1 for each of `names`."""
    unknown = set(names) - set(GO_NAMES)
    assert not unknown, unknown
    return ",".join("1" if n in names else "0" for n in GO_NAMES)


def raw_row(text: str, cid: str, rater: int, *labels: str, unclear: bool = False) -> str:
    return f"{text},{cid},someone,AskReddit,t3_aaaaaa,t1_bbbbbb,1547222538.0,{rater},{unclear},{flags(*labels)}"


@pytest.fixture
def raw_dir(tmp_path):
    d = tmp_path / "goemotions"
    write(d / "goemotions_1.csv", "\n".join([
        RAW_HEADER,
        # c1: quoted text with a comma and escaped quotes; admiration 2 votes, joy 2, love 1.
        raw_row('"Ooh, good point! ""Really"" good."', "c1", 1, "admiration", "joy"),
        raw_row('"Ooh, good point! ""Really"" good."', "c1", 2, "admiration"),
        raw_row('"Ooh, good point! ""Really"" good."', "c1", 3, "joy", "love"),
        # c2: two raters who disagree -> no label reaches 2 -> dropped.
        raw_row("Well that escalated", "c2", 4, "anger"),
        raw_row("Well that escalated", "c2", 5, "sadness"),
        # c3: one rater marks it very unclear (no labels), two say neutral.
        raw_row("meh", "c3", 6, unclear=True),
        raw_row("meh", "c3", 7, "neutral"),
        raw_row("meh", "c3", 8, "neutral"),
        # c4: first rater here, second rater in goemotions_2.csv.
        raw_row("Thanks, mate", "c4", 9, "gratitude").replace("Thanks, mate", '"Thanks, mate"'),
    ]) + "\n")
    write(d / "goemotions_2.csv", "\n".join([
        RAW_HEADER,
        raw_row('"Thanks, mate"', "c4", 10, "gratitude", "caring"),
    ]) + "\n")
    return d


def test_goemotions_raw_aggregates_rater_votes(raw_dir):
    data = read_goemotions(raw_dir, fmt="raw")
    assert data.origin == f"local:{raw_dir}:raw"
    assert data.records["id"].tolist() == ["goemotions:c1", "goemotions:c3", "goemotions:c4"]
    rows = by_id(data)
    c1 = rows["goemotions:c1"]
    assert c1["text"] == 'Ooh, good point! "Really" good.'
    assert c1["source_labels"] == ["admiration", "joy"] and c1["labels"] == ["admiration", "joy"]
    assert c1["example_unclear"] is False and c1["source_split"] == "train"
    c3 = rows["goemotions:c3"]
    assert c3["labels"] == ["neutral"] and c3["example_unclear"] is True
    c4 = rows["goemotions:c4"]  # votes summed across the two files; caring had only one rater
    assert c4["text"] == "Thanks, mate" and c4["labels"] == ["gratitude"] and c4["example_unclear"] is False
    assert data.report.rows_read == 10
    assert dict(data.report.skipped) == {"no_rater_agreement": 1}
    assert [f["rows"] for f in data.report.files] == [9, 1]
    assert [Path(f["path"]).name for f in data.report.files] == ["goemotions_1.csv", "goemotions_2.csv"]


def test_goemotions_raw_auto_and_min_agreement(raw_dir):
    auto = read_goemotions(raw_dir)  # no TSV files: auto reads the raw CSVs
    assert auto.records["id"].tolist() == ["goemotions:c1", "goemotions:c3", "goemotions:c4"]
    one = by_id(read_goemotions(raw_dir, fmt="raw", min_agreement=1))
    assert one["goemotions:c2"]["labels"] == ["anger", "sadness"]
    assert one["goemotions:c1"]["labels"] == ["admiration", "joy", "love"]
    assert one["goemotions:c4"]["labels"] == ["caring", "gratitude"]


def test_goemotions_auto_prefers_simplified(raw_dir):
    write(raw_dir / "train.tsv", "hello there\t27\tzz1\n")
    assert read_goemotions(raw_dir).records["id"].tolist() == ["goemotions:zz1"]
    assert read_goemotions(raw_dir, fmt="raw").records["id"].tolist() == [
        "goemotions:c1", "goemotions:c3", "goemotions:c4"]


def test_goemotions_raw_bad_header_and_bad_rows(tmp_path):
    path = write(tmp_path / "goemotions_1.csv", "text,id,author\nx,y,z\n")
    with pytest.raises(DataNotFoundError, match=r"goemotions_1\.csv, line 1: not a GoEmotions raw CSV header"):
        read_goemotions(tmp_path, fmt="raw")
    write(path, "\n".join([
        RAW_HEADER,
        raw_row("fine", "k1", 1, "joy"),
        raw_row("fine", "k1", 2, "joy"),
        raw_row("too short", "k2", 1, "joy").rsplit(",", 1)[0],   # line 4: 36 fields
        raw_row("bad flag", "k3", 1, "joy").replace("False,", "maybe,", 1),  # line 5
        raw_row("bad flag", "k4", 1, "joy")[:-1] + "2",          # line 6: neutral column = 2
    ]) + "\n")
    with pytest.raises(BadRowError) as info:
        read_goemotions(tmp_path, fmt="raw")
    assert str(info.value).startswith(f"{path}, line 4: expected 37 fields, found 36")
    data = read_goemotions(tmp_path, fmt="raw", on_bad_row="skip")
    assert data.records["id"].tolist() == ["goemotions:k1"]
    assert dict(data.report.skipped) == {"wrong_field_count": 1, "bad_flag": 2}
    assert data.report.rows_read == 5


def test_goemotions_raw_bad_flag_message_names_line(tmp_path):
    path = write(tmp_path / "goemotions_1.csv", "\n".join([
        RAW_HEADER, raw_row("a", "k1", 1, "joy"), raw_row("b", "k2", 1).replace("False,", "yes,", 1),
    ]) + "\n")
    with pytest.raises(BadRowError, match=r"line 3: label columns must be 0/1") as info:
        read_goemotions(tmp_path, fmt="raw")
    assert info.value.path == str(path) and info.value.line == 3


# --------------------------------------------------------------------------------------------------
# EmpatheticDialogues
# --------------------------------------------------------------------------------------------------

ED_HEADER = "conv_id,utterance_idx,context,prompt,speaker_idx,utterance,selfeval,tags"
P1 = "I remember going to the fireworks with my best friend_comma_ it was magic."
P2 = "I heard a noise downstairs last night"
P3 = "I found my old school yearbook"
ED_TRAIN = f"""{ED_HEADER}
hit:0_conv:1,1,sentimental,{P1},1,I remember going to see the fireworks_comma_ you know?,5|5|5_2|2|5,
hit:0_conv:1,2,sentimental,{P1},0,Was this a friend you were in love with_comma_ or just a best friend?,5|5|5_2|2|5,
hit:0_conv:1,3,sentimental,{P1},1,This was a best friend. I miss her.,5|5|5_2|2|5,
hit:0_conv:1,4,sentimental,{P1},0,Where has she gone?,5|5|5_2|2|5,
hit:0_conv:1,5,sentimental,{P1},1,We no longer talk.,5|5|5_2|2|5,
hit:0_conv:1,6,sentimental,{P1},0,Oh was this something that happened because of an argument?,5|5|5_2|2|5,
hit:1_conv:2,2,afraid,{P2},0,Oh no! Did you check it out?,,
hit:1_conv:2,1,afraid,{P2},1,I heard a noise downstairs and I was so scared.,,
hit:2_conv:3,1,nostalgic,{P3},1,Looking through my yearbook brought back so many memories.,,
"""
ED_VALID = f"""{ED_HEADER}
hit:9_conv:18,1,terrified,My car skidded on ice_comma_ I nearly crashed,1,My car skidded on ice today.,,
hit:9_conv:18,2,terrified,My car skidded on ice_comma_ I nearly crashed,0,That sounds terrifying_comma_ are you ok?,,
"""


@pytest.fixture
def ed_dir(tmp_path):
    d = tmp_path / "empatheticdialogues"
    write(d / "train.csv", ED_TRAIN)
    write(d / "valid.csv", ED_VALID)
    return d


def test_unescape():
    assert unescape("hello_comma_ world ") == "hello, world"
    assert unescape("a_comma_b_comma_c") == "a,b,c"


def test_empathetic_records(ed_dir):
    data = read_empathetic(ed_dir)
    assert data.name == "empatheticdialogues" and data.origin == f"local:{ed_dir}"
    assert list(data.records.columns) == list(READER_COLUMNS)
    assert data.records["id"].tolist() == [
        *(f"empatheticdialogues:hit:0_conv:1:{t}" for t in range(1, 7)),
        "empatheticdialogues:hit:1_conv:2:1", "empatheticdialogues:hit:1_conv:2:2",
        "empatheticdialogues:hit:2_conv:3:1",
        "empatheticdialogues:hit:9_conv:18:1", "empatheticdialogues:hit:9_conv:18:2",
    ]
    assert data.records["source_split"].tolist() == ["train"] * 9 + ["validation"] * 2
    rows = by_id(data)
    first = rows["empatheticdialogues:hit:0_conv:1:1"]
    assert first["text"] == "I remember going to see the fireworks, you know?"
    assert first["situation"] == "I remember going to the fireworks with my best friend, it was magic."
    assert first["source_labels"] == ["sentimental"] and first["labels"] == ["other"]
    assert first["conv_id"] == "hit:0_conv:1" and first["turn"] == 1 and first["speaker"] == "1"
    assert first["context"] == [] and first["example_unclear"] is False
    second = rows["empatheticdialogues:hit:0_conv:1:2"]
    assert second["speaker"] == "0" and second["turn"] == 2
    assert second["text"] == "Was this a friend you were in love with, or just a best friend?"
    assert second["context"] == ["I remember going to see the fireworks, you know?"]
    # Turn 6 keeps only the previous CONTEXT_TURNS (4) utterances: turns 2..5.
    assert CONTEXT_TURNS == 4
    assert rows["empatheticdialogues:hit:0_conv:1:6"]["context"] == [
        "Was this a friend you were in love with, or just a best friend?",
        "This was a best friend. I miss her.", "Where has she gone?", "We no longer talk."]
    assert len(rows["empatheticdialogues:hit:0_conv:1:5"]["context"]) == 4
    # conv 2 is written out of order in the file: turns follow utterance_idx.
    afraid1, afraid2 = rows["empatheticdialogues:hit:1_conv:2:1"], rows["empatheticdialogues:hit:1_conv:2:2"]
    assert afraid1["text"] == "I heard a noise downstairs and I was so scared."
    assert afraid2["text"] == "Oh no! Did you check it out?"
    assert afraid2["context"] == [afraid1["text"]]
    assert afraid1["source_labels"] == ["afraid"] and afraid1["labels"] == ["fear"]
    assert rows["empatheticdialogues:hit:2_conv:3:1"]["labels"] == ["other"]
    assert rows["empatheticdialogues:hit:2_conv:3:1"]["source_labels"] == ["nostalgic"]
    valid2 = rows["empatheticdialogues:hit:9_conv:18:2"]
    assert valid2["labels"] == ["fear"] and valid2["source_labels"] == ["terrified"]
    assert valid2["situation"] == "My car skidded on ice, I nearly crashed"
    assert valid2["text"] == "That sounds terrifying, are you ok?"
    assert data.report.rows_read == 11
    assert dict(data.report.skipped) == {} and dict(data.report.repaired) == {}
    assert [(Path(f["path"]).name, f["rows"]) for f in data.report.files] == [("train.csv", 9), ("valid.csv", 2)]


def test_empathetic_test_split_and_label_maps(tmp_path):
    write(tmp_path / "test.csv", f"""{ED_HEADER}
hit:5_conv:10,1,anxious,p,1,I have an exam tomorrow.,,
hit:5_conv:11,1,devastated,p,1,My dog died.,,
hit:5_conv:12,1,jealous,p,1,He got the job I wanted.,,
""")
    data = read_empathetic(tmp_path)
    assert data.records["source_split"].tolist() == ["test"] * 3
    assert data.records["labels"].tolist() == [["nervousness"], ["grief"], ["other"]]


def test_empathetic_header_check(tmp_path):
    path = write(tmp_path / "train.csv", "conv_id,utterance_idx,context,prompt,speaker_idx,utterance\n")
    with pytest.raises(DataNotFoundError, match="line 1: not an EmpatheticDialogues header") as info:
        read_empathetic(tmp_path)
    assert str(path) in str(info.value)


def test_empathetic_no_files(tmp_path):
    with pytest.raises(DataNotFoundError, match="no EmpatheticDialogues files in .*train.csv, valid.csv, test.csv"):
        read_empathetic(tmp_path)


def test_split_line_plain_and_repairs():
    plain = "hit:0_conv:1,1,afraid,prompt,1,Hello there,5|5|5_2|2|5,"
    assert split_line(plain) == (["hit:0_conv:1", "1", "afraid", "prompt", "1", "Hello there",
                                  "5|5|5_2|2|5", ""], None)
    # 9 fields, valid selfeval in field 7: the ninth field (inline candidates) is a trailing extra.
    assert split_line("c,2,afraid,p,0,Hi,3|3|3_1|1|1,tag,cand1|cand2") == (
        ["c", "2", "afraid", "p", "0", "Hi", "3|3|3_1|1|1", "tag"], "extra_trailing_fields")
    # An empty selfeval anchors nothing: text after it could be utterance or tags, so the row is refused
    # (issue 13: a raw ",," once made this drop the rest of the utterance and count it as repaired).
    assert split_line("c,2,afraid,p,0,Hi,,,cand") == (None, None)
    assert split_line("c,1,afraid,p,1,I was,,really sad,,") == (None, None)
    # Only empty fields after the utterance: the extra empty ones are dropped, no text is lost.
    assert split_line("c,2,afraid,p,0,Hi,,,,") == (["c", "2", "afraid", "p", "0", "Hi", "", ""],
                                                   "extra_trailing_fields")
    # A raw ",," inside the utterance before a real selfeval: re-joined, nothing dropped.
    assert split_line("c,1,afraid,p,1,I was,,really sad,5|5|5_2|2|5,") == (
        ["c", "1", "afraid", "p", "1", "I was,,really sad", "5|5|5_2|2|5", ""], "unescaped_comma_in_utterance")
    # 8 fields but field 7 is text: a raw comma shifted the utterance; re-joined up to the selfeval.
    assert split_line("c,1,afraid,p,1,Oh no, bad,5|5|5_2|2|5") == (
        ["c", "1", "afraid", "p", "1", "Oh no, bad", "5|5|5_2|2|5", ""], "unescaped_comma_in_utterance")
    assert split_line("c,1,afraid,p,1,Oh no, bad,") == (None, None)
    # A raw comma inside the utterance: re-joined up to the next selfeval-looking field.
    assert split_line("c,1,afraid,p,1,Oh no, that is bad,5|5|5_2|2|5,") == (
        ["c", "1", "afraid", "p", "1", "Oh no, that is bad", "5|5|5_2|2|5", ""], "unescaped_comma_in_utterance")
    assert split_line("c,1,afraid,p,1,a, b, c,1|2|3_4|5|6,x") == (
        ["c", "1", "afraid", "p", "1", "a, b, c", "1|2|3_4|5|6", "x"], "unescaped_comma_in_utterance")
    # Unrepairable: too few fields, or a raw comma with no selfeval to anchor on.
    assert split_line("c,1,afraid,p,1,Hi") == (None, None)
    assert split_line("c,1,afraid,p,1,Oh no, that is bad,,") == (None, None)


def test_empathetic_repairs_are_counted(tmp_path):
    write(tmp_path / "test.csv", f"""{ED_HEADER}
hit:7_conv:14,1,afraid,p,1,Oh no, that is bad,5|5|5_2|2|5,
hit:7_conv:14,2,afraid,p,0,Yes it is,4|4|4_4|4|4,,a candidate|another one
""")
    data = read_empathetic(tmp_path)
    assert data.records["text"].tolist() == ["Oh no, that is bad", "Yes it is"]
    assert data.records["context"].tolist() == [[], ["Oh no, that is bad"]]
    assert dict(data.report.repaired) == {"unescaped_comma_in_utterance": 1, "extra_trailing_fields": 1}
    assert dict(data.report.skipped) == {}


@pytest.mark.parametrize("line, problem", [
    ("hit:7_conv:14,2,afraid,p,0", "expected 8 comma-separated fields, found 5 and no repairable pattern"),
    ("hit:7_conv:14,2,afraid,p,0,Oh no, bad,,", "expected 8 comma-separated fields, found 9 and no repairable"),
    ("hit:7_conv:14,2,happy,p,0,Yay,,", "unknown emotion label 'happy'"),
    ("hit:7_conv:14,two,afraid,p,0,Yay,,", "utterance_idx and speaker_idx must be integers"),
    ("hit:7_conv:14,2,afraid,p,zero,Yay,,", "utterance_idx and speaker_idx must be integers"),
    ("hit:7_conv:14,2,afraid,p,0,   ,,", "empty utterance"),
])
def test_empathetic_bad_rows_raise_with_file_and_line(tmp_path, line, problem):
    path = write(tmp_path / "train.csv", f"{ED_HEADER}\nhit:7_conv:14,1,afraid,p,1,Hello,,\n{line}\n")
    with pytest.raises(BadRowError) as info:
        read_empathetic(tmp_path)
    assert info.value.path == str(path) and info.value.line == 3
    assert str(info.value).startswith(f"{path}, line 3: {problem}")


def test_empathetic_skip_counts_reasons(tmp_path):
    write(tmp_path / "train.csv", f"""{ED_HEADER}
hit:7_conv:14,1,afraid,p,1,Hello,,
hit:7_conv:14,2,afraid,p,0

hit:7_conv:14,3,happy,p,1,Yay,,
hit:7_conv:14,x,afraid,p,1,Yay,,
hit:7_conv:14,5,afraid,p,1,,,
hit:7_conv:14,6,afraid,p,0,Bye,,
""")
    data = read_empathetic(tmp_path, on_bad_row="skip")
    assert dict(data.report.skipped) == {"wrong_field_count": 1, "unknown_label": 1, "bad_integer": 1,
                                         "empty_field": 1}
    assert data.report.rows_read == 6  # the blank line is not a row
    assert data.records["text"].tolist() == ["Hello", "Bye"]
    assert data.report.files[0]["rows"] == 2
    with pytest.raises(BadRowError, match=r"train\.csv, line 3: "):
        read_empathetic(tmp_path)


# --------------------------------------------------------------------------------------------------
# DailyDialog
# --------------------------------------------------------------------------------------------------

DD_TEXT = (
    "Hey , how are you ? __eou__ I ’ m fine , thanks . __eou__ Great ! Let ’ s go . __eou__\n"
    "One . __eou__ Two ! __eou__ Three ? __eou__ Four . __eou__ Five . __eou__ Six . __eou__\n"
)
DD_EMOTION = "0 4 4 \n1 2 3 5 6 0 \n"
DD_ACT = "2 1 3 \n1 1 1 1 1 1 \n"


def _expected_dd(split: str) -> list[dict]:
    def row(line, turn, speaker, text, context, name, unified):
        conv = f"{split}-{line:05d}"
        return {"id": f"dailydialog:{conv}:{turn}", "source": "dailydialog", "source_split": split,
                "text": text, "context": context, "speaker": speaker, "conv_id": conv, "turn": turn,
                "situation": None, "labels": [unified], "source_labels": [name], "example_unclear": False}
    one = ["One.", "Two!", "Three?", "Four.", "Five.", "Six."]
    return [
        row(1, 1, "A", "Hey, how are you?", [], "no_emotion", "neutral"),
        row(1, 2, "B", "I’m fine, thanks.", ["Hey, how are you?"], "happiness", "joy"),
        row(1, 3, "A", "Great! Let’s go.", ["Hey, how are you?", "I’m fine, thanks."], "happiness", "joy"),
        row(2, 1, "A", "One.", [], "anger", "anger"),
        row(2, 2, "B", "Two!", one[:1], "disgust", "disgust"),
        row(2, 3, "A", "Three?", one[:2], "fear", "fear"),
        row(2, 4, "B", "Four.", one[:3], "sadness", "sadness"),
        row(2, 5, "A", "Five.", one[:4], "surprise", "surprise"),
        row(2, 6, "B", "Six.", one[1:5], "no_emotion", "neutral"),
    ]


def test_detokenize_and_split_dialogue():
    assert detokenize("Hey , how are you ?") == "Hey, how are you?"
    assert detokenize("I ’ m") == "I’m"
    assert detokenize("I don ' t know , it ' s late .") == "I don't know, it's late."
    assert detokenize("You ’ re right ; we ’ ll see : maybe .") == "You’re right; we’ll see: maybe."
    assert detokenize("It is 20 % off !") == "It is 20% off!"
    assert detokenize("  spaced   out  .  ") == "spaced out."
    assert split_dialogue("a . __eou__ b ? __eou__\n") == ["a .", "b ?"]
    assert split_dialogue("a . __eou__ b ?") == ["a .", "b ?"]
    assert split_dialogue("a __eou__ __eou__ b __eou__") == ["a", "", "b"]


@pytest.mark.parametrize("with_acts", [False, True])
def test_dailydialog_single_file_layout(tmp_path, with_acts):
    write(tmp_path / "dialogues_text.txt", DD_TEXT)
    write(tmp_path / "dialogues_emotion.txt", DD_EMOTION)
    if with_acts:
        write(tmp_path / "dialogues_act.txt", DD_ACT)
    data = read_dailydialog(tmp_path)
    assert data.name == "dailydialog" and data.origin == f"local:{tmp_path}"
    assert list(data.records.columns) == list(READER_COLUMNS)
    assert records(data) == _expected_dd("train")
    assert data.report.rows_read == 9
    assert [(Path(f["path"]).name, f["rows"]) for f in data.report.files] == [
        ("dialogues_text.txt", 2), ("dialogues_emotion.txt", 2)]


def test_dailydialog_split_folders_layout(tmp_path):
    for split in ("train", "validation", "test"):
        write(tmp_path / split / f"dialogues_{split}.txt", DD_TEXT)
        write(tmp_path / split / f"dialogues_emotion_{split}.txt", DD_EMOTION)
    write(tmp_path / "validation" / "dialogues_act_validation.txt", DD_ACT)  # act files are optional
    data = read_dailydialog(tmp_path)
    assert records(data) == _expected_dd("train") + _expected_dd("validation") + _expected_dd("test")
    assert data.records["conv_id"].drop_duplicates().tolist() == [
        "train-00001", "train-00002", "validation-00001", "validation-00002", "test-00001", "test-00002"]
    assert data.report.rows_read == 27
    assert len(data.report.files) == 6


def test_dailydialog_split_folders_partial(tmp_path):
    write(tmp_path / "validation" / "dialogues_validation.txt", "Hi . __eou__\n")
    write(tmp_path / "validation" / "dialogues_emotion_validation.txt", "4\n")
    data = read_dailydialog(tmp_path)
    assert data.records["id"].tolist() == ["dailydialog:validation-00001:1"]
    assert data.records["labels"].tolist() == [["joy"]]


@pytest.mark.parametrize("emotion_line", ["0 4", "0 4 4 4", "0 4 7", "0 x 4", ""])
def test_dailydialog_mismatch_raises_naming_emotion_file(tmp_path, emotion_line):
    write(tmp_path / "dialogues_text.txt", DD_TEXT)
    path = write(tmp_path / "dialogues_emotion.txt", f"{emotion_line}\n1 2 3 5 6 0\n")
    with pytest.raises(BadRowError) as info:
        read_dailydialog(tmp_path)
    assert info.value.path == str(path) and info.value.line == 1
    assert str(info.value).startswith(
        f"{path}, line 1: expected 3 emotion ids in 0..6 (one per utterance of dialogues_text.txt line 1), "
        f"found {emotion_line!r}")


def test_dailydialog_skip_counts_bad_dialogues(tmp_path):
    write(tmp_path / "train" / "dialogues_train.txt", DD_TEXT + "Ok . __eou__ __eou__ Fine . __eou__\n")
    write(tmp_path / "train" / "dialogues_emotion_train.txt", "0 4\n1 2 3 5 6 0\n0 0 0\n")
    with pytest.raises(BadRowError, match=r"dialogues_emotion_train\.txt, line 1: "):
        read_dailydialog(tmp_path)
    data = read_dailydialog(tmp_path, on_bad_row="skip")
    assert dict(data.report.skipped) == {"emotion_count_mismatch": 1, "empty_field": 1}
    assert data.records["conv_id"].drop_duplicates().tolist() == ["train-00002"]
    assert data.report.rows_read == 12  # 3 + 6 + 3 utterances read, bad dialogues included
    assert [f["rows"] for f in data.report.files] == [1, 1]


def test_dailydialog_empty_utterance_names_text_file(tmp_path):
    text = write(tmp_path / "dialogues_text.txt", "Ok . __eou__ __eou__ Fine . __eou__\n")
    write(tmp_path / "dialogues_emotion.txt", "0 0 0\n")
    with pytest.raises(BadRowError, match="empty utterance between __eou__ markers") as info:
        read_dailydialog(tmp_path)
    assert info.value.path == str(text) and info.value.line == 1


def test_dailydialog_missing_or_misaligned_files(tmp_path):
    with pytest.raises(DataNotFoundError, match="no DailyDialog files in"):
        read_dailydialog(tmp_path)
    write(tmp_path / "dialogues_text.txt", DD_TEXT)
    with pytest.raises(DataNotFoundError, match="no emotion file beside it .*dialogues_emotion.txt"):
        read_dailydialog(tmp_path)
    write(tmp_path / "dialogues_emotion.txt", "0 4 4\n")
    with pytest.raises(DataNotFoundError, match="dialogues_emotion.txt: 1 lines but dialogues_text.txt has 2"):
        read_dailydialog(tmp_path)


# --------------------------------------------------------------------------------------------------
# Hub converters on in-memory datasets shaped like the Hub's
# --------------------------------------------------------------------------------------------------

def test_goemotions_from_hub_matches_local_reader(tmp_path):
    write(tmp_path / "train.tsv", GO_TRAIN)
    write(tmp_path / "dev.tsv", GO_DEV)
    local = read_goemotions(tmp_path)
    hub = {
        "train": datasets.Dataset.from_dict({
            "text": ["My favourite food is anything I didn't have to cook myself.",
                     "WHY THE FUCK IS BAYLESS ISOING", "Thank you, I love it so much [NAME]!"],
            "labels": [[27], [2], [18, 15]],
            "id": ["eebbqej", "eezlygj", "ed0aaaa"]}),
        "validation": datasets.Dataset.from_dict({
            "text": ["Is this in New Orleans?? I really feel like this is New Orleans.",
                     "Wow, that is both scary and awesome"],
            "labels": [[27], [26, 14, 0, 14]],
            "id": ["edgurhb", "eeabc12"]}),
    }
    data = goemotions_from_hub(hub, "google-research-datasets/go_emotions")
    assert data.origin == "hub:google-research-datasets/go_emotions"
    assert data.report.rows_read == 5
    assert records(data) == records(local)
    assert len(records(data)) == 5


def test_empathetic_from_hub_matches_local_reader(ed_dir):
    local = read_empathetic(ed_dir)

    def hub_split(text: str) -> datasets.Dataset:
        rows = [line.split(",") for line in text.splitlines()[1:]]
        return datasets.Dataset.from_dict({
            "conv_id": [r[0] for r in rows], "utterance_idx": [int(r[1]) for r in rows],
            "context": [r[2] for r in rows], "prompt": [r[3] for r in rows],
            "speaker_idx": [int(r[4]) for r in rows], "utterance": [r[5] for r in rows],
            "selfeval": [r[6] for r in rows], "tags": [r[7] for r in rows]})

    data = empathetic_from_hub({"train": hub_split(ED_TRAIN), "validation": hub_split(ED_VALID)},
                               "facebook/empathetic_dialogues")
    assert data.origin == "hub:facebook/empathetic_dialogues"
    assert data.report.rows_read == 11
    assert records(data) == records(local)
    # The Hub's "valid" spelling is mapped too.
    renamed = empathetic_from_hub({"valid": hub_split(ED_VALID)}, "x")
    assert renamed.records["source_split"].tolist() == ["validation", "validation"]


def test_dailydialog_from_hub_matches_local_reader(tmp_path):
    for split in ("train", "validation"):
        write(tmp_path / split / f"dialogues_{split}.txt", DD_TEXT)
        write(tmp_path / split / f"dialogues_emotion_{split}.txt", DD_EMOTION)
    local = read_dailydialog(tmp_path)
    # The Hub keeps the release's tokenised spacing and a trailing space after each utterance.
    hub_split = datasets.Dataset.from_dict({
        "dialog": [["Hey , how are you ? ", " I ’ m fine , thanks . ", " Great ! Let ’ s go . "],
                   ["One . ", " Two ! ", " Three ? ", " Four . ", " Five . ", " Six . "]],
        "act": [[2, 1, 3], [1, 1, 1, 1, 1, 1]],
        "emotion": [[0, 4, 4], [1, 2, 3, 5, 6, 0]],
    })
    data = dailydialog_from_hub({"train": hub_split, "validation": hub_split}, "li2017dailydialog/daily_dialog")
    assert data.origin == "hub:li2017dailydialog/daily_dialog"
    assert data.report.rows_read == 18
    assert records(data) == records(local) == _expected_dd("train") + _expected_dd("validation")


def test_dailydialog_from_hub_keeps_labels_aligned_when_dropping_empty_utterances():
    hub = {"train": [{"dialog": ["Hi . ", "  ", "Bye . "], "act": [1, 1, 1], "emotion": [4, 0, 5]}]}
    data = dailydialog_from_hub(hub, "x")
    assert data.records["text"].tolist() == ["Hi.", "Bye."]
    assert data.records["source_labels"].tolist() == [["happiness"], ["sadness"]]


# --------------------------------------------------------------------------------------------------
# locate()
# --------------------------------------------------------------------------------------------------

def test_locate_override_path(tmp_path):
    folder = tmp_path / "my-go"
    folder.mkdir()
    loc = locate("goemotions", data_dir=tmp_path / "elsewhere", sample=True, override=str(folder))
    assert loc == SourceLocation("goemotions", "local", str(folder.resolve()))


def test_locate_override_hub():
    assert locate("goemotions", override="hf:google-research-datasets/go_emotions") == SourceLocation(
        "goemotions", "hub", "google-research-datasets/go_emotions")
    assert locate("goemotions", override="hf:google-research-datasets/go_emotions:raw").where == \
        "google-research-datasets/go_emotions:raw"


def test_locate_override_missing_folder(tmp_path):
    with pytest.raises(DataNotFoundError) as info:
        locate("dailydialog", override=str(tmp_path / "nope"))
    message = str(info.value)
    assert message.startswith(f"--source dailydialog={tmp_path / 'nope'}: no such folder. ")
    assert "--data-dir" in message and "--sample" in message


def test_locate_sample_and_data_dir(tmp_path):
    assert locate("empatheticdialogues", sample=True) == SourceLocation(
        "empatheticdialogues", "sample", str(SAMPLE_DIR / "empatheticdialogues"))
    (tmp_path / "dailydialog").mkdir()
    assert locate("dailydialog", data_dir=tmp_path) == SourceLocation(
        "dailydialog", "local", str((tmp_path / "dailydialog").resolve()))
    assert locate("dailydialog", data_dir=str(tmp_path)).kind == "local"


def test_locate_missing_says_how_to_supply(tmp_path):
    with pytest.raises(DataNotFoundError) as info:
        locate("goemotions", data_dir=tmp_path)
    message = str(info.value)
    assert message.startswith("source 'goemotions' not found. Put its original files (")
    assert "train.tsv, dev.tsv, test.tsv, emotions.txt; goemotions_1.csv" in message
    assert "DATA_DIR/goemotions/" in message and "--data-dir DATA_DIR" in message
    assert "--source goemotions=PATH" in message
    assert "--source goemotions=hf:google-research-datasets/go_emotions" in message
    assert "--sample" in message
    with pytest.raises(DataNotFoundError, match="--data-dir"):
        locate("empatheticdialogues")


def test_locate_unknown_source():
    with pytest.raises(DataNotFoundError,
                       match="unknown source 'isear'; known: dailydialog, empatheticdialogues, goemotions"):
        locate("isear")


def test_read_source_local_and_fingerprint(tmp_path):
    folder = tmp_path / "goemotions"
    write(folder / "train.tsv", GO_TRAIN)
    loc = locate("goemotions", data_dir=tmp_path)
    data = read_source(loc)
    assert data.records["id"].tolist() == ["goemotions:eebbqej", "goemotions:eezlygj", "goemotions:ed0aaaa"]
    before = loc.fingerprint()
    assert before == loc.fingerprint()
    write(folder / "train.tsv", GO_TRAIN + "one more\t27\tnew1\n")
    assert loc.fingerprint() != before
    bad = write(tmp_path / "bad" / "train.tsv", "oops\n").parent
    with pytest.raises(BadRowError, match=r"train\.tsv, line 1: "):
        read_source(SourceLocation("goemotions", "local", str(bad)))
    # Under skip the only row is skipped, and a split file left with no usable rows is refused.
    with pytest.raises(EmptyInputError, match=r"train\.tsv: none of its 1 data rows is usable \(1 skipped"):
        read_source(SourceLocation("goemotions", "local", str(bad)), on_bad_row="skip")


# --------------------------------------------------------------------------------------------------
# Regressions for bugs found in review
# --------------------------------------------------------------------------------------------------

def test_dailydialog_from_hub_counts_mismatched_dialogues():
    data = dailydialog_from_hub({"train": [{"dialog": ["Hi .", "Bye ."], "act": [1, 1], "emotion": [4]}]}, "x")
    assert len(data.records) == 0 and data.report.skipped["emotion_count_mismatch"] == 2


def test_empathetic_non_adjacent_rows_keep_their_conversation(tmp_path):
    folder = tmp_path / "ed"
    write(folder / "train.csv", "\n".join([
        ED_HEADER,
        "A,1,sad,lost it,1,I lost my dog,,",
        "B,1,joyful,won,2,I won the game,,",
        "A,2,sad,lost it,3,That is so sad,,",
    ]) + "\n")
    data = read_empathetic(folder)
    assert data.records["id"].tolist() == ["empatheticdialogues:A:1", "empatheticdialogues:A:2",
                                           "empatheticdialogues:B:1"]
    assert data.records["context"].tolist()[1] == ["I lost my dog"]


def test_empathetic_ids_follow_utterance_idx_after_a_skip(tmp_path):
    folder = tmp_path / "ed"
    write(folder / "train.csv", "\n".join([
        ED_HEADER,
        "C,1,sad,lost it,1,I lost my dog,,",
        "C,2,sad,short",
        "C,3,sad,lost it,1,I still miss him,,",
    ]) + "\n")
    data = read_empathetic(folder, on_bad_row="skip")
    assert data.records["id"].tolist() == ["empatheticdialogues:C:1", "empatheticdialogues:C:3"]
    assert data.records["turn"].tolist() == [1, 3]


def test_goemotions_lone_carriage_return_is_no_line_end(tmp_path):
    # A lone \r does not end the row; under the control-character rule it becomes a space (counted).
    folder = tmp_path / "go"
    write(folder / "train.tsv", "a\rb\t1\tid1\nfine text\t2\tid2\n")
    data = read_goemotions(folder)
    assert data.records["text"].tolist() == ["a b", "fine text"]
    assert dict(data.report.repaired) == {"control_characters": 1}


def test_suffix_rules_find_short_past_tenses():
    from emodata.text.lemma import suffix_candidates

    assert "cry" in suffix_candidates("cried") and "try" in suffix_candidates("tried")
