"""The build's weak-supervision stage: weak emotion labels, appraisal atoms and the LF report of a mix.

The annotate stage stored every row's emotion and appraisal LF votes (`emotion_votes`,
`appraisal_votes`). For one mix, the aggregators are fit on the mix's train rows only (labeler choice by train gold, never dev), every
written row gets `weak_labels`/`weak_probs` (fine, GoEmotions-28) and `weak_labels_ekman`/
`weak_probs_ekman`, and the LFs and aggregators are scored against gold on each labelled dev split
and the DailyDialog probe. The report goes to `manifests/lf_report.{json,md}`; its summary, in the
shape `emodata/report.py` draws, goes to `manifest["lf_analysis"]`.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterable, Sequence

import numpy as np
import pandas as pd
from snorkel.labeling import LabelingFunction

from labeling_functions.end_model import EndModelTask, EvalSplit, end_model_check
from labeling_functions.weak_labels import PROB_DECIMALS, WeakLabeler, ekman_gold, fit_weak_labeler, lf_report

from emodata.core.rounding import round_as_python

if TYPE_CHECKING:
    from labeling_functions.appraisal import AppraisalModel, Verifier

WEAK_COLUMNS = ("weak_labels", "weak_probs", "weak_labels_ekman", "weak_probs_ekman")


def votes_of(frame: pd.DataFrame, n_lfs: int, column: str = "emotion_votes") -> np.ndarray:
    """The LF matrix (rows × LFs) stored in an annotated frame's `column` (emotion LF votes by default)."""
    if not len(frame):
        return np.empty((0, n_lfs), dtype=np.int64)
    matrix = np.stack([np.asarray(v, dtype=np.int64) for v in frame[column]])
    if matrix.shape[1] != n_lfs:
        raise ValueError(f"{column}: rows hold {matrix.shape[1]} LF votes, expected {n_lfs} (annotated with "
                         f"another LF set?)")
    return matrix


CONTEXT_COLUMN = "situation_votes"


def context_votes_of(frame: pd.DataFrame, n_lfs: int) -> np.ndarray | None:
    """The context LF matrix of a frame (votes on each row's situation text; all-abstain rows where a row
    has none), or None when no row has context."""
    if CONTEXT_COLUMN not in frame.columns or not len(frame):
        return None
    values = frame[CONTEXT_COLUMN].tolist()
    if all(v is None for v in values):
        return None
    empty = np.full(n_lfs, -1, dtype=np.int64)
    return np.stack([empty if v is None else np.asarray(v, dtype=np.int64) for v in values])


def labels_of(labeler: WeakLabeler, frame: pd.DataFrame, n_lfs: int) -> pd.DataFrame:
    """The weak-label columns of a frame's rows (their own LF votes plus their context votes)."""
    return labeler.label(votes_of(frame, n_lfs), context_votes_of(frame, n_lfs))


def situation_votes(situations: Iterable, annotator) -> dict[str, Any]:
    """situation text → the emotion LF votes on it, for every distinct non-empty situation given (the
    EmpatheticDialogues prompt the speaker wrote about the conversation's emotion).

    Each distinct situation is annotated once by the build's annotator (tokens, negation, VAD, the same
    LFs); the votes count as context votes in the row's weak label (`SpaceModel.probs`). The situation is
    model input, like the text: it is never the gold label. Row-wise: a situation's votes do not depend
    on the other situations given.
    """
    import dataclasses

    from emodata.annotate import annotate_frame

    unique = sorted({s for s in situations if isinstance(s, str) and s.strip()})
    if not (unique and annotator.lfs):
        return {}
    scorer = dataclasses.replace(annotator, appraisal_lfs=())
    records = pd.DataFrame({"id": [f"situation:{i}" for i in range(len(unique))], "text": unique})
    return dict(zip(unique, annotate_frame(records, scorer)["emotion_votes"]))


def with_context_votes(frame: pd.DataFrame, votes: dict[str, Any]) -> pd.DataFrame:
    """`frame` plus `situation_votes`: each row's situation's votes from `votes` (None without one)."""
    situations = frame["situation"].tolist() if "situation" in frame.columns else [None] * len(frame)
    return frame.assign(**{CONTEXT_COLUMN: [votes.get(s) if isinstance(s, str) else None for s in situations]})


def with_situation_votes(frame: pd.DataFrame, annotator) -> pd.DataFrame:
    """`frame` plus `situation_votes`, the emotion LF votes on each row's situation (`situation_votes`)."""
    situations = frame["situation"].tolist() if "situation" in frame.columns else []
    return with_context_votes(frame, situation_votes(situations, annotator))


#: What a fit sample is drawn from (recorded with it in the manifest).
FIT_POPULATION = "train rows of the mix, in draw order (each member's train rows, members in mix order)"


def fit_sample(n_rows: int, max_rows: int, seed: int) -> tuple[np.ndarray, dict]:
    """(positions, record) of the rows the build's models are fit on: all `n_rows` train rows when they
    are at most `max_rows` (`--fit-rows`), else a seeded sample of `max_rows` of them, sorted (the rest
    are labelled by the fitted models, never fit on). The record goes into the manifest."""
    from labeling_functions.end_model import sample_rows

    if max_rows < 1:
        raise ValueError(f"--fit-rows must be at least 1, not {max_rows}")
    positions = sample_rows(n_rows, max_rows, seed)
    return positions, {"rows": int(len(positions)), "population_rows": int(n_rows), "population": FIT_POPULATION,
                       "max_rows": int(max_rows), "seed": int(seed),
                       "method": "all rows" if len(positions) == n_rows else
                       "numpy default_rng([seed, 7]).choice without replacement, sorted "
                       "(labeling_functions.end_model.sample_rows)"}


def fit_mix_labeler(train: pd.DataFrame, lfs: Sequence[LabelingFunction], fine_labels: Sequence[str], seed: int,
                    aggregator: str) -> WeakLabeler:
    """Fit the weak labeler on a mix's train rows (their gold labels choose the aggregator)."""
    return fit_weak_labeler(votes_of(train, len(lfs)), fine_labels, train["labels"].tolist(), seed, aggregator)


def with_weak_labels(frame: pd.DataFrame, labeler: WeakLabeler, n_lfs: int) -> pd.DataFrame:
    """`frame` plus the four weak-label columns."""
    weak = labels_of(labeler, frame, n_lfs)
    return frame.reset_index(drop=True).assign(**{c: weak[c].tolist() for c in WEAK_COLUMNS})


def _summary_scores(part: dict) -> dict:
    return {method: {k: s[k] for k in ("macro_f1", "macro_f1_emotions", "macro_p", "macro_r", "coverage", "n")}
            for method, s in part["scores"].items()}


def mix_lf_analysis(labelled: dict[str, pd.DataFrame], lfs: Sequence[LabelingFunction],
                    labeler: WeakLabeler, unpooled: dict[str, pd.DataFrame] | None = None,
                    notes: dict[str, str] | None = None) -> tuple[dict, dict]:
    """(manifest summary, full report) of LFs and aggregators on labelled splits by name.

    `labelled` maps a split name (e.g. "goemotions/dev", "dailydialog/probe") to its rows. The
    summary's top-level `lfs`/`confusion`/`scores` are those of all splits pooled; `unpooled` splits
    (e.g. every gold-tagged probe turn, a superset of the probe shard) are scored but not pooled, and
    `notes` (split name → text) are printed beside the scores.
    """
    n_lfs = len(lfs)
    parts = {name: frame for name, frame in labelled.items() if len(frame)}
    scored = {**parts, **{name: frame for name, frame in (unpooled or {}).items() if len(frame)}}
    full = {"labeler": labeler.describe(), "splits": {}, "notes": dict(notes or {})}
    for name, frame in scored.items():
        full["splits"][name] = lf_report(votes_of(frame, n_lfs), lfs, labeler, frame["labels"].tolist(),
                                         context_votes_of(frame, n_lfs))
    summary: dict = {"labeler": labeler.describe(), "by_split": {}, "notes": dict(notes or {})}
    for name, report in full["splits"].items():
        summary["by_split"][name] = {"n": report["n"], "fine": _summary_scores(report["fine"]),
                                     "ekman": _summary_scores(report["ekman"])}
    if parts:
        pooled = pd.concat(parts.values(), ignore_index=True)
        report = lf_report(votes_of(pooled, n_lfs), lfs, labeler, pooled["labels"].tolist(),
                           context_votes_of(pooled, n_lfs))
        full["pooled"] = report
        summary.update(lfs=report["lfs"], confusion=report["fine"]["confusion"],
                       scores={m: s for m, s in _summary_scores(report["fine"]).items()},
                       scores_ekman=_summary_scores(report["ekman"]), chosen=report["fine"]["chosen"],
                       chosen_ekman=report["ekman"]["chosen"], pooled_splits=sorted(parts))
    return summary, full


#: The probe scored on every gold-tagged turn (the build's training filters do not apply to it).
PROBE_ALL = "dailydialog/all_tagged"


#: The most rows of one split the LF analysis reads and scores: above it, a seeded sample of this many
#: (`end_model.sample_rows`; the split's note says so). Bounds the label stage's memory at any scale;
#: the real corpora's splits are all below it (the largest, every tagged DailyDialog turn: 94,560), so
#: a real build scores every row. 100,000 (was 200,000): the label stage's peak at 10x synthetic data
#: 2,424 -> 1,945 MiB (benchmarks/RESULTS.md, stop 23).
LF_EVAL_ROWS = 100_000


def eval_sample(n_rows: int, seed: int, max_rows: int | None = None) -> tuple[np.ndarray, str]:
    """(positions, note) of the rows of a split of `n_rows` that the LF analysis scores: all of them, or a
    seeded sample of `max_rows` (default `LF_EVAL_ROWS`; sorted), with a note saying so (empty when all
    rows are scored)."""
    from labeling_functions.end_model import sample_rows

    max_rows = LF_EVAL_ROWS if max_rows is None else max_rows
    positions = sample_rows(n_rows, max_rows, seed)
    note = "" if len(positions) == n_rows else (f"scored on a seeded sample of {len(positions)} of these "
                                                f"{n_rows} rows (at most {max_rows} per split)")
    return positions, note


def probe_all_turns(positions: np.ndarray | None, text_keys: pd.Series | None, mixed_text_keys: Any,
                    shard_name: str, drops: Counter, read: Callable[[np.ndarray], pd.DataFrame],
                    seed: int) -> tuple[dict[str, pd.DataFrame], dict[str, str]]:
    """({PROBE_ALL: the gold-tagged probe turns scored}, notes).

    `positions` and `text_keys`: every gold-tagged probe turn's position in the probe's annotated parts and
    its text key; `read(positions)` gives those rows' id, text, labels and emotion votes, in order. Only
    turns whose exact text is in the mix are left out (counted in the note): the training filters
    (lexicon coverage, length, τ, duplicate texts) drop turns non-randomly, so a score on the filtered
    probe shard is computed on a skewed sample; the note beside it says how many turns it lacks and why.
    Only the turns scored are read (at most `LF_EVAL_ROWS`, `eval_sample`).
    """
    if positions is None:
        return {}, {}
    leak = text_keys.isin(mixed_text_keys).to_numpy()
    kept = positions[~leak]
    chosen, sampled = eval_sample(len(kept), seed)
    reasons = ", ".join(f"{k} {v}" for k, v in sorted(drops.items()) if v) or "none"
    notes = {shard_name: f"the probe shard after the build's filters: {len(positions) - sum(drops.values())} of "
                         f"{len(positions)} gold-tagged turns (dropped: {reasons})",
             PROBE_ALL: f"every gold-tagged probe turn ({len(kept)} of {len(positions)}; left out: {int(leak.sum())} "
                        f"whose exact text is in the mix), no other filter" + (f"; {sampled}" if sampled else "")}
    return {PROBE_ALL: read(kept[chosen]).reset_index(drop=True)}, notes


def end_model_task(train: pd.DataFrame, labelled: dict[str, pd.DataFrame], labeler: WeakLabeler, n_lfs: int,
                   seed: int) -> EndModelTask:
    """What the end-model check of a mix reads (Ekman-7), as plain lists: the train rows' inputs, their weak
    targets (rows with an LF vote only) and gold targets, and each labelled split's inputs, gold and weak
    label sets (a seeded sample of at most `max_eval_rows` rows per split)."""
    from labeling_functions.end_model import DEFAULTS, model_inputs, sample_rows

    def inputs(frame: pd.DataFrame) -> list[str]:  # the text, after its situation where it has one
        return model_inputs(frame["text"].tolist(), frame["situation"].tolist() if "situation" in frame else None)

    votes, context = votes_of(train, n_lfs), context_votes_of(train, n_lfs)
    # The weak model learns from rows with LF evidence only: the fallback label of a row on which every
    # LF abstained is no evidence (GoEmotions dev: 0.496 vs 0.490 with those rows, benchmarks/RESULTS.md).
    covered = (votes != -1).any(axis=1) | (False if context is None else (context != -1).any(axis=1))
    targets = {"weak": [s if c else [] for s, c in zip(labeler.ekman_sets(votes, context), covered)],
               "gold": [sorted(g) for g in ekman_gold(train["labels"].tolist())]}
    # Each split is scored on a seeded sample of at most `max_eval_rows` rows (the probe has ~95k turns;
    # its full weak-label scores are in the LF report).
    cap = DEFAULTS["max_eval_rows"]
    splits = {}
    for name, frame in labelled.items():
        if len(frame):
            frame = frame.iloc[sample_rows(len(frame), cap, seed)]
            splits[name] = EvalSplit(inputs(frame), [sorted(g) for g in ekman_gold(frame["labels"].tolist())],
                                     labeler.ekman_sets(votes_of(frame, n_lfs), context_votes_of(frame, n_lfs)))
    return EndModelTask(inputs(train), targets, list(labeler.ekman.names), splits, seed, cap)


def mix_end_model_check(train: pd.DataFrame, labelled: dict[str, pd.DataFrame], labeler: WeakLabeler, n_lfs: int,
                        seed: int) -> dict:
    """The end-model check of a mix (`end_model_check` of `end_model_task`): TF-IDF + LR trained on the weak
    labels of the train rows with any LF vote and, for comparison, on the gold labels of all train rows,
    both scored with the weak labels themselves on each labelled split."""
    return end_model_check(end_model_task(train, labelled, labeler, n_lfs, seed))


def end_model_markdown(check: dict) -> list[str]:
    """The end-model section of the LF report."""
    used = ", ".join(f"{k} {m['trained_rows']}" for k, m in check["models"].items())
    lines = ["", "## End model (TF-IDF + logistic regression, Ekman-7)", "",
             "Trained on the mix's train rows (input: the text, after the row's situation where it has one): once on the "
             "weak labels of the rows with an LF vote, once on all gold labels "
             f"(rows used: {used}; a seeded "
             "sample when larger). Macro-F1 over the gold labels present; `no neutral` = mean F1 of the six emotions.",
             "", "| split | rows | weak labels | end model (weak) | end model (gold) | weak/gold | no neutral: weak labels "
             "| end (weak) | end (gold) |", "|---|---|---|---|---|---|---|---|---|"]

    def cell(entry: dict, key: str, field: str = "macro_f1") -> str:
        value = entry.get(key, {}).get(field)
        return "n/a" if value is None else f"{value:.4f}"

    for name, entry in check["splits"].items():
        ratio = f"{entry['ratio']:.3f}" if "ratio" in entry else "n/a"
        lines.append(f"| {name} | {entry['weak_labels']['n']} | {cell(entry, 'weak_labels')} | "
                     f"{cell(entry, 'end_model_weak')} | {cell(entry, 'end_model_gold')} | {ratio} | "
                     f"{cell(entry, 'weak_labels', 'macro_f1_emotions')} | "
                     f"{cell(entry, 'end_model_weak', 'macro_f1_emotions')} | "
                     f"{cell(entry, 'end_model_gold', 'macro_f1_emotions')} |")
    return lines


def _atom_structs(values: np.ndarray, atoms: Sequence[str]) -> pd.api.extensions.ExtensionArray:
    """The atom scores (rows × atoms) as one Arrow struct column (a pandas ArrowExtensionArray, no dict per
    row): each float rounded as Python's round rounds it, as the record schema stores them; NaN → null."""
    import pyarrow as pa

    values = np.asarray(values, dtype=np.float64).reshape(-1, len(atoms))
    rounded = round_as_python(values, PROB_DECIMALS)
    fields = [pa.array(rounded[:, j], pa.float64(), mask=np.isnan(values[:, j])) for j in range(len(atoms))]
    return pd.arrays.ArrowExtensionArray(pa.StructArray.from_arrays(fields, names=list(atoms)))


def appraisal_matrices_of(frame: pd.DataFrame, lfs: dict[str, list[LabelingFunction]],
                          atoms: Sequence[str]) -> dict[str, np.ndarray]:
    """atom → its LF matrix, cut from the `appraisal_votes` the annotate stage stored (`lfs[atom]`
    are the atom's LFs, atoms in `atoms` order: the columns of the stored votes)."""
    from labeling_functions.appraisal import split_matrix

    width = sum(len(lfs[atom]) for atom in atoms)
    return split_matrix(votes_of(frame, width, "appraisal_votes"), tuple(atoms), lfs)


@dataclass
class MixAppraisal:
    """A mix's fitted appraisal stage: the per-atom model, the verifier and the manifest summary."""

    model: AppraisalModel
    verifier: Verifier
    summary: dict


def fit_mix_appraisal(train: pd.DataFrame, held: Iterable[tuple[str, pd.DataFrame]], seed: int, negation: bool,
                      scope: str) -> MixAppraisal:
    """Fit a mix's appraisal stage on its `train` rows (the fit sample: text, lower, neg, labels,
    appraisal_votes) and summarise the scores of those and of every other record row (`held`: batches
    of (role, rows with text and labels), role dev/test/probe, in record order).

    Per-atom label models and the verifier are fit on the train rows only (held-out text never shapes
    the trainer's L_app, and train values do not depend on dev/test/probe); the summary describes the
    scores of every row and their agreement with the prototypes of the gold labels on the dev rows.
    The held rows are scored one batch at a time (`ScoreTally`: memory bounded by a batch and the dev
    rows' scores). Rows are written later, per partition, by `with_labels`.
    """
    from catalog import load_catalog
    from labeling_functions.appraisal import APPRAISAL_ATOMS, appraisal_lfs, fit_appraisal, train_verifier
    from labeling_functions.appraisal.summary import ScoreTally

    train = train.reset_index(drop=True)
    matrices = appraisal_matrices_of(train, appraisal_lfs(negation), APPRAISAL_ATOMS)
    model = fit_appraisal(train, seed, matrices=matrices, negation=negation)
    pred = model.predict(train)
    verifier, report = train_verifier(train, pred, load_catalog().unified_labels, seed, negation_scope=scope)
    tally = ScoreTally(model.atoms)
    tally.add(pred, train["labels"].tolist(), eval_mask=np.zeros(len(train), dtype=bool))
    for role, rows in held:
        tally.add(model.predict(rows), rows["labels"].tolist(), eval_mask=np.full(len(rows), role == "dev"))
    return MixAppraisal(model, verifier, tally.summary(model, report))


def with_labels(labeler: WeakLabeler, n_lfs: int, appraisal: AppraisalModel | None,
                frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` plus the weak-label columns and, given the appraisal model, `appraisal` (its scores)
    and `appraisal_prototype` (s̃ of the gold labels). Row-wise: a map task of the write stage."""
    out = with_weak_labels(frame, labeler, n_lfs)
    if appraisal is not None:
        from catalog.appraisal import load_prototypes

        pred = appraisal.predict(out).to_numpy(dtype=float)  # the classifier's scores (no LF matrix needed)
        protos = load_prototypes().prototype_matrix(out["labels"].tolist())
        out = out.assign(appraisal=_atom_structs(pred, appraisal.atoms),
                         appraisal_prototype=_atom_structs(protos, appraisal.atoms))
    return out
