"""The SFT training loop, top to bottom (nanoGPT-style): one function, `train(config)`.

1. seeds + deterministic flags; device and precision (bf16 autocast + TF32 on CUDA, fp32 on CPU)
2. data through the manifest only (SHA-1-verified), model + tokenizer ('tiny' or a local HF folder),
   optional LoRA, gradient checkpointing, auxiliary heads, loss extras (lexicon table, verifier)
3. AdamW (β 0.9/0.95, decoupled weight decay on matrices), cosine LR with warm-up, EMA weights
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
import math
import os
import random
import sys
import time
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from emodata.core.errors import EmodataError, VerificationError
from emodata.core.hashing import sha1_file

from trainer import checkpoint as ckpt
from trainer.config import TrainConfig
from trainer.data import TrainData, collate, label_weights, load_records, tokenize, tokenizer_corpus
from trainer.losses import (AuxHeads, LossWeights, app_loss, atom_targets, cls_loss, combine, flip_loss, lexicon_table,
                     pool_last, reg_loss, sft_loss, token_entropy, vad_loss)
from trainer.sampler import MixtureSampler

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


# ---------------------------------------------------------------------------------------------- setup

def seed_all(seed: int) -> None:
    """Seed python, numpy and torch; deterministic algorithms where torch has them."""
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False


def pick_device(name: str) -> torch.device:
    """`auto` = CUDA when available, else CPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def build_model(cfg: TrainConfig, records_train: list[dict], labels: list[str], run_dir: Path) -> tuple[Any, Any]:
    """(model, tokenizer): the tiny config model with a tokenizer trained on the train rows (saved in
    the run folder and reused on resume), or a local Hugging Face folder (no downloads)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if cfg.model == "tiny":
        from trainer.tiny import tiny_model, tiny_tokenizer

        tok_dir = run_dir / "tokenizer"
        if (tok_dir / "tokenizer.json").is_file():
            tokenizer = AutoTokenizer.from_pretrained(tok_dir, local_files_only=True)
        else:
            tokenizer = tiny_tokenizer(tokenizer_corpus(records_train, labels), labels, vocab_size=cfg.tiny_vocab)
            tokenizer.save_pretrained(tok_dir)
        model = tiny_model(tokenizer, layers=cfg.tiny_layers, hidden=cfg.tiny_hidden, seed=cfg.seed,
                           max_positions=max(4096, cfg.max_len + 128))
        return model, tokenizer
    path = Path(cfg.model)
    if not path.is_dir():
        raise EmodataError(f"--model {cfg.model!r}: not 'tiny' and not a local model folder (no downloads)")
    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    if not getattr(tokenizer, "chat_template", None):
        raise EmodataError(f"{path}: the tokenizer has no chat_template; the contract's prompts need one")
    model = AutoModelForCausalLM.from_pretrained(path, local_files_only=True, dtype=torch.float32)
    return model, tokenizer


def add_lora(model: Any, cfg: TrainConfig) -> Any:
    """Wrap the model with peft LoRA adapters (only they and the heads train)."""
    from peft import LoraConfig, get_peft_model

    targets = "all-linear" if cfg.lora_targets == "all-linear" else [t.strip() for t in cfg.lora_targets.split(",")]
    return get_peft_model(model, LoraConfig(r=cfg.lora_r, lora_alpha=cfg.lora_alpha, lora_dropout=cfg.lora_dropout,
                                            target_modules=targets, task_type="CAUSAL_LM"))


class Ema:
    """Exponential moving average of the trainable parameters (warm-up corrected decay)."""

    def __init__(self, params: dict[str, torch.nn.Parameter], decay: float):
        self.params, self.decay, self.updates = params, decay, 0
        self.shadow = {n: p.detach().clone().float() for n, p in params.items()}

    @torch.no_grad()
    def update(self) -> None:
        """shadow ← d·shadow + (1−d)·θ, d = min(decay, (1+t)/(10+t))."""
        self.updates += 1
        d = min(self.decay, (1 + self.updates) / (10 + self.updates))
        for n, p in self.params.items():
            self.shadow[n].mul_(d).add_(p.detach().float(), alpha=1 - d)

    @contextmanager
    def applied(self):
        """Temporarily load the EMA weights into the model."""
        saved = {n: p.detach().clone() for n, p in self.params.items()}
        with torch.no_grad():
            for n, p in self.params.items():
                p.copy_(self.shadow[n].to(p.dtype))
        try:
            yield
        finally:
            with torch.no_grad():
                for n, p in self.params.items():
                    p.copy_(saved[n])

    def state_dict(self) -> dict:
        """Shadow weights and update count."""
        return {"shadow": self.shadow, "updates": self.updates}

    def load_state_dict(self, state: dict) -> None:
        """Restore `state_dict()` output."""
        self.updates = int(state["updates"])
        for n, t in state["shadow"].items():
            self.shadow[n].copy_(t)


def lr_at(step: int, total: int, cfg: TrainConfig) -> float:
    """Linear warm-up over ⌈warmup_frac·total⌉ steps, then cosine decay to min_lr_frac·lr."""
    warmup = max(1, math.ceil(cfg.warmup_frac * total))
    if step < warmup:
        return cfg.lr * (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    floor = cfg.min_lr_frac * cfg.lr
    return floor + (cfg.lr - floor) * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


def _lexicon_extras(cfg: TrainConfig, data: TrainData, tokenizer: Any, vocab: int, notes: list[str]):
    if cfg.lambda_vad == 0:
        return None
    from emodata.text.lexicon import load_lexicon

    spec = cfg.lexicon or data.manifest.data.get("lexicon", {}).get("name")
    try:
        lexicon = load_lexicon(spec)
    except (EmodataError, OSError) as exc:
        notes.append(f"L_vad skipped: lexicon {spec!r} not available ({exc})")
        return None
    if not cfg.lexicon and lexicon.sha1 != data.manifest.data.get("lexicon", {}).get("sha1"):
        notes.append(f"L_vad: lexicon {spec!r} SHA-1 differs from the manifest's (a different file?)")
    table, mask = lexicon_table(tokenizer, lexicon, vocab)
    if mask.sum() == 0:
        notes.append("L_vad skipped: no token of the vocabulary is a lexicon word")
        return None
    notes.append(f"L_vad: {int(mask.sum())} of {vocab} tokens have a lexicon entry ({lexicon.name})")
    return table, mask


def _verifier_extras(cfg: TrainConfig, data: TrainData, notes: list[str]):
    """(atoms, w_label K×M, base N_train×M) of the build's appraisal verifier, or None (with a note)."""
    if cfg.lambda_app == 0:
        return None
    entry = next((a for a in data.manifest.data.get("artifacts", []) if a.get("name") == "appraisal_verifier"), None)
    if entry is None:
        notes.append("L_app skipped: the manifest lists no appraisal_verifier artifact")
        return None
    path = data.manifest.resolve(entry["path"])
    if not path.is_file() or sha1_file(path) != entry["sha1"]:
        raise VerificationError(f"{path}: appraisal verifier missing or its SHA-1 differs from the manifest")
    try:
        from labeling_functions.appraisal.verifier import load_verifier
    except ImportError as exc:
        notes.append(f"L_app skipped: labeling_functions.appraisal.verifier not importable ({exc})")
        return None
    verifier = load_verifier(path)
    atoms, vlabels = list(verifier.atoms), list(verifier.labels)
    missing = [x for x in data.labels if x not in vlabels]
    if missing:
        notes.append(f"L_app skipped: the verifier's labels lack {missing[:5]} of the manifest's label space")
        return None
    w_label = verifier.w_label[[vlabels.index(x) for x in data.labels]]
    phi = verifier.text_features([e.text for e in data.train])
    base = np.asarray(phi @ verifier.w_text.astype(np.float64)) + verifier.bias
    target, known = atom_targets([e.appraisal_prototype for e in data.train], [e.appraisal_weak for e in data.train],
                                 atoms)
    if known.sum() == 0:
        notes.append("L_app skipped: no train row has an appraisal prototype or weak atoms")
        return None
    notes.append(f"L_app: verifier with {len(atoms)} atoms; {int(known.sum())} known targets")
    return (atoms, torch.from_numpy(np.ascontiguousarray(w_label, dtype=np.float32)),
            torch.from_numpy(base.astype(np.float32)), target.clamp(0, 1), known)


def _rng_state() -> dict:
    return {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.random.get_rng_state(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None}


def _set_rng_state(state: dict) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.random.set_rng_state(state["torch"])
    if state.get("cuda") and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _is_oom(exc: BaseException) -> bool:
    return isinstance(exc, torch.cuda.OutOfMemoryError)


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
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(row, sort_keys=True, default=float) + "\n")

    def say(self, text: str) -> None:
        if not self.quiet:
            print(f"[train] {text}", file=sys.stderr, flush=True)


@dataclass
class LossContext:
    """What one micro-step needs besides the row indices: model, heads, λ's, targets, loss extras."""

    model: Any
    heads: AuxHeads
    weights: LossWeights
    device: torch.device
    autocast: Callable[[], Any]
    pad_id: int
    data: TrainData
    y: torch.Tensor
    vad: torch.Tensor
    class_weights: torch.Tensor | None
    lexicon: tuple[torch.Tensor, torch.Tensor] | None
    verifier: tuple | None
    pair_rng: np.random.Generator
    flip_pairs: int
    vad_target: str


def forward_losses(ctx: LossContext, idx: list[int], max_len: int
                   ) -> tuple[torch.Tensor, dict[str, torch.Tensor], list[float], int, int]:
    """One micro-batch of train rows `idx`: (total loss, terms, per-row answer entropy, tokens, truncated)."""
    dev, w = ctx.device, ctx.weights
    batch = collate([(ctx.data.train[i].prompt_ids, ctx.data.train[i].answer_ids) for i in idx], max_len, ctx.pad_id)
    mask = torch.tensor(batch.attention_mask, device=dev)
    targets = torch.tensor(batch.targets, device=dev)
    with ctx.autocast():
        out = ctx.model(input_ids=torch.tensor(batch.input_ids, device=dev), attention_mask=mask,
                        output_hidden_states=True, use_cache=False)
    logits = out.logits
    label_logits, vad_pred = ctx.heads(pool_last(out.hidden_states[-1], torch.tensor(batch.prompt_last, device=dev)))
    gold_vad = ctx.vad[idx].to(dev)
    terms: dict[str, torch.Tensor] = {}
    if w.active("sft"):
        terms["sft"] = sft_loss(logits, targets)
    if w.active("cls"):
        terms["cls"] = cls_loss(label_logits, ctx.y[idx].to(dev), ctx.class_weights)
    if w.active("reg"):
        terms["reg"] = reg_loss(vad_pred, gold_vad)
    if w.active("vad") and ctx.lexicon is not None:
        table, lex_mask = ctx.lexicon
        terms["vad"] = vad_loss(logits, targets, table, lex_mask, gold_vad if ctx.vad_target == "gold" else vad_pred)
    if w.active("app") and ctx.verifier is not None:
        _, w_label, base, s_target, known = ctx.verifier
        terms["app"] = app_loss(torch.sigmoid(label_logits), base[idx].to(dev), w_label.to(dev),
                                s_target[idx].to(dev), known[idx].to(dev))
    pairs = ctx.data.pairs
    if w.active("flip") and pairs and ctx.flip_pairs > 0:
        chosen = ctx.pair_rng.choice(len(pairs), size=min(ctx.flip_pairs, len(pairs)), replace=False)
        pb = collate([(pairs[j].prompt_ids, []) for j in chosen] + [(pairs[j].flip_prompt_ids, []) for j in chosen],
                     max_len, ctx.pad_id)
        with ctx.autocast():
            pout = ctx.model(input_ids=torch.tensor(pb.input_ids, device=dev),
                             attention_mask=torch.tensor(pb.attention_mask, device=dev),
                             output_hidden_states=True, use_cache=False)
        _, pv = ctx.heads(pool_last(pout.hidden_states[-1], torch.tensor(pb.prompt_last, device=dev)))
        terms["flip"] = flip_loss(pv[:len(chosen), 0], pv[len(chosen):, 0])
    entropy = token_entropy(logits, targets).tolist()
    return combine(terms, w), terms, entropy, int(mask.sum()), batch.truncated


# ----------------------------------------------------------------------------------------------- loop

def train(cfg: TrainConfig, hooks: TrainHooks | None = None) -> TrainResult:
    """Train on `cfg.manifest` into `cfg.out` (see the module docstring); resumes when a checkpoint exists."""
    hooks = hooks or TrainHooks()
    run_dir = Path(cfg.out)
    run_dir.mkdir(parents=True, exist_ok=True)

    # 1. seeds, device, precision
    seed_all(cfg.seed)
    if cfg.cpu_threads:
        torch.set_num_threads(cfg.cpu_threads)
    device = pick_device(cfg.device)
    cuda = device.type == "cuda"
    bf16 = cfg.precision == "bf16" or (cfg.precision == "auto" and cuda)
    if cuda:
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    autocast = (lambda: torch.autocast(device.type, dtype=torch.bfloat16)) if bf16 else nullcontext

    # 2. data, model, heads, loss extras
    records = load_records(cfg.manifest, cfg.eval_split, cfg.eval_rows)
    model, tokenizer = build_model(cfg, records.train, records.labels, run_dir)
    data = tokenize(records, tokenizer, cfg.eval_split)
    notes = list(data.notes)
    if cfg.lora_r > 0:
        model = add_lora(model, cfg)
    if cfg.grad_ckpt and getattr(model, "supports_gradient_checkpointing", False):
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        if cfg.lora_r > 0:
            model.enable_input_require_grads()
    model.config.use_cache = False
    model.to(device).train()
    hidden = model.get_input_embeddings().embedding_dim
    vocab = model.get_output_embeddings().weight.shape[0]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(cfg.seed + 1)
        heads = AuxHeads(hidden, len(data.labels)).to(device)
    weights = LossWeights(cfg.lambda_sft, cfg.lambda_cls, cfg.lambda_reg, cfg.lambda_vad, cfg.lambda_app,
                          cfg.lambda_flip)
    class_w = torch.tensor(label_weights(data.train), device=device) if cfg.class_weights else None
    lex = _lexicon_extras(cfg, data, tokenizer, vocab, notes)
    lex = tuple(t.to(device) for t in lex) if lex else None
    app = _verifier_extras(cfg, data, notes)
    n_train = len(data.train)
    y_all = torch.tensor([e.label_vec for e in data.train])
    if cfg.weak_label_weight > 0:
        weak = torch.tensor([e.weak_vec if e.weak_vec is not None else e.label_vec for e in data.train])
        y_all = (1 - cfg.weak_label_weight) * y_all + cfg.weak_label_weight * weak
    vad_all = torch.tensor([e.vad for e in data.train])

    # 3. optimizer, schedule, EMA, sampler
    trainable = {n: p for n, p in model.named_parameters() if p.requires_grad}
    head_params = {f"heads.{n}": p for n, p in heads.named_parameters()}
    all_params = {**trainable, **head_params}
    decay = [p for n, p in all_params.items() if p.ndim >= 2 and "heads." not in n]
    no_decay = [p for n, p in all_params.items() if not (p.ndim >= 2 and "heads." not in n)]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                                   {"params": no_decay, "weight_decay": 0.0}],
                                  lr=cfg.lr, betas=(cfg.beta1, cfg.beta2), fused=False, foreach=False)
    steps_per_epoch = max(1, math.ceil(n_train / (cfg.micro_batch * cfg.grad_accum)))
    total = cfg.max_steps or max(1, math.ceil(cfg.epochs * steps_per_epoch))
    pass_steps = min(total, cfg.pass_steps or steps_per_epoch)
    ema = Ema(all_params, cfg.ema_decay) if cfg.ema_decay > 0 else None
    sources = data.sources()
    if cfg.sampler == "entropy":
        pools = {s: [i for i, e in enumerate(data.train) if e.source == s] for s in sources}
        shares = {s: len(pools[s]) / n_train for s in sources}
        sampler = MixtureSampler(pools, shares, total, cfg.t0, cfg.t1, cfg.alpha, seed=cfg.seed)
    else:
        sampler = MixtureSampler({"all": list(range(n_train))}, {"all": 1.0}, total, seed=cfg.seed, adaptive=False)
    pair_rng = np.random.default_rng(cfg.seed + 2)
    config_dict = dataclasses.asdict(cfg)
    bundle = ckpt.make_bundle(config_dict, tokenizer, data.manifest.path, data.manifest_sha1, data.labels,
                              {"base_model": cfg.model, "notes": notes})

    # 4. resume
    step, max_len, grad_accum, micro_batch = 0, cfg.max_len, cfg.grad_accum, cfg.micro_batch
    loop = {"best": None, "baseline": None, "evals": [], "pass_times": [], "elapsed": 0.0, "since_best": 0, "oom": [],
            "first_loss": None, "truncated": 0}
    latest = ckpt.latest_checkpoint(run_dir) if cfg.resume else None
    if latest is not None:
        state = ckpt.load_state(latest)
        if state["manifest_sha1"] != data.manifest_sha1 or state["tokenizer_sha1"] != bundle["tokenizer_sha1"]:
            raise EmodataError(f"{latest}: checkpoint was made with another manifest or tokenizer; use a new --out")
        model.load_state_dict({k: v.to(device) for k, v in state["model"].items()}, strict=False)
        heads.load_state_dict(state["heads"])
        optimizer.load_state_dict(state["optimizer"])
        if ema is not None:
            ema.load_state_dict(state["ema"])
        sampler.load_state_dict(state["sampler"])
        pair_rng.bit_generator.state = state["pair_rng"]
        _set_rng_state(state["rng"])
        step, max_len = state["step"], state["max_len"]
        grad_accum, micro_batch = state["grad_accum"], state["micro_batch"]
        loop = state["loop"]
    log = _Log(run_dir / "train_log.jsonl", step if latest is not None else None, cfg.quiet)
    (run_dir / "config.json").write_text(json.dumps(config_dict, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    if latest is not None:
        log.say(f"resumed from {latest.name} (step {step})")
    for note in notes:
        log.say(note)
    log.say(f"{n_train} train rows, {len(data.dev)} {cfg.eval_split} rows, {total} steps, device {device}, "
            f"{'bf16' if bf16 else 'fp32'}")

    def evaluate_dev() -> dict | None:
        if not data.dev:
            return None
        from trainer.evaluate import evaluate_model

        with torch.random.fork_rng(devices=[device] if cuda else []):
            py, npy = random.getstate(), np.random.get_state()
            with ema.applied() if ema else nullcontext():
                result = evaluate_model(model, tokenizer, data.dev_records, data.labels, seeds=(cfg.seed,),
                                        batch_size=cfg.eval_batch, max_len=max_len, beta=cfg.score_beta,
                                        gamma=cfg.score_gamma, split=cfg.eval_split)
            random.setstate(py)
            np.random.set_state(npy)
        return result["mean"]

    def save_eval_bundle(name: str) -> None:
        with ema.applied() if ema else nullcontext():
            ckpt.save_model_dir(run_dir / name, model, tokenizer, heads, {**bundle, "step": step})

    if cfg.eval_at_start and latest is None:
        metrics = evaluate_dev()
        if metrics is not None:
            loop["baseline"] = {"event": "eval", "step": 0, "score": metrics["composite"],
                                **{k: metrics.get(k) for k in EVAL_KEYS}}
            log.write(loop["baseline"])
            log.say(f"before training: dev S {metrics['composite']:.4f} ParseOK {metrics['parse_ok']:.3f}")

    # 5. the step loop
    ctx = LossContext(model, heads, weights, device, autocast, tokenizer.pad_token_id, data, y_all, vad_all,
                      class_w, lex, app, pair_rng, cfg.flip_pairs, cfg.vad_target)
    tokens_seen, time_spent, last_loss, stopped = 0, 0.0, None, "done"
    pass_started = time.perf_counter()
    while step < total:
        t0 = time.perf_counter()
        lr = lr_at(step, total, cfg)
        for group in optimizer.param_groups:
            group["lr"] = lr
        sampler_at_start = sampler.state_dict()
        pair_at_start = pair_rng.bit_generator.state
        try:
            optimizer.zero_grad(set_to_none=True)
            step_loss = 0.0
            term_sums: dict[str, float] = {}
            entropy: dict[str, list[float]] = {}
            tokens = truncated = 0
            for micro in range(grad_accum):
                if hooks.before_micro_step is not None:
                    hooks.before_micro_step(step, micro)
                draws = sampler.draw(micro_batch)
                loss, terms, h, n_tokens, n_cut = forward_losses(ctx, [i for _, i in draws], max_len)
                (loss / grad_accum).backward()
                step_loss += float(loss.detach()) / grad_accum
                for name, value in terms.items():
                    term_sums[name] = term_sums.get(name, 0.0) + float(value.detach()) / grad_accum
                tokens, truncated = tokens + n_tokens, truncated + n_cut
                for (source, _), h_row in zip(draws, h):
                    entropy.setdefault(source, []).append(h_row)
                del loss, terms
        except Exception as exc:  # noqa: BLE001 - only CUDA OOM is handled, the rest re-raised
            if not _is_oom(exc):
                raise
            if len(loop["oom"]) >= cfg.oom_retries:
                raise EmodataError(f"step {step}: CUDA out of memory {len(loop['oom'])} times; giving up "
                                   f"(max_len {max_len}, grad_accum {grad_accum})") from exc
            loss = terms = None  # drop this attempt's graph before freeing the cache
            optimizer.zero_grad(set_to_none=True)
            if cuda:
                torch.cuda.empty_cache()
            old = (max_len, grad_accum, micro_batch)
            max_len = max(cfg.oom_floor, max_len - OOM_STEP) if max_len > cfg.oom_floor else max_len
            grad_accum *= 2
            micro_batch = max(1, micro_batch // 2)
            event = {"event": "oom", "step": step, "max_len": [old[0], max_len], "grad_accum": [old[1], grad_accum],
                     "micro_batch": [old[2], micro_batch]}
            loop["oom"].append(event)
            log.write(event)
            log.say(f"OOM at step {step}: max_len {old[0]}→{max_len}, grad_accum {old[1]}→{grad_accum}, "
                    f"micro_batch {old[2]}→{micro_batch}; redoing the step")
            sampler.load_state_dict(sampler_at_start)
            pair_rng.bit_generator.state = pair_at_start
            continue

        params = [p for group in optimizer.param_groups for p in group["params"]]
        grad_norm = float(torch.nn.utils.clip_grad_norm_(params, cfg.grad_clip if cfg.grad_clip > 0 else float("inf")))
        optimizer.step()
        if ema is not None:
            ema.update()
        sampler.update({s: float(np.mean(h)) for s, h in entropy.items()})
        if loop["first_loss"] is None:
            loop["first_loss"] = step_loss
        last_loss = step_loss
        loop["truncated"] += truncated
        step += 1
        dt = time.perf_counter() - t0
        tokens_seen, time_spent = tokens_seen + tokens, time_spent + dt
        loop["elapsed"] += dt
        if step % cfg.log_every == 0 or step == total:
            log.write({"step": step, "loss": last_loss, **{f"loss_{k}": v for k, v in term_sums.items()},
                       "lr": lr, "grad_norm": grad_norm, "sampler": sampler.state(), "tokens": tokens,
                       "tokens_per_s": tokens / dt if dt else None, "truncated": truncated, "max_len": max_len,
                       "grad_accum": grad_accum, "micro_batch": micro_batch, "time_s": dt})

        # 6. end of a pass: dev eval with EMA weights, best θ*, rebalance, budget/ETA stop
        stop = None
        if step % pass_steps == 0 or step == total:
            t_eval = time.perf_counter()
            metrics = evaluate_dev()
            if metrics is not None:
                score = metrics["composite"]
                row = {"event": "eval", "step": step, "score": score,
                       **{k: metrics.get(k) for k in EVAL_KEYS}}
                loop["evals"].append(row)
                log.write(row)
                log.say(f"step {step}: dev S {score:.4f} ParseOK {metrics['parse_ok']:.3f} "
                        f"F1 {metrics['macro_f1'] or 0:.3f} 1-RMSE {metrics['vad_1mrmse'] or 0:.3f}")
                if loop["best"] is None or score > loop["best"]:
                    loop["best"], loop["since_best"] = score, 0
                    save_eval_bundle("best")
                else:
                    loop["since_best"] += 1
            if cfg.rebalance:
                sampler.rebalance()
            loop["elapsed"] += time.perf_counter() - t_eval
            loop["pass_times"].append(time.perf_counter() - pass_started)
            pass_started = time.perf_counter()
            eta = float(np.median(loop["pass_times"][-5:]))
            remaining = cfg.budget_s - loop["elapsed"] if cfg.budget_s else float("inf")
            if step < total and cfg.budget_s and (remaining <= 0 or eta > remaining):
                stop = f"budget: next pass ~{eta:.0f}s > {max(0.0, remaining):.0f}s left"
            elif step < total and cfg.patience and loop["since_best"] >= cfg.patience:
                stop = f"no dev gain in {cfg.patience} passes"
        if cfg.save_every and (step % cfg.save_every == 0 or stop) and step < total:
            state = {"model": {n: p.detach().cpu() for n, p in trainable.items()}, "heads": heads.state_dict(),
                     "optimizer": optimizer.state_dict(), "ema": ema.state_dict() if ema else None,
                     "sampler": sampler.state_dict(), "pair_rng": pair_rng.bit_generator.state, "rng": _rng_state(),
                     "step": step, "max_len": max_len, "grad_accum": grad_accum, "micro_batch": micro_batch,
                     "loop": loop, "manifest_sha1": data.manifest_sha1, "tokenizer_sha1": bundle["tokenizer_sha1"]}
            ckpt.save_checkpoint(run_dir, step, state, bundle, cfg.keep)
        if stop:
            stopped = stop
            log.say(f"stopping early at step {step}: {stop}")
            break
        if hooks.stop_after_step is not None and step >= hooks.stop_after_step:
            stopped = "killed"
            break

    # 7. final weights (EMA) for evaluation
    if stopped != "killed":
        save_eval_bundle("final")
    result = TrainResult(run_dir, step, total, loop["first_loss"], last_loss, loop["evals"], loop["best"],
                         loop["oom"], loop["truncated"], tokens_seen / time_spent if time_spent else None,
                         max_len, grad_accum, stopped, notes, loop["baseline"], model, heads, tokenizer)
    if stopped != "killed":
        (run_dir / "result.json").write_text(json.dumps(result.summary(), indent=1, sort_keys=True) + "\n",
                                             encoding="utf-8")
    return result
