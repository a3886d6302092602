"""Appraisal atoms: the classifier trained on enISEAR human ratings (issue #17: `score_texts`,
`ENISEAR_MAP`, `classifier.py`), and the weak LFs per atom, label models, verifier and summary (issue #4).

    probs = score_texts(texts)        # DataFrame, one column per atom of ATOMS, calibrated P(high)

Build-time use, on an annotated frame (`emodata.annotate` columns + `padded`):

    matrices = appraisal_matrices(train_frame)
    model = fit_appraisal(train_frame, seed, matrices=matrices)
    appraisal = model.predict(frame)          # classifier P(high) per atom (model.predict_lfs: LF signal, NaN = no votes)
    prototypes = load_prototypes().prototype_matrix(frame["labels"])   # s̃(y) per atom
    verifier, report = train_verifier(frame, appraisal, labels_space, seed)
    verifier.save(path)                                    # one deterministic .npz
    summary = appraisal_summary(appraisal, frame["labels"], eval_mask, model, report)
"""
from labeling_functions.appraisal.classifier import ATOMS, DERIVED, ENISEAR_MAP, load_classifier, score_texts, shipped_classifier
from labeling_functions.appraisal.model import (APPRAISAL_ATOMS, AppraisalModel, appraisal_lfs, appraisal_matrices, check_atoms,
                    fit_appraisal, flat_appraisal_lfs, lf_source_sha1, split_matrix)
from labeling_functions.appraisal.summary import agreement, appraisal_summary
from labeling_functions.appraisal.verifier import Verifier, load_verifier, train_verifier

from emodata.core import registry  # noqa: E402

registry.lf_sets.register("appraisal", func=flat_appraisal_lfs)

__all__ = ["ATOMS", "DERIVED", "ENISEAR_MAP", "load_classifier", "score_texts", "shipped_classifier",
           "APPRAISAL_ATOMS", "AppraisalModel", "Verifier", "agreement", "appraisal_lfs", "appraisal_matrices",
           "appraisal_summary", "check_atoms", "fit_appraisal", "flat_appraisal_lfs", "lf_source_sha1",
           "load_verifier", "split_matrix", "train_verifier"]
