"""Model evaluation on a split: full eval (whole split, several seeds, mean ± std) and quick eval
(seeded stream under a wall-clock budget, online metrics with ETA), both with greedy KV-off decoding.

Records are dicts with `id`, `text`, `context` (list, optional), `labels`, `vad` and optionally
`text_flip` (the Valence-Flip mirror of `text`, same context). Metrics are `emodata.core.metrics`'s;
with flip records the model's own valences give S_flip over the pairs where both answers are valid.

Seeds: greedy decoding has no randomness, so a seed only sets the order in which records are
batched (a seeded permutation) and the torch/numpy/python seeds. Results are reported per seed and as
mean ± std (sample std, 0 for one seed); a non-zero std means batch composition changed outputs
(padding numerics). Quick eval uses the first seed's order as its stream; it stops before a batch
when the elapsed time has reached the budget or the next batch (at the mean batch time so far) would
pass it, and its metrics are over the rows seen (`complete` says whether that is the whole split).

Files in `out_dir` (when given): predictions_seed{S}.jsonl (full) or predictions_quick.jsonl — one
line per record in input order: id, seed, output, parsed, ok, reason (and output_flip, ok_flip,
reason_flip for flip records) —, metrics.json and metrics.csv (deterministic: same model, records
and seeds give identical files), and run.json (timings, decode counts, environment stamp).
"""
from __future__ import annotations

import csv
import json
import math
import random
import time
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from emodata.core.contract import build_prompt, parse_output
from trainer.decode import MAX_LEN, MAX_NEW_TOKENS, greedy_decode
from emodata.core.metrics import SCALAR_KEYS, composite_score, evaluate_outputs, s_flip

FULL_SEEDS = (11, 22, 33)
ONLINE_EVERY_S = 5.0
EXTRA_KEYS = ("s_flip", "n_flip_pairs", "composite")


def seed_everything(seed: int) -> None:
    """Seed python, numpy and torch (when importable)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    try:
        import torch
    except ImportError:
        return
    torch.manual_seed(seed)


def stream_order(n: int, seed: int) -> list[int]:
    """The seeded permutation of record indices used as the decoding order."""
    return [int(i) for i in np.random.default_rng(seed).permutation(n)]


def _prompts(records: Sequence[dict], label_space: Sequence[str], order: list[int]) -> list[tuple[int, str, str]]:
    items = []
    for i in order:
        record = records[i]
        context = list(record.get("context") or [])
        items.append((i, "main", build_prompt(record["text"], context, label_space)))
        if record.get("text_flip"):
            items.append((i, "flip", build_prompt(record["text_flip"], context, label_space)))
    return items


def _prediction(record: dict, seed: int, output: str | None, flip: str | None,
                label_space: Sequence[str]) -> dict:
    parsed = parse_output(output, label_space) if output is not None else None
    row = {"id": record["id"], "seed": seed, "output": output,
           "parsed": parsed.answer if parsed else None, "ok": bool(parsed and parsed.ok),
           "reason": parsed.reason if parsed else "missing"}
    if record.get("text_flip"):
        pf = parse_output(flip, label_space) if flip is not None else None
        row.update(output_flip=flip, parsed_flip=pf.answer if pf else None, ok_flip=bool(pf and pf.ok),
                   reason_flip=pf.reason if pf else "missing")
    return row


def score_predictions(predictions: Sequence[dict], records: Sequence[dict], label_space: Sequence[str],
                      beta: float = 1.0, gamma: float = 1.0) -> dict:
    """Metrics of prediction rows (aligned with `records`), plus S_flip and the composite score S."""
    metrics = evaluate_outputs([p["output"] for p in predictions], records, label_space)
    pairs = [(p["parsed"]["vad"]["v"], p["parsed_flip"]["vad"]["v"]) for p in predictions
             if p.get("ok") and p.get("ok_flip")]
    metrics["s_flip"] = s_flip([a for a, _ in pairs], [b for _, b in pairs]) if pairs else None
    metrics["n_flip_pairs"] = len(pairs)
    metrics["composite"] = composite_score(metrics, beta, gamma)
    return metrics


class _Display:
    """A rich progress bar with online metrics and ETA on stderr; no-op when quiet."""

    def __init__(self, quiet: bool, total: int, title: str):
        self.progress = None
        if quiet:
            return
        from rich.console import Console
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                                   TimeRemainingColumn)

        self.progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                                 TextColumn("{task.fields[online]}"), console=Console(stderr=True), transient=True)
        self.progress.start()
        self.task = self.progress.add_task(title, total=total, online="")

    def update(self, advance: int, online: str | None = None) -> None:
        if self.progress is not None:
            fields = {"online": online} if online is not None else {}
            self.progress.update(self.task, advance=advance, **fields)

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()


def _online_text(metrics: dict) -> str:
    def fmt(key):
        value = metrics.get(key)
        return "-" if value is None else f"{value:.3f}"
    return f"ParseOK {fmt('parse_ok')}  F1 {fmt('macro_f1')}  1-RMSE {fmt('vad_1mrmse')}"


def _run_stream(decode: Callable[[list[str]], list[str]], records: Sequence[dict], label_space: Sequence[str],
                seed: int, batch_size: int, budget_s: float | None, display: _Display) -> tuple[dict, dict]:
    """Decode records in the seed's order; returns ({index: (output, flip)}, timing)."""
    items = _prompts(records, label_space, stream_order(len(records), seed))
    done: dict[int, dict[str, str]] = {}
    started = time.perf_counter()
    batch_times: list[float] = []
    last_online = started
    position = 0
    while position < len(items):
        elapsed = time.perf_counter() - started
        if budget_s is not None and (elapsed >= budget_s or
                                     (batch_times and elapsed + float(np.mean(batch_times)) > budget_s)):
            break
        end = min(position + batch_size, len(items))
        if end < len(items) and items[end][1] == "flip":
            end += 1  # keep a record and its flip in the same batch, so a stop never splits a pair
        chunk = items[position:end]
        t0 = time.perf_counter()
        outputs = decode([p for _, _, p in chunk])
        batch_times.append(time.perf_counter() - t0)
        for (i, kind, _), text in zip(chunk, outputs):
            done.setdefault(i, {})[kind] = text
        position = end
        online = None
        if budget_s is not None and time.perf_counter() - last_online >= ONLINE_EVERY_S:
            seen = sorted(done)
            online = _online_text(evaluate_outputs([done[i].get("main") for i in seen],
                                                   [records[i] for i in seen], label_space))
            last_online = time.perf_counter()
        display.update(sum(kind == "main" for _, kind, _ in chunk), online)
    elapsed = time.perf_counter() - started
    per_record = elapsed / len(done) if done else None
    timing = {"seconds": elapsed, "batches": len(batch_times), "records_seen": len(done),
              "eta_full_s": per_record * (len(records) - len(done)) if per_record is not None else None}
    return done, timing


def _aggregate(per_seed: dict[int, dict]) -> tuple[dict, dict]:
    mean, std = {}, {}
    for key in SCALAR_KEYS + EXTRA_KEYS:
        values = [m.get(key) for m in per_seed.values()]
        values = [float(v) for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
        mean[key] = float(np.mean(values)) if values else None
        std[key] = (float(np.std(values, ddof=1)) if len(values) > 1 else 0.0) if values else None
    return mean, std


def _write_jsonl(path: Path, rows: Sequence[dict]) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")


def write_metrics(out_dir: Path, result: dict) -> list[Path]:
    """metrics.json (the whole result) and metrics.csv (one row per seed, then mean and std)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, csv_path = out_dir / "metrics.json", out_dir / "metrics.csv"
    json_path.write_text(json.dumps(result, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    keys = SCALAR_KEYS + EXTRA_KEYS
    with open(csv_path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["row", *keys])
        rows = [(str(seed), m) for seed, m in result["per_seed"].items()] + [("mean", result["mean"]),
                                                                            ("std", result["std"])]
        for name, metrics in rows:
            writer.writerow([name, *("" if metrics.get(k) is None else metrics.get(k) for k in keys)])
    return [json_path, csv_path]


def evaluate_model(model: Any, tokenizer: Any, records: Sequence[dict], label_space: Sequence[str], *,
                   seeds: Sequence[int] = FULL_SEEDS, budget_s: float | None = None,
                   out_dir: str | Path | None = None, use_cache: bool = False, batch_size: int = 8,
                   max_len: int = MAX_LEN, max_new_tokens: int = MAX_NEW_TOKENS, beta: float = 1.0,
                   gamma: float = 1.0, split: str = "dev", quiet: bool = True) -> dict:
    """Full eval (budget_s None: every record, each seed) or quick eval (budget_s: first seed's stream
    until the budget); returns {mode, split, seeds, per_seed, mean, std, timing, ...} and writes the
    files listed in the module docstring to `out_dir`."""
    if not seeds:
        raise ValueError("evaluate_model needs at least one seed")
    for i, record in enumerate(records):
        missing = [k for k in ("id", "text", "labels") if k not in record]
        if missing:
            raise ValueError(f"record {i} ({record.get('id', '?')}): missing {', '.join(missing)}")
    label_space = list(label_space)
    run_seeds = [int(seeds[0])] if budget_s is not None else [int(s) for s in seeds]
    decode_stats = {"prompts": 0, "truncated": 0, "new_tokens": 0, "seconds": 0.0}

    def decode(prompts: list[str]) -> list[str]:
        stats: dict = {}
        out = greedy_decode(model, tokenizer, prompts, max_new_tokens=max_new_tokens, use_cache=use_cache,
                            batch_size=batch_size, max_len=max_len, stats=stats)
        for key in decode_stats:
            decode_stats[key] += stats[key]
        return out

    per_seed, timing, files = {}, {}, []
    out_path = Path(out_dir) if out_dir is not None else None
    for seed in run_seeds:
        seed_everything(seed)
        title = f"{split} {'quick' if budget_s is not None else f'seed {seed}'}"
        display = _Display(quiet, len(records), title)
        try:
            done, timing[seed] = _run_stream(decode, records, label_space, seed, batch_size, budget_s, display)
        finally:
            display.close()
        seen = sorted(done) if budget_s is not None else list(range(len(records)))
        predictions = [_prediction(records[i], seed, done.get(i, {}).get("main"), done.get(i, {}).get("flip"),
                                   label_space) for i in seen]
        per_seed[seed] = score_predictions(predictions, [records[i] for i in seen], label_space, beta, gamma)
        if out_path is not None:
            out_path.mkdir(parents=True, exist_ok=True)
            name = "predictions_quick.jsonl" if budget_s is not None else f"predictions_seed{seed}.jsonl"
            _write_jsonl(out_path / name, predictions)
            files.append(out_path / name)
    mean, std = _aggregate(per_seed)
    result = {"mode": "quick" if budget_s is not None else "full", "split": split, "seeds": run_seeds,
              "n_total": len(records), "kv_cache": use_cache, "max_new_tokens": max_new_tokens,
              "max_len": max_len, "beta": beta, "gamma": gamma,
              "per_seed": {str(s): m for s, m in per_seed.items()}, "mean": mean, "std": std}
    if budget_s is not None:
        result.update(budget_s=budget_s, complete=timing[run_seeds[0]]["records_seen"] == len(records))
    run_info = {"timing": {str(s): t for s, t in timing.items()}, "decode": decode_stats,
                "tokens_per_s": decode_stats["new_tokens"] / decode_stats["seconds"] if decode_stats["seconds"] else None}
    if out_path is not None:
        from trainer.envstamp import environment_stamp

        files += write_metrics(out_path, result)
        (out_path / "run.json").write_text(json.dumps({**run_info, "environment": environment_stamp()}, indent=1,
                                                      sort_keys=True, default=str) + "\n", encoding="utf-8")
        files.append(out_path / "run.json")
    return {**result, **run_info, "files": [str(f) for f in files]}
