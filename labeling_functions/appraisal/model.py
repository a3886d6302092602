"""Per-atom label models: the appraisal LF votes → P(atom is high) in [0, 1].

For each atom a Snorkel `LabelModel(cardinality=2)` is fit on that atom's LF matrix (seeded, so the
same frame and seed give the same model). A label model estimates LF accuracies from their
agreements, which needs at least `MIN_LFS` LFs and some rows where two or more of them vote; an atom
short of that (fewer than `MIN_LFS` LFs that ever vote, or fewer than `MIN_OVERLAP_ROWS` rows with
two or more votes) falls back to the smoothed vote mean P(high) = (n_high + 1) / (n_votes + 2)
(Laplace's rule of succession: one vote 1 → 0.67, two → 0.75, a 1/0 split → 0.5). Either way a row
on which every LF of the atom abstained gets NaN: no evidence, no score.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd
from snorkel.labeling import LabelingFunction
from snorkel.labeling.model import LabelModel

from labeling_functions.core import ABSTAIN, apply_lfs, source_files_sha1
from labeling_functions.appraisal import cues, lfs as lf_module
from labeling_functions.appraisal.lfs import CUES, ROW_LFS

#: The appraisal atoms, in the order of catalog/appraisal/prototypes.yaml (checked by `check_atoms`): the
#: paper's four and the rest of the original eight, then enISEAR's attention, effort and circumstance (issue 17;
#: every enISEAR dimension is a record atom, `ENISEAR_MAP`). Those three have no weak LFs (`predict_lfs`: NaN).
APPRAISAL_ATOMS: tuple[str, ...] = ("goal_attainment", "controllability", "certainty", "fairness",
                                    "pleasantness", "suddenness", "self_responsibility",
                                    "other_responsibility", "attention", "effort", "circumstance")
MIN_LFS = 3
MIN_OVERLAP_ROWS = 50
LABEL_MODEL = {"n_epochs": 500, "lr": 0.01, "l2": 0.0, "optimizer": "sgd"}
LABEL_MODEL_METHOD, VOTE_MEAN_METHOD = "label_model", "vote_mean"


def appraisal_lfs(negation: bool = True) -> dict[str, list[LabelingFunction]]:
    """atom → its LFs (cue families first, then row-level LFs), for every atom in `APPRAISAL_ATOMS`.

    `negation=False` is the negation ablation: cue matches inside a negation scope vote as if plain.
    """
    out = {atom: [cues.make_cue_lf(atom, family, negation) for family in CUES.get(atom, ())]
           + list(ROW_LFS.get(atom, ())) for atom in APPRAISAL_ATOMS}
    unknown = (set(CUES) | set(ROW_LFS)) - set(APPRAISAL_ATOMS)
    if unknown:
        raise ValueError(f"appraisal LFs for unknown atoms {sorted(unknown)}")
    return out


def flat_appraisal_lfs(negation: bool = True) -> list[LabelingFunction]:
    """Every appraisal LF in one list, atoms in `APPRAISAL_ATOMS` order: the columns of the stored
    `appraisal_votes` matrix (`split_matrix` cuts it back into per-atom matrices)."""
    lfs = appraisal_lfs(negation)
    return [lf for atom in APPRAISAL_ATOMS for lf in lfs[atom]]


def lf_source_sha1() -> str:
    """SHA-1 over the source files of this package (the appraisal LFs, their cues and their
    combination, constants included), by the same fingerprint the emotion LFs use."""
    return source_files_sha1([lf_module.__name__])


def check_atoms() -> None:
    """Raise ValueError unless `APPRAISAL_ATOMS` equals the prototype table's atoms, in order."""
    from catalog.appraisal import load_prototypes

    table = load_prototypes()
    if table.atoms != APPRAISAL_ATOMS:
        raise ValueError(f"appraisal atoms {APPRAISAL_ATOMS} differ from {table.path}: {table.atoms}")


def vote_mean(matrix: np.ndarray) -> np.ndarray:
    """Smoothed share of HIGH votes per row, (n_high + 1) / (n_votes + 2); NaN where all abstain."""
    votes = (matrix != ABSTAIN).sum(axis=1)
    high = (matrix == cues.HIGH).sum(axis=1)
    return np.where(votes > 0, (high + 1.0) / (votes + 2.0), np.nan)


@dataclass
class AtomModel:
    """One atom's combiner: its LF names, the method used, and the fitted LabelModel (if any)."""

    atom: str
    lf_names: list[str]
    method: str
    label_model: LabelModel | None
    coverage: float
    lf_coverage: dict[str, float]

    def combine(self, matrix: np.ndarray) -> np.ndarray:
        """P(high) per row from this atom's LF matrix; NaN where every LF abstained."""
        voted = (matrix != ABSTAIN).any(axis=1)
        if self.label_model is None or len(matrix) == 0:
            return vote_mean(matrix)
        proba = self.label_model.predict_proba(matrix)[:, 1].astype(float)
        return np.where(voted, np.clip(proba, 0.0, 1.0), np.nan)


@dataclass
class AppraisalModel:
    """The per-atom combiners and the LFs they read; `predict` scores any annotated frame."""

    atoms: tuple[str, ...]
    lfs: dict[str, list[LabelingFunction]]
    models: dict[str, AtomModel]
    seed: int
    n_fit_rows: int
    negation: bool = True
    lf_sha1: str = field(default_factory=lf_source_sha1)

    def label_matrices(self, frame: pd.DataFrame,
                       progress: Callable[[int], None] | None = None) -> dict[str, np.ndarray]:
        """atom → its LF matrix over `frame` (one pass of all appraisal LFs)."""
        return split_matrix(apply_lfs(frame, [lf for atom in self.atoms for lf in self.lfs[atom]], progress),
                            self.atoms, self.lfs)

    def predict_lfs(self, frame: pd.DataFrame, matrices: dict[str, np.ndarray] | None = None) -> pd.DataFrame:
        """The weak LF signal: one float column per atom, P(high), NaN where all of the atom's LFs abstained."""
        matrices = matrices if matrices is not None else self.label_matrices(frame)
        return pd.DataFrame({atom: self.models[atom].combine(matrices[atom]) for atom in self.atoms},
                            index=frame.index)

    def predict(self, frame: pd.DataFrame, matrices: dict[str, np.ndarray] | None = None) -> pd.DataFrame:
        """The build's atoms: the shipped classifier's calibrated P(high) (issue 17) for every row and atom.

        Scores the `text` column (or, on frames without one, the joined `lower` tokens); `matrices` is
        accepted for the LF path (`predict_lfs`) and not needed here.
        """
        from labeling_functions.appraisal.classifier import score_texts

        texts = frame["text"] if "text" in frame else frame["lower"].map(" ".join)
        scores = score_texts([str(t) for t in texts])
        return pd.DataFrame({atom: scores[atom].to_numpy(dtype=float) for atom in self.atoms}, index=frame.index)

    def describe(self) -> dict:
        """LF names, LF source hash, method and coverage per atom: for manifests and reports."""
        from labeling_functions.appraisal.classifier import classifier_description

        return {
            "classifier": classifier_description(),
            "lf_sha1": self.lf_sha1,
            "seed": self.seed,
            "n_fit_rows": self.n_fit_rows,
            "negation": self.negation,
            "label_model": dict(LABEL_MODEL),
            "fallback": {"method": VOTE_MEAN_METHOD, "min_lfs": MIN_LFS, "min_overlap_rows": MIN_OVERLAP_ROWS},
            "atoms": {atom: {"lfs": m.lf_names, "method": m.method, "coverage": m.coverage,
                             "lf_coverage": m.lf_coverage} for atom, m in self.models.items()},
        }


def split_matrix(matrix: np.ndarray, atoms: tuple[str, ...],
                 lfs: dict[str, list[LabelingFunction]]) -> dict[str, np.ndarray]:
    """Cut the all-LF matrix into per-atom matrices (columns in `atoms` then LF order)."""
    out, start = {}, 0
    for atom in atoms:
        out[atom] = matrix[:, start:start + len(lfs[atom])]
        start += len(lfs[atom])
    return out


def _fit_atom(atom: str, names: list[str], matrix: np.ndarray, seed: int) -> AtomModel:
    n = max(len(matrix), 1)
    voting = (matrix != ABSTAIN)
    lf_coverage = {name: float(voting[:, j].sum() / n) for j, name in enumerate(names)}
    coverage = float(voting.any(axis=1).sum() / n)
    active = int((voting.sum(axis=0) > 0).sum())
    overlap_rows = int((voting.sum(axis=1) >= 2).sum())
    if active < MIN_LFS or overlap_rows < MIN_OVERLAP_ROWS:
        return AtomModel(atom, names, VOTE_MEAN_METHOD, None, coverage, lf_coverage)
    model = LabelModel(cardinality=2, verbose=False)
    model.fit(matrix, seed=seed, progress_bar=False, **LABEL_MODEL)
    return AtomModel(atom, names, LABEL_MODEL_METHOD, model, coverage, lf_coverage)


def appraisal_matrices(frame: pd.DataFrame, progress: Callable[[int], None] | None = None,
                       negation: bool = True) -> dict[str, np.ndarray]:
    """atom → the atom's LF matrix over an annotated frame (all appraisal LFs applied in one pass)."""
    return split_matrix(apply_lfs(frame, flat_appraisal_lfs(negation), progress), APPRAISAL_ATOMS,
                        appraisal_lfs(negation))


def fit_appraisal(frame: pd.DataFrame, seed: int, matrices: dict[str, np.ndarray] | None = None,
                  progress: Callable[[int], None] | None = None, negation: bool = True) -> AppraisalModel:
    """Fit one combiner per atom on `frame`'s appraisal LF matrices (deterministic for frame + seed).

    Pass `matrices` from `appraisal_matrices(frame, negation=...)` to reuse them for `predict`
    without reapplying the LFs; `negation=False` is the negation ablation (see `appraisal_lfs`).
    """
    lfs = appraisal_lfs(negation)
    atoms = APPRAISAL_ATOMS
    matrices = matrices if matrices is not None else appraisal_matrices(frame, progress, negation)
    models = {atom: _fit_atom(atom, [lf.name for lf in lfs[atom]], matrices[atom], seed) for atom in atoms}
    return AppraisalModel(atoms=atoms, lfs=lfs, models=models, seed=seed, n_fit_rows=len(frame),
                          negation=negation)
