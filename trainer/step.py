"""One optimizer step's worth of the composite loss (see `trainer.losses` for the terms).

- `loss_context`: what every micro-batch needs besides its rows: model, heads, λ's, label and VAD targets
  (weak labels mixed in by `weak_label_weight`), class weights, and the loss extras the build provides:
  the lexicon table of L_vad and the appraisal verifier of L_app (each skipped, with a note, when absent)
- `forward_losses`: one micro-batch → (total loss, terms, per-row answer entropy, tokens, truncations)
- `accumulate`: `grad_accum` micro-batches drawn from the sampler, each loss / grad_accum back-propagated
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import torch

from emodata.core.errors import EmodataError
from emodata.core.reader import listed_file

from trainer.config import TrainConfig
from trainer.data import TrainData, collate, label_weights
from trainer.losses import (AuxHeads, LossWeights, app_loss, atom_targets, cls_loss, combine, flip_loss,
                            lexicon_table, pool_last, reg_loss, sft_loss, token_entropy, vad_loss)
from trainer.sampler import MixtureSampler
from trainer.setup import Precision


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


def _lexicon_extras(cfg: TrainConfig, data: TrainData, tokenizer: Any, vocab: int, notes: list[str]):
    """(table V×3, mask V) of L_vad from the build's lexicon (or `--lexicon`), or None (with a note)."""
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
    """(atoms, w_label K×M, base N_train×M, targets, known) of the build's appraisal verifier, or None
    (with a note). The verifier file is checked like a shard (inside the build, SHA-1 as listed)."""
    if cfg.lambda_app == 0:
        return None
    entry = next((a for a in data.manifest.data.get("artifacts", []) if a.get("name") == "appraisal_verifier"), None)
    if entry is None:
        notes.append("L_app skipped: the manifest lists no appraisal_verifier artifact")
        return None
    path = listed_file(data.manifest.root, entry, data.manifest.path)
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


def loss_context(cfg: TrainConfig, data: TrainData, model: Any, heads: AuxHeads, tokenizer: Any, prec: Precision,
                 notes: list[str]) -> LossContext:
    """The loss context of a run: λ's, targets, class weights and the extras of L_vad / L_app; the flip
    pairs are drawn from their own generator (seed + 2)."""
    device = prec.device
    weights = LossWeights(cfg.lambda_sft, cfg.lambda_cls, cfg.lambda_reg, cfg.lambda_vad, cfg.lambda_app,
                          cfg.lambda_flip)
    class_w = torch.tensor(label_weights(data.train), device=device) if cfg.class_weights else None
    vocab = model.get_output_embeddings().weight.shape[0]
    lex = _lexicon_extras(cfg, data, tokenizer, vocab, notes)
    lex = tuple(t.to(device) for t in lex) if lex else None
    app = _verifier_extras(cfg, data, notes)
    y_all = torch.tensor([e.label_vec for e in data.train])
    if cfg.weak_label_weight > 0:
        weak = torch.tensor([e.weak_vec if e.weak_vec is not None else e.label_vec for e in data.train])
        y_all = (1 - cfg.weak_label_weight) * y_all + cfg.weak_label_weight * weak
    vad_all = torch.tensor([e.vad for e in data.train])
    return LossContext(model, heads, weights, device, prec.autocast, tokenizer.pad_token_id, data, y_all, vad_all,
                       class_w, lex, app, np.random.default_rng(cfg.seed + 2), cfg.flip_pairs, cfg.vad_target)


def _flip_term(ctx: LossContext, max_len: int) -> torch.Tensor:
    """L_flip on `flip_pairs` pairs drawn from the context's pair generator."""
    pairs, dev = ctx.data.pairs, ctx.device
    chosen = ctx.pair_rng.choice(len(pairs), size=min(ctx.flip_pairs, len(pairs)), replace=False)
    pb = collate([(pairs[j].prompt_ids, []) for j in chosen] + [(pairs[j].flip_prompt_ids, []) for j in chosen],
                 max_len, ctx.pad_id)
    with ctx.autocast():
        pout = ctx.model(input_ids=torch.tensor(pb.input_ids, device=dev),
                         attention_mask=torch.tensor(pb.attention_mask, device=dev),
                         output_hidden_states=True, use_cache=False)
    _, pv = ctx.heads(pool_last(pout.hidden_states[-1], torch.tensor(pb.prompt_last, device=dev)))
    return flip_loss(pv[:len(chosen), 0], pv[len(chosen):, 0])


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
    if w.active("flip") and ctx.data.pairs and ctx.flip_pairs > 0:
        terms["flip"] = _flip_term(ctx, max_len)
    entropy = token_entropy(logits, targets).tolist()
    return combine(terms, w), terms, entropy, int(mask.sum()), batch.truncated


@dataclass
class StepStats:
    """What the micro-batches of one optimizer step add up to (losses already divided by grad_accum)."""

    loss: float = 0.0
    terms: dict[str, float] = field(default_factory=dict)
    entropy: dict[str, list[float]] = field(default_factory=dict)
    tokens: int = 0
    truncated: int = 0


def accumulate(ctx: LossContext, sampler: MixtureSampler, micro_batch: int, grad_accum: int, max_len: int,
               before_micro: Callable[[int], None] | None = None) -> StepStats:
    """Draw and back-propagate `grad_accum` micro-batches of `micro_batch` rows (gradients add up in the
    parameters); per-row answer entropies are kept by source for the sampler. `before_micro(micro)` is
    the test seam that may raise (e.g. a simulated CUDA OOM)."""
    stats = StepStats()
    for micro in range(grad_accum):
        if before_micro is not None:
            before_micro(micro)
        draws = sampler.draw(micro_batch)
        loss, terms, h, n_tokens, n_cut = forward_losses(ctx, [i for _, i in draws], max_len)
        (loss / grad_accum).backward()
        stats.loss += float(loss.detach()) / grad_accum
        for name, value in terms.items():
            stats.terms[name] = stats.terms.get(name, 0.0) + float(value.detach()) / grad_accum
        stats.tokens, stats.truncated = stats.tokens + n_tokens, stats.truncated + n_cut
        for (source, _), h_row in zip(draws, h):
            stats.entropy.setdefault(source, []).append(h_row)
        del loss, terms
    return stats
