"""One catalogue registry for everything chosen by name, and what a build records of it."""
from __future__ import annotations

import pytest

from emodata.core import registry
from emodata.core.errors import EmodataError
from emodata.core.manifest import Manifest


def test_choose_names_the_known_entries_when_a_name_is_unknown():
    import emodata.engines  # noqa: F401  (registers local and dask)

    assert callable(registry.choose(registry.engines, "local", "engine"))
    with pytest.raises(EmodataError, match=r"unknown engine 'spark'; known: dask, local"):
        registry.choose(registry.engines, "spark", "engine")


def test_a_registered_entry_can_be_replaced_and_removed():
    registry.scope_methods.register("test-only", func=(lambda words: [], lambda words, cue: ()))
    try:
        from emodata.text.negation import resolve

        assert resolve(["not", "good"], method="test-only") == []
        assert registry.describe(registry.scope_methods, "test-only")["name"] == "test-only"
    finally:
        registry.unregister(registry.scope_methods, "test-only")
    assert "test-only" not in registry.names(registry.scope_methods)
    with pytest.raises(ValueError, match="unknown negation method 'test-only'"):
        resolve(["not", "good"], method="test-only")


def test_a_registered_engine_runs_a_build_step(sample_build):
    from emodata.core.config import BuildConfig
    from emodata.engines import LocalEngine, engine_kind, open_engine

    registry.engines.register("mine", func=lambda config: LocalEngine())
    try:
        assert engine_kind("mine", 1, None) == "mine"
        assert isinstance(open_engine(BuildConfig(engine="mine")), LocalEngine)
    finally:
        registry.unregister(registry.engines, "mine")
    with pytest.raises(EmodataError, match="--engine must be one of dask, local, not 'mine'"):
        engine_kind("mine", 1, None)


def test_the_manifest_records_what_was_chosen_by_name(sample_build):
    chosen = Manifest.load(sample_build.manifest_path).registry
    config = Manifest.load(sample_build.manifest_path).config
    assert [e["name"] for e in chosen["sources"]] == ["dailydialog", "empatheticdialogues", "goemotions"]
    assert [e["name"] for e in chosen["lf_sets"]] == ["emotion", "appraisal"]
    assert chosen["aggregators"] == [{"name": config["label_model"], "version": chosen["aggregators"][0]["version"]}]
    assert chosen["scope_methods"][0]["name"] == config["negation_scope"]
