"""Out-of-core builds (issue #18 item 1): annotated sources live on disk as SHA-1-checked Parquet parts;
outputs do not depend on the part size; the client reads only the columns and rows each stage needs."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from emodata.build import build
from emodata.cache import AnnotatedCache, AnnotatedParts
import emodata.build as build_module
from emodata.label_stage import PROBE_COLUMNS
from emodata.stages import NARROW_COLUMNS

from tests.conftest import sample_config


def test_parts_read_and_take_as_one_frame_whatever_the_cut(tmp_path):
    frame = pd.DataFrame({"id": [f"r{i}" for i in range(7)], "turn": [1, 2, None, 4, 5, 6, 7],
                          "conv_id": [None, None, None, "c", "c", "d", None],
                          "votes": [np.array([i, -1], dtype="int8") for i in range(7)]})
    whole = AnnotatedCache(tmp_path / "a").put("s", "k" * 40, frame, {})
    writer = AnnotatedCache(tmp_path / "b").writer("s", "k" * 40)
    for index, (start, stop) in reversed(list(enumerate([(0, 3), (3, 6), (6, 7)]))):  # parts arrive in any order
        writer.put(index, frame.iloc[start:stop])  # part 0: conv_id all missing, turn with a gap
    cut = writer.commit({})
    assert len(cut.paths) == 3 and len(cut) == 7 and cut.schema.field("conv_id").type == whole.schema.field("conv_id").type
    for columns in (["id", "turn", "conv_id"], ["votes", "id"]):
        expected = whole.read(columns)
        assert cut.read(columns).equals(expected)
        positions = [6, 0, 3, 4, 2]
        assert cut.take(positions, columns).equals(expected.iloc[positions].reset_index(drop=True))
    assert cut.take([], ["id"]).empty and cut.distinct("conv_id") == {"c", "d"}
    # A second commit of the same parts (another build, meanwhile) keeps the files a reader may hold.
    again = AnnotatedCache(tmp_path / "b").put("s", "k" * 40, frame, {})  # one part: other parts, replaced
    assert again.read(["id"]).equals(whole.read(["id"])) and len(again.paths) == 1
    same = AnnotatedCache(tmp_path / "b").put("s", "k" * 40, frame, {})
    assert same.paths[0].stat().st_ino == again.paths[0].stat().st_ino


def test_outputs_do_not_depend_on_the_part_size(tmp_path):
    (whole,) = build(sample_config(tmp_path / "whole", cache_dir=str(tmp_path / "cache-whole"), shard_rows=9))
    (cut,) = build(sample_config(tmp_path / "cut", cache_dir=str(tmp_path / "cache-cut"), shard_rows=9, part_rows=7))
    entries = sorted((tmp_path / "cache-cut" / "annotated").glob("goemotions-*/entry.json"))
    assert len(json.loads(entries[0].read_text())["parts"]) > 3  # really cut into parts of <= 7 rows
    assert cut.manifest_path.read_bytes() == whole.manifest_path.read_bytes()
    assert (cut.root / "checksums.sha1").read_bytes() == (whole.root / "checksums.sha1").read_bytes()


def test_an_edited_part_is_refused_and_the_source_annotated_again(tmp_path, capfd):
    cache = tmp_path / "cache"
    (clean,) = build(sample_config(tmp_path / "clean", cache_dir=str(cache), part_rows=10))
    part = sorted((cache / "annotated").glob("goemotions-*/part-00001.parquet"))[0]
    table = pq.read_table(part)
    edited = table.set_column(table.schema.get_field_index("n_tokens"), "n_tokens",
                              pa.array([99] * table.num_rows, type=table.schema.field("n_tokens").type))
    pq.write_table(edited, part)
    capfd.readouterr()
    (again,) = build(sample_config(tmp_path / "again", cache_dir=str(cache), part_rows=10))
    assert f"annotated cache entry {part.parent} failed its SHA-1 check" in capfd.readouterr().err
    assert again.manifest_path.read_bytes() == clean.manifest_path.read_bytes()
    assert pq.read_table(part).equals(table)  # re-annotated and re-written
    (part.parent / "part-00002.parquet").unlink()  # a missing part is refused too
    assert AnnotatedCache(cache, warn=lambda m: None).get("goemotions", json.loads(
        (part.parent / "entry.json").read_text())["key"]) is None


def test_the_client_reads_narrow_columns_of_whole_sources_and_wide_ones_by_rows(tmp_path, monkeypatch):
    reads, takes, scatters, spilled = [], [], [], []
    read, take, scatter, read_spill = AnnotatedParts.read, AnnotatedParts.take, AnnotatedParts.scatter, \
        AnnotatedParts.read_spill

    def scattering(self, destination, rank, columns, folder):
        scatters.append(self.paths[0].parent.name)
        return scatter(self, destination, rank, columns, folder)

    def reading_spill(path, columns):
        frame = read_spill(path, columns)
        spilled.append(len(frame))
        return frame

    def reading(self, columns):
        reads.append(set(columns))
        return read(self, columns)

    def taking(self, positions, columns):
        takes.append((len(positions), len(self), set(columns)))
        return take(self, positions, columns)

    monkeypatch.setattr(AnnotatedParts, "read", reading)
    monkeypatch.setattr(AnnotatedParts, "take", taking)
    monkeypatch.setattr(AnnotatedParts, "scatter", scattering)
    monkeypatch.setattr(AnnotatedParts, "read_spill", staticmethod(reading_spill))
    filtered = []
    filter_parquet = build_module.filter_parquet
    monkeypatch.setattr(build_module, "filter_parquet", lambda paths, *a: filtered.append(len(paths)) or
                        filter_parquet(paths, *a))
    (result,) = build(sample_config(tmp_path / "out", cache_dir=str(tmp_path / "cache"), shard_rows=6,
                                    flip_frac=0.0))
    # The filters run in DuckDB on the parts (one query per source); no whole-source column is read wide.
    assert len(filtered) == 3 and all(columns <= set(NARROW_COLUMNS) | set(PROBE_COLUMNS) for columns in reads)
    # The write stage reads each source's parts once, then one shard file's rows at a time.
    assert sorted(scatters) == sorted(set(scatters)) and len(scatters) == 3
    assert len(spilled) > 3 and all(0 < n <= 6 for n in spilled) and sum(spilled) == sum(
        s["rows"] for s in result.manifest["shards"] if s["role"] != "pairs")
    assert not [n for n, total, columns in takes if "dedup_key" in columns]
    assert result.manifest["counts"]["train"] > 6
