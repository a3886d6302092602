"""The `tfidf-lr` screening floor of `emodata screen`: labeling_functions' TF-IDF + logistic-regression
end model fit on a build's train labels, with a ridge regression on the same features for VAD, writing
one SFT-contract answer per row (labels, VAD clipped to [0, 1], a fixed short rationale).

The trainer may not import the pipeline or `labeling_functions.end_model`, so `emodata/cli.py` passes
`tfidf_lr_answers` into the trainer's screen command, and `trainer.screen.baseline_metrics` scores the
answers with the evaluator's own definitions, like any generated text.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from emodata.core.contract import serialize_target

BASELINE_RATIONALE = "tfidf-lr baseline"


def tfidf_lr_answers(train: Sequence[dict], rows: Sequence[dict], labels: Sequence[str], seed: int) -> list[str]:
    """One contract answer per record of `rows`, from models fit on the `train` records' `labels` and
    `vad` (the neural candidates' targets; a seeded sample of at most the end model's `max_rows`)."""
    from sklearn.linear_model import Ridge
    from threadpoolctl import threadpool_limits

    from labeling_functions.end_model import fit_end_models, sample_rows

    texts = [r["text"] for r in train]
    model = fit_end_models(texts, {"labels": [r["labels"] for r in train]}, list(labels), seed)["labels"]
    chosen = sample_rows(len(train), model.settings["max_rows"], seed)
    with threadpool_limits(1):
        ridge = Ridge(alpha=1.0).fit(model.features([texts[i] for i in chosen]),
                                     np.array([[train[i]["vad"][k] for k in "vad"] for i in chosen]))
    features = model.features([r["text"] for r in rows])
    with threadpool_limits(1):
        vads = np.clip(ridge.predict(features), 0.0, 1.0)
    return [serialize_target(names, dict(zip("vad", (float(x) for x in vad))), BASELINE_RATIONALE)
            for names, vad in zip(model.predict_sets([r["text"] for r in rows], features), vads)]
