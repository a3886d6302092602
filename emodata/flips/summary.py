"""The manifest's `pairs` entry: pairs per kind, S_flip, validity, rejections and examples to read.

Shape (the `n_pairs`, `by_kind`, `s_flip_hist` keys are the ones emodata/report.py draws):

    {"n_pairs": int,
     "by_kind": {KIND: {"pairs": int, "s_flip_mean": float | None}},
     "s_flip_hist": {"bins": [26 edges over 0..0.5], "counts": [25 ints]},   # S_flip clipped to 0.5
     "s_flip_mean": float | None,
     "validity": {"emitted": share of pairs whose x′ crosses 0.5 by the lexicon (1.0 by construction),
                  "pre_filter": share of all generated candidates that pass the filter,
                  "pre_filter_by_kind": {KIND: float | None}},
     "rows": {"selected", "paired", "no_valence", "neutral_source", "not_polar", "no_draft", "no_candidate",
              "no_valid_candidate"},
     "candidates": {KIND: {"generated", "passed", "emitted", "no_rewrite", "no_draft" (rows the kind's
                           parse-free draft ruled out, emodata/flips/draft.py), "rejected": {REASON: int}}},
     "rejected": {REASON: int},      # row-level reasons and candidate reasons summed over kinds
     "examples": [{"id", "kind", "text", "text_flip"}, ...],   # a seeded draw of up to 30 pairs
     "judges": {KIND: {JUDGE: share of the kind's judged candidates (not unchanged/empty) whose
                       polarity that judge sees reversed}},    # JUDGE: vad (the generators' own
                       # negation-aware VAD), plain (plain lexicon valence), vader (VADER compound)
     "examples_by_kind": {KIND: [{"id", "text", "text_flip"}, ...]}}   # a seeded draw of 20 per kind
"""
from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import pyarrow as pa

from catalog.flips import FLIP_KINDS
from emodata.core.metrics import s_flip

from emodata.flips.pairs import JUDGE_NAMES, REJECT_REASONS, ROW_OUTCOMES

HIST_EDGES = np.linspace(0.0, 0.5, 26)
N_EXAMPLES = 30
#: Pairs per kind drawn for a person to read (`examples_by_kind`).
N_EXAMPLES_PER_KIND = 20
#: Row outcomes that are rejections (the rest are counts).
ROW_REJECTIONS = ("no_valence", "neutral_source", "not_polar", "no_draft", "no_candidate", "no_valid_candidate")


def _rate(num: int, den: int) -> float | None:
    return round(num / den, 6) if den else None


def _mean_s_flip(v: np.ndarray, v_lex: np.ndarray) -> float | None:
    return round(s_flip(v, v_lex), 6) if len(v) else None


def judge_acceptance(rejects: Counter) -> dict:
    """Per kind and judge, the share of judged candidates whose polarity the judge sees reversed."""
    out = {}
    for kind in FLIP_KINDS:
        out[kind] = {}
        for name in JUDGE_NAMES:
            ok, bad = (int(rejects.get(f"{kind}:judge:{name}:{r}", 0)) for r in ("pass", "fail"))
            out[kind][name] = _rate(ok, ok + bad)
        out[kind]["judged"] = int(rejects.get(f"{kind}:judge:vad:pass", 0) + rejects.get(f"{kind}:judge:vad:fail", 0))
    return out


def examples_by_kind(frame: pd.DataFrame, seed: int, n: int = N_EXAMPLES_PER_KIND) -> dict:
    """A seeded draw of up to n pairs of each kind (in table order), for a person to read."""
    rng = np.random.default_rng(seed)
    out = {}
    for kind in FLIP_KINDS:
        mine = np.flatnonzero(frame["kind"].astype(str).to_numpy() == kind)
        take = np.sort(rng.choice(mine, size=min(n, len(mine)), replace=False)) if len(mine) else mine
        out[kind] = [{"id": str(frame["id"].iloc[i]), "text": str(frame["text"].iloc[i]),
                      "text_flip": str(frame["text_flip"].iloc[i])} for i in take]
    return out


def pairs_summary(pairs: pa.Table | pd.DataFrame, rejects: Counter, seed: int = 0,
                  n_examples: int = N_EXAMPLES) -> dict:
    """The manifest `pairs` entry (module docstring) of a `make_pairs` table and its tally."""
    frame = pairs.to_pandas() if isinstance(pairs, pa.Table) else pairs
    v = frame["v"].to_numpy(dtype=float)
    v_lex = frame["v_lex_flip"].to_numpy(dtype=float)
    kinds = frame["kind"].astype(str).to_numpy()
    by_kind = {}
    for kind in FLIP_KINDS:
        mine = kinds == kind
        by_kind[kind] = {"pairs": int(mine.sum()), "s_flip_mean": _mean_s_flip(v[mine], v_lex[mine])}
    counts, _ = np.histogram(np.clip(frame["s_flip"].to_numpy(dtype=float), 0.0, 0.5), bins=HIST_EDGES)
    candidates, rejected = {}, Counter()
    for kind in FLIP_KINDS:
        reasons = {r: int(rejects.get(f"{kind}:{r}", 0)) for r in REJECT_REASONS}
        passed = int(rejects.get(f"{kind}:ok", 0))
        candidates[kind] = {"generated": passed + sum(reasons.values()), "passed": passed,
                            "emitted": int(rejects.get(f"{kind}:emitted", 0)),
                            "no_rewrite": int(rejects.get(f"{kind}:no_rewrite", 0)),
                            "no_draft": int(rejects.get(f"{kind}:no_draft", 0)), "rejected": reasons}
        rejected.update(reasons)
    rows = {k: int(rejects.get(f"rows:{k}", 0)) for k in ROW_OUTCOMES}
    rejected.update({k: rows[k] for k in ROW_REJECTIONS})
    generated = sum(c["generated"] for c in candidates.values())
    crossed = int(np.sum((v - 0.5) * (v_lex - 0.5) < 0))
    take = np.sort(np.random.default_rng(seed).choice(len(frame), size=min(n_examples, len(frame)), replace=False))
    examples = [{"id": str(frame["id"].iloc[i]), "kind": str(kinds[i]), "text": str(frame["text"].iloc[i]),
                 "text_flip": str(frame["text_flip"].iloc[i])} for i in take]
    return {
        "n_pairs": int(len(frame)),
        "by_kind": by_kind,
        "s_flip_hist": {"bins": [round(float(e), 6) for e in HIST_EDGES], "counts": [int(c) for c in counts]},
        "s_flip_mean": _mean_s_flip(v, v_lex),
        "validity": {"emitted": _rate(crossed, len(frame)),
                     "pre_filter": _rate(sum(c["passed"] for c in candidates.values()), generated),
                     "pre_filter_by_kind": {k: _rate(c["passed"], c["generated"]) for k, c in candidates.items()}},
        "rows": rows,
        "candidates": candidates,
        "rejected": dict(sorted((k, int(n)) for k, n in rejected.items())),
        "examples": examples,
        "judges": judge_acceptance(rejects),
        "examples_by_kind": examples_by_kind(frame, seed),
    }
