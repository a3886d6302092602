"""Property-based (Hypothesis) tests of every reader and lexicon loader (issue 13, item 4).

For each reader: a well-formed file written from generated records reads back as exactly those
records; a malformed one (a well-formed file with random byte-level damage: bytes inserted,
replaced, deleted, lines duplicated, the file truncated) either reads cleanly or raises an
`EmodataError` whose message names one of the input files — never another exception type.
"""
from __future__ import annotations

import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalog import load_catalog
from emodata.core.errors import EmodataError
from emodata.text.lexicon import read_lexicon_file
from emodata.sources import READER_COLUMNS
from emodata.sources.dailydialog import detokenize, read_dailydialog
from emodata.sources.empathetic import read_empathetic
from emodata.sources.goemotions import RAW_META_COLUMNS, read_goemotions
from emodata.core.validate import DEFAULT_MAX_CHARS, has_controls

FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
GO_LABELS = load_catalog().taxonomies["goemotions28"].labels
ED_LABELS = load_catalog().taxonomies["ed32"].labels
DD_LABELS = load_catalog().taxonomies["dailydialog7"].labels
ED_HEADER = "conv_id,utterance_idx,context,prompt,speaker_idx,utterance,selfeval,tags"

ids = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=8)


def _text(exclude: str = "", max_size: int = 40):
    """Text a source can hold: no control characters, surrogates or line ends; stripped, non-empty."""
    chars = st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"), blacklist_characters="\ufeff" + exclude)
    return st.text(alphabet=chars, min_size=1, max_size=max_size).filter(lambda t: t.strip() == t and t)


@contextmanager
def folder():
    with tempfile.TemporaryDirectory(prefix="emodata-fuzz-") as name:
        yield Path(name)


def write_files(directory: Path, files: dict[str, str]) -> list[Path]:
    """Write each name → text as UTF-8 (no newline translation); the paths written."""
    for name, text in files.items():
        (directory / name).write_text(text, encoding="utf-8", newline="")
    return [directory / name for name in files]


@st.composite
def damage(draw, data: bytes) -> bytes:
    """`data` with 1-4 random byte-level edits."""
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["insert", "replace", "delete", "duplicate_line", "truncate"]))
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if kind == "insert":
            data = data[:at] + draw(st.binary(min_size=1, max_size=6)) + data[at:]
        elif kind == "replace" and data:
            data = data[:at] + draw(st.binary(min_size=1, max_size=1)) + data[at + 1:]
        elif kind == "delete":
            data = data[:at] + data[at + draw(st.integers(1, 12)):]
        elif kind == "duplicate_line":
            start = data.rfind(b"\n", 0, at) + 1
            end = data.find(b"\n", at)
            end = len(data) if end < 0 else end + 1
            data = data[:end] + data[start:end] + data[end:]
        else:
            data = data[:at]
    return data


def read_written(write, read):
    """Write a corpus with `write(folder)` into a fresh folder and read it back with `read(folder)`."""
    with folder() as d:
        write(d)
        return read(d)


def check_damaged(data, write, read) -> None:
    """Write a corpus, damage one of its files at random, and check `read` with `assert_clean_or_named`."""
    with folder() as d:
        paths = write(d)
        target = data.draw(st.sampled_from(paths))
        target.write_bytes(data.draw(damage(target.read_bytes())))
        assert_clean_or_named(lambda: read(d), paths)


def assert_clean_or_named(read, files: list[Path]) -> None:
    """`read()` succeeds with sane records, or raises an EmodataError naming one of `files`."""
    try:
        data = read()
    except EmodataError as exc:
        assert any(str(f) in str(exc) for f in files), str(exc)
        return
    frame = getattr(data, "records", None)
    if frame is not None:
        assert list(frame.columns) == list(READER_COLUMNS)
        assert frame["id"].is_unique
        assert all(0 < len(t) <= DEFAULT_MAX_CHARS and not has_controls(t) for t in frame["text"])


# ------------------------------------------------------------------------------------------------
# GoEmotions simplified TSV
# ------------------------------------------------------------------------------------------------

go_row = st.tuples(_text(exclude="\t"), st.lists(st.integers(0, len(GO_LABELS) - 1), min_size=1, max_size=4))


@st.composite
def go_corpus(draw) -> dict[str, list[tuple[str, list[int], str]]]:
    splits = draw(st.lists(st.sampled_from(["train.tsv", "dev.tsv", "test.tsv"]), min_size=1, max_size=3, unique=True))
    rows = {name: draw(st.lists(go_row, min_size=1, max_size=5)) for name in splits}
    all_ids = draw(st.lists(ids, min_size=sum(map(len, rows.values())), max_size=sum(map(len, rows.values())),
                            unique=True))
    it = iter(all_ids)
    return {name: [(text, labels, next(it)) for text, labels in split_rows] for name, split_rows in rows.items()}


def write_go(directory: Path, corpus) -> list[Path]:
    return write_files(directory, {name: "".join(f"{t}\t{','.join(map(str, labels))}\t{i}\n" for t, labels, i in rows)
                                   for name, rows in corpus.items()})


@FUZZ
@given(go_corpus())
def test_goemotions_simplified_round_trips(corpus):
    data = read_written(lambda d: write_go(d, corpus), read_goemotions)
    split_of = {"train.tsv": "train", "dev.tsv": "validation", "test.tsv": "test"}
    expected = [(f"goemotions:{i}", split_of[name], t, sorted({GO_LABELS[x] for x in labels}, key=GO_LABELS.index))
                for name in ("train.tsv", "dev.tsv", "test.tsv") for t, labels, i in corpus.get(name, [])]
    got = list(data.records[["id", "source_split", "text", "source_labels"]].itertuples(index=False, name=None))
    assert got == expected and data.report.rows_read == len(expected) and not data.report.skipped


@FUZZ
@given(go_corpus(), st.data(), st.sampled_from(["error", "skip"]))
def test_goemotions_simplified_damaged_raises_only_named_errors(corpus, data, policy):
    check_damaged(data, lambda d: write_go(d, corpus), lambda d: read_goemotions(d, on_bad_row=policy))


# ------------------------------------------------------------------------------------------------
# GoEmotions raw per-rater CSV
# ------------------------------------------------------------------------------------------------

RAW_HEADER = ",".join([*RAW_META_COLUMNS, *GO_LABELS])


@st.composite
def raw_corpus(draw) -> list[tuple[str, str, list[int]]]:
    """(text, id, chosen label ids) per comment; every comment gets two raters choosing the same labels."""
    comments = draw(st.lists(st.tuples(_text(exclude='"'), st.lists(st.integers(0, 27), min_size=1, max_size=3)),
                             min_size=1, max_size=5))
    comment_ids = draw(st.lists(ids, min_size=len(comments), max_size=len(comments), unique=True))
    return [(text, cid, labels) for (text, labels), cid in zip(comments, comment_ids)]


def write_raw(directory: Path, corpus) -> list[Path]:
    lines = [RAW_HEADER]
    for rater in (1, 2):
        for text, cid, labels in corpus:
            flags = ["1" if i in labels else "0" for i in range(len(GO_LABELS))]
            quoted = '"' + text + '"'
            lines.append(",".join([quoted, cid, "a", "r", "l", "p", "1.0", str(rater), "False", *flags]))
    path = directory / "goemotions_1.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8", newline="")
    return [path]


@FUZZ
@given(raw_corpus())
def test_goemotions_raw_round_trips(corpus):
    data = read_written(lambda d: write_raw(d, corpus), lambda d: read_goemotions(d, fmt="raw"))
    got = {r["id"]: (r["text"], sorted(r["source_labels"])) for r in data.records.to_dict("records")}
    assert got == {f"goemotions:{cid}": (text, sorted({GO_LABELS[i] for i in labels})) for text, cid, labels in corpus}


@FUZZ
@given(raw_corpus(), st.data(), st.sampled_from(["error", "skip"]))
def test_goemotions_raw_damaged_raises_only_named_errors(corpus, data, policy):
    check_damaged(data, lambda d: write_raw(d, corpus), lambda d: read_goemotions(d, fmt="raw", on_bad_row=policy))


# ------------------------------------------------------------------------------------------------
# EmpatheticDialogues CSV
# ------------------------------------------------------------------------------------------------

ed_text = _text(exclude="_")  # "_" could meet an escaped comma and form "_comma_"


@st.composite
def ed_corpus(draw) -> dict[str, list[tuple[str, str, str, list[str]]]]:
    """Per file: conversations (conv_id, emotion, prompt, utterances)."""
    files = draw(st.lists(st.sampled_from(["train.csv", "valid.csv", "test.csv"]), min_size=1, max_size=3, unique=True))
    n = {name: draw(st.integers(1, 3)) for name in files}
    conv_ids = iter(draw(st.lists(ids, min_size=sum(n.values()), max_size=sum(n.values()), unique=True)))
    return {name: [(f"hit:{next(conv_ids)}", draw(st.sampled_from(ED_LABELS)), draw(ed_text),
                    draw(st.lists(ed_text, min_size=1, max_size=4))) for _ in range(n[name])] for name in files}


def write_ed(directory: Path, corpus) -> list[Path]:
    files = {}
    for name, convs in corpus.items():
        lines = [ED_HEADER]
        for conv_id, emotion, prompt, utterances in convs:
            for idx, text in enumerate(utterances, start=1):
                lines.append(f"{conv_id},{idx},{emotion},{prompt.replace(',', '_comma_')},{idx % 2},"
                             f"{text.replace(',', '_comma_')},,")
        files[name] = "\n".join(lines) + "\n"
    return write_files(directory, files)


@FUZZ
@given(ed_corpus())
def test_empathetic_round_trips(corpus):
    data = read_written(lambda d: write_ed(d, corpus), read_empathetic)
    expected = [(f"empatheticdialogues:{conv}:{t}", conv, t, text, prompt, [emotion])
                for name in ("train.csv", "valid.csv", "test.csv") for conv, emotion, prompt, utts in corpus.get(name, [])
                for t, text in enumerate(utts, start=1)]
    got = list(data.records[["id", "conv_id", "turn", "text", "situation", "source_labels"]]
               .itertuples(index=False, name=None))
    assert got == expected and not data.report.skipped and not data.report.repaired


@FUZZ
@given(ed_corpus(), st.data(), st.sampled_from(["error", "skip"]))
def test_empathetic_damaged_raises_only_named_errors(corpus, data, policy):
    check_damaged(data, lambda d: write_ed(d, corpus), lambda d: read_empathetic(d, on_bad_row=policy))


# ------------------------------------------------------------------------------------------------
# DailyDialog
# ------------------------------------------------------------------------------------------------

dd_utterance = _text(exclude="\r\t").filter(lambda t: "__eou__" not in t and "_" not in t[-1:])
dd_dialogue = st.lists(st.tuples(dd_utterance, st.integers(0, len(DD_LABELS) - 1)), min_size=1, max_size=4)


def write_dd(directory: Path, dialogues) -> list[Path]:
    text = directory / "dialogues_text.txt"
    emotion = directory / "dialogues_emotion.txt"
    text.write_text("".join(" __eou__ ".join(u for u, _ in d) + " __eou__\n" for d in dialogues),
                    encoding="utf-8", newline="")
    emotion.write_text("".join(" ".join(str(e) for _, e in d) + " \n" for d in dialogues), encoding="utf-8",
                       newline="")
    return [text, emotion]


@FUZZ
@given(st.lists(dd_dialogue, min_size=1, max_size=4))
def test_dailydialog_round_trips(dialogues):
    data = read_written(lambda d: write_dd(d, dialogues), read_dailydialog)
    expected = [(f"dailydialog:train-{n:05d}:{t}", detokenize(u), [DD_LABELS[e]])
                for n, dialogue in enumerate(dialogues, start=1) for t, (u, e) in enumerate(dialogue, start=1)]
    got = list(data.records[["id", "text", "source_labels"]].itertuples(index=False, name=None))
    assert got == expected and not data.report.skipped


@FUZZ
@given(st.lists(dd_dialogue, min_size=1, max_size=4), st.data(), st.sampled_from(["error", "skip"]))
def test_dailydialog_damaged_raises_only_named_errors(dialogues, data, policy):
    check_damaged(data, lambda d: write_dd(d, dialogues), lambda d: read_dailydialog(d, on_bad_row=policy))


# ------------------------------------------------------------------------------------------------
# Lexicons: NRC-VAD (tab-separated) and Warriner (CSV)
# ------------------------------------------------------------------------------------------------

words = st.lists(st.text(alphabet="abcdefghijklmnopqrstuvwxyz -'", min_size=1, max_size=10)
                 .filter(lambda w: w.strip() == w), min_size=1, max_size=8, unique=True)
milli = st.integers(0, 1000)


@st.composite
def lexicon_rows(draw) -> list[tuple[str, int, int, int]]:
    return [(w, draw(milli), draw(milli), draw(milli)) for w in draw(words)]


def write_lexicon(directory: Path, kind: str, rows) -> list[Path]:
    if kind == "nrc":
        path = directory / "NRC-VAD-Lexicon.txt"
        body = "Word\tValence\tArousal\tDominance\n" + "".join(
            f"{w}\t{v / 1000:.3f}\t{a / 1000:.3f}\t{d / 1000:.3f}\n" for w, v, a, d in rows)
    else:  # Warriner: 1 + 8 * x on the 1..9 scale
        path = directory / "Ratings_Warriner_et_al.csv"
        body = ",Word,V.Mean.Sum,A.Mean.Sum,D.Mean.Sum\n" + "".join(
            f"{n},{w},{1 + 8 * v / 1000},{1 + 8 * a / 1000},{1 + 8 * d / 1000}\n" for n, (w, v, a, d) in enumerate(rows, 1))
    path.write_text(body, encoding="utf-8", newline="")
    return [path]


@FUZZ
@given(st.sampled_from(["nrc", "warriner"]), lexicon_rows())
def test_lexicon_round_trips(kind, rows):
    lex = read_written(lambda d: write_lexicon(d, kind, rows), lambda d: read_lexicon_file(next(d.iterdir())))
    assert set(lex.entries) == {w for w, *_ in rows}
    for w, v, a, dom in rows:
        assert lex.get(w) == pytest.approx((v / 1000, a / 1000, dom / 1000), abs=1e-9)


@FUZZ
@given(st.sampled_from(["nrc", "warriner"]), lexicon_rows(), st.data())
def test_lexicon_damaged_raises_only_named_errors(kind, rows, data):
    check_damaged(data, lambda d: write_lexicon(d, kind, rows), lambda d: read_lexicon_file(next(d.iterdir())))
