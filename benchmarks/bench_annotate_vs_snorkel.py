"""Annotate-stage throughput: emodata's batched stage vs Snorkel's usual idiom, same LFs, same rows.

Both sides produce, for the same N real GoEmotions utterances, tokens, negation scope, lexicon VAD
and the votes of all emotion LFs:

- emodata: `annotate_frame` with the build's annotator (spaCy tokenizer through `tokenizer.pipe`,
  window or parse negation scope, VAD, then every LF over the stored columns by `apply_lfs`);
- Snorkel idiom: `PandasLFApplier` over LFs whose preprocessors are `SpacyPreprocessor` (the full
  en_core_web_sm pipeline, one document at a time, memoised) and a preprocessor deriving the same
  columns from the Doc with emodata's own scorer, so the LF bodies and their inputs are identical.

The label matrices are compared (they must be equal) before timings are printed. Single process;
run with `taskset -c 0` to measure per-core throughput. Wall and CPU time (`time.process_time`) are
both printed: on a shared machine the CPU time is the per-core figure.

    python benchmarks/bench_annotate_vs_snorkel.py [--n 5000] [--scope window|parse|crf] [--repeat 1]
    python benchmarks/bench_annotate_vs_snorkel.py --whole-build [--idiom-rows N]

`--whole-build` (issue #18) times the whole `emodata build --mix 100:0` on the real GoEmotions files
(cold cache, a subprocess: its wall and CPU seconds, and the stage seconds of its run.json) and, in
the same run, the Snorkel idiom over the same texts (every row the build reads; `--idiom-rows N`
times only the first N and says so), and prints both rows/s.

On a loaded shared machine CPU time also inflates (caches and cores are shared), so `--repeat R` times
emodata's side R times and reports the best run, as `timeit` does; the Snorkel idiom runs once.
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
from snorkel.labeling import LabelingFunction, PandasLFApplier
from snorkel.preprocess import preprocessor
from snorkel.preprocess.nlp import SpacyPreprocessor

from emodata.annotate import annotate_frame, make_annotator
from emodata.text.lexicon import load_lexicon
from emodata.text.negation import adjust_with_depth
from emodata.text.negation_cues import default_detector
from emodata.text.nlp import load_pipeline, tokenize
from emodata.sources.goemotions import read_goemotions
from emodata.text.vad import score_utterance
from labeling_functions.core import apply_lfs
from labeling_functions.emotion import emotion_lfs


def snorkel_idiom_lfs(lfs, annotator, model_name: str) -> list[LabelingFunction]:
    """The same LF bodies behind SpacyPreprocessor + a column-deriving preprocessor (per row)."""
    spacy_pre = SpacyPreprocessor(text_field="text", doc_field="doc", language=model_name, memoize=True,
                                  memoize_key=lambda x: x.text)
    pipeline = annotator.pipeline

    @preprocessor(memoize=True, memoize_key=lambda x: x.text)
    def derive_columns(x):
        (tokens,) = tokenize(pipeline, [x.text])  # same tokens as the Doc's (spaCy tokenizer)
        (depth,) = annotator.scoper.depths([x.text], [tokens])
        scored = score_utterance(tokens, annotator.lookup, partial(adjust_with_depth, depth=depth), annotator.epsilon)
        lower = list(tokens.lower)
        return SimpleNamespace(text=x.text, tokens=list(tokens.words), lower=lower, neg=[d % 2 for d in depth],
                               vad_v=scored.v, vad_a=scored.a, vad_d=scored.d, vad_conf=scored.conf,
                               padded=" " + " ".join(lower) + " ", in_dialogue=bool(x.in_dialogue))

    return [LabelingFunction(lf.name, f=lf._f, resources=getattr(lf, "resources", None), pre=[spacy_pre, derive_columns])
            for lf in lfs]


def compare(data_dir: Path, n: int, scope: str = "window", repeat: int = 1) -> dict:
    """Time both sides on the first `n` GoEmotions train rows (emodata's side: the best of `repeat` runs,
    each with a fresh annotator and empty memos); seconds, rows and whether the matrices agree."""
    records = read_goemotions(data_dir / "goemotions").records
    records = records[records["source_split"] == "train"].head(n).reset_index(drop=True)
    pipeline = load_pipeline()
    lexicon = load_lexicon("nrc-vad", [data_dir / "lexicons"])
    lfs = emotion_lfs()
    # one-time loads (negation model files, WordNet index) outside the timing, as SpacyPreprocessor's spacy.load
    annotate_frame(records.head(20), make_annotator(pipeline, lexicon, "on", scope, lfs))
    ours_s = ours_cpu = float("inf")
    for _ in range(repeat):  # best of `repeat`: a shared machine only ever adds time
        annotator = make_annotator(pipeline, lexicon, "on", scope, lfs)  # empty scope memo
        default_detector().clear_memo()
        start, cpu = time.perf_counter(), time.process_time()
        ours = annotate_frame(records, annotator)
        ours_s, ours_cpu = min(ours_s, time.perf_counter() - start), min(ours_cpu, time.process_time() - cpu)
    ours_matrix = np.stack(ours["emotion_votes"].to_numpy()).astype(np.int64)

    # Pipeline.name is the installed package name (en_core_web_sm or its PyPI mirror), which spacy.load takes.
    idiom = snorkel_idiom_lfs(lfs, make_annotator(pipeline, lexicon, "on", scope), pipeline.name)
    dialogue = records["conv_id"].notna() if "conv_id" in records.columns else [False] * len(records)
    frame = pd.DataFrame({"text": records["text"], "in_dialogue": list(dialogue)})
    start, cpu = time.perf_counter(), time.process_time()
    snorkel_matrix = PandasLFApplier(idiom).apply(frame, progress_bar=False)
    snorkel_s, snorkel_cpu = time.perf_counter() - start, time.process_time() - cpu
    same = np.array_equal(ours_matrix, snorkel_matrix) and np.array_equal(apply_lfs(ours, lfs), ours_matrix)
    return {"rows": len(records), "lfs": len(lfs), "scope": scope, "ours_s": ours_s, "snorkel_s": snorkel_s,
            "ours_cpu": ours_cpu, "snorkel_cpu": snorkel_cpu, "same": bool(same)}


def _idiom_rows_per_cpu_s(records: pd.DataFrame, data_dir: Path, scope: str) -> tuple[float, float, int]:
    """The Snorkel idiom over `records`' texts: wall s, CPU s, rows."""
    pipeline = load_pipeline()
    lexicon = load_lexicon("nrc-vad", [data_dir / "lexicons"])
    idiom = snorkel_idiom_lfs(emotion_lfs(), make_annotator(pipeline, lexicon, "on", scope), pipeline.name)
    frame = pd.DataFrame({"text": records["text"], "in_dialogue": [False] * len(records)})
    start, cpu = time.perf_counter(), time.process_time()
    PandasLFApplier(idiom).apply(frame, progress_bar=False)
    return time.perf_counter() - start, time.process_time() - cpu, len(frame)


def whole_build(data_dir: Path, idiom_rows: int | None, scope: str = "window") -> dict:
    """`emodata build --mix 100:0` on GoEmotions alone (cold cache, subprocess) vs the Snorkel idiom over
    the texts the build reads, in one run; wall/CPU seconds and rows of each, the build's stage seconds."""
    records = read_goemotions(data_dir / "goemotions").records
    with tempfile.TemporaryDirectory(prefix="emodata-whole-build-") as tmp:
        tmp_path = Path(tmp)
        only = tmp_path / "data"
        only.mkdir()
        for name in ("goemotions", "lexicons"):  # GoEmotions alone: no probe, no second source
            (only / name).symlink_to((data_dir / name).resolve())
        command = ["emodata", "build", "--mix", "100:0", "--data-dir", str(only), "--out", str(tmp_path / "out"),
                   "--cache-dir", str(tmp_path / "cache"), "--negation-scope", scope, "--quiet"]
        before, start = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
        subprocess.run(command, check=True)
        wall, after = time.perf_counter() - start, resource.getrusage(resource.RUSAGE_CHILDREN)
        run = json.loads((tmp_path / "out" / "mix_100_0" / "run.json").read_text())
    build_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    timed = records if idiom_rows is None else records.head(idiom_rows)
    idiom_wall, idiom_cpu, n_idiom = _idiom_rows_per_cpu_s(timed, data_dir, scope)
    return {"rows": len(records), "build_s": wall, "build_cpu": build_cpu, "stages": run.get("stage_seconds", run),
            "idiom_rows": n_idiom, "idiom_s": idiom_wall, "idiom_cpu": idiom_cpu, "command": " ".join(command[:4])}


def print_whole_build(r: dict) -> None:
    """The whole-build comparison as a Markdown table."""
    texts = "the same texts" if r["idiom_rows"] == r["rows"] else f"the first {r['idiom_rows']:,} of them"
    print(f"`{r['command']}` on {r['rows']:,} GoEmotions rows (train + dev); Snorkel idiom on {texts}")
    print("| pipeline | rows | wall s | rows/s (wall) | CPU s | rows/CPU-s |")
    print("|---|---|---|---|---|---|")
    for name, rows, wall, cpu in (("emodata build --mix 100:0 (whole build)", r["rows"], r["build_s"], r["build_cpu"]),
                                  ("Snorkel PandasLFApplier + SpacyPreprocessor", r["idiom_rows"], r["idiom_s"],
                                   r["idiom_cpu"])):
        print(f"| {name} | {rows:,} | {wall:.1f} | {rows / wall:,.0f} | {cpu:.1f} | {rows / cpu:,.0f} |")
    wall_x = (r["rows"] / r["build_s"]) / (r["idiom_rows"] / r["idiom_s"])
    cpu_x = (r["rows"] / r["build_cpu"]) / (r["idiom_rows"] / r["idiom_cpu"])
    print(f"speed-up (rows/s): {wall_x:.1f}x wall, {cpu_x:.1f}x CPU time")
    print(f"build stage seconds: {json.dumps(r['stages'])}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=str(Path(__file__).resolve().parents[1].parent / "shared" / "data"))
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--scope", default="window", choices=("window", "parse", "crf"))
    parser.add_argument("--repeat", type=int, default=1, help="time emodata's side this many times, keep the best")
    parser.add_argument("--whole-build", action="store_true",
                        help="time the whole `emodata build --mix 100:0` against the idiom (issue #18)")
    parser.add_argument("--idiom-rows", type=int, default=None,
                        help="with --whole-build: time the idiom on the first N texts only (default: all)")
    args = parser.parse_args()
    if args.whole_build:
        print_whole_build(whole_build(Path(args.data_dir), args.idiom_rows, args.scope))
        return
    r = compare(Path(args.data_dir), args.n, args.scope, args.repeat)
    print(f"rows: {r['rows']:,}; LFs: {r['lfs']}; negation scope: {r['scope']}; "
          f"label matrices identical: {r['same']}")
    print("| pipeline | wall s | utterances/s (wall) | CPU s | utterances/CPU-s |")
    print("|---|---|---|---|---|")
    for name, key in (("emodata annotate stage (tokens, negation, VAD, all LFs)", "ours"),
                      ("Snorkel PandasLFApplier + SpacyPreprocessor", "snorkel")):
        wall, cpu = r[f"{key}_s"], r[f"{key}_cpu"]
        print(f"| {name} | {wall:.2f} | {r['rows'] / wall:,.0f} | {cpu:.2f} | {r['rows'] / cpu:,.0f} |")
    print(f"speed-up: {r['snorkel_s'] / r['ours_s']:.1f}x wall, {r['snorkel_cpu'] / r['ours_cpu']:.1f}x CPU time")
    if not r["same"]:
        raise SystemExit("label matrices differ: the comparison is not like for like")


if __name__ == "__main__":
    main()
