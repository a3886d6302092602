"""The end model of weak supervision: TF-IDF + logistic regression trained on label sets.

A weak-supervision library is judged by the model its labels train (Ratner et al., Snorkel, 2017):
`fit_end_model` trains a fast, deterministic text classifier on any label sets (the weak labels of
the train rows, or, for comparison, their gold labels), and `EndModel.predict_sets` reads label sets
back. The model:

- features: TF-IDF of word 1–2-grams (sublinear tf, `min_df` 2, at most `max_features`) beside
  TF-IDF of character 2–5-grams within word boundaries (`min_df` 3, at most `char_max_features`;
  they read misspellings, elongations and emoticons), fit on the training texts only;
- classifier: one multinomial logistic regression (lbfgs, `class_weight="balanced"`, so rare
  emotions are not drowned by neutral/joy) over a row's primary label; a multi-label row
  contributes one training example per label (weight 1/|labels|);
- read-out: the top class plus every class with probability ≥ `rel` × the top one (at most
  `max_labels`), the same read-out rule as the weak labels;
- training rows: at most `max_rows`, a seeded sample (recorded in the manifest), so its cost stays
  bounded on any build; BLAS runs on one thread (byte-stable figures). `fit_end_models` fits the
  weak- and the gold-label model on the same sample with one shared vectorizer (one TF-IDF matrix),
  so each scored text is vectorised once; `fit_and_vectorise` also returns the features of the texts to
  score, from the same vectorizer.

Rows without a label (every LF abstained) are left out of training: an empty weak set is no
evidence. Nothing here reads gold unless gold is what it is asked to fit.

Inputs (`model_inputs`): the model reads what the weak labeler read, a row's text and, where the row has
one, its context text (an EmpatheticDialogues situation, whose LF votes count in the row's weak label),
as "context | text". Trained on text alone, the model must learn situation-driven labels from turns
that do not show them ("Oh no, what happened?" labelled afraid by its situation): in the real 20:80 mix
its GoEmotions dev score fell to 0.428 against 0.498 when it reads the situation too (benchmarks/RESULTS.md).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from labeling_functions.label_sets import sets_of

#: TF-IDF + LR settings, recorded in the manifest; chosen on GoEmotions train → dev (benchmarks/RESULTS.md:
#: word + char n-grams 0.487 vs word only 0.456 on weak labels; C 1 vs 0.5/2/4; read-out 2 labels at 0.5).
DEFAULTS = {"ngram_max": 2, "min_df": 2, "max_features": 60000, "char_ngrams": [2, 5], "char_min_df": 3,
            "char_max_features": 100000, "C": 1.0, "rel": 0.5, "max_labels": 2, "max_rows": 20000, "max_iter": 300,
            "max_eval_rows": 20000}


#: Between a row's context and its text in the end model's input.
CONTEXT_SEPARATOR = " | "


def model_inputs(texts: Sequence[str], contexts: Sequence[object] | None = None) -> list[str]:
    """The end model's input per row: "context | text" where the row has a non-empty context string
    (e.g. an EmpatheticDialogues situation), else the text."""
    if contexts is None:
        return list(texts)
    if len(contexts) != len(texts):
        raise ValueError(f"model_inputs: {len(texts)} texts but {len(contexts)} contexts")
    return [f"{c.strip()}{CONTEXT_SEPARATOR}{t}" if isinstance(c, str) and c.strip() else t
            for t, c in zip(texts, contexts)]


@dataclass
class EndModel:
    """A fitted TF-IDF + LR classifier over a label space."""

    names: list[str]
    vectorizer: object
    classifier: object
    settings: dict
    trained_rows: int
    info: dict = field(default_factory=dict)

    def features(self, texts: Sequence[str]):
        """The TF-IDF matrix of `texts` (models sharing a vectorizer can share it)."""
        from threadpoolctl import threadpool_limits

        with threadpool_limits(1):
            return self.vectorizer.transform(list(texts))

    def predict_proba(self, texts: Sequence[str], features=None) -> np.ndarray:
        """Class probabilities (rows × names); classes never seen in training get 0."""
        from threadpoolctl import threadpool_limits

        out = np.zeros((len(texts), len(self.names)))
        if not len(texts):
            return out
        features = self.features(texts) if features is None else features
        with threadpool_limits(1):
            probs = self.classifier.predict_proba(features)
        out[:, self.classifier.classes_] = probs
        return out

    def predict_sets(self, texts: Sequence[str], features=None) -> list[list[str]]:
        """Label sets: the top class and close runners-up (≥ rel × top, at most max_labels)."""
        return read_sets(self.predict_proba(texts, features), self.names, self.settings["rel"],
                         self.settings["max_labels"])


@dataclass(frozen=True)
class EvalSplit:
    """A labelled split the end-model check scores: the model inputs, gold and weak label sets per row."""

    inputs: list[str]
    gold: list[list[str]]
    weak: list[list[str]]


@dataclass(frozen=True)
class EndModelTask:
    """Everything the end-model check reads, as plain lists (so it can run in another process)."""

    train_inputs: list[str]
    targets: dict[str, list[list[str]]]  # "weak" / "gold" label sets of the train rows
    names: list[str]
    splits: dict[str, EvalSplit]
    seed: int
    max_eval_rows: int


def end_model_check(task: EndModelTask) -> dict:
    """Fit one end model per target on the task's train rows and score it, beside the weak labels, on each
    split (Macro-F1 over the gold labels present). `ratio` = end model on weak labels / the same model on
    gold (the share of supervised quality the weak labels buy). Nothing time-dependent is returned, so the
    manifest stays byte-stable. Each distinct scored input is vectorised once, while the models are fit."""
    from labeling_functions.label_sets import score_sets

    distinct = list(dict.fromkeys(x for split in task.splits.values() for x in split.inputs))
    position = {text: i for i, text in enumerate(distinct)}
    models, features = fit_and_vectorise(task.train_inputs, task.targets, task.names, task.seed, distinct)
    check = {"space": "ekman", "model": "tfidf-lr",
             "trained_on": "train rows of the mix (weak: the rows with an LF vote)",
             "inputs": "text, after the row's situation where it has one",
             "models": {k: {"settings": m.settings, "trained_rows": m.trained_rows, **m.info} for k, m in models.items()},
             "splits": {}, "max_eval_rows": task.max_eval_rows}
    for name, split in task.splits.items():
        entry = {"weak_labels": _rounded(score_sets(split.weak, split.gold))}
        part = features[[position[x] for x in split.inputs]] if models else None
        for key, model in models.items():
            entry[f"end_model_{key}"] = _rounded(score_sets(model.predict_sets(split.inputs, part), split.gold))
        if {"end_model_weak", "end_model_gold"} <= set(entry) and entry["end_model_gold"]["macro_f1"]:
            entry["ratio"] = round(entry["end_model_weak"]["macro_f1"] / entry["end_model_gold"]["macro_f1"], 6)
        check["splits"][name] = entry
    return check


def _rounded(scores: dict) -> dict:
    keys = ("macro_f1", "macro_f1_emotions", "macro_p", "macro_r", "coverage", "n", "n_unscored")
    return {k: (round(scores[k], 6) if isinstance(scores[k], float) else scores[k]) for k in keys}


def read_sets(probs: np.ndarray, names: Sequence[str], rel: float, max_labels: int) -> list[list[str]]:
    """The top class of each row plus classes with p ≥ rel × top (at most `max_labels`), in `names` order."""
    if not len(probs):
        return []
    order = np.argsort(-probs, axis=1, kind="stable")[:, :max_labels]
    keep = np.zeros(probs.shape, dtype=bool)
    np.put_along_axis(keep, order, True, axis=1)
    keep &= (probs > 0) & (probs >= rel * probs.max(axis=1, keepdims=True))
    return sets_of(keep, names)


def sample_rows(n: int, max_rows: int, seed: int) -> np.ndarray:
    """Row indices of a seeded sample of at most `max_rows` of `n` rows (sorted; all rows when n ≤ max)."""
    if n <= max_rows:
        return np.arange(n)
    return np.sort(np.random.default_rng([seed, 7]).choice(n, size=max_rows, replace=False))


def make_vectorizer(settings: dict):
    """The TF-IDF featurizer of `settings`: word n-grams, plus char n-grams unless `char_ngrams` is None."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    words = TfidfVectorizer(ngram_range=(1, settings["ngram_max"]), min_df=settings["min_df"],
                            max_features=settings["max_features"], sublinear_tf=True, lowercase=True, dtype=np.float64)
    if not settings.get("char_ngrams"):
        return words
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=tuple(settings["char_ngrams"]),
                            min_df=settings["char_min_df"], max_features=settings["char_max_features"],
                            sublinear_tf=True, lowercase=True, dtype=np.float64)
    return FeatureUnion([("words", words), ("chars", chars)])


def fit_end_models(texts: Sequence[str], targets: dict[str, Sequence[Sequence[str]]], names: Sequence[str],
                   seed: int, **overrides) -> dict[str, EndModel]:
    """One end model per target (e.g. weak and gold label sets of the same rows), sharing one TF-IDF
    vectorizer fit on a seeded sample of at most `max_rows` rows; each model trains on the sampled
    rows that have a label in `names` (see the module doc). Targets with fewer than two classes get none."""
    return fit_and_vectorise(texts, targets, names, seed, (), **overrides)[0]


def fit_and_vectorise(texts: Sequence[str], targets: dict[str, Sequence[Sequence[str]]], names: Sequence[str],
                      seed: int, score_texts: Sequence[str], **overrides) -> tuple[dict[str, EndModel], object]:
    """(`fit_end_models(texts, targets, names, seed)`, the shared vectorizer's features of `score_texts`, or
    None when there are none), the same models and features as fitting first and vectorising after.

    One after another, each single-threaded: fitting the classifiers in threads beside the vectoriser
    gave the same models but no wall-time gain on the idle 2-core box (end-model stage 22.1-23.2 s vs
    21.9 s sequential) and ~550 MiB more peak memory (benchmarks/RESULTS.md, stop 23)."""
    from threadpoolctl import threadpool_limits

    settings = {**DEFAULTS, **overrides}
    names = list(names)
    chosen = sample_rows(len(texts), settings["max_rows"], seed)
    vectorizer = make_vectorizer(settings)
    with threadpool_limits(1):
        features = vectorizer.fit_transform([texts[i] for i in chosen])
        fits = {key: _fit_classifier(features, [label_sets[i] for i in chosen], names, seed, settings)
                for key, label_sets in targets.items()}
        scored = vectorizer.transform(list(score_texts)) if len(score_texts) else None
    models = {}
    for key, fitted in fits.items():
        if fitted is not None:
            classifier, trained = fitted
            label_sets = targets[key]
            labelled = sum(any(x in names for x in s) for s in label_sets)
            models[key] = EndModel(names, vectorizer, classifier, settings, trained,
                                   {"rows_with_label": labelled, "rows_offered": len(label_sets)})
    return models, scored


def fit_end_model(texts: Sequence[str], label_sets: Sequence[Sequence[str]], names: Sequence[str], seed: int,
                  **overrides) -> EndModel:
    """Fit TF-IDF + multinomial LR on the rows of `label_sets` that have a label (see the module doc);
    the sample is drawn from the labelled rows."""
    labelled = [i for i, labels in enumerate(label_sets) if any(x in names for x in labels)]
    models = fit_end_models([texts[i] for i in labelled], {"model": [label_sets[i] for i in labelled]}, names, seed,
                            **overrides)
    if "model" not in models:
        raise ValueError("an end model needs rows of at least two classes")
    model = models["model"]
    model.info = {"rows_with_label": len(labelled), "rows_offered": len(label_sets)}
    return model


def _fit_classifier(features, label_sets: Sequence[Sequence[str]], names: list[str], seed: int,
                    settings: dict):
    """(multinomial LR over the rows' labels, rows used), or None with fewer than two classes."""
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    index = {name: i for i, name in enumerate(names)}
    rows, y, weights = [], [], []
    for i, label_set in enumerate(label_sets):
        labels = [index[x] for x in label_set if x in index]
        for k in labels:
            rows.append(i)
            y.append(k)
            weights.append(1.0 / len(labels))
    if len(set(y)) < 2:
        return None
    classifier = LogisticRegression(C=settings["C"], solver="lbfgs", max_iter=settings["max_iter"],
                                    class_weight="balanced", random_state=seed)
    with threadpool_limits(1):
        classifier.fit(features[rows], np.asarray(y), sample_weight=np.asarray(weights))
    return classifier, len(set(rows))
