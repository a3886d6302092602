"""LF identity from declared resources (no closure reading), the rationale's negated cues, and the layer rule."""
from __future__ import annotations

import ast
from pathlib import Path

from snorkel.labeling import labeling_function

from emodata.annotate import annotate_texts, lf_set_describe
from labeling_functions.core import DeclaredLF, declared_lf, lf_identity
from labeling_functions.emotion import emoji_lf, emotion_lfs, keyword_lf

ROOT = Path(__file__).resolve().parents[1]


def test_identity_follows_declared_resources_and_is_stable():
    a, b = keyword_lf("joy", ["happy"]), keyword_lf("joy", ["happy", "glad"])
    assert isinstance(a, DeclaredLF) and "pattern" in a.resources
    assert lf_identity(a) != lf_identity(b)
    assert lf_identity(emoji_lf("joy", [":)", ":D"])) == lf_identity(emoji_lf("joy", [":D", ":)"]))
    assert lf_set_describe(emotion_lfs())["sha1"] == lf_set_describe(emotion_lfs())["sha1"]
    assert lf_set_describe(emotion_lfs())["sha1"] != lf_set_describe(emotion_lfs(negation=False))["sha1"]


def test_declared_lf_passes_its_resources_like_snorkel():
    @declared_lf("long_text", limit=3)
    def long_text(x, limit: int) -> int:
        return 1 if len(x.lower) > limit else -1

    rows = annotate_texts(["a b c d e", "a b"])
    assert [long_text(r) for r in rows.itertuples()] == [1, -1]
    assert lf_identity(long_text)["resources"] == {"limit": "3"}

    @labeling_function(name="plain")
    def plain(x) -> int:  # a plain Snorkel LF is identified by its name and the LF package's source
        return -1

    assert lf_identity(plain) == {"name": "plain", "module": "labeling_functions", "resources": {}}


def test_rationale_cites_a_negated_cue_as_negated():
    rows = annotate_texts(["I am not happy.", "I am happy."])
    assert rows["rationale"].tolist() == ["negative tone from not 'happy'", "positive tone from 'happy'"]


def test_labeling_functions_import_no_pipeline_module():
    """labeling_functions imports only emodata.core, emodata.text and catalog from this repository."""
    for path in (ROOT / "labeling_functions").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module] if isinstance(node, ast.ImportFrom) and node.module else [])
            for name in names:
                if name.startswith("emodata"):
                    assert name.startswith(("emodata.core", "emodata.text")), f"{path}: imports {name}"
