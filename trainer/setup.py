"""Setting up a training run, in the order `trainer.train.train` calls these helpers.

The order is part of the run's identity: each step that draws from the seeded generators (the tiny
model's weights, LoRA adapters, the auxiliary heads) draws in the same order on every run and resume.
- `seed_all`, `precision`: seeds and deterministic flags; device and precision (bf16 autocast + TF32 on
  CUDA, fp32 on CPU)
- `build_model`, `prepare_model`, `make_heads`: the model + tokenizer ('tiny' or a local HF folder),
  optional LoRA, gradient checkpointing, the auxiliary heads (seeded apart from the model)
- `make_optimizer`, `schedule`, `lr_at`, `Ema`, `make_sampler`: AdamW (β 0.9/0.95, decoupled weight decay
  on matrices), steps per pass, cosine LR with warm-up, EMA weights, the A/B mixture sampler
- `rng_state`, `set_rng_state`: the global generators' state, saved in and restored from checkpoints
"""
from __future__ import annotations

import math
import os
import random
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from emodata.core.errors import EmodataError

from trainer.config import TrainConfig
from trainer.data import TrainData, tokenizer_corpus
from trainer.losses import AuxHeads
from trainer.sampler import MixtureSampler


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


@dataclass
class Precision:
    """Where and how the run computes: the device, bf16 autocast or fp32, and the autocast context."""

    device: torch.device
    bf16: bool
    autocast: Callable[[], Any]

    @property
    def cuda(self) -> bool:
        """The device is a CUDA GPU."""
        return self.device.type == "cuda"


def precision(cfg: TrainConfig) -> Precision:
    """CPU threads, device and precision: bf16 autocast + TF32 matmuls on CUDA (`auto`), fp32 on CPU."""
    if cfg.cpu_threads:
        torch.set_num_threads(cfg.cpu_threads)
    device = pick_device(cfg.device)
    cuda = device.type == "cuda"
    bf16 = cfg.precision == "bf16" or (cfg.precision == "auto" and cuda)
    if cuda:
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    autocast = (lambda: torch.autocast(device.type, dtype=torch.bfloat16)) if bf16 else nullcontext
    return Precision(device, bf16, autocast)


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


def prepare_model(model: Any, cfg: TrainConfig, device: torch.device) -> Any:
    """Optional LoRA, gradient checkpointing (non-reentrant), no KV cache; on `device`, in train mode."""
    if cfg.lora_r > 0:
        model = add_lora(model, cfg)
    if cfg.grad_ckpt and getattr(model, "supports_gradient_checkpointing", False):
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        if cfg.lora_r > 0:
            model.enable_input_require_grads()
    model.config.use_cache = False
    model.to(device).train()
    return model


def make_heads(model: Any, n_labels: int, seed: int, device: torch.device) -> AuxHeads:
    """The label and VAD heads on the model's hidden size, initialised from their own seed (seed + 1)."""
    hidden = model.get_input_embeddings().embedding_dim
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed + 1)
        return AuxHeads(hidden, n_labels).to(device)


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


def ema_weights(ema: Ema | None):
    """A context with the EMA weights loaded (a no-op context without EMA)."""
    return ema.applied() if ema is not None else nullcontext()


def make_optimizer(model: Any, heads: AuxHeads, cfg: TrainConfig
                   ) -> tuple[torch.optim.AdamW, dict[str, torch.nn.Parameter], Ema | None]:
    """(AdamW, the model's trainable parameters by name, EMA of those and the heads or None).

    Weight decay applies to the model's matrices only (not biases, norms or any head parameter)."""
    trainable = {n: p for n, p in model.named_parameters() if p.requires_grad}
    all_params = {**trainable, **{f"heads.{n}": p for n, p in heads.named_parameters()}}
    decay = [p for n, p in all_params.items() if p.ndim >= 2 and "heads." not in n]
    no_decay = [p for n, p in all_params.items() if not (p.ndim >= 2 and "heads." not in n)]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                                   {"params": no_decay, "weight_decay": 0.0}],
                                  lr=cfg.lr, betas=(cfg.beta1, cfg.beta2), fused=False, foreach=False)
    ema = Ema(all_params, cfg.ema_decay) if cfg.ema_decay > 0 else None
    return optimizer, trainable, ema


def schedule(n_train: int, cfg: TrainConfig) -> tuple[int, int]:
    """(total optimizer steps, steps per pass): `max_steps`, else `epochs` passes over the train rows;
    a pass is `pass_steps` steps, else one epoch."""
    steps_per_epoch = max(1, math.ceil(n_train / (cfg.micro_batch * cfg.grad_accum)))
    total = cfg.max_steps or max(1, math.ceil(cfg.epochs * steps_per_epoch))
    return total, min(total, cfg.pass_steps or steps_per_epoch)


def lr_at(step: int, total: int, cfg: TrainConfig) -> float:
    """Linear warm-up over ⌈warmup_frac·total⌉ steps, then cosine decay to min_lr_frac·lr."""
    warmup = max(1, math.ceil(cfg.warmup_frac * total))
    if step < warmup:
        return cfg.lr * (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    floor = cfg.min_lr_frac * cfg.lr
    return floor + (cfg.lr - floor) * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


def make_sampler(data: TrainData, total: int, cfg: TrainConfig) -> MixtureSampler:
    """The entropy-adaptive A/B sampler over the train sources (shares as in the data), or a uniform one."""
    n_train = len(data.train)
    if cfg.sampler != "entropy":
        return MixtureSampler({"all": list(range(n_train))}, {"all": 1.0}, total, seed=cfg.seed, adaptive=False)
    sources = data.sources()
    pools = {s: [i for i, e in enumerate(data.train) if e.source == s] for s in sources}
    shares = {s: len(pools[s]) / n_train for s in sources}
    return MixtureSampler(pools, shares, total, cfg.t0, cfg.t1, cfg.alpha, seed=cfg.seed)


def rng_state() -> dict:
    """The state of python's, numpy's, torch's and CUDA's global generators."""
    return {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.random.get_rng_state(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None}


def set_rng_state(state: dict) -> None:
    """Restore `rng_state()` output."""
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.random.set_rng_state(state["torch"])
    if state.get("cuda") and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
