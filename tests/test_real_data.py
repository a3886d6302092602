"""Readers on the real corpora in ../shared/data (skipped when that folder is absent).

Expected counts come from each folder's SOURCE.md; the raw GoEmotions aggregation is checked
against an independent re-implementation of the documented rule (keep labels chosen by >= 2 raters).
"""
from __future__ import annotations

import csv
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from emodata.text.lexicon import load_lexicon
from emodata.sources import read_dailydialog, read_empathetic, read_goemotions

from tests.conftest import SHARED_DATA
GOEMOTIONS = SHARED_DATA / "goemotions"
DAILYDIALOG = SHARED_DATA / "dailydialog"
LEXICONS = SHARED_DATA / "lexicons"
EMPATHETIC = SHARED_DATA / "empatheticdialogues"


def _absent(path: Path):
    return pytest.mark.skipif(not path.is_dir(), reason=f"real data not available at {path}")


@pytest.fixture(autouse=True)
def _no_lexicon_env(monkeypatch):
    monkeypatch.delenv("EMODATA_LEXICON_DIR", raising=False)


@_absent(GOEMOTIONS)
def test_goemotions_simplified_real_counts():
    data = read_goemotions(GOEMOTIONS)  # also checks emotions.txt against the catalog
    assert data.origin.endswith(":simplified")
    assert data.records["source_split"].value_counts().to_dict() == {"train": 43410, "validation": 5426}
    assert data.report.rows_read == 43410 + 5426
    assert dict(data.report.skipped) == {}
    assert [(Path(f["path"]).name, f["rows"]) for f in data.report.files] == [("train.tsv", 43410),
                                                                              ("dev.tsv", 5426)]
    # The first train line, parsed by hand, is the first record.
    with open(GOEMOTIONS / "train.tsv", encoding="utf-8") as handle:
        text, ids, comment_id = handle.readline().rstrip("\n").split("\t")
    names = (GOEMOTIONS / "emotions.txt").read_text(encoding="utf-8").split()
    first = data.records.iloc[0]
    assert first["id"] == f"goemotions:{comment_id}" and first["text"] == text
    assert first["source_labels"] == sorted({names[int(i)] for i in ids.split(",")}, key=names.index)
    assert all(len(labels) >= 1 for labels in data.records["labels"])


@_absent(GOEMOTIONS)
def test_goemotions_raw_sample_real():
    data = read_goemotions(GOEMOTIONS, fmt="raw")
    assert data.report.rows_read == 10377
    # Independent aggregation of the documented rule.
    votes: dict[str, Counter] = defaultdict(Counter)
    unclear: dict[str, bool] = defaultdict(bool)
    with open(GOEMOTIONS / "goemotions_raw_sample.csv", encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        label_names = reader.fieldnames[9:]
        for row in reader:
            votes[row["id"]].update(n for n in label_names if row[n] == "1")
            unclear[row["id"]] |= row["example_very_unclear"] == "True"
    expected = {cid: sorted((n for n, k in c.items() if k >= 2), key=label_names.index)
                for cid, c in votes.items()}
    expected = {cid: labels for cid, labels in expected.items() if labels}
    got = {r["id"].removeprefix("goemotions:"): r["source_labels"] for r in data.records.to_dict("records")}
    assert got == expected
    assert data.report.skipped["no_rater_agreement"] == len(votes) - len(expected)
    flagged = {r["id"].removeprefix("goemotions:") for r in data.records.to_dict("records") if r["example_unclear"]}
    assert flagged == {cid for cid in expected if unclear[cid]}


@_absent(DAILYDIALOG)
def test_dailydialog_real_counts():
    data = read_dailydialog(DAILYDIALOG)
    frame = data.records
    assert frame.groupby("source_split").size().to_dict() == {"train": 87170, "validation": 8069}
    assert frame.groupby("source_split")["conv_id"].nunique().to_dict() == {"train": 11118, "validation": 1000}
    assert data.report.rows_read == 87170 + 8069
    assert dict(data.report.skipped) == {}
    assert frame["text"].str.len().min() > 0
    assert frame["id"].is_unique
    assert set(frame["labels"].map(tuple)) <= {("neutral",), ("anger",), ("disgust",), ("fear",), ("joy",),
                                                ("sadness",), ("surprise",)}
    assert frame.iloc[0]["id"] == "dailydialog:train-00001:1" and frame.iloc[0]["speaker"] == "A"


@_absent(LEXICONS)
def test_nrc_vad_v1_real():
    lex = load_lexicon("nrc-vad", search_dirs=[LEXICONS])
    assert len(lex) == 20007
    assert lex.version == "1" and lex.name == "nrc-vad-v1"
    assert lex.get("aaaaaaah") == (0.479, 0.606, 0.291)
    assert all(0.0 <= x <= 1.0 for vad in lex.entries.values() for x in vad)
    assert lex.describe()["source"] == "NRC-VAD-Lexicon.txt" and lex.describe()["entries"] == 20007


@_absent(DAILYDIALOG)
def test_dailydialog_real_control_character_stripped_and_counted():
    # train line 3987 holds one DEL (U+007F) after "I like to paint ."; the control-character rule
    # removes it and counts the row (emodata/sources/validate.py).
    data = read_dailydialog(DAILYDIALOG)
    assert dict(data.report.repaired) == {"control_characters": 1}
    texts = data.records[data.records["conv_id"] == "train-03987"]["text"].tolist()
    assert "I like to paint." in texts and not any("\x7f" in t for t in data.records["text"])


@_absent(EMPATHETIC)
def test_empathetic_real_counts():
    # SOURCE.md: train 84,165 lines / 19,532 conversations, valid 12,078 / 2,770; 32 labels per split.
    data = read_empathetic(EMPATHETIC)
    frame = data.records
    assert frame.groupby("source_split").size().to_dict() == {"train": 84165, "validation": 12078}
    assert frame.groupby("source_split")["conv_id"].nunique().to_dict() == {"train": 19532, "validation": 2770}
    assert data.report.rows_read == 84165 + 12078
    assert dict(data.report.skipped) == {} and dict(data.report.repaired) == {}
    assert frame["id"].is_unique and frame["text"].str.len().min() > 0
    per_conv = frame.drop_duplicates("conv_id")
    emotions = per_conv.groupby("source_split")["source_labels"].apply(lambda s: s.str[0].value_counts().to_dict())
    assert len(emotions["train"]) == 32 and len(emotions["validation"]) == 32
    assert emotions["train"]["surprised"] == 1003 and emotions["validation"]["surprised"] == 148
    assert emotions["train"]["faithful"] == 377 and emotions["validation"]["annoyed"] == 118


@_absent(LEXICONS)
def test_warriner_real():
    # SOURCE.md: 13,915 lemmas on 1..9. Ten words are listed twice in different case (pope / Pope);
    # they share one lower-cased key and the lower-case spelling's ratings are kept.
    lex = load_lexicon("warriner", search_dirs=[LEXICONS])
    assert lex.name == "warriner" and len(lex) == 13915 - 10
    assert lex.get("aardvark") == pytest.approx(((6.26 - 1) / 8, (2.41 - 1) / 8, (4.27 - 1) / 8))
    assert lex.get("pope") == pytest.approx(((5.18 - 1) / 8, (4.21 - 1) / 8, (4.24 - 1) / 8))
    assert all(0.0 <= x <= 1.0 for vad in lex.entries.values() for x in vad)
