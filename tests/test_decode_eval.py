"""Greedy KV-off decoding (parity with KV-on, brace/EOS stop, truncation) and the evaluator's files."""
from __future__ import annotations

import json
import time
from types import SimpleNamespace

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from emodata.core.contract import build_prompt, first_object_end, serialize_target  # noqa: E402
from trainer.decode import encode_prompt, greedy_decode, kv_parity  # noqa: E402
from trainer.evaluate import evaluate_model, stream_order  # noqa: E402
from emodata.core.metrics import evaluate_outputs  # noqa: E402
from trainer.tiny import tiny_model, tiny_tokenizer  # noqa: E402

LABELS = ["anger", "joy", "neutral", "sadness"]
ANSWER = serialize_target(["joy"], {"v": 0.8, "a": 0.5, "d": 0.5}, "a } brace in text")
TEXTS = ["I am so happy today", "this makes me angry", "nothing much happened", ANSWER] * 3


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def tok():
    return tiny_tokenizer(TEXTS, LABELS, vocab_size=500)


@pytest.fixture(scope="module")
def random_lm(tok):
    """The tiny Qwen2 with larger random weights, so greedy outputs vary with the prompt."""
    model = tiny_model(tok, seed=1)
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() > 1:
                p.copy_(torch.randn(p.shape, generator=gen) * 0.3)
    return model


PROMPTS = [build_prompt(text, ctx, LABELS) for text, ctx in [
    ("I am so happy", []), ("this makes me angry", ["what happened?", "he broke it"]), ("meh", []),
    ("nothing much happened at all today, really nothing", ["hi"]), ("ok", [])]]


class ScriptedLM(torch.nn.Module):
    """A fake causal LM that, after the chat template's assistant cue, emits `script` token by token.

    It works out how many answer tokens a row has from the prompt (KV-off) or its own cache (KV-on),
    and checks that the decoder passes position ids that follow the attention mask.
    """

    def __init__(self, tok, script_text: str, eos_after: int | None = None, delay_s: float = 0.0):
        super().__init__()
        self.tok, self.delay_s = tok, delay_s
        self.script = tok(script_text, add_special_tokens=False).input_ids
        if eos_after is not None:
            self.script = self.script[:eos_after] + [tok.eos_token_id] + self.script[eos_after:]
        self.cue = tok("assistant\n", add_special_tokens=False).input_ids
        self.config = SimpleNamespace(eos_token_id=tok.eos_token_id)
        self.filler = tok(" x", add_special_tokens=False).input_ids[-1]
        self.dummy = torch.nn.Parameter(torch.zeros(1))
        self.seen_lengths: list[int] = []

    @property
    def device(self):
        return self.dummy.device

    def forward(self, input_ids, attention_mask=None, position_ids=None, past_key_values=None, use_cache=False,
                **kwargs):
        time.sleep(self.delay_s)
        assert torch.equal(position_ids, ((attention_mask.cumsum(-1) - 1).clamp(min=0))[:, -position_ids.shape[1]:])
        if past_key_values is None:
            done = []
            for row, mask in zip(input_ids.tolist(), attention_mask.tolist()):
                real = [t for t, m in zip(row, mask) if m]
                self.seen_lengths.append(len(real))
                start = max(i for i in range(len(real)) if real[i] == self.tok.bos_token_id) + 1 + len(self.cue)
                done.append(len(real) - start)
            done = torch.tensor(done)
        else:
            done = past_key_values["done"] + 1
        nxt = [self.script[g] if g < len(self.script) else self.filler for g in done.tolist()]
        logits = torch.zeros(input_ids.shape[0], input_ids.shape[1], len(self.tok))
        logits[torch.arange(len(nxt)), -1, torch.tensor(nxt)] = 1.0
        return SimpleNamespace(logits=logits, past_key_values={"done": done} if use_cache else None)


def test_kv_off_and_kv_on_give_identical_outputs(tok, random_lm):
    random_lm.train()
    off = greedy_decode(random_lm, tok, PROMPTS, stop_at_brace=False, batch_size=3)
    assert kv_parity(random_lm, tok, PROMPTS, stop_at_brace=False, batch_size=3)
    assert greedy_decode(random_lm, tok, PROMPTS, stop_at_brace=False, use_cache=True, batch_size=3) == off
    # the check is not vacuous: outputs are long and differ between prompts
    assert len(set(off)) == len(PROMPTS) and all(len(o) > 20 for o in off)
    # left padding does not change answers: one prompt at a time gives the same text
    assert [greedy_decode(random_lm, tok, [p], stop_at_brace=False)[0] for p in PROMPTS] == off
    assert random_lm.training  # decoding ran in eval mode and gave the caller's mode back


def test_brace_stop_cuts_the_random_model_at_its_first_object(tok, random_lm):
    full = greedy_decode(random_lm, tok, PROMPTS, stop_at_brace=False, batch_size=5)
    stopped = greedy_decode(random_lm, tok, PROMPTS, stop_at_brace=True, batch_size=5)
    assert sum(first_object_end(o) is not None for o in full) >= 2  # some rows do close an object early
    for long, short in zip(full, stopped):
        end = first_object_end(long)
        assert short == (long if end is None else long[:end])


@pytest.mark.parametrize("use_cache", [False, True])
def test_scripted_answer_stops_after_the_closing_brace(tok, use_cache):
    model = ScriptedLM(tok, "Sure: " + ANSWER + '} then {"more": 1}')
    out = greedy_decode(model, tok, PROMPTS[:3], use_cache=use_cache, batch_size=2)
    assert out == ["Sure: " + ANSWER] * 3  # the `}` inside the rationale string did not stop it


@pytest.mark.parametrize("use_cache", [False, True])
def test_eos_and_token_limit_stop(tok, use_cache):
    model = ScriptedLM(tok, ANSWER, eos_after=4)
    expected = tok.decode(model.script[:4])
    assert greedy_decode(model, tok, PROMPTS[:2], use_cache=use_cache) == [expected] * 2
    long = ScriptedLM(tok, " ".join(["happy"] * 100))
    out = greedy_decode(long, tok, PROMPTS[:1], max_new_tokens=7, use_cache=use_cache)
    assert out == [tok.decode(long.script[:7])]


def test_truncation_keeps_the_prompt_tail_and_is_counted(tok):
    model = ScriptedLM(tok, ANSWER)
    lengths = [len(encode_prompt(tok, p)) for p in PROMPTS]
    max_len = sorted(lengths)[2]
    stats: dict = {}
    out = greedy_decode(model, tok, PROMPTS, max_len=max_len, stats=stats, batch_size=5)
    assert stats["truncated"] == sum(n > max_len for n in lengths) > 0
    assert max(model.seen_lengths[:len(PROMPTS)]) == max_len  # the first forward sees the prompts
    assert out == [ANSWER] * len(PROMPTS)  # the assistant cue at the end survived truncation
    ids = encode_prompt(tok, PROMPTS[0])
    assert greedy_decode(model, tok, [ids]) == [ANSWER]  # token-id prompts are accepted as they are


def records(n=7, flips=True):
    rows = []
    for i in range(n):
        rows.append({"id": f"r{i}", "text": TEXTS[i % 3], "context": ["hi"] if i % 2 else [],
                     "labels": [LABELS[i % 4]], "vad": {"v": 0.1 * i, "a": 0.5, "d": 0.5}})
        if flips and i % 2 == 0:
            rows[-1]["text_flip"] = "not " + TEXTS[i % 3]
    return rows


def test_full_eval_writes_predictions_and_metrics_per_seed(tok, tmp_path):
    model = ScriptedLM(tok, ANSWER)
    recs = records()
    result = evaluate_model(model, tok, recs, LABELS, seeds=(11, 22), out_dir=tmp_path / "a", batch_size=3)
    assert result["mode"] == "full" and result["seeds"] == [11, 22]
    rows = [json.loads(line) for line in (tmp_path / "a" / "predictions_seed22.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rows] == [r["id"] for r in recs]  # input order whatever the decoding order
    assert all(r["ok"] and r["output"] == ANSWER and r["reason"] is None for r in rows)
    assert sum("ok_flip" in r for r in rows) == 4
    expected = evaluate_outputs([ANSWER] * len(recs), recs, LABELS)
    for seed in ("11", "22"):
        metrics = result["per_seed"][seed]
        assert metrics["macro_f1"] == pytest.approx(expected["macro_f1"])
        assert metrics["vad_1mrmse"] == pytest.approx(expected["vad_1mrmse"])
        # the model answers v = 0.8 for the text and its flip: |0.3 + 0.3|
        assert metrics["s_flip"] == pytest.approx(0.6) and metrics["n_flip_pairs"] == 4
    assert result["std"]["macro_f1"] == 0.0 and result["mean"]["parse_ok"] == 1.0
    saved = json.loads((tmp_path / "a" / "metrics.json").read_text())
    assert saved["mean"] == result["mean"]
    csv_rows = (tmp_path / "a" / "metrics.csv").read_text().splitlines()
    assert [r.split(",")[0] for r in csv_rows] == ["row", "11", "22", "mean", "std"]
    # deterministic: a second run writes byte-identical predictions and metrics
    evaluate_model(model, tok, recs, LABELS, seeds=(11, 22), out_dir=tmp_path / "b", batch_size=2)
    for name in ("predictions_seed11.jsonl", "metrics.json", "metrics.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_quick_eval_stops_at_the_budget_on_the_seeded_stream(tok, tmp_path):
    model = ScriptedLM(tok, ANSWER, delay_s=0.01)
    recs = records(40, flips=False)
    result = evaluate_model(model, tok, recs, LABELS, seeds=(5,), budget_s=0.6, out_dir=tmp_path, batch_size=4)
    seen = int(result["mean"]["n"])
    assert result["mode"] == "quick" and not result["complete"] and 0 < seen < len(recs)
    assert result["timing"]["5"]["seconds"] < 0.6 + 2.0  # stopped at the budget, give or take a batch
    assert result["timing"]["5"]["eta_full_s"] > 0
    rows = [json.loads(line) for line in (tmp_path / "predictions_quick.jsonl").read_text().splitlines()]
    expected_ids = sorted(stream_order(len(recs), 5)[:seen])
    assert [r["id"] for r in rows] == [recs[i]["id"] for i in expected_ids]
    whole = evaluate_model(model, tok, recs[:8], LABELS, seeds=(5,), budget_s=60.0, batch_size=4)
    assert whole["complete"] and whole["mean"]["n"] == 8
    assert evaluate_model(model, tok, recs, LABELS, budget_s=0.0)["mean"]["n"] == 0


def test_first_object_end_respects_strings_and_escapes():
    text = 'note {"r": "a } and \\" }", "o": {"x": 1}} tail }'
    assert text[:first_object_end(text)] == 'note {"r": "a } and \\" }", "o": {"x": 1}}'
    assert first_object_end('{"open": {') is None and first_object_end("no braces }") is None
    assert first_object_end("} {}") == 4
