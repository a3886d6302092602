"""Shared fixtures: a sample build made once per session, with its own cache folder."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from emodata.build import build
from emodata.core.config import BuildConfig

REPO = Path(__file__).resolve().parents[1]
# Real corpora for the tests that need them (skipped when absent); EMODATA_SHARED_DATA points elsewhere.
SHARED_DATA = Path(os.environ.get("EMODATA_SHARED_DATA") or REPO.parent / "shared" / "data")


@pytest.fixture(autouse=True, scope="session")
def _isolated_cache(tmp_path_factory):
    # Never write the user's ~/.cache from tests.
    mp = pytest.MonkeyPatch()
    mp.setenv("EMODATA_CACHE", str(tmp_path_factory.mktemp("emodata-cache")))
    yield
    mp.undo()


def sample_config(out: Path, **overrides) -> BuildConfig:
    """A quiet sample-corpus build config writing to `out`."""
    values = {"mix": ["20:80"], "sample": True, "out": str(out), "quiet": True}
    values.update(overrides)
    return BuildConfig(**values)


@pytest.fixture(scope="session")
def sample_build(tmp_path_factory):
    """The 20:80 sample build (shared; tests that modify files must copy it first)."""
    out = tmp_path_factory.mktemp("sample-build")
    (result,) = build(sample_config(out))
    return result


@pytest.fixture
def build_copy(sample_build, tmp_path):
    """A private copy of the sample build that a test may corrupt."""
    target = tmp_path / sample_build.root.name
    shutil.copytree(sample_build.root, target)
    return target / "manifests" / f"{sample_build.name}.json"


@pytest.fixture(scope="module")
def one_torch_thread():
    """Run a module's tiny-model tests on one torch thread: the model is overhead-bound and torch's
    spinning worker threads make it several times slower on a shared 2-core machine."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
