"""The real-corpus build (../shared/data): ratios, dev fraction, overlap, verify.

Three real mixes take 10-20 minutes on a 2-core machine, more than CI's whole budget allows, so this
module runs only when asked: `EMODATA_REAL_BUILD=1 python -m pytest tests/test_real_build.py`. It also
skips without the data. benchmarks/bench_build.py measures the same build.
"""
from __future__ import annotations

import pyarrow.parquet as pq
import pytest

import os

from emodata.build import build
from emodata.core.config import BuildConfig
from emodata.core.manifest import Manifest
from emodata.verify import verify

from tests.conftest import SHARED_DATA

pytestmark = [
    pytest.mark.skipif(not (SHARED_DATA / "goemotions" / "train.tsv").is_file(),
                       reason="../shared/data/goemotions is not present"),
    pytest.mark.skipif(os.environ.get("EMODATA_REAL_BUILD") != "1",
                       reason="the three real mixes take 10-20 min: set EMODATA_REAL_BUILD=1 to run them"),
]


@pytest.fixture(scope="module")
def real_build(tmp_path_factory):
    out = tmp_path_factory.mktemp("real")
    mixes = ["20:80", "50:50", "80:20"] if (SHARED_DATA / "empatheticdialogues").is_dir() else ["100:0"]
    return build(BuildConfig(mix=mixes, data_dir=str(SHARED_DATA), out=str(out), quiet=True))


def test_real_build_meets_the_acceptance_bounds(real_build):
    for result in real_build:
        m = Manifest.load(result.manifest_path)
        assert m.data["lexicon"]["name"] == "nrc-vad-v1" and m.data["thresholds"]["vad_conf_min"] == 0.75
        mix = m.data["mix"]
        assert abs(mix["rows_a"] / mix["rows"] - mix["share_a_requested"]) <= 0.005
        dev = m.data["counts"]["dev"]
        assert abs(dev / mix["rows"] - 0.05) <= 0.002
        ids, texts = {}, {}
        for role in ("train", "dev", "probe"):
            rows = [r for s in m.shards(role) for r in pq.read_table(m.shard_path(s), columns=["id", "text"]).to_pylist()]
            ids[role] = {r["id"] for r in rows}
            texts[role] = {" ".join(r["text"].split()).casefold() for r in rows}
        assert not ids["train"] & ids["dev"] and not texts["train"] & texts["dev"]
        assert not texts["probe"] & (texts["train"] | texts["dev"])
        assert m.data["counts"]["probe"] > 5000 if (SHARED_DATA / "dailydialog").is_dir() else True
        assert verify(result.manifest_path) == []
