"""Trainer command configuration: `emodata train`, `emodata eval`, `emodata screen` (dataclasses only,
no torch, so the CLI and `--help` load fast).

Defaults follow the paper brief ("Training defaults") where it gives one. Every command takes
`--config FILE.yaml`: keys are option names (underscores or dashes); options given on the command
line win over the file (see `emodata.core.config.apply_config_file`).
"""
from __future__ import annotations

from dataclasses import dataclass

from emodata.core.config import opt

CONFIG_HELP = "YAML file of options (keys = option names); options on the command line override it"


@dataclass
class TrainConfig:
    """`emodata train`: SFT with the composite loss on a frozen manifest (A/B entropy sampler, EMA,
    checkpoints, resume, OOM self-healing, budget-aware outer loop)."""

    manifest: str = opt("", "path of the manifest JSON the data is read from (SHA-1-verified)")
    model: str = opt("tiny", "'tiny' (a 2-layer Qwen2 built from a config, tokenizer trained on the fly) "
                             "or a local Hugging Face model folder")
    out: str = opt("runs/train", "run folder: train_log.jsonl, checkpoints/, best/, final/", hashed=False)
    config: str | None = opt(None, CONFIG_HELP, hashed=False)
    seed: int = opt(42, "seed of python, numpy, torch and the sampler")
    # optimisation
    max_steps: int = opt(0, "optimizer steps (0 = EPOCHS passes over the train split)")
    epochs: float = opt(1.0, "passes over the train split when --max-steps is 0")
    micro_batch: int = opt(1, "sequences per forward pass")
    grad_accum: int = opt(128, "micro-batches per optimizer step")
    lr: float = opt(1.2e-5, "peak learning rate (cosine schedule after warm-up)")
    warmup_frac: float = opt(0.03, "share of steps with linear LR warm-up")
    min_lr_frac: float = opt(0.0, "final LR as a share of the peak")
    weight_decay: float = opt(0.1, "AdamW weight decay (matrices only; not biases, norms or heads' biases)")
    beta1: float = opt(0.9, "AdamW beta1")
    beta2: float = opt(0.95, "AdamW beta2")
    grad_clip: float = opt(1.0, "gradient norm clip (0 = off)")
    max_len: int = opt(1536, "tokens per sequence (prompt + answer); longer prompts lose their first tokens")
    oom_floor: int = opt(1024, "OOM self-healing lowers max_len by 128 per OOM but not below this")
    oom_retries: int = opt(8, "OOMs healed before giving up")
    grad_ckpt: bool = opt(True, "gradient checkpointing (when the model supports it)")
    precision: str = opt("auto", "auto = bf16 autocast + TF32 on CUDA, fp32 on CPU", choices=("auto", "bf16", "fp32"))
    device: str = opt("auto", "auto, cpu or cuda[:N]")
    cpu_threads: int = opt(0, "torch CPU threads for this process (0 = torch's default; 1 is fastest on a "
                              "busy machine)", hashed=False)
    ema_decay: float = opt(0.999, "EMA decay of the weights used for evaluation (0 = no EMA); warm-up "
                                  "corrected: min(decay, (1+t)/(10+t))")
    lora_r: int = opt(0, "LoRA rank via peft (0 = full fine-tuning)")
    lora_alpha: int = opt(16, "LoRA alpha")
    lora_dropout: float = opt(0.05, "LoRA dropout")
    lora_targets: str = opt("all-linear", "LoRA target modules: all-linear or comma-separated names")
    # composite loss
    lambda_sft: float = opt(1.0, "weight of the SFT token loss on the JSON answer")
    lambda_cls: float = opt(1.0, "weight of L_cls (label head BCE); 0 disables")
    lambda_reg: float = opt(1.0, "weight of L_reg (VAD head MSE); 0 disables")
    lambda_vad: float = opt(1.0, "weight of L_vad (expected lexicon VAD of the answer); 0 disables")
    lambda_app: float = opt(0.5, "weight of L_app (appraisal verifier); 0 disables; skipped without a verifier")
    lambda_flip: float = opt(0.4, "weight of L_flip (valence-flip symmetry); 0 disables; skipped without pairs")
    class_weights: bool = opt(True, "weight L_cls classes by inverse label frequency of the train split")
    weak_label_weight: float = opt(0.0, "L_cls target = (1-w)*gold + w*weak labels where the build has "
                                        "weak_labels (0 = gold only)")
    vad_target: str = opt("gold", "target of L_vad: gold VAD or the VAD head's prediction", choices=("gold", "head"))
    lexicon: str | None = opt(None, "lexicon for L_vad's token table (path or name); default: the manifest's "
                                    "lexicon by name (nrclex-proxy offline, else $EMODATA_LEXICON_DIR)",
                              hashed=False)
    flip_pairs: int = opt(2, "flip pairs added to each micro-batch for L_flip")
    # sampler
    sampler: str = opt("entropy", "entropy = Alg. 1 A/B sampler; shuffle = plain seeded shuffle of the rows",
                       choices=("entropy", "shuffle"))
    t0: float = opt(1.0, "sampler start temperature T0")
    t1: float = opt(0.5, "sampler end temperature T1 (linear cooling over the run)")
    alpha: float = opt(0.9, "sampler confidence EMA: conf = alpha*conf + (1-alpha)*exp(-H)")
    rebalance: bool = opt(True, "after each pass, w_s ∝ w_s/(mean entropy_s + eps) (Alg. 2)")
    # outer loop and checkpoints
    pass_steps: int = opt(0, "optimizer steps per outer pass (dev eval, best-checkpoint, ETA); 0 = one epoch")
    budget_s: float = opt(0.0, "wall-clock budget in seconds; stop when the next pass would not fit (0 = none)")
    patience: int = opt(0, "stop after this many passes without a better dev score (0 = never)")
    score_beta: float = opt(1.0, "S = MacroF1 + beta*(1-RMSE) + gamma*ParseOK: beta")
    score_gamma: float = opt(1.0, "S = MacroF1 + beta*(1-RMSE) + gamma*ParseOK: gamma")
    eval_split: str = opt("dev", "split evaluated after each pass ('' = no evaluation)")
    eval_at_start: bool = opt(False, "also evaluate dev before the first step (the baseline, logged as step 0)")
    eval_rows: int = opt(0, "dev rows evaluated after each pass (0 = all)")
    eval_batch: int = opt(8, "prompts per decoding batch")
    save_every: int = opt(800, "checkpoint every N optimizer steps (0 = only at the end)")
    keep: int = opt(2, "checkpoints kept (oldest deleted)")
    resume: bool = opt(True, "resume from the latest checkpoint in OUT when there is one")
    # tiny model
    tiny_layers: int = opt(2, "tiny model: layers")
    tiny_hidden: int = opt(64, "tiny model: hidden size")
    tiny_vocab: int = opt(2048, "tiny model: BPE vocabulary size of the on-the-fly tokenizer")
    log_every: int = opt(1, "write a train_log.jsonl line every N steps")
    quiet: bool = opt(False, "no progress lines on stderr", hashed=False)


@dataclass
class EvalConfig:
    """`emodata eval`: greedy KV-off decoding of a checkpoint on a manifest split, scored by the paper's protocol."""

    manifest: str = opt("", "path of the manifest JSON")
    checkpoint: str = opt("", "checkpoint folder (RUN/best, RUN/final) or a local Hugging Face model folder")
    config: str | None = opt(None, CONFIG_HELP, hashed=False)
    split: str = opt("dev", "split to evaluate: dev, test or a probe (dailydialog)")
    seeds: str = opt("11,22,33", "comma-separated seeds of the full evaluation (mean ± std)")
    quick_budget_s: float = opt(0.0, "quick eval: wall-clock budget in seconds over a seeded stream (0 = full eval)")
    kv: str = opt("off", "KV cache during decoding", choices=("off", "on"))
    max_new_tokens: int = opt(64, "new tokens per answer")
    max_len: int = opt(1536, "prompt tokens kept (the last ones)")
    batch: int = opt(8, "prompts per decoding batch")
    max_rows: int = opt(0, "evaluate only the first N rows (0 = all)")
    device: str = opt("auto", "auto, cpu or cuda[:N]")
    out: str = opt("", "output folder for predictions, metrics and figures (default: CHECKPOINT/eval_SPLIT)",
                   hashed=False)


@dataclass
class ScreenConfig:
    """`emodata screen`: evaluate several candidate models under the same budget and rank them by the
    paper's composite z-score."""

    manifest: str = opt("", "path of the manifest JSON")
    models: str = opt("", "comma-separated candidates: local Hugging Face folders, checkpoints, 'tiny' or "
                            "'tfidf-lr' (the TF-IDF + logistic regression floor, trained on the build's train rows)")
    config: str | None = opt(None, CONFIG_HELP, hashed=False)
    split: str = opt("dev", "split evaluated")
    budget_s: float = opt(600.0, "wall-clock budget per candidate (quick eval)")
    train_steps: int = opt(0, "optimizer steps of a short SFT per candidate before evaluating (0 = as is)")
    seed: int = opt(11, "seed of the evaluation stream")
    max_rows: int = opt(0, "evaluate only the first N rows (0 = all)")
    device: str = opt("auto", "auto, cpu or cuda[:N]")
    out: str = opt("runs/screen", "output folder (ranking JSON/CSV, per-candidate metrics)", hashed=False)
