"""The SFT training loop (nanoGPT-style): `train(config)` reads top to bottom.

1. seeds + deterministic flags; device and precision (bf16 autocast + TF32 on CUDA, fp32 on CPU)
2. data through the manifest only (verified), model + tokenizer ('tiny' or a local HF folder),
   optional LoRA, gradient checkpointing, auxiliary heads, loss extras (lexicon table, verifier)
3. AdamW (β 0.9/0.95, decoupled weight decay on matrices), cosine LR with warm-up, EMA weights
   (the helpers of 1-3 are in `trainer.setup`, the loss context in `trainer.step`)
4. resume from the latest checkpoint of the run folder when there is one
5. the step loop: A/B sampler → micro-batches → composite loss → grad accumulation → clip → step;
   OOM self-healing (max_len −= 128 not below the floor, grad_accum ×= 2; micro_batch halved when > 1,
   which keeps the effective batch; the step is redone from the same draws); JSONL log
6. after each pass (Alg. 2): dev eval with EMA weights (greedy, KV-off), S = MacroF1 + β(1−RMSE) +
   γ·ParseOK, best θ* kept in best/, sampler rebalance; stop when the budget is spent or the next pass
   (median of the last five pass times, eval included) would not fit in what is left, or after
   `patience` passes without a better S (the brief's "no gain and ETA > remaining" as two rules)
7. final/ (EMA weights) and the result
"""
from __future__ import annotations

import dataclasses
import json
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from emodata.core.errors import EmodataError

from trainer import checkpoint as ckpt
from trainer.config import TrainConfig
from trainer.data import TrainData, load_records, tokenize
from trainer.sampler import MixtureSampler
from trainer.setup import (Ema, Precision, build_model, ema_weights, lr_at, make_heads, make_optimizer, make_sampler,
                           precision, prepare_model, rng_state, schedule, seed_all, set_rng_state)
from trainer.step import LossContext, StepStats, accumulate, loss_context

OOM_STEP = 128
EVAL_KEYS = ("parse_ok", "macro_f1", "macro_p", "macro_r", "vad_1mrmse", "label_coverage")


@dataclass
class TrainHooks:
    """Test seams: `before_micro_step(step, micro)` may raise (e.g. a simulated CUDA OOM);
    `stop_after_step` ends the run right after that step (and its checkpoint), like a kill."""

    before_micro_step: Callable[[int, int], None] | None = None
    stop_after_step: int | None = None


@dataclass
class TrainResult:
    """What a run did: steps, losses, eval history, OOM events, truncations, throughput, folders."""

    out: Path
    steps: int
    total_steps: int
    first_loss: float | None
    last_loss: float | None
    evals: list[dict] = field(default_factory=list)
    best_score: float | None = None
    oom_events: list[dict] = field(default_factory=list)
    truncated: int = 0
    tokens_per_s: float | None = None
    max_len: int = 0
    grad_accum: int = 0
    stopped: str = "done"
    notes: list[str] = field(default_factory=list)
    baseline: dict | None = None
    model: Any = field(default=None, repr=False)
    heads: Any = field(default=None, repr=False)
    tokenizer: Any = field(default=None, repr=False)

    def summary(self) -> dict:
        """JSON-able fields (no model objects)."""
        skip = ("model", "heads", "tokenizer")
        return {f.name: (str(v) if isinstance(v, Path) else v)
                for f in dataclasses.fields(self) if f.name not in skip for v in [getattr(self, f.name)]}


@dataclass
class Run:
    """Everything set up once for a run (steps 1-3): it does not change while the loop runs."""

    cfg: TrainConfig
    out: Path
    prec: Precision
    data: TrainData
    model: Any
    tokenizer: Any
    ctx: LossContext
    optimizer: torch.optim.AdamW
    trainable: dict[str, torch.nn.Parameter]
    ema: Ema | None
    sampler: MixtureSampler
    total: int
    pass_steps: int
    bundle: dict
    notes: list[str]


@dataclass
class Progress:
    """Where the run is: the step, the batch shape after OOM healing, and the outer loop's record (the
    `loop` of a checkpoint). `last_loss`, tokens and seconds count this process's steps only."""

    step: int
    max_len: int
    grad_accum: int
    micro_batch: int
    loop: dict
    last_loss: float | None = None
    tokens: int = 0
    seconds: float = 0.0


class _Log:
    """train_log.jsonl writer (one JSON object per line; truncated to the resumed step on resume)."""

    def __init__(self, path: Path, resume_step: int | None, quiet: bool):
        self.path, self.quiet = path, quiet
        if resume_step is None:
            path.write_text("", encoding="utf-8")
        elif path.is_file():
            kept = [line for line in path.read_text(encoding="utf-8").splitlines()
                    if line.strip() and json.loads(line).get("step", 0) <= resume_step]
            path.write_text("".join(line + "\n" for line in kept), encoding="utf-8")

    def write(self, row: dict) -> None:
        """Append one JSON row."""
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(row, sort_keys=True, default=float) + "\n")

    def say(self, text: str) -> None:
        """A progress line on stderr (unless quiet)."""
        if not self.quiet:
            print(f"[train] {text}", file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------------- 1-4: setup, resume

def setup_run(cfg: TrainConfig) -> Run:
    """Steps 1-3: seeds, device and precision; verified data, model, heads and loss context; optimizer,
    EMA, schedule and sampler; the provenance bundle every saved model carries."""
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    seed_all(cfg.seed)
    prec = precision(cfg)
    records = load_records(cfg.manifest, cfg.eval_split, cfg.eval_rows)
    model, tokenizer = build_model(cfg, records.train, records.labels, out)
    data = tokenize(records, tokenizer, cfg.eval_split)
    notes = list(data.notes)
    model = prepare_model(model, cfg, prec.device)
    heads = make_heads(model, len(data.labels), cfg.seed, prec.device)
    ctx = loss_context(cfg, data, model, heads, tokenizer, prec, notes)
    optimizer, trainable, ema = make_optimizer(model, heads, cfg)
    total, pass_steps = schedule(len(data.train), cfg)
    sampler = make_sampler(data, total, cfg)
    bundle = ckpt.make_bundle(dataclasses.asdict(cfg), tokenizer, data.manifest.path, data.manifest_sha1, data.labels,
                              {"base_model": cfg.model, "notes": notes})
    return Run(cfg, out, prec, data, model, tokenizer, ctx, optimizer, trainable, ema, sampler, total, pass_steps,
               bundle, notes)


def resume(run: Run) -> tuple[Progress, Path | None]:
    """Step 4: the progress of a fresh run, or the latest checkpoint's (weights, optimizer, EMA, sampler
    and every generator restored); refused when it was made with another manifest or tokenizer."""
    cfg = run.cfg
    loop = {"best": None, "baseline": None, "evals": [], "pass_times": [], "elapsed": 0.0, "since_best": 0, "oom": [],
            "first_loss": None, "truncated": 0}
    fresh = Progress(0, cfg.max_len, cfg.grad_accum, cfg.micro_batch, loop)
    latest = ckpt.latest_checkpoint(run.out) if cfg.resume else None
    if latest is None:
        return fresh, None
    state = ckpt.load_state(latest)
    if state["manifest_sha1"] != run.data.manifest_sha1 or state["tokenizer_sha1"] != run.bundle["tokenizer_sha1"]:
        raise EmodataError(f"{latest}: checkpoint was made with another manifest or tokenizer; use a new --out")
    run.model.load_state_dict({k: v.to(run.prec.device) for k, v in state["model"].items()}, strict=False)
    run.ctx.heads.load_state_dict(state["heads"])
    run.optimizer.load_state_dict(state["optimizer"])
    if run.ema is not None:
        run.ema.load_state_dict(state["ema"])
    run.sampler.load_state_dict(state["sampler"])
    run.ctx.pair_rng.bit_generator.state = state["pair_rng"]
    set_rng_state(state["rng"])
    return Progress(state["step"], state["max_len"], state["grad_accum"], state["micro_batch"], state["loop"]), latest


def open_log(run: Run, progress: Progress, latest: Path | None) -> _Log:
    """The run's log (kept up to the resumed step), config.json, and the opening lines on stderr."""
    cfg = run.cfg
    log = _Log(run.out / "train_log.jsonl", progress.step if latest is not None else None, cfg.quiet)
    (run.out / "config.json").write_text(json.dumps(dataclasses.asdict(cfg), indent=1, sort_keys=True) + "\n",
                                         encoding="utf-8")
    if latest is not None:
        log.say(f"resumed from {latest.name} (step {progress.step})")
    for note in run.notes:
        log.say(note)
    log.say(f"{len(run.data.train)} train rows, {len(run.data.dev)} {cfg.eval_split} rows, {run.total} steps, "
            f"device {run.prec.device}, {'bf16' if run.prec.bf16 else 'fp32'}")
    return log


# ---------------------------------------------------------------------------- 5-6: steps, passes, saves

def evaluate_dev(run: Run, max_len: int) -> dict | None:
    """Mean dev metrics with the EMA weights (None without dev rows); no generator state is consumed."""
    if not run.data.dev:
        return None
    from trainer.evaluate import evaluate_model

    cfg = run.cfg
    with torch.random.fork_rng(devices=[run.prec.device] if run.prec.cuda else []):
        py, npy = random.getstate(), np.random.get_state()
        with ema_weights(run.ema):
            result = evaluate_model(run.model, run.tokenizer, run.data.dev_records, run.data.labels, seeds=(cfg.seed,),
                                    batch_size=cfg.eval_batch, max_len=max_len, beta=cfg.score_beta,
                                    gamma=cfg.score_gamma, split=cfg.eval_split)
        random.setstate(py)
        np.random.set_state(npy)
    return result["mean"]


def save_eval_bundle(run: Run, name: str, step: int) -> None:
    """RUN/NAME/: the EMA weights, tokenizer, heads and bundle (best/ and final/)."""
    with ema_weights(run.ema):
        ckpt.save_model_dir(run.out / name, run.model, run.tokenizer, run.ctx.heads, {**run.bundle, "step": step})


def eval_row(step: int, metrics: dict) -> dict:
    """The log row of one dev evaluation."""
    return {"event": "eval", "step": step, "score": metrics["composite"], **{k: metrics.get(k) for k in EVAL_KEYS}}


def heal_oom(run: Run, progress: Progress, error: BaseException, log: _Log) -> None:
    """After a CUDA OOM: free the attempt, shrink the batch shape (max_len −= OOM_STEP down to the floor,
    grad_accum ×2, micro_batch ÷2), log the event; give up after `oom_retries` OOMs."""
    cfg, loop = run.cfg, progress.loop
    if len(loop["oom"]) >= cfg.oom_retries:
        raise EmodataError(f"step {progress.step}: CUDA out of memory {len(loop['oom'])} times; giving up "
                           f"(max_len {progress.max_len}, grad_accum {progress.grad_accum})") from error
    run.optimizer.zero_grad(set_to_none=True)
    if run.prec.cuda:
        torch.cuda.empty_cache()
    old = (progress.max_len, progress.grad_accum, progress.micro_batch)
    if progress.max_len > cfg.oom_floor:
        progress.max_len = max(cfg.oom_floor, progress.max_len - OOM_STEP)
    progress.grad_accum *= 2
    progress.micro_batch = max(1, progress.micro_batch // 2)
    event = {"event": "oom", "step": progress.step, "max_len": [old[0], progress.max_len],
             "grad_accum": [old[1], progress.grad_accum], "micro_batch": [old[2], progress.micro_batch]}
    loop["oom"].append(event)
    log.write(event)
    log.say(f"OOM at step {progress.step}: max_len {old[0]}→{progress.max_len}, grad_accum {old[1]}→"
            f"{progress.grad_accum}, micro_batch {old[2]}→{progress.micro_batch}; redoing the step")


def optimizer_step(run: Run, stats: StepStats) -> float:
    """Clip, step, EMA update, sampler update from the step's answer entropies; returns the grad norm."""
    cfg = run.cfg
    params = [p for group in run.optimizer.param_groups for p in group["params"]]
    grad_norm = float(torch.nn.utils.clip_grad_norm_(params, cfg.grad_clip if cfg.grad_clip > 0 else float("inf")))
    run.optimizer.step()
    if run.ema is not None:
        run.ema.update()
    run.sampler.update({s: float(np.mean(h)) for s, h in stats.entropy.items()})
    return grad_norm


def end_of_pass(run: Run, progress: Progress, log: _Log, pass_seconds: float, eval_started: float) -> str | None:
    """Step 6: dev eval (best θ* into best/), sampler rebalance, pass timing; the reason to stop, if any."""
    cfg, loop, step = run.cfg, progress.loop, progress.step
    metrics = evaluate_dev(run, progress.max_len)
    if metrics is not None:
        row = eval_row(step, metrics)
        loop["evals"].append(row)
        log.write(row)
        log.say(f"step {step}: dev S {row['score']:.4f} ParseOK {metrics['parse_ok']:.3f} "
                f"F1 {metrics['macro_f1'] or 0:.3f} 1-RMSE {metrics['vad_1mrmse'] or 0:.3f}")
        if loop["best"] is None or row["score"] > loop["best"]:
            loop["best"], loop["since_best"] = row["score"], 0
            save_eval_bundle(run, "best", step)
        else:
            loop["since_best"] += 1
    if cfg.rebalance:
        run.sampler.rebalance()
    loop["elapsed"] += time.perf_counter() - eval_started
    loop["pass_times"].append(pass_seconds + time.perf_counter() - eval_started)
    eta = float(np.median(loop["pass_times"][-5:]))
    remaining = cfg.budget_s - loop["elapsed"] if cfg.budget_s else float("inf")
    if step < run.total and cfg.budget_s and (remaining <= 0 or eta > remaining):
        return f"budget: next pass ~{eta:.0f}s > {max(0.0, remaining):.0f}s left"
    if step < run.total and cfg.patience and loop["since_best"] >= cfg.patience:
        return f"no dev gain in {cfg.patience} passes"
    return None


def save_checkpoint(run: Run, progress: Progress) -> None:
    """checkpoints/step_N/: everything `resume` restores."""
    state = {"model": {n: p.detach().cpu() for n, p in run.trainable.items()}, "heads": run.ctx.heads.state_dict(),
             "optimizer": run.optimizer.state_dict(), "ema": run.ema.state_dict() if run.ema else None,
             "sampler": run.sampler.state_dict(), "pair_rng": run.ctx.pair_rng.bit_generator.state,
             "rng": rng_state(), "step": progress.step, "max_len": progress.max_len,
             "grad_accum": progress.grad_accum, "micro_batch": progress.micro_batch, "loop": progress.loop,
             "manifest_sha1": run.data.manifest_sha1, "tokenizer_sha1": run.bundle["tokenizer_sha1"]}
    ckpt.save_checkpoint(run.out, progress.step, state, run.bundle, run.cfg.keep)


def log_step(run: Run, progress: Progress, stats: StepStats, lr: float, grad_norm: float, dt: float,
             log: _Log) -> None:
    """Count the step (first/last loss, truncations, tokens, time) and log it every `log_every` steps."""
    loop = progress.loop
    if loop["first_loss"] is None:
        loop["first_loss"] = stats.loss
    progress.last_loss = stats.loss
    loop["truncated"] += stats.truncated
    progress.step += 1
    progress.tokens, progress.seconds = progress.tokens + stats.tokens, progress.seconds + dt
    loop["elapsed"] += dt
    if progress.step % run.cfg.log_every == 0 or progress.step == run.total:
        log.write({"step": progress.step, "loss": stats.loss, **{f"loss_{k}": v for k, v in stats.terms.items()},
                   "lr": lr, "grad_norm": grad_norm, "sampler": run.sampler.state(), "tokens": stats.tokens,
                   "tokens_per_s": stats.tokens / dt if dt else None, "truncated": stats.truncated,
                   "max_len": progress.max_len, "grad_accum": progress.grad_accum,
                   "micro_batch": progress.micro_batch, "time_s": dt})


# ------------------------------------------------------------------------------------------ the loop

def train(cfg: TrainConfig, hooks: TrainHooks | None = None) -> TrainResult:
    """Train on `cfg.manifest` into `cfg.out` (see the module docstring); resumes when a checkpoint exists."""
    hooks = hooks or TrainHooks()
    run = setup_run(cfg)                                              # 1-3
    progress, latest = resume(run)                                    # 4
    log = open_log(run, progress, latest)
    if cfg.eval_at_start and latest is None and (metrics := evaluate_dev(run, progress.max_len)) is not None:
        progress.loop["baseline"] = eval_row(0, metrics)
        log.write(progress.loop["baseline"])
        log.say(f"before training: dev S {metrics['composite']:.4f} ParseOK {metrics['parse_ok']:.3f}")

    stopped, pass_started = "done", time.perf_counter()
    while progress.step < run.total:                                 # 5. the step loop
        t0 = time.perf_counter()
        lr = lr_at(progress.step, run.total, cfg)
        for group in run.optimizer.param_groups:
            group["lr"] = lr
        sampler_at_start, pair_at_start = run.sampler.state_dict(), run.ctx.pair_rng.bit_generator.state
        step, oom = progress.step, None
        try:
            run.optimizer.zero_grad(set_to_none=True)
            before = None if hooks.before_micro_step is None else (lambda micro: hooks.before_micro_step(step, micro))
            stats = accumulate(run.ctx, run.sampler, progress.micro_batch, progress.grad_accum, progress.max_len,
                               before)
        except torch.cuda.OutOfMemoryError as exc:  # only CUDA OOM is healed; everything else propagates
            oom = exc.with_traceback(None)  # drop the failed attempt's frames (and its graph) before healing
        if oom is not None:
            heal_oom(run, progress, oom, log)
            run.sampler.load_state_dict(sampler_at_start)   # redo the step from the same draws
            run.ctx.pair_rng.bit_generator.state = pair_at_start
            continue
        grad_norm = optimizer_step(run, stats)
        log_step(run, progress, stats, lr, grad_norm, time.perf_counter() - t0, log)

        stop = None                                                  # 6. end of a pass
        if progress.step % run.pass_steps == 0 or progress.step == run.total:
            eval_started = time.perf_counter()
            stop = end_of_pass(run, progress, log, eval_started - pass_started, eval_started)
            pass_started = time.perf_counter()
        if cfg.save_every and (progress.step % cfg.save_every == 0 or stop) and progress.step < run.total:
            save_checkpoint(run, progress)
        if stop:
            stopped = stop
            log.say(f"stopping early at step {progress.step}: {stop}")
            break
        if hooks.stop_after_step is not None and progress.step >= hooks.stop_after_step:
            stopped = "killed"
            break
    return finish(run, progress, stopped)                            # 7


def finish(run: Run, progress: Progress, stopped: str) -> TrainResult:
    """Step 7: final/ with the EMA weights and result.json (neither after a simulated kill)."""
    loop = progress.loop
    if stopped != "killed":
        save_eval_bundle(run, "final", progress.step)
    result = TrainResult(run.out, progress.step, run.total, loop["first_loss"], progress.last_loss, loop["evals"],
                         loop["best"], loop["oom"], loop["truncated"],
                         progress.tokens / progress.seconds if progress.seconds else None, progress.max_len,
                         progress.grad_accum, stopped, run.notes, loop["baseline"], run.model, run.ctx.heads,
                         run.tokenizer)
    if stopped != "killed":
        (run.out / "result.json").write_text(json.dumps(result.summary(), indent=1, sort_keys=True) + "\n",
                                             encoding="utf-8")
    return result
