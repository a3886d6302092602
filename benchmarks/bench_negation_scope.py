"""Negation scope: the CD-SCO CRF (cdsco-crf-v2), dependency parse (depparse-v1), NegEx window (negex-window-v2).

The yardstick (issue 15) is the *SEM 2012 CD-SCO development file: `--cdsco` prints the shared-task
figures of every method (`emodata negation eval --method all`) and the EmoBank r(V) of each CRF
mirroring rule. The self-written set below is kept only as a regression check of the old rules: it was
written by the rules' author and ranked the two rule scopers the wrong way round.

Three older measurements, the rule methods side by side:
1. token-level scope precision/recall/F1 on benchmarks/negation_scope_gold.jsonl (hand-annotated by
   us; conventions in benchmarks/negation_scope_gold.md). "in scope" = depth >= 1; "negated" = odd
   depth, which is what the VAD adjustment uses;
2. throughput (utterances/s) of `NegationScoper.depths` on the first N real GoEmotions train
   utterances, with the share of utterances that needed parsing (cold, then memoised);
3. EmoBank valence/arousal/dominance Pearson r with each scope (NRC-VAD v1 lexicon).

Usage: python benchmarks/bench_negation_scope.py [--data-dir ../shared/data] [--n 5000] [--skip-real] [--cdsco] [--cv]
"""
from __future__ import annotations

import argparse
import csv
import json
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd

from emodata.annotate import annotate_frame, make_annotator
from emodata.text.lexicon import load_lexicon
from emodata.text.negation_parse import NegationScoper
from emodata.text.nlp import Pipeline, load_pipeline, tokenize
from emodata.sources.goemotions import read_goemotions

GOLD = Path(__file__).resolve().with_name("negation_scope_gold.jsonl")
METHODS = ("parse", "window")


def load_gold(path: Path, pipeline: Pipeline) -> list[dict]:
    """Gold records, checked: tokens equal `tokenize(text)` and label lists have one entry per token."""
    records = []
    with open(path, encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, 1):
            record = json.loads(line)
            (tokens,) = tokenize(pipeline, [record["text"]])
            if list(tokens.words) != record["tokens"]:
                raise ValueError(f"{path}:{line_no}: tokens {record['tokens']} differ from tokenize(text) "
                                 f"{list(tokens.words)}")
            for key in ("cue", "depth"):
                if len(record[key]) != len(tokens.words):
                    raise ValueError(f"{path}:{line_no}: {key} has {len(record[key])} entries for "
                                     f"{len(tokens.words)} tokens")
            records.append(record | {"_tokens": tokens})
    return records


def prf(pred: list[list[int]], gold: list[list[int]], positive) -> tuple[float, float, float]:
    """Token-level precision, recall and F1 of the class `positive(depth)`."""
    tp = fp = fn = 0
    for p_row, g_row in zip(pred, gold):
        for p, g in zip(p_row, g_row):
            tp += positive(p) and positive(g)
            fp += positive(p) and not positive(g)
            fn += positive(g) and not positive(p)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def in_scope(depth: int) -> bool:
    """Covered by at least one scope."""
    return depth >= 1


def negated(depth: int) -> bool:
    """Covered by an odd number of scopes (what the VAD adjustment mirrors)."""
    return depth % 2 == 1


def gold_report(pipeline: Pipeline) -> None:
    """Print scope P/R/F1 of both methods on the gold set, per split and per category."""
    records = load_gold(GOLD, pipeline)
    texts, tokens = [r["text"] for r in records], [r["_tokens"] for r in records]
    gold = [r["depth"] for r in records]
    scopers = {m: NegationScoper(pipeline, m) for m in METHODS}
    preds = {m: scopers[m].depths(texts, tokens) for m in METHODS}
    splits = {"dev": "dev (rules written looking at these)",
              "heldout": "heldout (annotated before running either method)", "all": "all"}
    print("| split | sentences | tokens in scope | method | class | precision | recall | F1 | sentences exact |")
    print("|---|---|---|---|---|---|---|---|---|")
    for split, label in splits.items():
        rows = [i for i, r in enumerate(records) if split in ("all", r["split"])]
        g_rows = [gold[i] for i in rows]
        n_scope = sum(in_scope(d) for row in g_rows for d in row)
        for method in METHODS:
            p_rows = [preds[method][i] for i in rows]
            exact = sum(p == g for p, g in zip(p_rows, g_rows))
            for name, positive in (("in scope", in_scope), ("negated (odd)", negated)):
                p, r, f = prf(p_rows, g_rows, positive)
                print(f"| {label} | {len(rows)} | {n_scope} | {scopers[method].name} | {name} | {p:.3f} | {r:.3f} "
                      f"| {f:.3f} | " + (f"{exact}/{len(rows)} |" if positive is in_scope else "|"))
    by_category: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(records):
        by_category[r["category"]].append(i)
    print("\n| category | sentences | in-scope F1 parse | in-scope F1 window | exact parse | exact window |")
    print("|---|---|---|---|---|---|")
    for category, rows in by_category.items():
        cells = []
        for method in METHODS:
            p_rows, g_rows = [preds[method][i] for i in rows], [gold[i] for i in rows]
            has_scope = any(in_scope(d) for row in g_rows + p_rows for d in row)
            cells.append(f"{prf(p_rows, g_rows, in_scope)[2]:.2f}" if has_scope else "n/a (no scope)")
        exact = [sum(preds[m][i] == gold[i] for i in rows) for m in METHODS]
        print(f"| {category} | {len(rows)} | {cells[0]} | {cells[1]} | "
              f"{exact[0]}/{len(rows)} | {exact[1]}/{len(rows)} |")


def throughput_report(pipeline: Pipeline, data: Path, n: int) -> None:
    """Print utterances/s of both methods on the first `n` GoEmotions train utterances."""
    frame = read_goemotions(data / "goemotions").records
    texts = frame.loc[frame["source_split"] == "train", "text"].head(n).tolist()
    start = time.perf_counter()
    tokens = list(tokenize(pipeline, texts))
    tokenize_s = time.perf_counter() - start
    print(f"\n## Throughput: {len(texts):,} GoEmotions train utterances "
          f"(tokenize alone: {tokenize_s:.2f} s, {len(texts) / tokenize_s:,.0f} utt/s)\n")
    print("| method | run | wall s | utterances/s (wall) | CPU s | utterances per CPU-second | parsed |")
    print("|---|---|---|---|---|---|---|")
    for method in METHODS:
        scoper = NegationScoper(pipeline, method)
        for run in ("cold", "memoised"):
            start, cpu = time.perf_counter(), time.process_time()
            scoper.depths(texts, tokens)
            seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
            parsed = f"{scoper.n_parsed:,} ({scoper.n_parsed / len(texts):.1%})" if method == "parse" else "0"
            print(f"| {scoper.name} | {run} | {seconds:.2f} | {len(texts) / seconds:,.0f} | {cpu:.2f} | "
                  f"{len(texts) / max(cpu, 1e-9):,.0f} | {parsed} |")
            if method == "window":
                break


def load_emobank(data: Path) -> tuple[pd.DataFrame, np.ndarray]:
    """EmoBank train+dev as reader-like records (id, text) and its gold V, A, D (1-5 scale)."""
    with open(data / "emobank" / "emobank_traindev.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    frame = pd.DataFrame({"id": [r["id"] for r in rows], "text": [r["text"] for r in rows]})
    return frame, np.array([[float(r[k]) for k in "VAD"] for r in rows])


def vad_correlations(out: pd.DataFrame, gold: np.ndarray) -> tuple[int, list[float]]:
    """Rows with lexicon coverage and Pearson r of vad_v/a/d against gold over them."""
    covered = out["n_covered"].to_numpy() > 0
    return int(covered.sum()), [float(np.corrcoef(out[c].to_numpy()[covered], gold[covered, i])[0, 1])
                                for i, c in enumerate(("vad_v", "vad_a", "vad_d"))]


def bootstrap_r_difference(x1: np.ndarray, x2: np.ndarray, y: np.ndarray, n: int = 1000,
                           seed: int = 0) -> tuple[float, float]:
    """95% paired-bootstrap interval of r(x1, y) - r(x2, y), resampling sentences."""
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(y), size=(n, len(y)))

    def r(x):
        xs, ys = x[idx], y[idx]
        xs, ys = xs - xs.mean(1, keepdims=True), ys - ys.mean(1, keepdims=True)
        return (xs * ys).sum(1) / np.sqrt((xs ** 2).sum(1) * (ys ** 2).sum(1))

    diff = r(x1) - r(x2)
    return float(np.percentile(diff, 2.5)), float(np.percentile(diff, 97.5))


def emobank_report(pipeline: Pipeline, data: Path) -> None:
    """Print EmoBank Pearson r for plain, window-scope and parse-scope negation-aware VAD."""
    frame, gold = load_emobank(data)
    lexicon = load_lexicon("nrc-vad", [data / "lexicons"])
    texts = frame["text"].tolist()
    tokens = list(tokenize(pipeline, texts))
    print(f"\n## EmoBank ({len(frame):,} sentences, NRC-VAD v1)\n")
    print("| scoring | covered | r(V) | r(A) | r(D) | scope seconds |")
    print("|---|---|---|---|---|---|")
    rows = [("plain mean", make_annotator(pipeline, lexicon, "off"), 0.0)]
    for method in METHODS:
        annotator = make_annotator(pipeline, lexicon, "on", scope=method)
        start = time.perf_counter()
        annotator.scoper.depths(texts, tokens)
        rows.append((annotator.scoper.name, annotator, time.perf_counter() - start))
    valence = {}
    for name, annotator, seconds in rows:
        out = annotate_frame(frame, annotator)
        covered, rs = vad_correlations(out, gold)
        valence[name] = out["vad_v"].to_numpy()
        print(f"| {name} | {covered:,} / {len(frame):,} | " + " | ".join(f"{r:.4f}" for r in rs)
              + f" | {seconds:.2f} |")
    mask = ~np.isnan(valence["plain mean"])
    (parse_name, _, _), (window_name, _, _) = rows[1], rows[2]
    for a, b in ((parse_name, window_name), (parse_name, "plain mean"), (window_name, "plain mean")):
        low, high = bootstrap_r_difference(valence[a][mask], valence[b][mask], gold[mask, 0])
        print(f"\nr(V) {a} - {b}: 95% paired bootstrap interval [{low:+.4f}, {high:+.4f}] (1,000 resamples)")


def cdsco_report(data: Path) -> None:
    """Print the shared-task figures of every method on the CD-SCO dev file, and EmoBank r per mirror rule."""
    from emodata.text import negation_scope
    from emodata.text.negation_eval import METHOD_NAMES, evaluate_method
    dev = data / "cdsco" / "SEM-2012-SharedTask-CD-SCO-dev-09032012.txt"
    print(f"## CD-SCO dev ({dev.name})\n")
    for name in METHOD_NAMES:
        print(f"### {name}\n{evaluate_method([dev], name).format()}\n")
    frame, gold = load_emobank(data)
    lexicon = load_lexicon("nrc-vad", [data / "lexicons"])
    pipeline = load_pipeline()
    print("| EmoBank train+dev, CRF mirror rule | covered | r(V) | r(A) | r(D) |\n|---|---|---|---|---|")
    for mirror in ("all", "right", "near"):
        negation_scope.MIRROR = mirror
        covered, rs = vad_correlations(annotate_frame(frame, make_annotator(pipeline, lexicon, "on", "crf")), gold)
        print(f"| {mirror} | {covered:,} | " + " | ".join(f"{r:.4f}" for r in rs) + " |")


def cv_report(data: Path, folds: int = 5) -> None:
    """Print the CRF's k-fold cross-validation figures on the CD-SCO training file, and the rule methods'
    figures on the same file (they learn nothing from it; punct's own cues come from the shipped lists,
    learned from this file, so its own-cue row is in-sample)."""
    from emodata.text.negation_eval import METHOD_NAMES, cross_validate, evaluate_method
    train = data / "cdsco" / "SEM-2012-SharedTask-CD-SCO-training-09032012.txt"
    print(f"## CD-SCO training ({train.name})\n")
    print(f"### crf, {folds}-fold cross-validation (contiguous blocks)\n{cross_validate([train], folds).format()}\n")
    for name in METHOD_NAMES:
        if name != "crf":
            print(f"### {name} (no training)\n{evaluate_method([train], name).format()}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=str(Path(__file__).resolve().parents[1].parent / "shared" / "data"))
    parser.add_argument("--n", type=int, default=5000, help="GoEmotions utterances for the throughput run")
    parser.add_argument("--skip-real", action="store_true", help="only the gold set (no shared data needed)")
    parser.add_argument("--cdsco", action="store_true", help="only the CD-SCO dev figures and EmoBank mirror rules")
    parser.add_argument("--cv", action="store_true", help="only the CD-SCO training-file cross-validation figures")
    args = parser.parse_args()
    if args.cv:
        cv_report(Path(args.data_dir))
        return
    if args.cdsco:
        cdsco_report(Path(args.data_dir))
        return
    pipeline = load_pipeline()
    print(f"pipeline: {pipeline.name} {pipeline.version} (spaCy {pipeline.describe()['spacy']})\n")
    gold_report(pipeline)
    if not args.skip_real:
        data = Path(args.data_dir)
        throughput_report(pipeline, data, args.n)
        emobank_report(pipeline, data)


if __name__ == "__main__":
    main()
