"""The on-the-fly tokenizer and the tiny model: round trips, chat template, determinism."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from emodata.core.contract import SYSTEM_PROMPT, parse_output, serialize_target  # noqa: E402
from trainer.tiny import EOS, PAD, tiny_model, tiny_tokenizer  # noqa: E402

LABELS = ["anger", "disappointment", "joy", "neutral", "other"]
TEXTS = ["I'm really happy with how the garden turned out this year.",
         "People who kick dogs make me so angry.",
         serialize_target(["joy"], {"v": 0.87, "a": 0.52, "d": 0.68}, "positive tone from 'happy'"),
         serialize_target(["anger"], {"v": 0.12, "a": 0.81, "d": 0.4}, "negative tone from 'angry'")] * 3


@pytest.fixture(scope="module")
def tok():
    return tiny_tokenizer(TEXTS, LABELS, vocab_size=600)


def test_round_trips_json_answers_and_label_names(tok):
    answer = serialize_target(["disappointment", "neutral"], {"v": 0.05, "a": 1.0, "d": 0.333},
                              'odd chars: {}[]"\\ é ✓')
    ids = tok(answer, add_special_tokens=False).input_ids
    assert tok.decode(ids) == answer
    assert parse_output(tok.decode(ids), LABELS).ok
    # frequent label names are merged into few tokens, not spelled out byte by byte
    assert len(tok(' "anger"', add_special_tokens=False).input_ids) <= 3


def test_special_tokens_and_chat_template(tok):
    assert tok.pad_token == PAD and tok.eos_token == EOS and tok.pad_token_id != tok.eos_token_id
    msgs = [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": "hello"}]
    prompt = tok.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True)
    full = tok.apply_chat_template(msgs + [{"role": "assistant", "content": "{}"}], tokenize=False)
    assert prompt.endswith("assistant\n") and full.startswith(prompt)
    assert full[len(prompt):] == "{}" + EOS + "\n"
    # the special tokens are single ids, never split
    ids = tok(EOS, add_special_tokens=False).input_ids
    assert ids == [tok.eos_token_id]


def test_tokenizer_deterministic_across_processes(tok):
    code = ("import sys; sys.path.insert(0, '.');"
            "from tests.test_trainer_tiny import TEXTS, LABELS; from trainer.tiny import tiny_tokenizer;"
            "print(tiny_tokenizer(TEXTS, LABELS, vocab_size=600).backend_tokenizer.to_str())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[1]).stdout
    assert out.strip() == tok.backend_tokenizer.to_str()


@pytest.mark.parametrize("arch", ["qwen2", "llama"])
def test_tiny_model_seeded_and_shaped(tok, arch):
    before = torch.random.get_rng_state()
    a, b = tiny_model(tok, arch=arch, seed=3), tiny_model(tok, arch=arch, seed=3)
    c = tiny_model(tok, arch=arch, seed=4)
    assert torch.equal(torch.random.get_rng_state(), before)  # the caller's RNG is untouched
    pa, pb, pc = (torch.cat([p.flatten() for p in m.parameters()]) for m in (a, b, c))
    assert torch.equal(pa, pb) and not torch.equal(pa, pc)
    ids = tok("hello world", return_tensors="pt").input_ids
    logits = a(input_ids=ids).logits
    assert logits.shape == (1, ids.shape[1], len(tok))
    assert a.config.eos_token_id == tok.eos_token_id and a.config.num_hidden_layers == 2


def test_tiny_model_rejects_unknown_arch(tok):
    with pytest.raises(ValueError, match="unknown arch"):
        tiny_model(tok, arch="gpt9")
