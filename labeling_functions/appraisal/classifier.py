"""The appraisal classifier trained on human ratings (enISEAR majority, Hofmann et al. 2020).

Features (chosen by 5-fold stratified CV ROC-AUC on the shared enISEAR data, benchmarks/RESULTS.md,
issue 17): TF-IDF of word 1–2-grams over the lower-cased token string beside TF-IDF of char_wb
2–5-grams, both sublinear and min_df 2. Negation marking (`NEG_` on the scope tokens of
`emodata.text.negation.resolve`, method `NEG_METHOD`) is supported but off: no scope method (window,
crf, punct) nor the former own 3-token rule beat no marking beyond fold noise
(benchmarks/bench_appraisal_negation.py), and crf marking costs ~3 ms a text. one class-balanced L2 logistic regression (liblinear, C=1) per enISEAR
dimension, Platt-calibrated on the CV folds' decision values (sklearn `CalibratedClassifierCV`,
sigmoid, ensemble=False). The weak prototype/LF signal is not a feature: it was below the text model
on every dimension (RESULTS.md).

Atoms (`ATOMS`, columns of `score_texts`, and all of them fields of the record's `appraisal` struct,
`emodata.core.schema.APPRAISAL_TYPE`): the seven rated ones (`ENISEAR_MAP`) and four derived ones
with no human rating (`DERIVED`), stated here and in the artifact's JSON:
- goal_attainment = P(pleasant) (goal-conducive events are the pleasant ones in enISEAR's design);
- other_responsibility = (1 − P(responsibility)) · (1 − P(circumstance)): neither oneself nor the
  situation, so another agent;
- fairness = 1 − (1 − P(pleasant)) · other_responsibility: unfair = unpleasant and caused by another;
- suddenness = P(attention) (the novelty check; enISEAR has no suddenness rating).

The artifact is `appraisal_classifier.npz` (vocabularies, idf, weights, Platt a/b; no pickles) +
`appraisal_classifier.json` (version, mapping, features, CV metrics, training-data SHA-1).
"""
from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from emodata.core.errors import EmodataError
from emodata.core.hashing import sha1_file
from emodata.text.negation import resolve

from labeling_functions.appraisal.enisear import ENISEAR_DIMENSIONS
from labeling_functions.appraisal.npzfile import write_npz
from labeling_functions.appraisal.tfidf import CharGrams, transform

VERSION = "2"
ARTIFACT = Path(__file__).with_name("appraisal_classifier.npz")
METADATA = ARTIFACT.with_suffix(".json")

#: enISEAR dimension (exactly as in the TSV header) → atom column of `score_texts`.
ENISEAR_MAP: dict[str, str] = {"Attention": "attention", "Certainty": "certainty", "Effort": "effort",
                               "Pleasant": "pleasantness", "Responsibility": "self_responsibility",
                               "Control": "controllability", "Circumstance": "circumstance"}
#: Atoms without a human rating → how `derive_atoms` computes them from the rated ones.
DERIVED: dict[str, str] = {
    "goal_attainment": "P(pleasantness)",
    "other_responsibility": "(1 - P(self_responsibility)) * (1 - P(circumstance))",
    "fairness": "1 - (1 - P(pleasantness)) * other_responsibility",
    "suddenness": "P(attention)",
}
RATED: tuple[str, ...] = tuple(ENISEAR_MAP[d] for d in ENISEAR_DIMENSIONS)
ATOMS: tuple[str, ...] = RATED + tuple(DERIVED)

WORD = {"ngram_range": (1, 2), "min_df": 2, "sublinear_tf": True, "token_pattern": r"\S+", "lowercase": False}
CHAR = {"analyzer": "char_wb", "ngram_range": (2, 5), "min_df": 2, "sublinear_tf": True, "lowercase": False}
#: Negation scope method of `emodata.text.negation.resolve` behind the `NEG_` marks; None = no marking
#: (chosen by CV AUC, benchmarks/bench_appraisal_negation.py: none 0.8075, crf 0.8061, window 0.8058).
NEG_METHOD: str | None = None
NEG_PREFIX = "NEG_"
_TOKEN = re.compile(r"[a-z0-9']+|[.,;:!?]")
_PUNCT = frozenset(".,;:!?")
#: Texts featurised at once by `decision` (row-wise, so the chunk size never changes a score).
CHUNK = 8192
_PLACEHOLDER = re.compile(r"\bi felt \.\.\.")


def tokenize(text: str) -> list[str]:
    """Lower-cased word and punctuation tokens (enISEAR's `I felt ...` placeholder removed, n't → not)."""
    return _TOKEN.findall(_PLACEHOLDER.sub(" ", text.lower()).replace("n't", " not"))


def normalise(text: str, method: str | None = NEG_METHOD) -> str:
    """The word-feature string: tokens of `text` without punctuation, those inside a negation scope of
    `resolve(tokens, method=method)` prefixed `NEG_` (cues themselves unmarked)."""
    words = tokenize(text)
    scoped: set[int] = set()
    if method is not None and any(w not in _PUNCT for w in words):
        scoped = {j for neg in resolve(words, method=method) for j in neg.scope}
    return " ".join(NEG_PREFIX + w if i in scoped else w for i, w in enumerate(words) if w not in _PUNCT)


def make_vectorizers() -> tuple[TfidfVectorizer, TfidfVectorizer]:
    """Fresh (word, char) TF-IDF vectorizers of the chosen feature set."""
    return TfidfVectorizer(**WORD), TfidfVectorizer(**CHAR)


def featurize(vectorizers: Sequence[TfidfVectorizer], docs: Sequence[str], fit: bool = False) -> sp.csr_matrix:
    """Stacked TF-IDF features of normalised `docs` (fit the vectorizers first when `fit`)."""
    mats = [v.fit_transform(docs) if fit else v.transform(docs) for v in vectorizers]
    return sp.hstack(mats, format="csr")


def derive_atoms(rated: pd.DataFrame) -> pd.DataFrame:
    """`rated` (the seven rated atoms) plus the `DERIVED` atoms, columns in `ATOMS` order."""
    out = rated.copy()
    pleasant = out["pleasantness"]
    out["goal_attainment"] = pleasant
    out["other_responsibility"] = (1.0 - out["self_responsibility"]) * (1.0 - out["circumstance"])
    out["fairness"] = 1.0 - (1.0 - pleasant) * out["other_responsibility"]
    out["suddenness"] = out["attention"]
    return out[list(ATOMS)].clip(0.0, 1.0)


@dataclass
class AppraisalClassifier:
    """Fitted vectorizers, per-dimension weights (F × 7), intercepts and Platt parameters (P = σ(−(a f + b)))."""

    vectorizers: tuple[TfidfVectorizer, TfidfVectorizer]
    coef: np.ndarray
    intercept: np.ndarray
    platt_a: np.ndarray
    platt_b: np.ndarray
    metadata: dict[str, Any]
    _char_grams: CharGrams | None = field(default=None, init=False, repr=False, compare=False)

    def decision(self, texts: Sequence[str]) -> np.ndarray:
        """Uncalibrated decision values, n × 7 (columns `RATED`); the features are `featurize`'s, computed
        by the faster equal transform of labeling_functions/appraisal/tfidf.py."""
        if self._char_grams is None:
            self._char_grams = CharGrams(self.vectorizers[1])
        docs = [normalise(t) for t in texts]
        parts = [np.asarray(transform(docs[i:i + CHUNK], self.vectorizers[0], self._char_grams,
                                      self.vectorizers[1].idf_) @ self.coef) for i in range(0, len(docs), CHUNK)]
        return (np.concatenate(parts) if parts else np.zeros((0, len(RATED)))) + self.intercept

    def score(self, texts: Sequence[str]) -> pd.DataFrame:
        """Calibrated P(high) per atom (`ATOMS` columns), one row per text."""
        if len(texts) == 0:
            return pd.DataFrame(np.zeros((0, len(ATOMS))), columns=list(ATOMS))
        f = self.decision(texts)
        p = 1.0 / (1.0 + np.exp(self.platt_a * f + self.platt_b))
        return derive_atoms(pd.DataFrame(p, columns=list(RATED)))

    def arrays(self) -> dict[str, np.ndarray]:
        """The artifact's arrays (strings as unicode arrays, numbers as float64)."""
        word, char = self.vectorizers
        return {"word_vocab": _vocab(word), "word_idf": word.idf_.astype(np.float64),
                "char_vocab": _vocab(char), "char_idf": char.idf_.astype(np.float64),
                "coef": self.coef.astype(np.float64), "intercept": self.intercept.astype(np.float64),
                "platt_a": self.platt_a.astype(np.float64), "platt_b": self.platt_b.astype(np.float64),
                "dimensions": np.array(ENISEAR_DIMENSIONS, dtype=str)}

    def save(self, npz: str | Path = ARTIFACT, meta: str | Path | None = None) -> tuple[Path, Path]:
        """Write the .npz and its JSON metadata (byte-identical for the same model)."""
        npz = Path(npz)
        meta = Path(meta) if meta is not None else npz.with_suffix(".json")
        write_npz(npz, self.arrays())
        meta.write_text(json.dumps(self.metadata, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        return npz, meta


def _vocab(vectorizer: TfidfVectorizer) -> np.ndarray:
    terms = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.__getitem__)
    return np.array(terms, dtype=str)


def _restore(params: dict, vocab: np.ndarray, idf: np.ndarray) -> TfidfVectorizer:
    vectorizer = TfidfVectorizer(**params, vocabulary={t: i for i, t in enumerate(vocab.tolist())})
    vectorizer.idf_ = idf
    return vectorizer


def load_classifier(npz: str | Path = ARTIFACT, meta: str | Path | None = None) -> AppraisalClassifier:
    """Read an artifact written by `AppraisalClassifier.save` (no pickles); a bad file names itself."""
    npz = Path(npz)
    meta = Path(meta) if meta is not None else npz.with_suffix(".json")
    try:
        with np.load(npz, allow_pickle=False) as data:
            a = {k: data[k] for k in data.files}
        metadata = json.loads(meta.read_text(encoding="utf-8"))
        vectorizers = (_restore(WORD, a["word_vocab"], a["word_idf"]), _restore(CHAR, a["char_vocab"], a["char_idf"]))
        n = len(a["word_vocab"]) + len(a["char_vocab"])
        if a["coef"].shape != (n, len(RATED)) or tuple(a["dimensions"].tolist()) != ENISEAR_DIMENSIONS:
            raise ValueError(f"coef shape {a['coef'].shape} or dimensions do not match the vocabularies")
    except (OSError, ValueError, KeyError) as exc:
        raise EmodataError(f"{npz}: cannot read the appraisal classifier artifact ({exc})") from exc
    return AppraisalClassifier(vectorizers, a["coef"], a["intercept"], a["platt_a"], a["platt_b"], metadata)


@functools.lru_cache(maxsize=1)
def shipped_classifier() -> AppraisalClassifier:
    """The classifier shipped with the package (loaded once per process)."""
    return load_classifier(ARTIFACT, METADATA)


def classifier_description() -> dict[str, Any]:
    """The shipped artifact for manifests: path in the package, SHA-1 of .npz and JSON, version, mapping,
    derived atoms and the cross-validated ROC-AUC per enISEAR dimension (from its metadata)."""
    meta = shipped_classifier().metadata
    return {"name": "appraisal_classifier", "path": f"labeling_functions/appraisal/{ARTIFACT.name}",
            "sha1": sha1_file(ARTIFACT), "metadata_sha1": sha1_file(METADATA), "version": meta["version"],
            "enisear_map": meta["enisear_map"], "derived": meta["derived"], "training": meta["training"],
            "cv_auc": {d: {k: m[k] for k in ("atom", "mean", "std")} for d, m in meta["cv_auc"].items()},
            "cv_auc_mean": meta["cv_auc_mean"], "cv_auc_min": meta["cv_auc_min"]}


#: P(high) per atom of texts already scored in this process. A build scores every row twice (the
#: appraisal stage, for the verifier and the summary; the write stage, per shard file); each row's scores
#: depend on its text alone, so the second pass reads them from here. Cleared when it would pass the cap.
_SCORED: dict[str, np.ndarray] = {}
_SCORED_CAP = 500_000


def score_texts(texts: Sequence[str]) -> pd.DataFrame:
    """Calibrated P(high) in [0, 1] of every atom (`ATOMS` columns), one row per text, by the shipped model
    (texts scored before in this process are read from a memo: the same numbers, bit for bit)."""
    texts = [str(t) for t in texts]
    new = list(dict.fromkeys(t for t in texts if t not in _SCORED))
    if new:
        if len(_SCORED) + len(new) > _SCORED_CAP:
            _SCORED.clear()
            new = list(dict.fromkeys(texts))  # the texts read from the memo were just dropped with it
        scored = shipped_classifier().score(new)[list(ATOMS)].to_numpy(dtype=np.float64)
        _SCORED.update(zip(new, scored))
    values = np.array([_SCORED[t] for t in texts], dtype=np.float64).reshape(len(texts), len(ATOMS))
    return pd.DataFrame(values, columns=list(ATOMS))
