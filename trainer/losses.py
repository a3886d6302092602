"""The composite loss: SFT token loss on the JSON answer + λ-weighted L_cls, L_reg, L_vad, L_app, L_flip.

    L = L_sft + λ_cls L_cls + λ_reg L_reg + λ_vad L_vad + λ_app L_app + λ_flip L_flip

Each term is a pure function of tensors; a λ of 0 disables its term (it is then not computed).
- L_sft: mean token cross-entropy over answer tokens (targets −100 elsewhere), next-token shifted.
- L_cls: multi-label BCE of a label head on the pooled hidden state (the last prompt token: the
  position that predicts the first answer token, as HF sequence-classification heads pool causal LMs);
  optional per-class weights (inverse label frequency of the train split, `data.label_weights`).
- L_reg: MSE of a VAD head (sigmoid, in [0,1]) against gold VAD.
- L_vad (VAD-preserving; our differentiable reading of the brief's "mean lexicon VAD over the answer's
  tokens"): a vocabulary→lexicon table E (V×3) with mask m (1 when the token, stripped and lower-cased,
  is a lexicon word). At answer position t with output distribution p_t,
      v_text = Σ_t Σ_v p_t(v) m_v E_v / Σ_t Σ_v p_t(v) m_v
  i.e. the expected lexicon VAD of the answer's lexicon tokens (tokens without an entry are masked out
  of numerator and denominator). L_vad = ||v_text − target||₂ per example, averaged. The target is the
  gold VAD by default (the answer's wording should carry the utterance's VAD); `target="head"` uses the
  VAD head's prediction as the brief's v̂, so both sides are pulled together.
- L_app: the build's appraisal verifier scores atoms s = σ(φ(x)·w_text + p̂·w_label + b); φ(x)·w_text + b
  is a constant per example (computed with numpy, not back-propagated), p̂ = σ(label-head logits) are
  the model's predicted label probabilities, so s is differentiable in p̂ (a surrogate for the
  verifier scoring the decoded labels). L_app = mean over known atoms of BCE(s_m, s̃_m), s̃ = the
  appraisal prototype of the gold labels (null atoms masked).
- L_flip: mean |(v(x) − ½) + (v(x′) − ½)| of the VAD head's valence over flip pairs (x, x′).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

TERMS = ("sft", "cls", "reg", "vad", "app", "flip")


@dataclass
class LossWeights:
    """λ of every term; 0 disables a term."""

    sft: float = 1.0
    cls: float = 1.0
    reg: float = 1.0
    vad: float = 1.0
    app: float = 0.5
    flip: float = 0.4

    def active(self, term: str) -> bool:
        """Whether `term`'s λ is non-zero."""
        return getattr(self, term) != 0


class AuxHeads(nn.Module):
    """Label head (K logits) and VAD head (3 values in [0,1]) on a pooled hidden state."""

    def __init__(self, hidden: int, n_labels: int):
        super().__init__()
        self.label = nn.Linear(hidden, n_labels)
        self.vad = nn.Linear(hidden, 3)

    def forward(self, pooled: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(label logits, VAD in [0,1]) in fp32."""
        pooled = pooled.float()
        return self.label(pooled), torch.sigmoid(self.vad(pooled))


def pool_last(hidden: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """Hidden state at position `index[b]` of each row b (B×T×H → B×H)."""
    return hidden[torch.arange(hidden.shape[0], device=hidden.device), index]


def shifted(logits: torch.Tensor, targets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Next-token aligned (logits[:, :-1], targets[:, 1:], answer mask)."""
    lg, tg = logits[:, :-1], targets[:, 1:]
    return lg, tg, tg != -100


def answer_logits(logits: torch.Tensor, targets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(logits N×V in fp32, target ids N, row index N) at the N answer positions only, so the
    softmax never materialises prompt positions (a long prompt × a 150k vocabulary is large)."""
    lg, tg, answer = shifted(logits, targets)
    rows, cols = answer.nonzero(as_tuple=True)
    return lg[rows, cols].float(), tg[rows, cols], rows


def sft_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy over answer tokens (targets −100 are ignored)."""
    lg, tg, _ = answer_logits(logits, targets)
    if not len(tg):
        return logits.new_zeros((), dtype=torch.float32)
    return F.cross_entropy(lg, tg)


def token_entropy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Per-example mean predictive entropy (nats) over answer positions (B,), detached."""
    with torch.no_grad():
        lg, _, rows = answer_logits(logits, targets)
        logp = F.log_softmax(lg, dim=-1)
        h = -(logp.exp() * logp).sum(-1)
        batch = logits.shape[0]
        total = torch.zeros(batch, device=h.device).index_add_(0, rows, h)
        count = torch.zeros(batch, device=h.device).index_add_(0, rows, torch.ones_like(h))
        return total / count.clamp(min=1)


def cls_loss(label_logits: torch.Tensor, y: torch.Tensor, class_weights: torch.Tensor | None = None) -> torch.Tensor:
    """mean_k BCE(σ(logit_k), y_k), each class weighted by `class_weights[k]` when given."""
    loss = F.binary_cross_entropy_with_logits(label_logits.float(), y.float(), reduction="none")
    if class_weights is not None:
        loss = loss * class_weights
    return loss.mean()


def reg_loss(vad_pred: torch.Tensor, vad_gold: torch.Tensor) -> torch.Tensor:
    """MSE between predicted and gold VAD (B×3)."""
    return F.mse_loss(vad_pred.float(), vad_gold.float())


def lexicon_table(tokenizer: Any, lexicon: Any, vocab_size: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """(E, m): each token's lexicon VAD (V×3) and whether it has an entry (V), by its decoded text
    stripped and lower-cased; rows past the tokenizer (padded embedding rows) have no entry."""
    size = vocab_size or len(tokenizer)
    table, mask = torch.zeros(size, 3), torch.zeros(size)
    for token_id in range(min(size, len(tokenizer))):
        word = tokenizer.decode([token_id]).strip().lower()
        if word.isalpha():
            vad = lexicon.get(word)
            if vad is not None:
                table[token_id] = torch.tensor(vad, dtype=torch.float32)
                mask[token_id] = 1.0
    return table, mask


def expected_text_vad(logits: torch.Tensor, targets: torch.Tensor, table: torch.Tensor,
                      mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(v_text B×3, lexicon mass B): expected lexicon VAD of each answer under the output distribution."""
    lg, _, rows = answer_logits(logits, targets)
    masked_p = F.softmax(lg, dim=-1) * mask
    batch = logits.shape[0]
    mass = torch.zeros(batch, device=lg.device).index_add(0, rows, masked_p.sum(-1))
    num = torch.zeros(batch, 3, device=lg.device).index_add(0, rows, masked_p @ table)
    return num / mass.clamp(min=1e-8).unsqueeze(-1), mass


def vad_loss(logits: torch.Tensor, targets: torch.Tensor, table: torch.Tensor, mask: torch.Tensor,
             target_vad: torch.Tensor) -> torch.Tensor:
    """mean_b ||v_text(b) − target(b)||₂ over examples whose answers carry any lexicon mass."""
    v_text, mass = expected_text_vad(logits, targets, table, mask)
    keep = mass > 1e-6
    if not keep.any():
        return logits.new_zeros((), dtype=torch.float32)
    diff = v_text[keep] - target_vad[keep].float()
    return torch.sqrt((diff ** 2).sum(-1) + 1e-12).mean()


def app_loss(label_probs: torch.Tensor, base: torch.Tensor, w_label: torch.Tensor, target: torch.Tensor,
             known: torch.Tensor) -> torch.Tensor:
    """mean BCE(σ(base + p̂·w_label), s̃) over known atoms (B×M; `known` is the 0/1 mask)."""
    logits = base.float() + label_probs.float() @ w_label.float()
    loss = F.binary_cross_entropy_with_logits(logits, target.float(), reduction="none")
    n = known.sum()
    if n == 0:
        return logits.new_zeros(())
    return (loss * known).sum() / n


def flip_loss(v: torch.Tensor, v_flip: torch.Tensor) -> torch.Tensor:
    """mean |(v(x) − ½) + (v(x′) − ½)| over pairs (valence only)."""
    return ((v.float() - 0.5) + (v_flip.float() - 0.5)).abs().mean()


def combine(terms: dict[str, torch.Tensor], weights: LossWeights) -> torch.Tensor:
    """Σ λ_term · term over the computed terms."""
    total = None
    for name, value in terms.items():
        part = getattr(weights, name) * value
        total = part if total is None else total + part
    if total is None:
        raise ValueError("combine: no loss term was computed (every λ is 0?)")
    return total


def atom_targets(rows: Sequence[dict | None], fallback: Sequence[dict | None], atoms: Sequence[str]
                 ) -> tuple[torch.Tensor, torch.Tensor]:
    """(s̃ B×M, known B×M) from per-row {atom: value|None} prototypes, falling back to weak atoms;
    only finite values in [0, 1] count as known (None, NaN and abstain codes such as −1 are masked)."""
    target, known = torch.zeros(len(rows), len(atoms)), torch.zeros(len(rows), len(atoms))
    for i, (row, weak) in enumerate(zip(rows, fallback)):
        for j, atom in enumerate(atoms):
            for candidate in ((row or {}).get(atom), (weak or {}).get(atom)):
                if isinstance(candidate, (int, float)) and 0.0 <= candidate <= 1.0:
                    target[i, j], known[i, j] = float(candidate), 1.0
                    break
    return target, known
