"""Streaming readers (issue #18): each built-in reader yields its records a chunk at a time with the same
rows, order, ids, bad-row errors and read report as the whole-source read, and the annotated parts cut
from the chunks are byte-identical to those cut from the whole frame, whatever the chunk size."""
from __future__ import annotations

import random
import shutil

import pandas as pd
import pytest

from emodata.cache import AnnotatedCache
from emodata.core.errors import BadRowError
from emodata.core.validate import InputEncodingError, SeenIds, file_lines, read_utf8, data_lines, scan_lines
from emodata.engines import LocalEngine
from emodata.sources import SAMPLE_DIR, SourceLocation, read_source, record_parts, stream_source
from emodata.sources.empathetic import HEADER, _conversations_contiguous
import emodata.sources.goemotions as goemotions

from emodata.annotate import make_annotator
from emodata.text.lexicon import load_lexicon
from emodata.text.nlp import load_pipeline
from labeling_functions.emotion import emotion_lfs

SOURCES = ("goemotions", "empatheticdialogues", "dailydialog")


@pytest.fixture(scope="module")
def annotator():
    """The build's kind of annotator, emotion LFs included."""
    return make_annotator(load_pipeline("en_core_web_sm"), load_lexicon(None), "on", lfs=emotion_lfs())


def _whole_from_stream(location, chunk_rows, **options):
    stream = stream_source(location, chunk_rows=chunk_rows, **options)
    chunks = list(stream.chunks)
    return chunks, stream.report.to_dict()


@pytest.mark.parametrize("name", SOURCES)
@pytest.mark.parametrize("chunk_rows", [1, 3, 50])
def test_stream_gives_the_whole_read_in_chunks(name, chunk_rows):
    location = SourceLocation(name, "local", str(SAMPLE_DIR / name))
    whole = read_source(location)
    chunks, report = _whole_from_stream(location, chunk_rows)
    rows = [r for chunk in chunks for r in chunk]
    assert len(chunks) > 1 and all(len(c) >= chunk_rows for c in chunks[:-1])
    assert pd.DataFrame(rows, columns=whole.records.columns).equals(whole.records)
    assert report == whole.report.to_dict() and report["files"]
    if name != "goemotions":  # a chunk ends at a dialogue's end
        assert all((a[-1]["source_split"], a[-1]["conv_id"]) != (b[0]["source_split"], b[0]["conv_id"])
                   for a, b in zip(chunks, chunks[1:]))


@pytest.mark.parametrize("name", SOURCES)
def test_parts_are_byte_identical_whatever_the_chunk_size(name, tmp_path, annotator):
    location = SourceLocation(name, "local", str(SAMPLE_DIR / name))
    records = read_source(location).records
    engine = LocalEngine()

    def entry(folder, parts):
        writer = AnnotatedCache(tmp_path / folder).writer(name, "k" * 40)
        engine.annotate_to(parts, annotator, writer.put, max_rows=7)
        writer.commit({})
        return [(writer.parts[i]["rows"], writer.parts[i]["sha1"]) for i in sorted(writer.parts)]

    expected = entry("whole", records)  # the whole frame cut by the engine, as before streaming
    assert len(expected) > 2
    for chunk_rows in (1, 4, 1000):
        chunks = stream_source(location, chunk_rows=chunk_rows).chunks
        assert entry(f"c{chunk_rows}", record_parts(chunks, 7)) == expected


def test_record_parts_cut_exact_sizes_across_chunks():
    rows = [{"id": f"r{i}", "text": "t"} for i in range(10)]
    chunks = [rows[:3], rows[3:4], [], rows[4:10]]
    parts = list(record_parts(chunks, 4))
    assert [len(p) for p in parts] == [4, 4, 2]
    assert [r for p in parts for r in p["id"]] == [r["id"] for r in rows]
    frame = pd.DataFrame(rows)
    assert [list(p.index) for p in record_parts([frame], 4)] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    with pytest.raises(ValueError):
        list(record_parts(chunks, 0))


def test_lines_streamed_as_data_lines(tmp_path):
    cases = [b"", b"\n", b"a\nb", b"a\nb\n", b"a\r\nb\r\n\n", b"\xef\xbb\xbfa\rb\n\x0cc", b"caf\xc3\xa9\n\xe2\x80\xa8x"]
    for i, data in enumerate(cases):
        path = tmp_path / f"f{i}.txt"
        path.write_bytes(data)
        expected = data_lines(read_utf8(path))
        assert list(file_lines(path)) == expected
        assert scan_lines(path)[0] == len(expected)
    assert scan_lines(tmp_path / "f5.txt")[1] and not scan_lines(tmp_path / "f3.txt")[1]


def test_an_encoding_error_comes_before_any_row_of_its_file(tmp_path, monkeypatch):
    monkeypatch.setattr("emodata.core.validate.BLOCK_BYTES", 16)  # the bad byte is many blocks in
    folder = tmp_path / "goemotions"
    shutil.copytree(SAMPLE_DIR / "goemotions", folder)
    train = folder / "train.tsv"
    lines = train.read_bytes().split(b"\n")
    lines[4] = b"a bad \x92 byte\t1\tbad1"  # and a bad row on line 2, before the bad byte
    lines[1] = b"only two\tfields"
    train.write_bytes(b"\n".join(lines))
    stream = stream_source(SourceLocation("goemotions", "local", str(folder)))
    with pytest.raises(InputEncodingError) as streamed:
        next(stream.chunks)
    with pytest.raises(InputEncodingError) as whole:
        read_utf8(train)
    assert str(streamed.value) == str(whole.value) and "line 5" in str(whole.value)


def _goemotions_with(tmp_path, edits):
    folder = tmp_path / "goemotions"
    shutil.copytree(SAMPLE_DIR / "goemotions", folder)
    for file, (line, content) in edits:
        path = folder / file
        lines = path.read_text(encoding="utf-8").split("\n")
        lines[line - 1] = content
        path.write_text("\n".join(lines), encoding="utf-8")
    return SourceLocation("goemotions", "local", str(folder))


def test_a_repeated_id_in_another_chunk_or_file_is_refused_naming_both_lines(tmp_path, monkeypatch):
    monkeypatch.setattr(goemotions, "CHUNK_ROWS", 3)  # ids checked three rows at a time
    first_id = (SAMPLE_DIR / "goemotions" / "train.tsv").read_text(encoding="utf-8").split("\n")[0].split("\t")[2]
    location = _goemotions_with(tmp_path, [("train.tsv", (9, f"again\t1\t{first_id}")),
                                           ("dev.tsv", (2, f"and again\t2\t{first_id}"))])
    with pytest.raises(BadRowError, match=rf"train.tsv, line 9: duplicate id '{first_id}': already read at "
                                          rf".*train.tsv, line 1 "):
        read_source(location)
    data = read_source(location, on_bad_row="skip")
    assert data.report.skipped["duplicate_id"] == 2 and (data.records["id"] == f"goemotions:{first_id}").sum() == 1


def test_the_first_bad_row_wins_between_a_repeated_id_and_a_later_bad_row(tmp_path, monkeypatch):
    monkeypatch.setattr(goemotions, "CHUNK_ROWS", 100)  # both in one batch of the id check
    first_id = (SAMPLE_DIR / "goemotions" / "train.tsv").read_text(encoding="utf-8").split("\n")[0].split("\t")[2]
    location = _goemotions_with(tmp_path, [("train.tsv", (4, f"again\t1\t{first_id}")),
                                           ("train.tsv", (6, "two\tfields"))])
    with pytest.raises(BadRowError, match="train.tsv, line 4: duplicate id"):
        read_source(location)
    location = _goemotions_with(tmp_path / "b", [("train.tsv", (6, f"again\t1\t{first_id}")),
                                                 ("train.tsv", (4, "two\tfields"))])
    with pytest.raises(BadRowError, match="train.tsv, line 4: expected 3 tab-separated fields"):
        read_source(location)


def _ed_folder(tmp_path, train_rows, valid_rows):
    folder = tmp_path / "empatheticdialogues"
    folder.mkdir(parents=True)

    def row(conv, idx, text):
        return f"{conv},{idx},sad,a prompt,{idx % 2},{text},,"

    (folder / "train.csv").write_text("\n".join([HEADER, *(row(*r) for r in train_rows)]) + "\n", encoding="utf-8")
    (folder / "valid.csv").write_text("\n".join([HEADER, *(row(*r) for r in valid_rows)]) + "\n", encoding="utf-8")
    return folder


def test_ed_conversations_apart_are_grouped_as_the_whole_read_does(tmp_path):
    apart = _ed_folder(tmp_path / "a", [("c1", 2, "b"), ("c2", 1, "x"), ("c1", 1, "a"), ("c3", 1, "y")],
                       [("c9", 1, "z")])
    assert not _conversations_contiguous([apart / "train.csv", apart / "valid.csv"])
    for chunk_rows in (1, 10):
        chunks, _ = _whole_from_stream(SourceLocation("empatheticdialogues", "local", str(apart)), chunk_rows)
        assert [r["id"] for c in chunks for r in c] == [
            "empatheticdialogues:c1:1", "empatheticdialogues:c1:2", "empatheticdialogues:c2:1",
            "empatheticdialogues:c3:1", "empatheticdialogues:c9:1"]
    together = _ed_folder(tmp_path / "b", [("c1", 2, "b"), ("c1", 1, "a"), ("c2", 1, "x")], [("c9", 1, "z")])
    assert _conversations_contiguous([together / "train.csv", together / "valid.csv"])
    chunks, _ = _whole_from_stream(SourceLocation("empatheticdialogues", "local", str(together)), 1)
    assert [[r["turn"] for r in c] for c in chunks] == [[1, 2], [1], [1]]  # one conversation a chunk


def test_ed_id_repeated_in_another_file_is_refused(tmp_path):
    folder = _ed_folder(tmp_path, [("c1", 1, "a"), ("c1", 2, "b"), ("c2", 1, "x")], [("c1", 2, "again")])
    assert not _conversations_contiguous([folder / "train.csv", folder / "valid.csv"])
    with pytest.raises(BadRowError, match=r"valid.csv, line 2: duplicate id 'c1:2': already read at .*train.csv, "
                                          "line 3"):
        read_source(SourceLocation("empatheticdialogues", "local", str(folder)))


@pytest.mark.parametrize("keep_where", [True, False])
def test_seen_ids_match_a_dict(keep_where):
    rng = random.Random(7)
    seen, first = SeenIds(keep_where), {}
    for batch in range(40):
        ids = [f"id{rng.randrange(2000)}" for _ in range(rng.randrange(0, 120))]
        path = f"file{batch % 3}"
        lines = list(range(batch * 1000, batch * 1000 + len(ids)))
        for row_id, line, got in zip(ids, lines, seen.add(ids, path, lines)):
            expected = first.setdefault(row_id, (path, line))
            if expected == (path, line):
                assert got is None
            else:
                assert got == (expected if keep_where else ("an earlier row", 0))
    assert len(seen) == len(first) and len(seen._runs) < 12
