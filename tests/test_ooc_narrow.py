"""The narrow rows the client holds for the whole build are compact (issue #18): the kept rows of a source
are its split (categorical), its text key as 20 bytes, `_pos` and `_src`; the draw reads the pool's ids
only while drawing; test and probe rows keep only `_pos` and `_src`. Same selection as on the strings."""
from __future__ import annotations

import hashlib

import numpy as np
import pyarrow as pa
import pytest

import emodata.build as build_module
from emodata.build import build
from emodata.mix import key_bytes, select_and_split
from emodata.stages import DRAW_COLUMNS, DRAWN_COLUMNS, ORIGIN, POSITION

from tests.conftest import sample_config


def _hex(i: int) -> str:
    return hashlib.sha1(str(i).encode()).hexdigest()


def test_key_bytes_keeps_equality_of_the_hex_keys_in_20_bytes():
    keys = [_hex(i % 7) for i in range(30)]
    chunked = pa.chunked_array([pa.array(keys[:11]), pa.array(keys[11:])]).slice(3)
    compact = key_bytes(chunked, "x")
    assert [b.hex() for b in compact.tolist()] == keys[3:]
    assert compact.duplicated().tolist() == [k in keys[3:3 + i] for i, k in enumerate(keys[3:])]
    assert compact.isin(compact.iloc[:2]).tolist() == [k in keys[3:5] for k in keys[3:]]
    assert compact.memory_usage(deep=True, index=False) <= 20 * len(compact) + 64
    assert len(key_bytes(pa.array([], pa.string()), "x")) == 0


@pytest.mark.parametrize("bad, row", [([_hex(1), "zz" * 20], 1), ([_hex(1), _hex(2), "abc"], 2), ([None], 0)])
def test_key_bytes_refuses_a_key_that_is_no_sha1_hex_naming_its_row(bad, row):
    with pytest.raises(ValueError, match=f"goemotions parts row {row}: text_key .* is not a SHA-1 hex digest"):
        key_bytes(pa.array(bad, pa.string()), "goemotions parts")


def test_the_build_holds_compact_narrow_rows_and_draws_as_on_the_strings(tmp_path, monkeypatch):
    seen = {}
    select = build_module.select

    def recording(ctx):
        seen["kept"] = {name: prep.kept for name, prep in ctx.prepared.items()}
        select(ctx)
        seen["ctx"] = ctx

    monkeypatch.setattr(build_module, "select", recording)
    build(sample_config(tmp_path / "out", cache_dir=str(tmp_path / "cache")))
    ctx, kept_of = seen["ctx"], seen["kept"]
    for name, prep in ctx.prepared.items():
        kept = kept_of[name]
        assert prep.kept is None and prep.rows_kept == len(kept)  # the build's only mix released them
        assert list(kept.columns) == ["source_split", "text_key", POSITION, ORIGIN]
        assert str(kept["source_split"].dtype) == "category" and str(kept[ORIGIN].dtype) == "category"
        assert str(kept["text_key"].dtype) == "fixed_size_binary[20][pyarrow]" and kept[POSITION].dtype == np.int64
        assert kept.memory_usage(deep=True, index=False).sum() <= 40 * len(kept) + 4096
    assert all(list(f.columns) == [POSITION, ORIGIN] for f in [*ctx.tests.values(), ctx.probe])
    assert all(list(f.columns) == list(DRAWN_COLUMNS) for f in ctx.drawn.values())
    # the same draw as on the full string columns read back from the parts
    a, b = ctx.roles.a, ctx.roles.b
    strings = {name: ctx.prepared[name].parts.take(kept_of[name][POSITION].to_numpy(),
                                                  [*DRAW_COLUMNS, "source_split", "text_key"])
               .assign(**{POSITION: kept_of[name][POSITION].to_numpy()}) for name in (a, b)}
    pool_b = strings[b][(strings[b]["source_split"] != "test") & ~strings[b]["text_key"].isin(strings[a]["text_key"])]
    pool_a = strings[a][strings[a]["source_split"] != "test"]
    for name, pool, n in ((a, pool_a, ctx.n_a), (b, pool_b, ctx.n_b)):
        expected = select_and_split(pool, n, ctx.config.dev_frac, ctx.config.seed, name)
        drawn = ctx.drawn[name]
        for column in (POSITION, "id", "split", "perm_rank"):
            assert drawn[column].tolist() == expected[column].tolist()
