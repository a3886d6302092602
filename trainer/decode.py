"""Greedy decoding of the JSON answer, with the KV cache off by default ("KV-off", as in the paper).

- Prompts are user prompts built with the frozen contract (`emodata.core.contract.build_prompt`), wrapped
  as [system = SYSTEM_PROMPT, user] through the tokenizer's chat template with the generation prompt
  added; or token ids that are already that (`encode_prompt` gives them).
- Inputs longer than `max_len` tokens keep their LAST `max_len` tokens: the utterance and the
  assistant cue sit at the end of the prompt, the oldest context and the fixed system text at the
  start. Truncations are counted in `stats["truncated"]`.
- Greedy: argmax at every step (temperature 0, top_p 1), at most `max_new_tokens` (64) new tokens.
  A row stops at EOS (any of the model's EOS ids) or, with `stop_at_brace`, at the `}` that closes
  the first top-level JSON object of its text (`emodata.core.contract.first_object_end`); the text is cut
  just after that brace.
- `use_cache=False` re-runs the whole sequence at every step (finished rows leave the batch);
  `use_cache=True` feeds one token per step with `past_key_values`. Batches are left-padded, with an
  attention mask and explicit position ids (cumulative mask), so both modes see the same positions.
"""
from __future__ import annotations

import inspect
import time
from typing import Any, Sequence

import torch

from emodata.core.contract import SYSTEM_PROMPT, first_object_end

MAX_NEW_TOKENS = 64
MAX_LEN = 1536


def prompt_messages(user_prompt: str) -> list[dict[str, str]]:
    """The chat messages of one prompt: the frozen system prompt and the user prompt."""
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user_prompt}]


def encode_prompt(tokenizer: Any, user_prompt: str) -> list[int]:
    """Token ids of a user prompt through the tokenizer's chat template, generation prompt added."""
    text = tokenizer.apply_chat_template(prompt_messages(user_prompt), tokenize=False, add_generation_prompt=True)
    return list(tokenizer(text, add_special_tokens=False)["input_ids"])


def _eos_ids(model: Any, tokenizer: Any) -> set[int]:
    ids: set[int] = set()
    for source in (getattr(model, "generation_config", None), getattr(model, "config", None), tokenizer):
        value = getattr(source, "eos_token_id", None) if source is not None else None
        if isinstance(value, int):
            ids.add(value)
        elif isinstance(value, (list, tuple)):
            ids.update(int(x) for x in value)
    return ids


def _pad_id(tokenizer: Any, eos: set[int]) -> int:
    if tokenizer.pad_token_id is not None:
        return int(tokenizer.pad_token_id)
    return min(eos) if eos else 0


def _left_pad(rows: list[list[int]], pad_id: int, device: Any) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, row in enumerate(rows):
        if row:
            ids[i, width - len(row):] = torch.tensor(row, dtype=torch.long)
            mask[i, width - len(row):] = 1
    return ids.to(device), mask.to(device)


def _positions(mask: torch.Tensor) -> torch.Tensor:
    return (mask.cumsum(-1) - 1).clamp(min=0)


def _forward_kwargs(model: Any) -> dict:
    # Only the last position's logits are needed; newer HF causal LMs can skip the rest.
    params = inspect.signature(model.forward).parameters
    return {"logits_to_keep": 1} if "logits_to_keep" in params else {}


class _Rows:
    """Per-row generation state: new token ids, finished flag, text cut at the stop brace."""

    def __init__(self, n: int, tokenizer: Any, eos: set[int], stop_at_brace: bool):
        self.tokens: list[list[int]] = [[] for _ in range(n)]
        self.done = [False] * n
        self.text: list[str | None] = [None] * n
        self.tokenizer, self.eos, self.stop_at_brace = tokenizer, eos, stop_at_brace

    def push(self, row: int, token: int, limit: int) -> None:
        if token in self.eos:
            self.done[row] = True
            return
        self.tokens[row].append(token)
        if self.stop_at_brace and token_may_close(self.tokenizer, token):
            text = self.tokenizer.decode(self.tokens[row], skip_special_tokens=True)
            end = first_object_end(text)
            if end is not None:
                self.text[row], self.done[row] = text[:end], True
                return
        if len(self.tokens[row]) >= limit:
            self.done[row] = True

    def outputs(self) -> list[str]:
        return [t if t is not None else self.tokenizer.decode(ids, skip_special_tokens=True)
                for t, ids in zip(self.text, self.tokens)]


def token_may_close(tokenizer: Any, token: int) -> bool:
    """Whether a token's text holds a `}` (only then can the first object close)."""
    return "}" in tokenizer.decode([token], skip_special_tokens=True)


@torch.inference_mode()
def _decode_batch(model: Any, rows: list[list[int]], pad_id: int, state: _Rows, max_new_tokens: int,
                  use_cache: bool, extra: dict) -> None:
    device = model.device
    ids, mask = _left_pad(rows, pad_id, device)
    active = list(range(len(rows)))
    past = None
    step_ids, step_mask = ids, mask
    for _ in range(max_new_tokens):
        if use_cache:
            positions = _positions(step_mask) if past is None else _positions(step_mask)[:, -1:]
            out = model(input_ids=ids if past is None else next_ids, attention_mask=step_mask,
                        position_ids=positions, past_key_values=past, use_cache=True, **extra)
            past = out.past_key_values
        else:
            out = model(input_ids=step_ids, attention_mask=step_mask, position_ids=_positions(step_mask),
                        use_cache=False, **extra)
        chosen = out.logits[:, -1, :].argmax(dim=-1)
        for j, row in enumerate(active):
            if not state.done[row]:
                state.push(row, int(chosen[j]), max_new_tokens)
        if all(state.done[r] for r in active):
            return
        next_ids = chosen.unsqueeze(-1)
        if use_cache:
            # Every row stays in the batch (the cache is batched); finished rows just feed padding.
            step_mask = torch.cat([step_mask, torch.ones_like(next_ids)], dim=-1)
        else:
            keep = [j for j, row in enumerate(active) if not state.done[row]]
            index = torch.tensor(keep, device=device)
            step_ids = torch.cat([step_ids, next_ids], dim=-1)[index]
            step_mask = torch.cat([step_mask, torch.ones_like(next_ids)], dim=-1)[index]
            active = [active[j] for j in keep]


def greedy_decode(model: Any, tokenizer: Any, prompts: Sequence[str] | Sequence[Sequence[int]],
                  max_new_tokens: int = MAX_NEW_TOKENS, use_cache: bool = False, stop_at_brace: bool = True,
                  batch_size: int = 8, max_len: int = MAX_LEN, stats: dict | None = None) -> list[str]:
    """Greedy answers (text of the new tokens) for user prompts or prompt token ids, in input order.

    `stats`, when given, is filled with prompts, truncated, new_tokens and seconds.
    """
    if max_new_tokens < 1 or batch_size < 1 or max_len < 1:
        raise ValueError("max_new_tokens, batch_size and max_len must be >= 1")
    started = time.perf_counter()
    encoded = [encode_prompt(tokenizer, p) if isinstance(p, str) else [int(t) for t in p] for p in prompts]
    truncated = sum(len(e) > max_len for e in encoded)
    encoded = [e[-max_len:] for e in encoded]
    eos = _eos_ids(model, tokenizer)
    pad_id = _pad_id(tokenizer, eos)
    extra = _forward_kwargs(model)
    was_training = model.training
    model.eval()
    outputs: list[str] = []
    new_tokens = 0
    try:
        for start in range(0, len(encoded), batch_size):
            chunk = encoded[start:start + batch_size]
            state = _Rows(len(chunk), tokenizer, eos, stop_at_brace)
            _decode_batch(model, chunk, pad_id, state, max_new_tokens, use_cache, extra)
            outputs.extend(state.outputs())
            new_tokens += sum(len(t) for t in state.tokens)
    finally:
        model.train(was_training)
    if stats is not None:
        stats.update(prompts=len(encoded), truncated=truncated, new_tokens=new_tokens,
                     seconds=time.perf_counter() - started)
    return outputs


def kv_parity(model: Any, tokenizer: Any, prompts: Sequence[str] | Sequence[Sequence[int]], **kwargs: Any) -> bool:
    """Whether KV-off and KV-on greedy decoding give identical outputs for `prompts`."""
    kwargs.pop("use_cache", None)
    off = greedy_decode(model, tokenizer, prompts, use_cache=False, **kwargs)
    on = greedy_decode(model, tokenizer, prompts, use_cache=True, **kwargs)
    return off == on
