"""The trainer's commands for the `emodata` CLI: train, eval, screen (and score).

`trainer_commands(baseline)[name] = (config dataclass, help line, handler(config) -> exit status)`;
emodata/cli.py registers them next to its own commands, passing the `tfidf-lr` floor's answers in. Handlers import torch lazily so `emodata --help` stays fast.
Each handler first applies `--config FILE.yaml` (`emodata.core.config.apply_config_file`).
"""
from __future__ import annotations

import functools
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from emodata.core.errors import EmodataError

from emodata.core.config import apply_config_file
from trainer.config import EvalConfig, ScreenConfig, TrainConfig

if TYPE_CHECKING:  # pragma: no cover
    from trainer.screen import BaselineAnswers


def _need(value: str, flag: str, command: str) -> None:
    if not value:
        raise EmodataError(f"{command} needs {flag}")


def run_train(config: TrainConfig) -> int:
    """`emodata train`: train, print the run summary as JSON; 0 on success."""
    config = apply_config_file(config)
    _need(config.manifest, "--manifest PATH", "train")
    from trainer.train import train

    result = train(config)
    print(json.dumps(result.summary(), indent=1, sort_keys=True, default=str))
    try:
        from trainer.plots import plot_all

        plot_all(config.out)
    except ImportError:
        pass
    return 0


def _seeds(text: str) -> list[int]:
    try:
        seeds = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise EmodataError(f"--seeds {text!r}: expected comma-separated integers") from None
    if not seeds:
        raise EmodataError("--seeds: at least one seed")
    return seeds


def _device(name: str):
    from trainer.setup import pick_device

    return pick_device(name)


def evaluate_checkpoint(checkpoint: str | Path, manifest: str | Path, split: str, *, seeds: list[int],
                        budget_s: float | None, out_dir: str | Path | None, use_cache: bool = False,
                        batch: int = 8, max_len: int = 1536, max_new_tokens: int = 64, max_rows: int = 0,
                        device: str = "auto", quiet: bool = True) -> dict:
    """Load a checkpoint (or HF folder), read the manifest split (SHA-1-verified) and run `evaluate_model`."""
    from emodata.core.manifest import Manifest
    from emodata.core.reader import read_split

    from trainer.checkpoint import load_model_dir
    from trainer.envstamp import check_drift, environment_stamp
    from trainer.evaluate import evaluate_model

    loaded = Manifest.load(manifest)
    records = read_split(loaded, split).to_pylist()
    if max_rows:
        records = records[:max_rows]
    model, tokenizer, bundle = load_model_dir(checkpoint, _device(device))
    for warning in check_drift(bundle.get("environment") or {}, environment_stamp()) if bundle else []:
        print(f"warning: environment drift since training: {warning}", file=sys.stderr)
    if bundle and bundle.get("label_space") and bundle["label_space"] != loaded.labels:
        print("warning: the checkpoint was trained on another label space than this manifest's", file=sys.stderr)
    return evaluate_model(model, tokenizer, records, loaded.labels, seeds=seeds, budget_s=budget_s,
                          out_dir=out_dir, use_cache=use_cache, batch_size=batch, max_len=max_len,
                          max_new_tokens=max_new_tokens, split=split, quiet=quiet)


def run_eval(config: EvalConfig) -> int:
    """`emodata eval`: full (seeds, mean ± std) or quick (budget) evaluation; prints the mean metrics."""
    config = apply_config_file(config)
    _need(config.manifest, "--manifest PATH", "eval")
    _need(config.checkpoint, "--checkpoint DIR", "eval")
    out = Path(config.out) if config.out else Path(config.checkpoint) / f"eval_{config.split}"
    result = evaluate_checkpoint(config.checkpoint, config.manifest, config.split, seeds=_seeds(config.seeds),
                                 budget_s=config.quick_budget_s or None, out_dir=out, use_cache=config.kv == "on",
                                 batch=config.batch, max_len=config.max_len, max_new_tokens=config.max_new_tokens,
                                 max_rows=config.max_rows, device=config.device, quiet=False)
    try:
        from trainer.plots import plot_all

        plot_all(out)
    except ImportError:
        pass
    print(json.dumps({"mode": result["mode"], "split": result["split"], "mean": result["mean"],
                      "std": result["std"], "out": str(out)}, indent=1, sort_keys=True))
    return 0


def run_screen(config: ScreenConfig, baseline: BaselineAnswers | None = None) -> int:
    """`emodata screen`: quick-evaluate each candidate under the same budget (after an optional short
    SFT of `--train-steps`), rank them by the composite z-score, write ranking.json/CSV. The candidate
    `tfidf-lr` is scored from the answers of `baseline` (emodata/cli.py passes the end-model floor)."""
    config = apply_config_file(config)
    _need(config.manifest, "--manifest PATH", "screen")
    names = [m.strip() for m in config.models.split(",") if m.strip()]
    if len(names) < 1:
        raise EmodataError("screen needs --models a,b,c")
    if "tiny" in names and not config.train_steps:
        raise EmodataError("screen: candidate 'tiny' is untrained; pass --train-steps N to fine-tune it first")
    from trainer.screen import BASELINE, baseline_metrics, rank_candidates, write_table
    from trainer.train import train

    if BASELINE in names and baseline is None:
        raise EmodataError(f"screen: candidate {BASELINE!r} needs the baseline's answers, which `emodata screen` "
                           "passes in (trainer.cli.trainer_commands(baseline=...))")

    out = Path(config.out)
    results = []
    for i, name in enumerate(names):
        if name == BASELINE:  # the TF-IDF + LR floor: no checkpoint, scored by the same metrics
            results.append({"name": name, "metrics": baseline_metrics(config.manifest, config.split, config.seed,
                                                                      baseline, config.max_rows)})
            continue
        slot = out / (f"{i:02d}_" + "_".join(Path(name).parts[-2:]).replace(" ", "_"))
        checkpoint: str | Path = name
        if config.train_steps:
            run = train(TrainConfig(manifest=config.manifest, model=name, out=str(slot / "train"),
                                    max_steps=config.train_steps, seed=config.seed, device=config.device,
                                    save_every=0, quiet=True))
            checkpoint = run.out / "final"
        result = evaluate_checkpoint(checkpoint, config.manifest, config.split, seeds=[config.seed],
                                     budget_s=config.budget_s, out_dir=slot / "eval", max_rows=config.max_rows,
                                     device=config.device)
        results.append({"name": name, "metrics": result["mean"]})
    ranked = rank_candidates(results)
    paths = write_table(ranked, out)
    print(json.dumps({"ranking": ranked, "files": [str(p) for p in paths]}, indent=1, sort_keys=True, default=str))
    return 0


def trainer_commands(baseline: BaselineAnswers | None = None) -> dict[str, tuple[type, str, Callable[[Any], int]]]:
    """{name: (config dataclass, help line, handler)} of the trainer's commands; `baseline` answers for
    `emodata screen --models tfidf-lr` (the trainer cannot build them: see `trainer.screen.BaselineAnswers`)."""
    commands: dict[str, tuple[type, str, Callable[[Any], int]]] = {
        "train": (TrainConfig, "SFT a model on a frozen manifest (composite loss, A/B entropy sampler, EMA, "
                               "checkpoints, resume, OOM self-healing)", run_train),
        "eval": (EvalConfig, "evaluate a checkpoint on a manifest split (greedy, KV-off; full or quick)", run_eval),
        "screen": (ScreenConfig, "rank candidate backbones under the same budget (composite z-score)",
                   functools.partial(run_screen, baseline=baseline)),
    }
    try:
        from trainer.score import ScoreConfig, run_score
    except ImportError:
        return commands
    commands["score"] = (ScoreConfig, "score raw model outputs (PRED JSONL) against gold, model-free", run_score)
    return commands

