"""Judge a build's Valence-Flip pairs with scorers the generators do not use (issue #17).

    python benchmarks/bench_flip_judges.py OUT/mix_20_80 [--lexicon PATH] [--examples 5]
    python benchmarks/bench_flip_judges.py OUT/mix_20_80 --regenerate 0.6 --seed 42 --out /tmp/x \
        --cache-dir CACHE [--no-drafts]
        # re-runs today's flip stage (make_pairs) on the build's train rows first, timed, and judges that;
        # --cache-dir joins the stored annotate tokens as the build does, --no-drafts parses every polar row

Per kind: pairs, share whose plain (negation-unaware) lexicon valence crosses 0.5, share whose VADER
compound changes sign (an original VADER calls neutral, |c| < 0.05, counts as a failure), and the
share of train rows with a pair; prints a few pairs of each kind. Reads pairs/train_pairs.parquet and
the train shards; the lexicon defaults to the shared NRC-VAD file.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from emodata.annotate import make_annotator
from emodata.flips.judges import VADER_NEUTRAL, plain_valence, vader_compound
from emodata.text.lexicon import load_lexicon
from emodata.text.nlp import load_pipeline

DEFAULT_LEXICON = Path("/work/shared/data/lexicons/NRC-VAD-Lexicon.txt")


def judge_build(build: Path, lexicon_path: Path, n_examples: int) -> dict:
    """The per-kind judge figures of one build folder (module docstring)."""
    pairs = pq.read_table(build / "pairs" / "train_pairs.parquet").to_pandas()
    n_train = sum(pq.read_metadata(p).num_rows for p in (build / "data").glob("*/train*.parquet"))
    annotator = make_annotator(load_pipeline(), load_lexicon(str(lexicon_path)))
    vx, vf = vader_compound(pairs["text"].tolist()), vader_compound(pairs["text_flip"].tolist())
    px, pf = plain_valence(pairs["text"].tolist(), annotator), plain_valence(pairs["text_flip"].tolist(), annotator)
    vader_ok = (np.abs(vx) >= VADER_NEUTRAL) & (vx * vf < 0)
    plain_ok = (px - 0.5) * (pf - 0.5) < 0
    out = {"train_rows": int(n_train), "pairs": int(len(pairs)), "paired_share": round(len(pairs) / n_train, 4),
           "vader_reverse_all": round(float(vader_ok.mean()), 4) if len(pairs) else None, "by_kind": {}}
    rng = np.random.default_rng(0)
    for kind in sorted(set(pairs["kind"])):
        mine = (pairs["kind"] == kind).to_numpy()
        take = rng.choice(np.flatnonzero(mine), size=min(n_examples, int(mine.sum())), replace=False)
        out["by_kind"][kind] = {
            "pairs": int(mine.sum()), "plain_cross": round(float(plain_ok[mine].mean()), 4),
            "vader_reverse": round(float(vader_ok[mine].mean()), 4),
            "vader_neutral_original": round(float((np.abs(vx[mine]) < VADER_NEUTRAL).mean()), 4),
            "examples": [f"{pairs['text'].iloc[i]} -> {pairs['text_flip'].iloc[i]}" for i in sorted(take)]}
    return out


def train_rows(build: Path, cache_dir: Path | None) -> "pd.DataFrame":
    """A build's train rows (id, text, labels, vad_*), with the annotate stage's stored `tokens`/`lower`
    joined by id from the build's annotate cache (`--cache-dir`) when given, as the build passes them."""
    import pandas as pd

    frames = [pq.read_table(p, columns=["id", "text", "labels", "vad"]).to_pandas()
              for p in sorted((build / "data").glob("*/train*.parquet"))]
    train = pd.concat(frames, ignore_index=True)
    for k in "vad":
        train[f"vad_{k}"] = [d[k] for d in train["vad"]]
    if cache_dir is not None:
        stored = pd.concat([pq.read_table(p, columns=["id", "tokens", "lower"]).to_pandas()
                            for p in sorted((cache_dir / "annotated").glob("*.parquet"))], ignore_index=True)
        train = train.merge(stored.drop_duplicates("id"), on="id", how="left", validate="one_to_one")
        missing = train["tokens"].isna()
        if missing.any():
            raise ValueError(f"{cache_dir}: no stored tokens for train id {train['id'][missing].iloc[0]!r}")
    return train


def regenerate(build: Path, lexicon_path: Path, flip_frac: float, seed: int, out: Path,
               cache_dir: Path | None = None, drafts: bool = True) -> dict:
    """Run `make_pairs` on a build's train shards (window negation, as the default build) into out/pairs."""
    import time

    from emodata.flips import make_pairs, pairs_summary
    train = train_rows(build, cache_dir)
    annotator = make_annotator(load_pipeline(), load_lexicon(str(lexicon_path)))
    start = time.perf_counter()
    table, tally = make_pairs(train, annotator, annotator.pipeline, flip_frac, seed, drafts=drafts)
    seconds = time.perf_counter() - start
    (out / "pairs").mkdir(parents=True, exist_ok=True)
    pq.write_table(table, out / "pairs" / "train_pairs.parquet")
    summary = pairs_summary(table, tally, seed)
    (out / "summary.json").write_text(json.dumps(summary, indent=1, ensure_ascii=False))
    return {"seconds": round(seconds, 1), "train_rows": len(train), "pairs": table.num_rows,
            "paired_share_of_drawn": round(table.num_rows / max(1, summary["rows"]["selected"]), 4),
            "rows": summary["rows"], "judges": summary["judges"], "rejected": summary["rejected"]}


def main() -> None:
    """CLI entry point: print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("build", type=Path)
    parser.add_argument("--lexicon", type=Path, default=DEFAULT_LEXICON)
    parser.add_argument("--examples", type=int, default=5)
    parser.add_argument("--regenerate", type=float, default=None, help="flip_frac of a fresh make_pairs run")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, default=Path("/tmp/flips/regen"))
    parser.add_argument("--cache-dir", type=Path, default=None,
                        help="the build's --cache-dir: join the stored tokens, as the build does")
    parser.add_argument("--no-drafts", action="store_true", help="parse every polar row (the slow reference)")
    args = parser.parse_args()
    if args.regenerate is not None:
        print(json.dumps(regenerate(args.build, args.lexicon, args.regenerate, args.seed, args.out, args.cache_dir,
                                    not args.no_drafts), indent=1))
        (args.out / "data").mkdir(exist_ok=True)
        for source in (args.build / "data").iterdir():   # train shards, for the paired share
            link = args.out / "data" / source.name
            if not link.exists():
                link.symlink_to(source)
        args.build = args.out
    print(json.dumps(judge_build(args.build, args.lexicon, args.examples), indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
