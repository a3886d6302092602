"""Train the appraisal classifier on enISEAR's majority ratings (`emodata appraisal train`).

Deterministic: seeded stratified folds, liblinear with a fixed random_state, one BLAS thread; the
same data and seed give a byte-identical artifact. The JSON metadata carries the cross-validated
ROC-AUC per dimension (5-fold stratified, seeded; mean, std and every fold), which the build copies
into its appraisal summary.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold
from threadpoolctl import threadpool_limits

from emodata.core.hashing import sha1_file

from labeling_functions.appraisal.classifier import (ATOMS, CHAR, DERIVED, ENISEAR_MAP, NEG_METHOD, NEG_PREFIX, VERSION, WORD,
                         AppraisalClassifier, featurize, make_vectorizers, normalise)
from labeling_functions.appraisal.enisear import ENISEAR_DIMENSIONS, EniSearData

C = 1.0
FOLDS = 5
SEED = 42


def _model(seed: int) -> LogisticRegression:
    return LogisticRegression(C=C, class_weight="balanced", solver="liblinear", max_iter=2000, random_state=seed)


def cross_validate(docs: list[str], ratings: np.ndarray, seed: int = SEED, folds: int = FOLDS) -> dict[str, Any]:
    """Per dimension the ROC-AUC of every stratified fold (vectorizers fit on the training folds only)."""
    out: dict[str, Any] = {}
    for j, dim in enumerate(ENISEAR_DIMENSIONS):
        y = ratings[:, j]
        aucs = []
        for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(docs, y):
            vecs = make_vectorizers()
            x_train = featurize(vecs, [docs[i] for i in train], fit=True)
            model = _model(seed).fit(x_train, y[train])
            scores = model.decision_function(featurize(vecs, [docs[i] for i in test]))
            aucs.append(float(roc_auc_score(y[test], scores)))
        out[dim] = {"atom": ENISEAR_MAP[dim], "mean": round(float(np.mean(aucs)), 4),
                    "std": round(float(np.std(aucs)), 4), "folds": [round(a, 4) for a in aucs],
                    "positives": int(y.sum()), "n": int(len(y))}
    return out


def data_sha1(data: EniSearData) -> str:
    """SHA-1 of the training file's bytes."""
    return sha1_file(data.path)


def train_classifier(data: EniSearData, seed: int = SEED, folds: int = FOLDS, cv: bool = True) -> AppraisalClassifier:
    """Fit the vectorizers and one calibrated LR per dimension on all of `data`; CV metrics in its metadata."""
    docs = [normalise(t) for t in data.texts]
    with threadpool_limits(1):
        metrics = cross_validate(docs, data.ratings, seed, folds) if cv else {}
        vecs = make_vectorizers()
        x = featurize(vecs, docs, fit=True)
        coef, intercept, platt_a, platt_b = [], [], [], []
        for j in range(len(ENISEAR_DIMENSIONS)):
            calibrated = CalibratedClassifierCV(_model(seed), method="sigmoid", ensemble=False,
                                                cv=StratifiedKFold(folds, shuffle=True, random_state=seed))
            calibrated.fit(x, data.ratings[:, j])
            fitted = calibrated.calibrated_classifiers_[0]
            coef.append(fitted.estimator.coef_[0])
            intercept.append(fitted.estimator.intercept_[0])
            platt_a.append(fitted.calibrators[0].a_)
            platt_b.append(fitted.calibrators[0].b_)
    means = [m["mean"] for m in metrics.values()]
    metadata = {
        "name": "appraisal_classifier", "version": VERSION, "atoms": list(ATOMS),
        "enisear_map": dict(ENISEAR_MAP), "derived": dict(DERIVED),
        "features": {"word": {k: list(v) if isinstance(v, tuple) else v for k, v in WORD.items()},
                     "char": {k: list(v) if isinstance(v, tuple) else v for k, v in CHAR.items()},
                     "negation": {"api": "emodata.text.negation.resolve", "method": NEG_METHOD, "prefix": NEG_PREFIX}},
        "model": {"estimator": "LogisticRegression", "C": C, "class_weight": "balanced", "solver": "liblinear",
                  "calibration": "sigmoid (Platt) on StratifiedKFold decision values, ensemble=False"},
        "training": {"file": Path(data.path).name, "sha1": data_sha1(data), "n": len(data), "seed": seed,
                     "folds": folds, "gold": "enISEAR majority of 3 annotators (shared dev part, 800 sentences)"},
        "cv_auc": metrics,
        "cv_auc_mean": round(float(np.mean(means)), 4) if means else None,
        "cv_auc_min": round(float(np.min(means)), 4) if means else None,
    }
    return AppraisalClassifier(tuple(vecs), np.array(coef, dtype=np.float64).T, np.array(intercept, dtype=np.float64),
                               np.array(platt_a, dtype=np.float64), np.array(platt_b, dtype=np.float64), metadata)


def run_appraisal_command(data: str, seed: int = SEED, out_dir: str = "") -> int:
    """`emodata appraisal train --data PATH`: fit on enISEAR, write the artifact, print its paths and CV AUC."""
    from emodata.core.errors import EmodataError

    from labeling_functions.appraisal.classifier import ARTIFACT
    from labeling_functions.appraisal.enisear import read_enisear

    if not data:
        raise EmodataError("emodata appraisal train: --data PATH (the enISEAR majority TSV or its folder) is required")
    model = train_classifier(read_enisear(data), seed)
    target = Path(out_dir) / ARTIFACT.name if out_dir else ARTIFACT
    target.parent.mkdir(parents=True, exist_ok=True)
    npz, meta = model.save(target)
    print(f"{npz} {sha1_file(npz)}")
    print(meta)
    for dim, m in model.metadata["cv_auc"].items():
        print(f"{dim:<15} {m['atom']:<20} CV ROC-AUC {m['mean']:.3f} ± {m['std']:.3f}")
    print(f"mean {model.metadata['cv_auc_mean']:.3f}  min {model.metadata['cv_auc_min']:.3f}")
    return 0
