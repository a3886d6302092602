"""Which negation marking gives the appraisal classifier the best 5-fold CV ROC-AUC on enISEAR (issue 17).

    python benchmarks/bench_appraisal_negation.py /work/shared/data/appraisal_enisear [--methods none,rule,window,crf,punct]

Same folds, features and model as `labeling_functions.appraisal.train.cross_validate` (seeded stratified
5-fold); only the `NEG_` marking of the word features changes:
- none: no marking;
- rule: the classifier's former own rule (3 tokens after a cue word, up to the next punctuation), kept
  here only as the baseline this benchmark compares against;
- window / crf / punct: `NEG_` on the scope tokens of `emodata.text.negation.resolve(words, method=...)`.
Prints mean and min fold AUC per dimension and the mean / min over dimensions.
"""
from __future__ import annotations

import argparse
import time

import numpy as np
from threadpoolctl import threadpool_limits

from labeling_functions.appraisal.classifier import NEG_PREFIX, normalise, tokenize
from labeling_functions.appraisal.enisear import ENISEAR_DIMENSIONS, read_enisear
from labeling_functions.appraisal.train import SEED, cross_validate

_RULE_CUES = frozenset({"not", "no", "never", "nothing", "nobody", "none", "cannot", "without", "nor"})
_PUNCT = frozenset(".,;:!?")


def rule_marked(text: str, window: int = 3) -> str:
    """The former rule: up to `window` tokens after a cue word get `NEG_`, until punctuation."""
    out, scope = [], 0
    for tok in tokenize(text):
        if tok in _PUNCT:
            scope = 0
        elif tok in _RULE_CUES:
            scope = window
            out.append(tok)
        else:
            out.append(NEG_PREFIX + tok if scope else tok)
            scope = max(scope - 1, 0)
    return " ".join(out)


def docs_for(texts: list[str], method: str) -> list[str]:
    """The word-feature documents of `texts` under one marking method."""
    if method == "rule":
        return [rule_marked(t) for t in texts]
    return [normalise(t, method=None if method == "none" else method) for t in texts]


def main() -> None:
    """Run the comparison and print one table per method."""
    parser = argparse.ArgumentParser()
    parser.add_argument("data")
    parser.add_argument("--methods", default="none,rule,window,punct,crf")
    parser.add_argument("--seed", type=int, default=SEED, help="fold seed (the shipped model's: 42)")
    args = parser.parse_args()
    data = read_enisear(args.data)
    print(f"data {data.path} n={len(data)} fold seed {args.seed}")
    for method in args.methods.split(","):
        start = time.perf_counter()
        docs = docs_for(list(data.texts), method)
        marked = sum(NEG_PREFIX in d for d in docs)
        with threadpool_limits(1):
            cv = cross_validate(docs, data.ratings, seed=args.seed)
        means = [cv[d]["mean"] for d in ENISEAR_DIMENSIONS]
        fold_min = min(min(cv[d]["folds"]) for d in ENISEAR_DIMENSIONS)
        print(f"\n## {method}: {marked} of {len(docs)} sentences marked, {time.perf_counter() - start:.1f} s")
        for d in ENISEAR_DIMENSIONS:
            print(f"{d:<15} mean {cv[d]['mean']:.4f}  min fold {min(cv[d]['folds']):.4f}")
        print(f"MEAN {np.mean(means):.4f}  MIN-DIM {np.min(means):.4f}  MIN-FOLD {fold_min:.4f}")


if __name__ == "__main__":
    main()
