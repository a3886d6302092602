"""The end model of weak supervision: TF-IDF + logistic regression trained on label sets.

A weak-supervision library is judged by the model its labels train (Ratner et al., Snorkel, 2017):
`fit_end_model` trains a fast, deterministic text classifier on any label sets (the weak labels of
the train rows, or, for comparison, their gold labels), and `EndModel.predict_sets` reads label sets
back. The model:

- features: TF-IDF of word 1–2-grams (sublinear tf, `min_df` 2, at most `max_features`), fit on
  the training texts only;
- classifier: one multinomial logistic regression (lbfgs, `class_weight="balanced"`, so rare
  emotions are not drowned by neutral/joy) over a row's primary label; a multi-label row
  contributes one training example per label (weight 1/|labels|);
- read-out: the top class plus every class with probability ≥ `rel` × the top one (at most
  `max_labels`), the same read-out rule as the weak labels;
- training rows: at most `max_rows`, a seeded sample (recorded in `describe()`), so its cost stays
  bounded on any build; BLAS runs on one thread (byte-stable figures).

Rows without a label (every LF abstained) are left out of training: an empty weak set is no
evidence. Nothing here reads gold unless gold is what it is asked to fit.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

#: TF-IDF + LR settings, recorded in the manifest; chosen on GoEmotions train → dev (benchmarks/RESULTS.md).
DEFAULTS = {"ngram_max": 2, "min_df": 2, "max_features": 60000, "C": 2.0, "rel": 0.5, "max_labels": 2,
            "max_rows": 24000, "max_iter": 300}


@dataclass
class EndModel:
    """A fitted TF-IDF + LR classifier over a label space."""

    names: list[str]
    vectorizer: object
    classifier: object
    settings: dict
    trained_rows: int
    info: dict = field(default_factory=dict)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Class probabilities (rows × names); classes never seen in training get 0."""
        from threadpoolctl import threadpool_limits

        out = np.zeros((len(texts), len(self.names)))
        if not len(texts):
            return out
        with threadpool_limits(1):
            probs = self.classifier.predict_proba(self.vectorizer.transform(list(texts)))
        out[:, self.classifier.classes_] = probs
        return out

    def predict_sets(self, texts: Sequence[str]) -> list[list[str]]:
        """Label sets: the top class and close runners-up (≥ rel × top, at most max_labels)."""
        return read_sets(self.predict_proba(texts), self.names, self.settings["rel"], self.settings["max_labels"])


def read_sets(probs: np.ndarray, names: Sequence[str], rel: float, max_labels: int) -> list[list[str]]:
    """The top class of each row plus classes with p ≥ rel × top (at most `max_labels`), in `names` order."""
    out = []
    for row in probs:
        order = np.argsort(-row, kind="stable")[:max_labels]
        keep = {k for k in order if row[k] > 0 and row[k] >= rel * row[order[0]]}
        out.append([names[k] for k in sorted(keep)])
    return out


def sample_rows(n: int, max_rows: int, seed: int) -> np.ndarray:
    """Row indices of a seeded sample of at most `max_rows` of `n` rows (sorted; all rows when n ≤ max)."""
    if n <= max_rows:
        return np.arange(n)
    return np.sort(np.random.default_rng([seed, 7]).choice(n, size=max_rows, replace=False))


def fit_end_model(texts: Sequence[str], label_sets: Sequence[Sequence[str]], names: Sequence[str], seed: int,
                  **overrides) -> EndModel:
    """Fit TF-IDF + multinomial LR on the rows of `label_sets` that have a label (see the module doc)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    settings = {**DEFAULTS, **overrides}
    names = list(names)
    index = {name: i for i, name in enumerate(names)}
    labelled = [i for i, labels in enumerate(label_sets) if any(x in index for x in labels)]
    chosen = [labelled[i] for i in sample_rows(len(labelled), settings["max_rows"], seed)]
    rows, y, weights = [], [], []
    for i in chosen:
        labels = [index[x] for x in label_sets[i] if x in index]
        for k in labels:
            rows.append(i)
            y.append(k)
            weights.append(1.0 / len(labels))
    vectorizer = TfidfVectorizer(ngram_range=(1, settings["ngram_max"]), min_df=settings["min_df"],
                                 max_features=settings["max_features"], sublinear_tf=True, lowercase=True,
                                 dtype=np.float64)
    with threadpool_limits(1):
        vectorizer.fit([texts[i] for i in chosen])
        features = vectorizer.transform([texts[i] for i in rows])
        classifier = LogisticRegression(C=settings["C"], solver="lbfgs", max_iter=settings["max_iter"],
                                        class_weight="balanced", random_state=seed)
        classifier.fit(features, np.asarray(y), sample_weight=np.asarray(weights))
    return EndModel(names, vectorizer, classifier, settings, len(chosen),
                    {"rows_with_label": len(labelled), "rows_offered": len(label_sets)})
