"""The end model reads what the weak labeler read: a row's text after its situation (issue #16, item 2)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from emodata.weak import end_model_task, mix_end_model_check
from labeling_functions.emotion import FINE_LABELS
from labeling_functions.end_model import fit_end_model, model_inputs
from labeling_functions.weak_labels import fit_weak_labeler

SITUATIONS = {"fear": ["I was terrified of the storm at night", "A scary stranger followed me home in the dark"],
              "joy": ["I won the big prize and my family celebrated", "My best friend threw me a wonderful party"]}
TURNS = ["What happened next?", "Tell me more about it.", "Oh, really? And then?", "How did you handle that?"]


def test_model_inputs_put_the_context_before_the_text():
    assert model_inputs(["hi", "yo"]) == ["hi", "yo"]
    assert model_inputs(["hi", "yo", "ok"], ["A storm", None, "  "]) == ["A storm | hi", "yo", "ok"]
    with pytest.raises(ValueError, match="2 texts but 1 contexts"):
        model_inputs(["a", "b"], ["c"])


def _rows(prefix: str, copies: int) -> pd.DataFrame:
    """Dialogue turns whose text says nothing; their situation (and its LF votes) carries the emotion."""
    rows = []
    for label, situations in SITUATIONS.items():
        for s, situation in enumerate(situations):
            for c in range(copies):
                for t, turn in enumerate(TURNS):
                    rows.append({"id": f"{prefix}:{label}:{s}:{c}:{t}", "text": turn, "situation": situation,
                                 "labels": [label], "emotion_votes": [-1, -1],
                                 "situation_votes": [FINE_LABELS.index(label), -1]})
    return pd.DataFrame(rows)


def test_end_model_learns_what_only_the_situation_shows():
    train = _rows("t", 3)
    labels = train["labels"].tolist()
    on_text = fit_end_model(train["text"].tolist(), labels, ["fear", "joy"], seed=0, min_df=1, char_min_df=1)
    with_situation = fit_end_model(model_inputs(train["text"].tolist(), train["situation"].tolist()), labels,
                                   ["fear", "joy"], seed=0, min_df=1, char_min_df=1)
    dev = _rows("d", 1)
    gold = [x[0] for x in dev["labels"]]
    hits = [p == [g] for p, g in zip(with_situation.predict_sets(
        model_inputs(dev["text"].tolist(), dev["situation"].tolist())), gold)]
    blind = [p == [g] for p, g in zip(on_text.predict_sets(dev["text"].tolist()), gold)]
    assert np.mean(hits) == 1.0 and np.mean(blind) <= 0.5


def test_mix_check_feeds_the_situation_to_both_end_models():
    labeler = fit_weak_labeler(np.empty((0, 2), dtype=np.int64), FINE_LABELS, None, 0, "majority_vote")
    check = mix_end_model_check(_rows("t", 3), {"ed/dev": _rows("d", 1)}, labeler, 2, seed=0)
    assert check["inputs"].startswith("text, after the row's situation")
    entry = check["splits"]["ed/dev"]
    assert entry["weak_labels"]["macro_f1"] == 1.0
    assert entry["end_model_weak"]["macro_f1"] == 1.0 and entry["end_model_gold"]["macro_f1"] == 1.0


def test_the_build_hands_the_end_model_each_rows_situation(tmp_path, monkeypatch):
    """The label stage reads rows from the annotated parts by column: the situation must be among them, or
    the end model silently falls back to text only (it did once, after the out-of-core change)."""
    import emodata.label_stage as label_stage
    from emodata.build import build
    from tests.conftest import sample_config

    seen = []

    def capturing(train, labelled, labeler, n_lfs, seed):
        seen.append(train)
        return end_model_task(train, labelled, labeler, n_lfs, seed)

    monkeypatch.setattr(label_stage, "end_model_task", capturing)
    build(sample_config(tmp_path / "out", cache_dir=str(tmp_path / "cache"), flip_frac=0.0))
    (train,) = seen
    assert "situation" in train.columns
    assert train["situation"].map(lambda s: isinstance(s, str) and bool(s.strip())).sum() > 0
