"""The appraisal verifier: per-atom logistic regression over hashed text n-grams and a label vector.

Scores are s = sigmoid(φ(x)·w_text + y·w_label + bias), one column per atom, where
- φ(x) is an L2-normalised binary bag of hashed word 1..`NGRAM_MAX`-grams of the lower-cased spaCy
  tokens, a token inside a negation scope written as "NOT_<token>" ("not happy" → "not",
  "NOT_happy"; the scope method is the build's, recorded in the artifact), hashed by sklearn's
  HashingVectorizer (MurmurHash3, `N_FEATURES` columns);
- y is the multi-hot vector of the record's labels over the unified label space (gold labels in
  training; the trainer may feed its predicted label probabilities, which keeps L_app differentiable).

Training (`train_verifier`) uses the label-model probabilities p as *soft* targets: per atom it
minimises C·Σ BCE(s, p) + ½‖w‖² (sklearn's L2-regularised logistic objective with p in place of a
0/1 label, intercept unpenalised) by L-BFGS from zero weights, which is deterministic. Rows whose
target is NaN (every LF abstained) are not used for that atom. A seeded `heldout_frac` of the rows
is kept out of training; the report gives the held-out agreement with the label model and with the
prototypes s̃(y). The saved model is the one trained without the held-out rows, so the reported
numbers describe the artifact.

The artifact is ONE .npz (no pickles) with keys atoms (M,), labels (K,), n_features (), w_text
(n_features × M), w_label (K × M), bias (M,) (float32), and config (a JSON string: hashing, n-gram
and negation settings, tokenizer, training settings). Zip entries carry a fixed timestamp, so the
same inputs and seed give a byte-identical file.
"""
from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.optimize import minimize
from sklearn.feature_extraction.text import HashingVectorizer
from threadpoolctl import threadpool_limits

from labeling_functions.appraisal.npzfile import write_npz
from labeling_functions.appraisal.summary import PROTOTYPE_MARGIN, agreement

FORMAT = "emodata-appraisal-verifier-v1"
N_FEATURES = 2 ** 14
NGRAM_MAX = 2
NEG_PREFIX = "NOT_"
HELDOUT_FRAC = 0.1
C = 1.0
MAX_ITER = 500
GTOL = 1e-5
KEYS = ("atoms", "labels", "n_features", "w_text", "w_label", "bias", "config")


def marked_tokens(lower: Sequence[str], neg: Sequence[int]) -> list[str]:
    """Lower-cased tokens with those inside a negation scope prefixed by `NEG_PREFIX`."""
    return [f"{NEG_PREFIX}{tok}" if flag else tok for tok, flag in zip(lower, neg)]


def ngrams(tokens: Sequence[str], n_max: int = NGRAM_MAX) -> list[str]:
    """Word 1..n_max-grams of a token list, joined by spaces."""
    return [" ".join(tokens[i:i + n]) for n in range(1, n_max + 1) for i in range(len(tokens) - n + 1)]


def _identity(doc: list[str]) -> list[str]:
    return doc


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def default_config(n_features: int = N_FEATURES, ngram_max: int = NGRAM_MAX,
                   negation_scope: str = "window") -> dict[str, Any]:
    """The feature settings recorded in the artifact (everything `text_features` depends on).

    `negation_scope` is the scope method ("window", "parse" or "crf", emodata.text.negation_parse.NegationScoper)
    that produced the training frame's `neg` column; `text_features` uses the same one.
    """
    from emodata.text import negation
    from emodata.text import negation_parse
    from emodata.text import negation_scope as crf_scope

    methods = {"window": negation.METHOD, "parse": negation_parse.METHOD, "crf": crf_scope.MODEL_VERSION}
    if negation_scope not in methods:
        raise ValueError(f"verifier: negation_scope must be one of {sorted(methods)}, not {negation_scope!r}")
    return {"format": FORMAT, "n_features": n_features, "ngram_max": ngram_max, "neg_prefix": NEG_PREFIX,
            "hash": "sklearn HashingVectorizer: murmurhash3_32 seed 0, abs(h) % n_features, "
                    "alternate_sign=False, binary=True, norm=l2",
            "tokenizer": "spaCy English tokenizer (emodata.text.nlp.tokenize), lower-cased, whitespace dropped",
            "negation_scope": negation_scope, "negation": methods[negation_scope],
            "score": "sigmoid(phi @ w_text + y @ w_label + bias)"}


@dataclass
class Verifier:
    """Per-atom logistic regressions: `w_text` (n_features × M), `w_label` (K × M), `bias` (M)."""

    atoms: tuple[str, ...]
    labels: tuple[str, ...]
    w_text: np.ndarray
    w_label: np.ndarray
    bias: np.ndarray
    config: dict[str, Any] = field(default_factory=default_config)

    def __post_init__(self) -> None:
        m, k, n = len(self.atoms), len(self.labels), int(self.config["n_features"])
        self.w_text = np.asarray(self.w_text, dtype=np.float32)
        self.w_label = np.asarray(self.w_label, dtype=np.float32)
        self.bias = np.asarray(self.bias, dtype=np.float32)
        if self.w_text.shape != (n, m) or self.w_label.shape != (k, m) or self.bias.shape != (m,):
            raise ValueError(f"verifier: shapes w_text {self.w_text.shape}, w_label {self.w_label.shape}, "
                             f"bias {self.bias.shape} do not fit n_features={n}, K={k}, M={m}")

    @property
    def n_features(self) -> int:
        """Width of the hashed text features φ(x)."""
        return int(self.config["n_features"])

    def _vectorizer(self) -> HashingVectorizer:
        return HashingVectorizer(n_features=self.n_features, analyzer=_identity, alternate_sign=False,
                                 binary=True, norm="l2", dtype=np.float64)

    def token_features(self, lower: Iterable[Sequence[str]], neg: Iterable[Sequence[int]]) -> sp.csr_matrix:
        """φ(x) from token columns (the annotate stage's `lower` and `neg`), one row per record."""
        docs = [ngrams(marked_tokens(list(lw), list(ng)), int(self.config["ngram_max"]))
                for lw, ng in zip(lower, neg)]
        return self._vectorizer().transform(docs).tocsr()

    def text_features(self, texts: Sequence[str]) -> sp.csr_matrix:
        """φ(x) of raw texts: tokenised and negation-scoped as the annotate stage does (same scope method)."""
        from emodata.text.negation_parse import NegationScoper
        from emodata.text.nlp import load_pipeline, tokenize

        pipeline = load_pipeline()
        texts = list(texts)
        tokens_list = list(tokenize(pipeline, texts))
        depths = NegationScoper(pipeline, self.config.get("negation_scope", "window")).depths(texts, tokens_list)
        return self.token_features([t.lower for t in tokens_list], [[d % 2 for d in depth] for depth in depths])

    def label_vectors(self, label_sets: Iterable[Iterable[str] | None]) -> np.ndarray:
        """Multi-hot n × K matrix over `labels`; None or empty → zeros; an unknown label raises."""
        index = {label: k for k, label in enumerate(self.labels)}
        rows = list(label_sets)
        out = np.zeros((len(rows), len(self.labels)))
        for i, labels in enumerate(rows):
            for label in (labels if labels is not None else ()):
                if label not in index:
                    raise ValueError(f"verifier: row {i}: label {label!r} is not in the label space")
                out[i, index[label]] = 1.0
        return out

    def scores(self, phi: sp.spmatrix, y: np.ndarray) -> np.ndarray:
        """s = sigmoid(φ·w_text + y·w_label + bias), n × M."""
        y = np.asarray(y, dtype=float)
        if y.shape != (phi.shape[0], len(self.labels)):
            raise ValueError(f"verifier: label vectors have shape {y.shape}, expected "
                             f"({phi.shape[0]}, {len(self.labels)})")
        logits = phi @ self.w_text.astype(np.float64) + y @ self.w_label.astype(np.float64)
        return _sigmoid(np.asarray(logits) + self.bias.astype(np.float64))

    def predict(self, texts: Sequence[str], label_vectors: np.ndarray | Sequence[Iterable[str]]) -> np.ndarray:
        """Atom scores (n × M) of raw texts; `label_vectors` is an n × K array or a list of label lists."""
        y = label_vectors if isinstance(label_vectors, np.ndarray) else self.label_vectors(label_vectors)
        return self.scores(self.text_features(texts), y)

    def save(self, path: str | Path) -> Path:
        """Write the .npz artifact atomically; same weights and config → byte-identical file."""
        path = Path(path)
        arrays = {"atoms": np.array(self.atoms, dtype=str), "labels": np.array(self.labels, dtype=str),
                  "n_features": np.array(self.n_features, dtype=np.int64), "w_text": self.w_text,
                  "w_label": self.w_label, "bias": self.bias,
                  "config": np.array(json.dumps(self.config, sort_keys=True, separators=(",", ":")))}
        return write_npz(path, {name: arrays[name] for name in KEYS})


def load_verifier(path: str | Path) -> Verifier:
    """Read a verifier .npz written by `Verifier.save`; a missing key or bad shape names the file."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in KEYS if k in data.files}
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise ValueError(f"{path}: cannot read the verifier artifact ({exc})") from exc
    missing = [k for k in KEYS if k not in arrays]
    if missing:
        raise ValueError(f"{path}: not an appraisal verifier (missing keys {missing})")
    config = json.loads(str(arrays["config"]))
    if config.get("format") != FORMAT or int(arrays["n_features"]) != int(config.get("n_features", -1)):
        raise ValueError(f"{path}: unsupported verifier format {config.get('format')!r} "
                         f"(expected {FORMAT!r} with a matching n_features)")
    try:
        return Verifier(atoms=tuple(str(a) for a in arrays["atoms"]), labels=tuple(str(x) for x in arrays["labels"]),
                        w_text=arrays["w_text"], w_label=arrays["w_label"], bias=arrays["bias"], config=config)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from exc


def _check_targets(targets: pd.DataFrame, n: int, atoms: Sequence[str]) -> np.ndarray:
    if len(targets) != n:
        raise ValueError(f"train_verifier: {len(targets)} target rows for {n} frame rows")
    values = targets[list(atoms)].to_numpy(dtype=float)
    bad = np.argwhere(np.isfinite(values) & ((values < 0.0) | (values > 1.0)))
    if len(bad):
        i, j = bad[0]
        raise ValueError(f"train_verifier: target row {i}, atom {atoms[j]!r}: {values[i, j]} is outside [0, 1]")
    return values


def heldout_mask(n: int, seed: int, frac: float = HELDOUT_FRAC) -> np.ndarray:
    """A seeded boolean mask marking round(frac · n) rows as held out (the same for every atom)."""
    mask = np.zeros(n, dtype=bool)
    mask[np.random.default_rng(seed).permutation(n)[:int(round(frac * n))]] = True
    return mask


def _fit_atom(x: sp.csr_matrix, p: np.ndarray, c: float, xt: sp.csr_matrix | None = None) -> tuple[np.ndarray, float]:
    """Minimise C·Σ BCE(sigmoid(x·w + b), p) + ½‖w‖² (sklearn's L2 logistic objective, soft targets);
    `xt` is x.T as CSR when the caller has it."""
    xt = x.T.tocsr() if xt is None else xt

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = theta[:-1], theta[-1]
        z = x @ w + b
        loss = c * float(np.sum(np.logaddexp(0.0, z) - p * z)) + 0.5 * float(w @ w)
        residual = c * (_sigmoid(z) - p)
        return loss, np.concatenate([xt @ residual + w, [residual.sum()]])

    # One BLAS thread: L-BFGS-B's small dense updates over ~16k weights ran up to 40x slower with
    # OpenBLAS threads on a busy machine, and a fixed thread count keeps the result reproducible.
    with threadpool_limits(limits=1, user_api="blas"):
        result = minimize(objective, np.zeros(x.shape[1] + 1), jac=True, method="L-BFGS-B",
                          options={"maxiter": MAX_ITER, "gtol": GTOL})
    return result.x[:-1], float(result.x[-1])


def _fit_atoms(x: sp.csr_matrix, values: np.ndarray, held: np.ndarray, c: float) -> list[tuple[np.ndarray, float] | None]:
    """Per target column of `values`, the fit of `_fit_atom` on its rows (not held out, target known), or
    None without rows. Columns with the same rows and targets (the derived atoms that copy a rated one:
    goal_attainment = pleasantness, suddenness = attention) are fit once; each row set is sliced once."""
    sliced: dict[bytes, tuple[sp.csr_matrix, sp.csr_matrix]] = {}
    fitted: dict[bytes, tuple[np.ndarray, float]] = {}
    out: list[tuple[np.ndarray, float] | None] = []
    for j in range(values.shape[1]):
        train = ~held & np.isfinite(values[:, j])
        if not train.any():
            out.append(None)
            continue
        rows, target = np.packbits(train).tobytes(), values[train, j]
        key = rows + np.ascontiguousarray(target).tobytes()
        if key not in fitted:
            if rows not in sliced:
                part = x[train]
                sliced[rows] = (part, part.T.tocsr())
            fitted[key] = _fit_atom(sliced[rows][0], target, c, sliced[rows][1])
        out.append(fitted[key])
    return out


def train_verifier(frame: pd.DataFrame, targets: pd.DataFrame, labels_space: Sequence[str], seed: int,
                   heldout_frac: float = HELDOUT_FRAC, c: float = C, n_features: int = N_FEATURES,
                   label_column: str = "labels",
                   negation_scope: str = "window") -> tuple[Verifier, dict[str, Any]]:
    """Fit the verifier on an annotated frame (`lower`, `neg`, `labels`) and per-atom targets.

    `targets` has one column per atom (e.g. `AppraisalModel.predict(frame)`), aligned by position,
    values in [0, 1] or NaN (row unused for that atom). `negation_scope` names the scope method
    behind the frame's `neg` column (the build's `annotator.scoper.method`). Returns the verifier
    (trained without the seeded held-out rows) and a report: per atom n_train/n_heldout and held-out
    `agreement` with the targets (`vs_label_model`) and with the prototypes s̃(y) (`vs_prototype`,
    also for the label model itself and for the verifier with y = 0, i.e. from the text alone).
    """
    from catalog.appraisal import load_prototypes

    atoms = tuple(targets.columns)
    values = _check_targets(targets, len(frame), atoms)
    config = default_config(n_features, negation_scope=negation_scope)
    config.update(training={"seed": seed, "heldout_frac": heldout_frac, "C": c, "solver": "scipy L-BFGS-B",
                            "max_iter": MAX_ITER, "gtol": GTOL,
                            "targets": "soft: C*sum BCE(s, p) + 0.5*|w|^2",
                            "n_rows": len(frame)})
    empty = Verifier(atoms, tuple(labels_space), np.zeros((n_features, len(atoms))),
                     np.zeros((len(labels_space), len(atoms))), np.zeros(len(atoms)), config)
    label_sets = [list(x) if x is not None else [] for x in frame[label_column]]
    phi = empty.token_features(frame["lower"], frame["neg"])
    y = empty.label_vectors(label_sets)
    x = sp.hstack([phi, sp.csr_matrix(y)]).tocsr()
    held = heldout_mask(len(frame), seed, heldout_frac)
    w_text = np.zeros((n_features, len(atoms)))
    w_label = np.zeros((len(labels_space), len(atoms)))
    bias = np.zeros(len(atoms))
    rows: dict[str, dict[str, Any]] = {}
    for j, (atom, fit) in enumerate(zip(atoms, _fit_atoms(x, values, held, c))):
        rows[atom] = {"n_train": int((~held & np.isfinite(values[:, j])).sum())}
        if fit is not None:
            coef, bias[j] = fit
            w_text[:, j], w_label[:, j] = coef[:n_features], coef[n_features:]
    verifier = Verifier(atoms, tuple(labels_space), w_text, w_label, bias, config)
    report = {"heldout_frac": heldout_frac, "seed": seed, "n_rows": len(frame), "n_heldout": int(held.sum()),
              "atoms": rows}
    if held.any():
        held_idx = np.flatnonzero(held)
        s = verifier.scores(phi[held_idx], y[held_idx])
        s_text = verifier.scores(phi[held_idx], np.zeros_like(y[held_idx]))
        has_gold = any(label_sets[i] for i in held_idx)
        table = load_prototypes()
        protos = table.prototype_matrix([label_sets[i] for i in held_idx]) if has_gold else None
        for j, atom in enumerate(atoms):
            entry = rows[atom]
            entry["n_heldout"] = int(np.isfinite(values[held_idx, j]).sum())
            entry["vs_label_model"] = agreement(s[:, j], values[held_idx, j])
            if protos is not None and atom in table.atoms:
                proto = protos[:, table.atoms.index(atom)]
                entry["vs_prototype"] = agreement(s[:, j], proto, PROTOTYPE_MARGIN)
                entry["text_only_vs_prototype"] = agreement(s_text[:, j], proto, PROTOTYPE_MARGIN)
                entry["label_model_vs_prototype"] = agreement(values[held_idx, j], proto, PROTOTYPE_MARGIN)
    return verifier, report
