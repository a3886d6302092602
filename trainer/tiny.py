"""A tiny tokenizer trained on the fly and a tiny causal LM built from a config: no downloads.

Used by the CPU tests and by `emodata train --model tiny`. The tokenizer is a byte-level BPE (so
every character, JSON punctuation included, is representable), trained with `tokenizers` on the
texts given plus the contract's fixed strings, with a ChatML-style chat template whose end-of-turn
token is the EOS. The model is a Qwen2 (or Llama) config with a few layers, initialised from a seed.
"""
from __future__ import annotations

from typing import Iterable, Sequence

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedModel, PreTrainedTokenizerFast, Qwen2Config
from transformers import Qwen2ForCausalLM

from emodata.core.contract import PROMPT_TEMPLATE, SYSTEM_PROMPT

PAD, BOS, EOS = "<|endoftext|>", "<|im_start|>", "<|im_end|>"
CHAT_TEMPLATE = ("{% for message in messages %}"
                 "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
                 "{% endfor %}"
                 "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}")
#: Characters of the JSON answer that must survive a round trip (byte-level BPE covers them all;
#: they are also fed to the trainer so that common pairs such as `"}` become single tokens).
JSON_CHARS = '{}[]":,. 0123456789-_\'\n'


def tiny_tokenizer(texts: Iterable[str], labels: Sequence[str] = (), vocab_size: int = 2048,
                   min_frequency: int = 2) -> PreTrainedTokenizerFast:
    """A byte-level BPE tokenizer trained on `texts` (+ label names, JSON characters, the contract's prompts).

    Deterministic for the same inputs; `pad_token` is `<|endoftext|>`, `eos_token` is `<|im_end|>`
    (the end of an assistant turn), and `chat_template` is ChatML-style.
    """
    fixed = [SYSTEM_PROMPT, PROMPT_TEMPLATE, JSON_CHARS, "system user assistant", " ".join(labels),
             ", ".join(f'"{x}"' for x in labels)]
    # the fixed strings repeat min_frequency times so that their words become single tokens too
    corpus = fixed * max(1, min_frequency) + [str(t) for t in texts]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=min_frequency, show_progress=False,
                                  special_tokens=[PAD, BOS, EOS],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(corpus, trainer=trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token=PAD, eos_token=EOS, bos_token=BOS,
                                   model_max_length=1 << 20, padding_side="right")
    fast.chat_template = CHAT_TEMPLATE
    return fast


def tiny_model(tokenizer: PreTrainedTokenizerFast, layers: int = 2, hidden: int = 64, heads: int = 4,
               kv_heads: int = 2, intermediate: int | None = None, max_positions: int = 4096,
               arch: str = "qwen2", seed: int = 0) -> PreTrainedModel:
    """A randomly initialised causal LM sized for CPU tests (Qwen2 or Llama config), seeded.

    Seeding happens inside a forked RNG so building the model does not move the caller's torch RNG.
    """
    if arch not in ("qwen2", "llama"):
        raise ValueError(f"tiny_model: unknown arch {arch!r} (qwen2, llama)")
    common = dict(vocab_size=len(tokenizer), hidden_size=hidden, intermediate_size=intermediate or 4 * hidden,
                  num_hidden_layers=layers, num_attention_heads=heads, num_key_value_heads=kv_heads,
                  max_position_embeddings=max_positions, tie_word_embeddings=True,
                  pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.bos_token_id,
                  eos_token_id=tokenizer.eos_token_id)
    config = Qwen2Config(**common) if arch == "qwen2" else LlamaConfig(**common)
    cls = Qwen2ForCausalLM if arch == "qwen2" else LlamaForCausalLM
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = cls(config)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    return model
